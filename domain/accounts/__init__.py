"""Accounts: people who log in, their roles and groups, their login sessions (browser
cookies and API tokens) and the login throttle. Below the web, so that handlers, the CLI
and the pages share one definition of a user."""
