"""The store: SQLAlchemy models, the unit of work, repositories and migrations."""
