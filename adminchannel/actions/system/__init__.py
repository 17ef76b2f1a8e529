"""System: the platform's queues, dead-letter queues included (admin channel, platform)."""
