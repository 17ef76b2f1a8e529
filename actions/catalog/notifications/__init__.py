"""Notifications: what the calling member is told about, and marking it read (user channel)."""
