"""Automations: rules that react to a trigger with a list of steps (user channel)."""
