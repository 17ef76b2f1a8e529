"""Wellness: health and habit measurements of a client (a lead), over time (user channel)."""
