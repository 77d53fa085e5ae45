"""The domain: what a credential provider's business is made of, below the web and the
handlers. Each capability is a package (its tables, its rules, its functions); the web and
the service-task handlers call them, and they call the engine, never the other way.

`accounts` (people, roles, groups, login sessions, the login throttle) is the first; the
others still live in `handlers/` and move here one by one (see README, "Layout")."""
