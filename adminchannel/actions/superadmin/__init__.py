"""Super admin: a developer's time-boxed, audited promotion on one tenant (admin channel)."""
