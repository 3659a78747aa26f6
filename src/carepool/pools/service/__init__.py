"""The capability's use cases: one module per concept; routes and the CLI call these."""
