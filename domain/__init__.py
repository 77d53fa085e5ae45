"""The domain: what a credential provider's business is made of, below the web and the
handlers. Each capability is a package holding its tables (`models.py`) and its rules as
plain functions of a `Session` and plain values; the service-task handlers, the service
layer and the CLI call them, and they call the engine and the adapters, never the other
way (README, "Layout"; tests/test_layers.py)."""
