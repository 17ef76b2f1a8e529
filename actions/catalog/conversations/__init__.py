"""Conversations: threads of messages with a lead, over one channel (user channel)."""
