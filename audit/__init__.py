"""Logs and audit: central error log, per-tenant action logs, admin audit log."""
