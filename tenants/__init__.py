"""Tenants: one PostgreSQL schema each, their users, memberships and roles."""
