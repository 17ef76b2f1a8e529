"""Release: where each action stands, and asking for one to be released (admin channel)."""
