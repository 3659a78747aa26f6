"""The store: every table, the unit of work with its audit guard, and the one migration chain.

Queries live in each capability's ``repository``; only they and this package import the models.

Every table is declared in :mod:`carepool.store.models`, so whoever imports it sees the whole
schema on ``Base.metadata`` (migrations, the schema checks, ``create_all`` in tools).
"""
