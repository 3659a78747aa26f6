"""The synthetic nation's demo: every capability built end to end on invented data."""
