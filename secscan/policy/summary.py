"""Per-unit and whole-organisation summaries: score over required controls (unknown apart),
recommended controls apart, per-control rates, and the province's indicators."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime

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
from secscan.policy.baseline import CompiledBaseline, Verdict
from secscan.runtime import cyclic_gc_paused

# what a summary is built from: one judged host (unit, report_id, hostname, its verdicts)
Judged = tuple[str | None, str, str, "list[Verdict] | list[Result]"]

_RANK = {Requirement.none: 0, Requirement.recommended: 1, Requirement.required: 2}
_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


class _Acc:
    """Counters for one scope (a unit). Outcomes are compared by identity: hashing a StrEnum
    costs a Python call, and this loop runs once per host × control."""

    def __init__(self) -> None:
        self.hosts: dict[tuple[str, str], str] = {}  # (report_id, host) -> hostname; a scan has many hosts
        self.required = [0, 0, 0, 0]
        self.recommended = [0, 0, 0, 0]
        # control -> [pass, fail, unknown, n/a, max requirement rank, failing hosts, unknown hosts]
        self.controls: dict[str, list] = {}
        self.compliant = 0  # hosts with every required control passed

    def add_host(self, report_id: str, host: str, verdicts: Iterable[Verdict | Result]) -> None:
        key = (report_id, host)
        if key in self.hosts:
            return  # the same report twice: count it once
        self.hosts[key] = host
        ok = True
        required, recommended, controls = self.required, self.recommended, self.controls
        for v in verdicts:
            outcome, requirement = v.outcome, v.requirement
            if outcome is PASSED:
                i = 0
            elif outcome is FAILED:
                i = 1
            elif outcome is UNKNOWN:
                i = 2
            else:
                i = 3
            if requirement is REQUIRED:
                required[i] += 1
                if i == 1 or i == 2:
                    ok = False
                rank = 2
            elif requirement is RECOMMENDED:
                recommended[i] += 1
                rank = 1
            else:
                rank = 0
            c = controls.get(v.control_id)
            if c is None:
                c = controls[v.control_id] = [0, 0, 0, 0, 0, [], []]
            c[i] += 1
            if rank > c[4]:
                c[4] = rank
            if i == 1:
                c[5].append(host)
            elif i == 2:
                c[6].append(host)
        if ok:
            self.compliant += 1

    def merge(self, other: _Acc) -> None:
        self.hosts.update(other.hosts)
        self.compliant += other.compliant
        for mine, theirs in ((self.required, other.required), (self.recommended, other.recommended)):
            for i in range(4):
                mine[i] += theirs[i]
        for control_id, c in other.controls.items():
            m = self.controls.setdefault(control_id, [0, 0, 0, 0, 0, [], []])
            for i in range(4):
                m[i] += c[i]
            m[4] = max(m[4], c[4])
            m[5] += c[5]
            m[6] += c[6]


PASSED, FAILED, UNKNOWN = Outcome.passed, Outcome.failed, Outcome.unknown
REQUIRED, RECOMMENDED = Requirement.required, Requirement.recommended
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
                       hosts_compliant=acc.compliant,
                       controls=controls, indicators=indicators)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def assessment_status(org: Organisation, unit_id: str, baseline: CompiledBaseline, today: date
                      ) -> tuple[date | None, date | None, bool | None]:
    """(last assessment, next due, overdue) for a unit. An assessment recorded on a unit covers its
    sub-units too (a district assessing all its communes' systems), so the latest of the unit and
    its ancestors counts. No record: (None, None, None) — unknown, never "done"."""
    dates = [a.date for uid in (unit_id, *org.ancestors(unit_id)) if uid in org.unit_index
             for a in org.unit_index[uid].assessments]
    if not dates:
        return None, None, None
    last = max(dates)
    rule, level = baseline.baseline.assessment, org.level_of(unit_id)
    if rule is None or level is None or level not in rule.months:
        return last, None, None
    due = _add_months(last, rule.months[level])
    return last, due, today > due


def summarise_judged(judged: Iterable[Judged], org: Organisation, baseline: CompiledBaseline,
                     unplaced: list[UnplacedHost] | None = None, today: date | None = None) -> OrgSummary:
    """The bulk path: one (unit, report_id, hostname, verdicts) per judged host."""
    now = datetime.now(UTC)
    today = today or now.date()
    units: dict[str | None, _Acc] = {}
    with cyclic_gc_paused():
        for unit, report_id, host, verdicts in judged:
            acc = units.get(unit)
            if acc is None:
                acc = units[unit] = _Acc()
            acc.add_host(report_id, host, verdicts)
    total = _Acc()
    for acc in units.values():
        total.merge(acc)
    order = {u.id: i for i, u in enumerate(org.units)}
    out = []
    for unit_id in sorted(units, key=lambda u: order.get(u, len(order)) if u else len(order)):
        info = org.unit_index.get(unit_id) if unit_id else None
        summary = _summary(units[unit_id], unit_id, info.name if info else str(unit_id),
                           info.parent if info else None, org.level_of(unit_id) if unit_id else None,
                           org.level_basis(unit_id) if unit_id else None, baseline)
        if unit_id is not None:
            last, due, overdue = assessment_status(org, unit_id, baseline, today)
            summary = summary.model_copy(update={"last_assessment": last, "assessment_due": due,
                                                 "assessment_overdue": overdue})
        out.append(summary)
    whole = _summary(total, None, org.name, None, None, None, baseline)
    # subtrees: every ancestor of a unit with hosts, over itself and all its descendants
    trees: dict[str, _Acc] = {}
    for unit_id, acc in units.items():
        if unit_id is None:
            continue
        for ancestor in org.ancestors(unit_id):
            trees.setdefault(ancestor, _Acc()).merge(acc)
    subtrees = []
    for unit_id in sorted(trees, key=lambda u: order.get(u, len(order))):
        if unit_id in units:
            trees[unit_id].merge(units[unit_id])
        info = org.unit_index[unit_id]
        subtrees.append(_summary(trees[unit_id], unit_id, info.name, info.parent, None,
                                 "subtree: the unit and its sub-units", baseline))
    return OrgSummary(organisation=org.name, baseline=baseline.id, baseline_version=baseline.baseline.version,
                      generated_at=now.isoformat(timespec="seconds"), units=out, total=whole,
                      unplaced=unplaced or [], subtrees=subtrees)


def summarise(results: Iterable[Result], org: Organisation, baseline: CompiledBaseline,
              unplaced: list[UnplacedHost] | None = None, today: date | None = None) -> OrgSummary:
    """Per unit and whole organisation, from Results (any order; grouped by report)."""
    hosts: dict[tuple[str, str], tuple[str | None, str, str, list[Result]]] = {}
    for r in results:
        entry = hosts.get((r.report_id, r.host))
        if entry is None:
            entry = hosts[(r.report_id, r.host)] = (r.unit, r.report_id, r.host, [])
        entry[3].append(r)
    return summarise_judged(hosts.values(), org, baseline, unplaced, today)
