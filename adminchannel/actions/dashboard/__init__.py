"""Dashboard: the operator's summary of a tenant over a time window (admin channel)."""
