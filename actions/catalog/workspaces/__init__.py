"""Workspaces: the tenant's containers of flows, credentials and runs (user channel)."""
