"""Fixtures of the adversarial suite: the collector's two databases (tests/collector/conftest.py's
``db_url``: SQLite, and PostgreSQL where its binaries are found, skipped with the reason
otherwise) and a store set up as a deployment is: examples/org.yaml loaded, judging at ingest, a
token per unit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.collector.conftest import db_url, pg_server  # noqa: F401  (fixtures, shared)
from tests.hostile import harness


@pytest.fixture
def deployed(db_url: str) -> Iterator[tuple[Any, dict[str, str]]]:  # noqa: F811
    """(store, {unit: token}) over ``db_url``."""
    store, tokens = harness.store_for(db_url)
    try:
        yield store, tokens
    finally:
        store.engine.dispose()
