"""Providers: the catalog of outside services a credential can be stored for (user channel)."""
