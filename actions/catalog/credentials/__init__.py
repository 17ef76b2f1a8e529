"""Credentials: encrypted secrets for providers, per workspace; never sent back (user channel)."""
