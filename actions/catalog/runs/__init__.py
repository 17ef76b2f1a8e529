"""Runs: executions of a flow, in test or production mode, node by node (user channel)."""
