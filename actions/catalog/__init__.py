"""Action implementations, one module per domain. Only actions.contract.registry imports
this package."""
