"""Opening the store: a SQLite file by default, any SQLAlchemy URL otherwise.

``SECSCAN_DB`` (or ``--db``) is either a URL (``postgresql+psycopg://user@host/db``) or a plain
path to a SQLite file; the default is ``./secscan.db``. SQLite runs in WAL mode (readers do not
block the writer), with foreign keys on, a busy timeout so several processes can share the file,
and write transactions that start with ``BEGIN IMMEDIATE``: two importers never interleave a
read-then-write, so host identity is decided by one writer at a time.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

DEFAULT_PATH = "secscan.db"


def resolve_url(db: str | None = None) -> str:
    value = db or os.environ.get("SECSCAN_DB") or DEFAULT_PATH
    if "://" in value:
        return value
    return f"sqlite:///{os.path.abspath(value)}"


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def open_engine(db: str | None = None, **kwargs: Any) -> Engine:
    url = resolve_url(db)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_setup(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (pysqlite's implicit BEGIN
        # is deferred and would let two importers read the same "no such host yet").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # 64 MiB of page cache (allocated as used; the default is 2 MiB): an import transaction
        # dirties pages all over the indexes, and a small cache writes them out again and again.
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """An engine and the two ways the store writes to it: a transaction, or a long bulk connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite_lock = threading.Lock() if is_sqlite(engine) else None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite). On SQLite the threads of one process
        also queue on a lock: SQLite has one writer anyway, and its busy handler sleeps in
        growing steps, so fifty HTTP threads polling the file lock would mostly sleep."""
        with self.sqlite_lock or nullcontext(), self.engine.execution_options(write=True).begin() as conn:
            yield conn

    @contextmanager
    def bulk(self) -> Iterator[Connection]:
        """A write connection whose caller commits when it chooses (see Ingest.bulk); rolled back
        on error, committed at the end."""
        with self.sqlite_lock or nullcontext(), self.engine.execution_options(write=True).connect() as conn:
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()


# With a checkpoint thread, the writer's own checkpoint waits for this many WAL pages (~16 MB).
# Under steady pushes the WAL does reach it: resetting the WAL needs a checkpoint that no commit
# overtook, which only the writer can guarantee. By then the thread has copied nearly every page,
# so the writer's share is small. (At 16,384 pages the WAL grew to 70 MB; at 2,000, slower.)
_BACKSTOP_PAGES = 4_000


def checkpoint_in_background(engine: Engine, every: float = 0.5) -> threading.Thread | None:
    """For a long-running writer (``serve``): copy the WAL back into the database from a thread of
    its own instead of in the commit that crosses SQLite's 1,000-page mark. That checkpoint
    writes and fsyncs the database file, and under a stream of small HTTP transactions it came
    every few commits, each time stalling the writer and every push waiting on it. A PASSIVE
    checkpoint never blocks the writer; the fsyncs run here, outside the interpreter lock.
    Returns the thread, or None when the engine is not a SQLite file."""
    if not is_sqlite(engine) or not engine.url.database or engine.url.database == ":memory:":
        return None
    path = engine.url.database

    @event.listens_for(engine, "connect")
    def _backstop(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")

    engine.dispose()  # connections opened before this (the schema check) take the setting too

    def run() -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        while True:
            time.sleep(every)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy or the file went away: the writer's backstop still holds
                continue

    thread = threading.Thread(target=run, name="secscan-checkpoint", daemon=True)
    thread.start()
    return thread
