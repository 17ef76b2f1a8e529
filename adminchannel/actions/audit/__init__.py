"""Audit: the tenant's append-only admin audit log, queried (admin channel)."""
