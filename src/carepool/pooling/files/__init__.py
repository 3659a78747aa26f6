"""Readers for the pooling tracker's files: the commissioners' allocation table."""
