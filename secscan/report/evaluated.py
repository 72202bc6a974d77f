"""ReportInput from the policy stage's objects: org.yaml (units and their required levels), a
compiled baseline (control titles, remediation, citations, indicators), the latest HostReport per
host, the LAN scans, and their Results (evaluated here when not given)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secscan.model.finding import Reference, Severity
from secscan.model.host import HostReport
from secscan.model.org import Organisation
from secscan.model.policy import Baseline
from secscan.model.result import Result
from secscan.model.scan import ScanReport
from secscan.report.inputs import Bilingual, ControlInfo, IndicatorRef, ReportInput, Snapshot, UnitInfo

if TYPE_CHECKING:
    from secscan.policy import CompiledBaseline

# the policy's indicator ids (policies/*.yaml) → the report's headline figures
INDICATOR_KEYS = {
    "antivirus": "av_present",
    "av_signatures_current": "av_current",
    "windows_licensed": "windows_licensed",
    "office_licensed": "office_licensed",
    "activator_found": "activators",
    "os_unsupported": "unsupported_os",
}
HEURISTIC_CONTROLS = {"no_activator"}  # detection by indicators of a crack: findings carry a confidence
NETWORK_BASELINE = "vn-network"  # policies/vn-network.yaml: risky services on LAN scan hosts


def _network_baseline() -> CompiledBaseline | None:
    from secscan.policy import load_baselines

    return load_baselines().get(NETWORK_BASELINE)


def units_of(org: Organisation, used: set[str]) -> list[UnitInfo]:
    """Every unit that has hosts or scans, and every leaf unit (a commune that sent nothing is
    shown with 0 hosts); container units without hosts of their own (the district itself) are not."""
    parents = {u.parent for u in org.units if u.parent}
    return [
        UnitInfo(id=u.id, name=u.name, kind=u.kind, level=org.level_of(u.id), networks=[str(n) for n in u.networks])
        for u in org.units
        if u.id in used or u.id not in parents
    ]


def controls_of(baseline: Baseline) -> tuple[list[ControlInfo], list[IndicatorRef]]:
    controls = []
    for c in baseline.controls:
        refs = [
            Reference(title=" ".join(x for x in (cit.source, cit.ref) if x), verified=cit.verified)
            for cit in c.citations
        ]
        controls.append(
            ControlInfo(
                id=c.id,
                title=Bilingual(vi=c.title.vi, en=c.title.en),
                problem=Bilingual(vi=c.problem.vi, en=c.problem.en),
                remediation=Bilingual(vi=c.remediation.vi, en=c.remediation.en),
                severity=Severity(c.severity),
                references=refs,
                heuristic=c.id in HEURISTIC_CONTROLS or "heuristic" in c.tags,
            )
        )
    indicators = [
        IndicatorRef(key=INDICATOR_KEYS[i.id], control=i.control, counts=i.counts)
        for i in baseline.indicators
        if i.id in INDICATOR_KEYS
    ]
    return controls, indicators


def build_input(
    org: Organisation,
    baseline: CompiledBaseline,
    reports: Iterable[HostReport],
    scans: Iterable[ScanReport] = (),
    *,
    results: list[Result] | None = None,
    period: str,
    generated_at: datetime | None = None,
    previous: Snapshot | None = None,
    network: CompiledBaseline | None = None,
) -> ReportInput:
    """``results``: the hosts' Results when already judged (the collector store); otherwise they are
    judged here. The scans are always judged here, against ``network`` (default: the shipped
    ``vn-network`` baseline of risky services) and any scan-host controls of ``baseline``."""
    from secscan.policy import evaluate_host, evaluate_scan, place_host

    placed: list[HostReport] = []
    evaluated: list[Result] = []
    for report in reports:
        unit, _ = place_host(report, org)
        if unit is None:
            continue  # the policy stage lists these as unplaced; they belong to no unit's figures
        if report.unit != unit:
            report = report.model_copy(update={"unit": unit})
        placed.append(report)
        if results is None:
            evaluated += evaluate_host(report, org, baseline)
    scans = list(scans)
    scan_ids = {str(scan.scan_id) for scan in scans}
    # scan hosts are judged below, once: drop any the caller's results already hold
    results = evaluated if results is None else [r for r in results if r.report_id not in scan_ids]
    network = network or _network_baseline()
    judges = [b for b in (baseline, network) if b is not None]
    if network is not None and network.id == baseline.id:
        judges = [baseline]
    results = list(results)
    for scan in scans:
        doc = scan.model_dump(mode="json", by_alias=True)  # once, for every baseline
        results += [r for b in judges for r in evaluate_scan(doc, org, b)]
    used = {r.unit for r in placed if r.unit} | {s.unit for s in scans if s.unit}
    controls, indicators = controls_of(baseline.baseline)
    if network is not None and network.id != baseline.id:
        controls += controls_of(network.baseline)[0]
    return ReportInput(
        organisation=org.name,
        period=period,
        generated_at=generated_at or datetime.now(UTC),
        units=units_of(org, used),
        controls=controls,
        indicators=indicators,
        hosts=placed,
        results=results,
        scans=scans,
        previous=previous,
    )
