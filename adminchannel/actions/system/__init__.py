"""System: the platform's queues, workers and per-action metrics (admin channel). The user
channel's system.health and system.index are in actions/catalog/system."""
