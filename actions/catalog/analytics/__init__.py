"""Analytics: call-to-action events, recorded and exported (user channel)."""
