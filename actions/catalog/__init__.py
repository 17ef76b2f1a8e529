"""Action implementations, one module per domain. Only actions.registry imports this package."""
