"""Activity: the tenant's feed of what happened, who did it and to what (user channel)."""
