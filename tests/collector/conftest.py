"""Collector fixtures: every store test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``SECSCAN_TEST_PG_URL`` when set (an existing server; each test gets a
fresh database on it), otherwise from a throwaway cluster (initdb + pg_ctl on 127.0.0.1 and a
free port) started once per session and removed at its end. Without the binaries the postgres
half skips with the reason; ``-m "not postgres"`` runs only the SQLite half.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator

import pytest

from secscan.testing import PostgresCluster, postgres_bindir

UNITS = [
    {"id": "huyen-x", "name": "UBND huyện X", "kind": "district", "level": 3},
    {"id": "xa-a", "name": "UBND xã A", "kind": "commune", "level": 2, "parent_id": "huyen-x"},
    {"id": "xa-b", "name": "UBND xã B", "kind": "commune", "level": 2, "parent_id": "huyen-x"},
]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    url = os.environ.get("SECSCAN_TEST_PG_URL")
    if url:
        yield url
        return
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin: "
                    "run scripts/system-deps.sh or set SECSCAN_TEST_PG_URL")
    cluster = PostgresCluster(bindir).start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _admin(url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/secscan.db"
        return
    server = request.getfixturevalue("pg_server")
    from sqlalchemy.engine import make_url

    name = f"secscan_test_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def store(db_url: str) -> Iterator:
    from secscan.collector.db import open_engine
    from secscan.collector.store import Store

    s = Store(open_engine(db_url))
    s.migrate()
    s.upsert_units(UNITS)
    try:
        yield s
    finally:
        s.engine.dispose()


@pytest.fixture
def token(store) -> str:
    return store.create_token("xa-a", "test")[1]


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261126)
