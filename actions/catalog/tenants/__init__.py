"""Tenants, user channel: accepting an invitation. The tenant's administration (creation,
configuration, owners and members) is on the admin channel, adminchannel/actions/tenants."""
