"""The admin channel's actions, one file each, by domain (see actions.contract.registry)."""
