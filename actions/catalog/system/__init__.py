"""system.*: health and the index, as actions."""
