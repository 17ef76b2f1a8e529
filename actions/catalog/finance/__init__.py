"""Finance: invoices to leads; amounts are integer cents in an ISO 4217 currency (user channel)."""
