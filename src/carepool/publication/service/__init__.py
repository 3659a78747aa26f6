"""Use cases of the open data publication."""
