"""Tenants: creation, configuration, owners and members (admin channel)."""
