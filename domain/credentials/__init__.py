"""Credentials: the registered token's term, verification of codes, lockout, loss and renewal."""
