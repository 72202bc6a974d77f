"""The store's Alembic revisions, one file per schema version, run by secscan.collector.migrations.

Each revision is frozen: it says in its own DDL what its version changed, and never reads
``schema.metadata`` (which describes the newest version). Never edit a released revision; add one.
"""
