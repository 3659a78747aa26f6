"""Metric execution engines: the reference oracle, DuckDB (default) and Spark."""
