"""Flows: graphs of nodes that runs execute, per workspace (user channel)."""
