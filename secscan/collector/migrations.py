"""Versioned schema migrations (a small, tested equivalent of Alembic for one linear history).

``secscan_meta.schema_version`` holds the version a store is at; ``migrate`` applies the steps
above it, each in its own transaction, in order. A store written by a newer secscan (a version
this code does not know) is refused rather than guessed at. A step is Core DDL only (no SQL
dialect text), so it runs the same on SQLite and PostgreSQL.

Adding a change: append ``(N, "what", function)`` to STEPS; the function receives a Connection
inside the transaction. Never edit a released step: stores in the field are already past it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, Engine, Index, String, inspect, select
from sqlalchemy.schema import DropIndex

from secscan.collector import schema

# The tables as version 1 created them. Later steps must add their own DDL rather than relying
# on ``schema.metadata`` (which describes the newest version).
_V1_TABLES = ["secscan_meta", "units", "tokens", "hosts", "host_macs", "reports", "results", "scans", "findings"]


def _v1(conn: Connection) -> None:
    tables = [schema.metadata.tables[name] for name in _V1_TABLES]
    schema.metadata.create_all(conn, tables=tables)


def _v2(conn: Connection) -> None:
    # Each was the first column of a composite index too (ix_hosts_unit_hostname,
    # ix_reports_host_collected), so it only cost a page write per report stored, and without
    # statistics PostgreSQL's planner picked ix_hosts_unit_id to scan a whole unit.
    for name in ("ix_hosts_unit_id", "ix_reports_host_id"):
        conn.execute(DropIndex(Index(name), if_exists=True))


def _add_columns(conn: Connection, table: str, columns: list[Column]) -> None:
    """``columns`` added to ``table`` where missing: _v1 builds its tables from today's metadata,
    so a store created by this version already has them."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    have = {c["name"] for c in inspect(conn).get_columns(table)}
    ops = Operations(MigrationContext.configure(conn))
    for column in columns:
        if column.name not in have:
            ops.add_column(table, column)


def _v3(conn: Connection) -> None:
    _add_columns(conn, "hosts", [Column("agent", String(64), nullable=True),
                                 Column("moved_from", String(32), nullable=True)])
    schema.metadata.create_all(conn, tables=[schema.captures])


STEPS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "units, tokens, hosts, reports, results, scans, findings", _v1),
    (2, "drop ix_hosts_unit_id and ix_reports_host_id (prefixes of composite indexes)", _v2),
    (3, "raw Windows captures kept beside their reports; how each host reports (hosts.agent); hosts whose "
        "identity another unit's host holds, pending an approved move (hosts.moved_from)", _v3),
]
LATEST = STEPS[-1][0]


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


def migrate(engine: Engine) -> list[int]:
    """Bring the store to LATEST; returns the versions applied (empty when already there)."""
    applied = []
    with engine.connect() as conn:
        version = current_version(conn)
    if version > LATEST:
        raise SchemaError(_newer(version))
    for number, _what, step in STEPS:
        if number <= version:
            continue
        with engine.begin() as conn:
            # Re-read inside the transaction: another collector may have migrated meanwhile.
            if current_version(conn) >= number:
                continue
            step(conn)
            _set_version(conn, number)
        applied.append(number)
    return applied


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
