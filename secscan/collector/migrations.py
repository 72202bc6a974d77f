"""Schema migrations: the Alembic revisions in ``secscan/collector/revisions/``, run from code.

``secscan_meta.schema_version`` holds the version a store is at (the number of its newest
revision: 3 for ``0003``), as every secscan has recorded it; ``migrate`` applies the revisions
above it in one transaction, in order, and records the new version. A store written by a newer
secscan (a version this code does not know) is refused rather than guessed at. No alembic.ini:
the revisions ship inside the package and are found by path, so they run from a wheel too.

Adding a change: a new file ``rNNNN_vN.py`` in ``revisions/`` with ``revision = "NNNN"``,
``down_revision`` the previous one, and an ``upgrade()`` that says its DDL with ``alembic.op``
(``op.batch_alter_table`` where SQLite cannot alter a column in place), never reading
``schema.metadata``; then the change in schema.py. tests/collector/test_migrations.py checks
that a fresh store equals schema.py and equals each past version's store once upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, select, text

from secscan.collector import schema

REVISIONS = Path(__file__).with_name("revisions")
_SCRIPTS = ScriptDirectory(str(REVISIONS), version_locations=[str(REVISIONS)])


def _number(revision: str) -> int:
    return int(revision)


LATEST = _number(_SCRIPTS.get_current_head() or "0")
_LOCK_KEY = 0x5EC5CA4  # the PostgreSQL advisory lock that migrators of one database queue on


class SchemaError(RuntimeError):
    pass


def _newer(version: int) -> str:
    return f"store schema version {version} is newer than this secscan knows ({LATEST}); upgrade secscan"


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("secscan_meta"):
        return 0
    value = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def _set_version(conn: Connection, version: int) -> None:
    t = schema.meta
    if conn.execute(select(t.c.key).where(t.c.key == "schema_version")).first():
        conn.execute(t.update().where(t.c.key == "schema_version").values(value=str(version)))
    else:
        conn.execute(t.insert().values(key="schema_version", value=str(version)))


def upgrade(conn: Connection, target: int = LATEST) -> list[int]:
    """Apply the revisions above the store's version up to ``target`` on ``conn``, inside the
    caller's transaction; returns the versions applied."""
    version = current_version(conn)
    if version > LATEST:
        raise SchemaError(_newer(version))
    pending = [s for s in _SCRIPTS.walk_revisions() if version < _number(s.revision) <= target]
    pending.sort(key=lambda s: _number(s.revision))
    if not pending:
        return []
    with Operations.context(MigrationContext.configure(conn)):
        for script in pending:
            script.module.upgrade()
    _set_version(conn, _number(pending[-1].revision))
    return [_number(s.revision) for s in pending]


def migrate(engine: Engine) -> list[int]:
    """Bring the store to LATEST; returns the versions applied (empty when already there). One
    write transaction, taken by one migrator at a time (BEGIN IMMEDIATE on SQLite, an advisory
    lock on PostgreSQL), which re-reads the version: another collector may have migrated
    meanwhile. DDL is transactional on both databases, so a failed revision leaves the store as
    it was."""
    with engine.connect() as conn:
        version = current_version(conn)
    if version > LATEST:
        raise SchemaError(_newer(version))
    if version == LATEST:
        return []
    with engine.execution_options(write=True).begin() as conn:
        if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already lets one in at a time
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        return upgrade(conn)


def check(engine: Engine) -> None:
    """Refuse to run on a store that is missing or not at LATEST, with the command that fixes it."""
    with engine.connect() as conn:
        version = current_version(conn)
    if version == 0:
        raise SchemaError("store is not initialised: run `secscan collector init`")
    if version < LATEST:
        raise SchemaError(f"store schema version {version} < {LATEST}: run `secscan collector migrate`")
    if version > LATEST:
        raise SchemaError(_newer(version))
