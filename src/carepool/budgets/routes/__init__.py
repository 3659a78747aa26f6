"""Personal budget pages."""
