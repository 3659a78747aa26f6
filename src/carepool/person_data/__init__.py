"""Person-level data: synthetic generation, checks, pseudonymisation and ingest."""
