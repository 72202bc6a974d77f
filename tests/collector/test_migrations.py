"""A store created by each past secscan upgrades in place to the current schema and then equals a
fresh store, table by table (columns, types, nullability, defaults, keys) and index by index,
with every row it held, on SQLite and PostgreSQL.

The past stores are built from ``past_stores/vN.<dialect>.sql``: the DDL that a secscan at
schema version N emitted (its schema.py's tables through SQLAlchemy's create_all, compiled for
the dialect), not from the revisions under test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from secscan.collector import migrations
from secscan.collector import schema as t
from secscan.collector.db import open_engine
from secscan.collector.store import Store
from tests.collector.conftest import _admin

PAST = Path(__file__).with_name("past_stores")
STAMP = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest.fixture
def engines(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Engine]]:
    """(the store to upgrade, a fresh one) on the same kind of database."""
    if db_url.startswith("sqlite"):
        fresh_url = f"sqlite:///{tmp_path}/fresh.db"
        dropped = None
    else:
        from sqlalchemy.engine import make_url

        server = request.getfixturevalue("pg_server")
        dropped = f"secscan_fresh_{uuid.uuid4().hex[:12]}"
        _admin(server, f'CREATE DATABASE "{dropped}"')
        fresh_url = make_url(server).set(database=dropped).render_as_string(hide_password=False)
    old, fresh = open_engine(db_url), open_engine(fresh_url)
    try:
        yield old, fresh
    finally:
        old.dispose()
        fresh.dispose()
        if dropped:
            _admin(request.getfixturevalue("pg_server"), f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')


def past_store(engine: Engine, version: int) -> None:
    """The store a secscan at ``version`` created, with a few rows in every table it had."""
    text = (PAST / f"v{version}.{engine.dialect.name}.sql").read_text()
    statements = [s for s in (_without_comments(part) for part in text.split("\n;\n")) if s]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.execute(t.meta.insert(), [{"key": "schema_version", "value": str(version)},
                                       {"key": "org", "value": "{}"}])
        conn.execute(t.units.insert(), [
            {"id": "huyen-x", "parent_id": None, "name": "UBND huyện X", "kind": "district", "level": 3,
             "data": {"networks": ["10.1.0.0/16"]}, "updated_at": STAMP},
            {"id": "xa-a", "parent_id": "huyen-x", "name": "UBND xã A", "kind": "commune", "level": 2,
             "data": None, "updated_at": STAMP}])
        conn.execute(t.tokens.insert().values(key_id="k1234567", unit_id="xa-a", token_hash="a" * 64,
                                              signing_key=b"\x01" * 32, label="pc", created_at=STAMP,
                                              revoked_at=None))
        conn.execute(t.hosts.insert().values(
            id="h1", unit_id="xa-a", machine_id="M-1", identity_key="M-1", hostname="PC-KETOAN",
            hostname_key="pc-ketoan", os_name="Windows 10 Pro", ips=["10.1.2.3"], first_seen=STAMP,
            last_seen=STAMP, last_report_id="r1", clone_of=None, clone_suspect=False))
        conn.execute(t.host_macs.insert().values(host_id="h1", mac="00:1a:2b:3c:4d:5e"))
        conn.execute(t.reports.insert().values(
            report_id="r1", digest="d" * 64, host_id="h1", unit_id="xa-a", key_id="k1234567",
            collected_at=STAMP, received_at=STAMP, source="import:pc.json", document='{"report_id": "r1"}'))
        conn.execute(t.results.insert().values(
            report_id="r1", host_id="h1", unit_id="xa-a", passed=20, failed=3, unknown=2, not_applicable=1,
            results="[]", evaluated_at=STAMP))
        conn.execute(t.scans.insert().values(
            scan_id="s1", digest="e" * 64, unit_id="xa-a", key_id=None, started_at=STAMP, finished_at=STAMP,
            received_at=STAMP, source="import:scan.xml", document='{"scan_id": "s1"}'))
        conn.execute(t.findings.insert().values(
            unit_id="xa-a", baseline="nd85", control_id="AV-1", status="open", severity="high",
            first_seen=STAMP, last_seen=STAMP, resolved_at=None, data={"hosts": ["h1"]}))
        if version >= 4:
            conn.execute(t.users.insert().values(
                name="can-bo-xa-a", role="officer", unit_id="xa-a", password_hash="scrypt$16384$8$1$c2FsdA$aGFzaA",
                lang=None, session_epoch=0, failed_logins=0, locked_until=None, created_at=STAMP, disabled_at=None))


def _without_comments(part: str) -> str:
    return "\n".join(line for line in part.splitlines() if not line.startswith("--")).strip()


def shape(engine: Engine) -> dict[str, Any]:
    """Every table's columns (type, nullability, default), primary key, foreign keys, unique
    constraints and indexes, as the database reports them."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": {c["name"]: (str(c["type"]), c["nullable"], c.get("default")) for c in insp.get_columns(table)},
            "primary key": insp.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                                   for f in insp.get_foreign_keys(table)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in insp.get_indexes(table)),
        }
    return out


def rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the first version had, by its first version's columns."""
    past = {name: [c.name for c in t.metadata.tables[name].columns if c.name not in ("agent", "moved_from")]
            for name in ("secscan_meta", "units", "tokens", "hosts", "host_macs", "reports", "results", "scans",
                         "findings")}
    if inspect(engine).has_table("users"):
        past["users"] = [c.name for c in t.users.columns]
    with engine.connect() as conn:
        return {name: sorted((dict(r) for r in conn.execute(
            select(*(t.metadata.tables[name].c[c] for c in cols))).mappings()), key=repr)
            for name, cols in past.items()}


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_past_store_upgrades_to_a_fresh_one(engines: tuple[Engine, Engine], version: int) -> None:
    old, fresh = engines
    past_store(old, version)
    before = rows(old)
    store = Store(old)
    if version < migrations.LATEST:
        with pytest.raises(migrations.SchemaError, match="collector migrate"):
            store.check()
    assert store.migrate() == list(range(version + 1, migrations.LATEST + 1))
    store.check()
    assert Store(fresh).migrate() == list(range(1, migrations.LATEST + 1))
    assert shape(old) == shape(fresh)
    after = {name: got for name, got in rows(old).items() if name in before}  # tables it had, row for row
    after["secscan_meta"] = [r for r in after["secscan_meta"] if r["key"] != "schema_version"]
    before["secscan_meta"] = [r for r in before["secscan_meta"] if r["key"] != "schema_version"]
    assert after == before
    assert store.get_meta("schema_version") == str(migrations.LATEST)
    host = store.hosts()[0]
    assert (host["hostname"], host["macs"], host["agent"], host["moved_from"]) == (
        "PC-KETOAN", ["00:1a:2b:3c:4d:5e"], None, None)


def test_the_revisions_build_what_schema_py_describes(db_url: str) -> None:
    """A fresh store equals schema.metadata: a change to schema.py without its revision fails here."""
    engine = open_engine(db_url)
    try:
        Store(engine).migrate()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), t.metadata)
        assert diff == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_the_revisions_up_to_a_version_build_that_version(engines: tuple[Engine, Engine], version: int) -> None:
    """Revisions 1..N build the store a secscan at version N built: a released revision that is
    edited afterwards fails here."""
    recorded, revised = engines
    past_store(recorded, version)
    with revised.begin() as conn:
        assert migrations.upgrade(conn, target=version) == list(range(1, version + 1))
    assert shape(recorded) == shape(revised)


def test_migrate_is_idempotent_and_a_newer_store_is_refused(store: Store) -> None:
    assert store.migrate() == []
    with store.engine.begin() as conn:
        migrations._set_version(conn, migrations.LATEST + 1)
    with pytest.raises(migrations.SchemaError, match="newer than this secscan knows"):
        store.migrate()
    with pytest.raises(migrations.SchemaError, match="upgrade secscan"):
        store.check()


def test_collectors_starting_together_migrate_once(db_url: str) -> None:
    """Several collectors started at once on an empty store: one migrates, the others wait for
    it and find nothing left to do."""
    import threading

    engine = open_engine(db_url)
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            applied.append(Store(engine).migrate())
        except BaseException as exc:  # any failure: reported by the assertion below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors, errors
        assert sorted(applied) == [[], [], [], list(range(1, migrations.LATEST + 1))]
        Store(engine).check()
    finally:
        engine.dispose()


def test_an_empty_database_is_not_initialised(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        with pytest.raises(migrations.SchemaError, match="collector init"):
            Store(engine).check()
    finally:
        engine.dispose()
