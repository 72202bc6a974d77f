"""Per-unit and whole-organisation summaries: score over required controls (unknown apart),
recommended controls apart, per-control rates, and the province's indicators."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from secscan.model.org import Organisation
from secscan.model.result import (
    ControlRate,
    Counts,
    IndicatorValue,
    OrgSummary,
    Outcome,
    Requirement,
    Result,
    UnitSummary,
    UnplacedHost,
)
from secscan.policy.baseline import CompiledBaseline

# (unit, report_id, hostname, control_id, requirement, outcome)
Row = tuple[str | None, str, str, str, Requirement, Outcome]

_RANK = {Requirement.none: 0, Requirement.recommended: 1, Requirement.required: 2}
_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


class _Acc:
    """Counters for one scope (a unit, or the whole organisation)."""

    def __init__(self) -> None:
        self.hosts: dict[str, str] = {}  # report_id -> hostname
        self.required = [0, 0, 0, 0]
        self.recommended = [0, 0, 0, 0]
        # control -> [pass, fail, unknown, n/a, max requirement rank, failing hosts, unknown hosts]
        self.controls: dict[str, list] = {}
        self.not_compliant: set[str] = set()  # report ids with a required control not passed

    def add(self, report_id: str, host: str, control_id: str, requirement: Requirement, outcome: Outcome) -> None:
        self.hosts[report_id] = host
        i = _INDEX[outcome]
        if requirement is Requirement.required:
            self.required[i] += 1
            if outcome is Outcome.failed or outcome is Outcome.unknown:
                self.not_compliant.add(report_id)
        elif requirement is Requirement.recommended:
            self.recommended[i] += 1
        c = self.controls.get(control_id)
        if c is None:
            c = self.controls[control_id] = [0, 0, 0, 0, 0, [], []]
        c[i] += 1
        rank = _RANK[requirement]
        if rank > c[4]:
            c[4] = rank
        if i == 1:
            c[5].append(host)
        elif i == 2:
            c[6].append(host)


_INDEX = {Outcome.passed: 0, Outcome.failed: 1, Outcome.unknown: 2, Outcome.not_applicable: 3}
_REQ = {2: Requirement.required, 1: Requirement.recommended, 0: Requirement.none}


def _counts(values: list[int]) -> Counts:
    return Counts(passed=values[0], failed=values[1], unknown=values[2], not_applicable=values[3])


def _summary(acc: _Acc, unit: str | None, name: str, parent: str | None, level: int | None, basis: str | None,
             baseline: CompiledBaseline) -> UnitSummary:
    required = _counts(acc.required)
    controls = []
    for control_id, c in acc.controls.items():
        counts = _counts(c[:4])
        compiled = baseline.by_id.get(control_id)
        controls.append(ControlRate(control_id=control_id, requirement=_REQ[c[4]],
                                    severity=compiled.control.severity if compiled else "info", counts=counts,
                                    rate=counts.score(), failing_hosts=sorted(c[5]), unknown_hosts=sorted(c[6])))
    controls.sort(key=lambda r: (-_RANK[r.requirement], _SEVERITY.get(r.severity, 9), r.control_id))
    indicators = []
    for ind in baseline.baseline.indicators:
        c = acc.controls.get(ind.control, [0, 0, 0, 0])
        judged = c[0] + c[1]
        count = c[0] if ind.counts == "pass" else c[1]
        indicators.append(IndicatorValue(indicator_id=ind.id, control_id=ind.control, counts=ind.counts, count=count,
                                         judged=judged, unknown=c[2], share=count / judged if judged else None))
    return UnitSummary(unit=unit, name=name, parent=parent, level=level, level_basis=basis, hosts=len(acc.hosts),
                       required=required, recommended=_counts(acc.recommended), score=required.score(),
                       hosts_compliant=len(acc.hosts) - len(acc.not_compliant & acc.hosts.keys()),
                       controls=controls, indicators=indicators)


def summarise_rows(rows: Iterable[Row], org: Organisation, baseline: CompiledBaseline,
                   unplaced: list[UnplacedHost] | None = None) -> OrgSummary:
    units: dict[str | None, _Acc] = {}
    total = _Acc()
    for unit, report_id, host, control_id, requirement, outcome in rows:
        acc = units.get(unit)
        if acc is None:
            acc = units[unit] = _Acc()
        acc.add(report_id, host, control_id, requirement, outcome)
        total.add(report_id, host, control_id, requirement, outcome)
    order = {u.id: i for i, u in enumerate(org.units)}
    out = []
    for unit_id in sorted(units, key=lambda u: order.get(u, len(order)) if u else len(order)):
        info = org.unit_index.get(unit_id) if unit_id else None
        out.append(_summary(units[unit_id], unit_id, info.name if info else str(unit_id),
                            info.parent if info else None, org.level_of(unit_id) if unit_id else None,
                            org.level_basis(unit_id) if unit_id else None, baseline))
    whole = _summary(total, None, org.name, None, None, None, baseline)
    return OrgSummary(organisation=org.name, baseline=baseline.id, baseline_version=baseline.baseline.version,
                      generated_at=datetime.now(UTC).isoformat(timespec="seconds"), units=out, total=whole,
                      unplaced=unplaced or [])


def summarise(results: Iterable[Result], org: Organisation, baseline: CompiledBaseline,
              unplaced: list[UnplacedHost] | None = None) -> OrgSummary:
    rows = ((r.unit, r.report_id, r.host, r.control_id, r.requirement, r.outcome) for r in results)
    return summarise_rows(rows, org, baseline, unplaced)
