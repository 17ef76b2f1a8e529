"""Node templates: the catalog of building blocks flows are made of (user channel)."""
