"""The contracts between stages. Imports only the standard library and pydantic.

The names below load on first use (PEP 562), so ``import secscan.model.org`` does not build the
HostReport classes too: building pydantic models is most of a CLI command's start-up time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secscan.model.common import ProbeRecord, ProbeStatus
    from secscan.model.host import HOST_REPORT_SCHEMA, HostReport
    from secscan.model.scan import SCAN_REPORT_SCHEMA, ScanReport

_WHERE = {
    "ProbeRecord": "common",
    "ProbeStatus": "common",
    "HOST_REPORT_SCHEMA": "host",
    "HostReport": "host",
    "SCAN_REPORT_SCHEMA": "scan",
    "ScanReport": "scan",
}

__all__ = ["HOST_REPORT_SCHEMA", "SCAN_REPORT_SCHEMA", "HostReport", "ProbeRecord", "ProbeStatus", "ScanReport"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'secscan.model' has no attribute {name!r}")
    return getattr(importlib.import_module(f"secscan.model.{_WHERE[name]}"), name)
