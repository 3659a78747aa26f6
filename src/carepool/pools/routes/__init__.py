"""The capability's web pages: one module per group of pages."""
