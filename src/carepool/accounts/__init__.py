"""Local accounts and API tokens."""
