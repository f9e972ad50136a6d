"""Passwords, tokens, field encryption, authorisation and audit."""
