"""Connectors: the catalog of outside services and the tenant's subscriptions (admin channel)."""
