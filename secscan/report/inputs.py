"""What a report is built from: the units, the control catalogue, the latest HostReport per host,
the evaluated Results, the LAN scans, and the previous period's snapshot.

``ReportInput`` can be filled from the collector store (``secscan.report.source``) or directly from
evaluated results (tests, bench, ``--input bundle.json``). ``parse_bundle(raw)`` validates a bundle
document; ``load_bundle(path)`` reads one from disk and names the file in any error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from secscan.model.common import AwareDatetime, Contract, ShortText, Text
from secscan.model.finding import Finding, Reference, Severity
from secscan.model.host import HostReport
from secscan.model.result import Result
from secscan.model.scan import ScanReport
from secscan.report.remediation import RemediationInput

BUNDLE_SCHEMA = "secscan.report-input/1"
SNAPSHOT_SCHEMA = "secscan.report-snapshot/1"


class Bilingual(Contract):
    vi: Text
    en: Text | None = None

    def get(self, lang: str) -> str:
        return (self.en or self.vi) if lang == "en" else self.vi


class UnitInfo(Contract):
    id: ShortText
    name: ShortText
    kind: ShortText = "other"  # free text, as in org.yaml: district, department, commune, ward, town
    level: int | None = Field(default=None, ge=1, le=5)  # required security level (decision)
    networks: list[ShortText] = Field(default_factory=list)


class ControlInfo(Contract):
    id: ShortText
    title: Bilingual  # the requirement
    # the shortcoming a finding names (policy Control.problem); a bundle from before it was added
    # has none, and its findings fall back to the title
    problem: Bilingual | None = None
    remediation: Bilingual | None = None
    severity: Severity = Severity.medium
    references: list[Reference] = Field(default_factory=list)
    heuristic: bool = False  # detection is a heuristic (activators): findings carry a confidence


IndicatorKey = Literal[
    "av_present", "av_current", "windows_licensed", "office_licensed", "activators", "unsupported_os"
]


class IndicatorRef(Contract):
    """Which control's outcome a headline figure is read from (the policy's ``Indicator``):
    ``counts: pass`` counts hosts that pass it, ``fail`` hosts that fail it; unknown apart."""

    key: IndicatorKey
    control: ShortText
    counts: Literal["pass", "fail"] = "pass"


class Snapshot(Contract):
    """What one period's report leaves for the next one: its findings and its indicator figures."""

    schema_: Literal["secscan.report-snapshot/1"] = Field(default=SNAPSHOT_SCHEMA, alias="schema")
    period: ShortText
    generated_at: AwareDatetime
    indicators: dict[str, float | int | None] = Field(default_factory=dict)
    units: dict[str, dict[str, float | int | None]] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)


class ReportInput(Contract):
    schema_: Literal["secscan.report-input/1"] = Field(default=BUNDLE_SCHEMA, alias="schema")
    organisation: ShortText
    period: ShortText  # "2026-11"
    generated_at: AwareDatetime
    units: list[UnitInfo]
    controls: list[ControlInfo] = Field(default_factory=list)
    indicators: list[IndicatorRef] = Field(default_factory=list)
    hosts: list[HostReport] = Field(default_factory=list)  # the latest report of each host
    results: list[Result] = Field(default_factory=list)
    scans: list[ScanReport] = Field(default_factory=list)
    previous: Snapshot | None = None
    remediation: RemediationInput | None = None  # handed in by the wiring (secscan remediate's records)

    @property
    def scan_ids(self) -> frozenset[str]:
        """Results whose report_id is one of these judge a LAN scan host (host = its IP)."""
        return frozenset(str(s.scan_id) for s in self.scans)

    def only_unit(self, unit_id: str) -> ReportInput:
        """The same input restricted to one unit (``--unit ID``)."""
        if unit_id not in {u.id for u in self.units}:
            raise ValueError(f"--unit {unit_id}: no such unit (known: {', '.join(u.id for u in self.units)})")
        prev = self.previous
        if prev is not None:
            prev = prev.model_copy(
                update={
                    "findings": [f for f in prev.findings if f.unit == unit_id],
                    "indicators": prev.units.get(unit_id, {}),
                    "units": {k: v for k, v in prev.units.items() if k == unit_id},
                }
            )
        return self.model_copy(
            update={
                "units": [u for u in self.units if u.id == unit_id],
                "hosts": [h for h in self.hosts if h.unit == unit_id],
                "results": [r for r in self.results if r.unit == unit_id],
                "scans": [s for s in self.scans if s.unit == unit_id],
                "previous": prev,
            }
        )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(document)"
    return f"{where}: {err['msg']}"


def parse_bundle(raw: dict[str, Any]) -> ReportInput:
    try:
        return ReportInput.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(_first_error(exc)) from None


def parse_snapshot(raw: dict[str, Any]) -> Snapshot:
    try:
        return Snapshot.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(_first_error(exc)) from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_bundle(path: Path) -> ReportInput:
    raw = _read_json(path)
    try:
        return parse_bundle(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_snapshot(path: Path) -> Snapshot:
    raw = _read_json(path)
    try:
        return parse_snapshot(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
