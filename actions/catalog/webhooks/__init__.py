"""Webhooks: events from outside posted to a workspace endpoint (user channel, anonymous)."""
