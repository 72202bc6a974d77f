from __future__ import annotations

from pathlib import Path

import pytest

from secscan.agent.windows import decode_capture
from secscan.model.host import HostReport

CAPTURES = Path(__file__).parents[2] / "fixtures" / "windows"


def decode(name: str, **kw: object) -> HostReport:
    return decode_capture((CAPTURES / f"{name}.json").read_bytes(), **kw)  # type: ignore[arg-type]


@pytest.fixture
def captures() -> Path:
    return CAPTURES
