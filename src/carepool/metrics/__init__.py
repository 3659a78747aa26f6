"""Metrics: computed from person-level data, imported from published statistics, charted."""
