"""Shared fixtures. Tests that need root, nmap or PostgreSQL carry a marker and skip with a reason
where they cannot run (pytest -m "not root and not nmap and not postgres" runs the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
