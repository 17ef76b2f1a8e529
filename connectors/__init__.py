"""Connectors to outside systems, their DTOs and traces, and the subscription gate."""
