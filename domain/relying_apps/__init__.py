"""Relying applications: who may verify codes through the API, and what they accept."""
