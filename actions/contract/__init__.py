"""The message contract: envelopes, error codes, payload building blocks, the registry
(the index is the schema), its published form, redaction of secrets, and what a
handler receives (ActionContext). Imports nothing of the edge or the worker."""
