"""Demo: purge business data and reseed the demo tenants (admin channel, platform)."""
