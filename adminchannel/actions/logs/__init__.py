"""Logs: the tenant's action log and the central error log, queried (admin channel)."""
