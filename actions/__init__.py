"""The message API: envelope, index (registry), gateways, pipeline, tasks, action records."""
