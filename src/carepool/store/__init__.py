"""The store: SQLAlchemy models, the unit of work, repositories and migrations.

Every table is declared in :mod:`carepool.store.models`, so whoever imports it sees the whole
schema on ``Base.metadata`` (migrations, the schema checks, ``create_all`` in tools).
"""
