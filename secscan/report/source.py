"""Report input from the collector store (``SECSCAN_DB``): the latest HostReport per host, their
evaluated Results and the LAN scans of the period."""

from __future__ import annotations

from secscan.report.inputs import ReportInput


def from_store(db_url: str | None, period: str | None) -> ReportInput:
    if not db_url:
        raise ValueError("no input: pass --input bundle.json, or set SECSCAN_DB to the collector store")
    try:
        import secscan.collector  # noqa: F401
    except ModuleNotFoundError:
        raise ValueError(
            f"SECSCAN_DB={db_url}: the collector stage is not installed; pass --input bundle.json"
        ) from None
    raise ValueError(
        f"SECSCAN_DB={db_url}: reading the collector store is not implemented yet; pass --input bundle.json"
    )
