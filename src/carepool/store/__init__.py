"""The store: SQLAlchemy models, the unit of work, repositories and migrations.

Every module that declares tables is imported here, so that whoever uses the store sees the
whole schema on ``Base.metadata`` (migrations, the schema checks, ``create_all`` in tools).
"""

from carepool.store import metrics as metrics
