"""Leads: prospects and clients of the tenant, with their activity history (user channel)."""
