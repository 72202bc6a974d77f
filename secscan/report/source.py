"""Report input from the collector store (``SECSCAN_DB``): the org.yaml stored by
``secscan collector init --org``, each host's latest HostReport and its Results, the LAN scans, and
the findings history (the previous period, for new / open / resolved).

The history is written by ``secscan report findings`` (``record_findings``): run the period's
documents first, then record, so the next period compares against this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from secscan.model.finding import Finding
from secscan.report.inputs import ReportInput, Snapshot

HISTORY_BASELINE = "secscan-report"  # the store keys findings by (unit, baseline, control)


def open_store(db_url: str | None) -> Any:
    if not db_url:
        raise ValueError("no input: pass --input bundle.json, or set SECSCAN_DB to the collector store")
    try:
        from secscan.collector.db import open_engine
        from secscan.collector.migrations import SchemaError
        from secscan.collector.store import Store
    except ModuleNotFoundError:
        raise ValueError(
            f"SECSCAN_DB={db_url}: the collector stage is not installed; pass --input bundle.json"
        ) from None
    store = Store(open_engine(db_url))
    try:
        store.check()
    except SchemaError as exc:
        raise ValueError(f"SECSCAN_DB: {exc}") from None
    return store


def previous_from_store(store: Any, period: str) -> Snapshot | None:
    rows = [r for r in store.findings(include_resolved=False) if r["baseline"] == HISTORY_BASELINE and r.get("data")]
    if not rows:
        return None
    findings = [Finding.model_validate(r["data"]) for r in rows]
    last = max(r["last_seen"] for r in rows)
    return Snapshot(period=f"before {period}", generated_at=last, findings=findings)


def from_store(db_url: str | None, period: str | None) -> ReportInput:
    from secscan.model.org import Organisation
    from secscan.policy import default_baseline, load_baselines
    from secscan.report.evaluated import build_input

    store = open_store(db_url)
    org_json = store.get_meta("org")
    if org_json is None:
        raise ValueError("SECSCAN_DB: the store has no org.yaml; run `secscan collector init --org org.yaml` first")
    org = Organisation.model_validate_json(org_json)
    if org.baseline:
        baselines = load_baselines()
        if org.baseline not in baselines:
            raise ValueError(f"org.yaml: baseline {org.baseline!r} is not among the policies")
        baseline = baselines[org.baseline]
    else:
        baseline = default_baseline()
    now = datetime.now(UTC)
    period = period or f"{now.year}-{now.month:02d}"
    # Results as stored at ingest (or by `collector evaluate`): the store's judgement is the one
    # the report shows, so the PDF's figures are the collector's.
    return build_input(
        org,
        baseline,
        store.latest_reports(),
        store.scans(),
        results=store.latest_results(),
        period=period,
        generated_at=now,
        previous=previous_from_store(store, period),
    )


def record_findings(db_url: str | None, findings: Iterable[Finding], at: datetime, units: Iterable[str]) -> dict:
    """Write this period's active findings as the store's history (one transaction)."""
    store = open_store(db_url)
    current = [
        {
            "unit_id": f.unit,
            "baseline": HISTORY_BASELINE,
            "control_id": f.control_id,
            "severity": f.severity.value,
            "data": f.model_dump(mode="json", by_alias=True),
        }
        for f in findings
    ]
    return store.save_findings(current, at=at, units=units)
