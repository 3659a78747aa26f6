"""Reading personal budget and transactions files."""
