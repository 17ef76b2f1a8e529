"""auth.*: sign-in and the account's own credentials."""
