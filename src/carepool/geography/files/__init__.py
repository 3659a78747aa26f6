"""The capability's files as published or exchanged: one module per format."""
