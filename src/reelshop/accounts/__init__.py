"""Accounts: users, roles, addresses (encrypted), API tokens, log-in throttling."""
