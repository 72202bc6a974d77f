"""The server's SQLite WAL is copied back into the database by a thread of its own."""

from __future__ import annotations

import sqlite3
import time

from secscan.collector.db import _BACKSTOP_PAGES, checkpoint_in_background, open_engine
from secscan.collector.store import Store


def _in_main_file(path: str) -> set[str]:
    # immutable=1: read the database file alone, ignoring the WAL, i.e. what was checkpointed
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM units")}
    finally:
        conn.close()


def test_writes_reach_the_database_file_without_the_writer_checkpointing(tmp_path):
    path = str(tmp_path / "s.db")
    store = Store(open_engine(path))
    store.migrate()
    try:
        assert checkpoint_in_background(store.engine, every=0.05) is not None
        store.upsert_units([{"id": "xa-a", "name": "UBND xã A"}])
        with store.engine.connect() as conn:  # the writer's own checkpoints wait for the backstop
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == _BACKSTOP_PAGES
        deadline = time.monotonic() + 10
        while "xa-a" not in _in_main_file(path):
            assert time.monotonic() < deadline, "the unit never reached the database file"
            time.sleep(0.05)
    finally:
        store.engine.dispose()


def test_not_for_a_database_in_memory():
    assert checkpoint_in_background(open_engine("sqlite://")) is None
