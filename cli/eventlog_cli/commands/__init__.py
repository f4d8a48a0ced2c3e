"""The commands, one module per group; each module has ``register(app)``."""
