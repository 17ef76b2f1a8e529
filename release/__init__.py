"""Release: function lifecycle states and per-environment release manifests."""
