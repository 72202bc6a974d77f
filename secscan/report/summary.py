"""Every number a report shows, computed once here; the PDF, HTML, CSV and feed only lay them out.

Counts are three-way (yes / no / unknown): a fact the agent could not collect is shown as unknown,
never folded into "yes". Percentages are over the hosts where the fact is known and say how many
were unknown beside them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from secscan.model.finding import Finding, FindingStatus, Severity
from secscan.model.result import Outcome, Requirement
from secscan.report.config import Prices
from secscan.report.coverage import UnitCoverage, coverage
from secscan.report.findings import ControlDetail, build_findings
from secscan.report.inputs import ReportInput, Snapshot, UnitInfo
from secscan.runtime import cyclic_gc_paused as paused_gc

_HIGH = {Severity.high.value, Severity.critical.value}
UNITS_NAMED = 5  # units a recommendation names; it says how many more there are


@dataclass
class Count:
    yes: int = 0
    no: int = 0
    unknown: int = 0

    def add(self, value: bool | None) -> None:
        if value is None:
            self.unknown += 1
        elif value:
            self.yes += 1
        else:
            self.no += 1

    @property
    def known(self) -> int:
        return self.yes + self.no

    @property
    def total(self) -> int:
        return self.yes + self.no + self.unknown

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.yes / self.known, 1) if self.known else None

    def merge(self, other: Count) -> None:
        self.yes += other.yes
        self.no += other.no
        self.unknown += other.unknown


@dataclass
class Indicators:
    hosts: int = 0
    seen: int = 0  # hosts the LAN scans saw
    managed: int = 0  # of those, with an agent report
    unmanaged: int = 0
    scanned_units: int = 0
    av_present: Count = field(default_factory=Count)
    av_current: Count = field(default_factory=Count)  # among hosts with AV present
    windows_licensed: Count = field(default_factory=Count)  # over the hosts the control applies to
    office_licensed: Count = field(default_factory=Count)
    activators: Count = field(default_factory=Count)  # yes = an activator was found
    unsupported_os: Count = field(default_factory=Count)  # yes = the OS is out of support
    high_hosts: int = 0  # hosts failing at least one high/critical control
    passed: int = 0  # required (host, control) results
    failed: int = 0
    unknown: int = 0

    @property
    def windows(self) -> int:
        """Hosts the Windows-licence control applies to (Windows hosts)."""
        return self.windows_licensed.total

    @property
    def coverage_pct(self) -> float | None:
        return round(100.0 * self.managed / self.seen, 1) if self.seen else None

    @property
    def score(self) -> float | None:
        """Share of judged required checks that passed: passed / (passed + failed), the policy
        stage's definition (OrgSummary.score). Unknown is never a pass; it is reported beside it."""
        judged = self.passed + self.failed
        return round(100.0 * self.passed / judged, 1) if judged else None

    def merge(self, other: Indicators) -> None:
        for name, value in vars(other).items():
            if isinstance(value, Count):
                getattr(self, name).merge(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    def flat(self) -> dict[str, float | int | None]:
        """The figures a snapshot keeps for the next period's comparison."""
        return {
            "hosts": self.hosts,
            "coverage_pct": self.coverage_pct,
            "unmanaged": self.unmanaged,
            "av_present_pct": self.av_present.pct,
            "av_current_pct": self.av_current.pct,
            "windows_licensed_pct": self.windows_licensed.pct,
            "office_licensed_pct": self.office_licensed.pct,
            "activators": self.activators.yes,
            "unsupported_os": self.unsupported_os.yes,
            "high_hosts": self.high_hosts,
            "score": self.score,
        }


@dataclass
class UnitRow:
    unit: UnitInfo
    ind: Indicators
    score_before: float | None = None

    @property
    def band(self) -> str:
        """Colour band of the score: good ≥ 80, fair ≥ 50, poor below, none without results."""
        score = self.ind.score
        if score is None:
            return "none"
        return "good" if score >= 80 else "fair" if score >= 50 else "poor"


@dataclass
class Change:
    key: str
    before: float | int | None
    now: float | int | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.now is None:
            return None
        return round(self.now - self.before, 1)


@dataclass
class Licences:
    windows: int
    office: int
    windows_unknown: int
    office_unknown: int
    windows_price: int
    office_price: int

    @property
    def cost(self) -> int:
        return self.windows * self.windows_price + self.office * self.office_price


@dataclass
class Summary:
    inp: ReportInput
    org: Indicators
    units: list[UnitRow]
    brief: list[Finding]  # every finding, sorted; control findings without hosts and evidence
    licences: Licences
    changes: list[Change]
    recommendations: list[tuple[str, dict]]  # (text key in i18n, its figures)
    detail: ControlDetail

    def detailed(self, finding: Finding) -> Finding:
        """``finding`` with its host list and evidence lines."""
        got = self.detail.of(finding.id)  # None for the findings that carry their hosts already
        return finding if got is None else finding.model_copy(update={"hosts": got[0], "evidence": got[1]})

    @cached_property
    def findings(self) -> list[Finding]:
        """Every finding with its hosts and evidence (the HTML, the CSV, the saved snapshot)."""
        return [self.detailed(f) for f in self.brief]

    @property
    def active_brief(self) -> list[Finding]:
        return [f for f in self.brief if f.status is not FindingStatus.resolved]

    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.status is not FindingStatus.resolved]

    @property
    def resolved_findings(self) -> list[Finding]:
        return [f for f in self.brief if f.status is FindingStatus.resolved]

    def count_status(self, status: FindingStatus) -> int:
        return sum(1 for f in self.brief if f.status is status)

    @property
    def units_below(self) -> list[UnitRow]:
        return [row for row in self.units if row.band == "poor"]

    def snapshot(self) -> Snapshot:
        return Snapshot(
            period=self.inp.period,
            generated_at=self.inp.generated_at,
            indicators=self.org.flat(),
            units={row.unit.id: row.ind.flat() for row in self.units},
            findings=self.active_findings,
        )


def summarise(inp: ReportInput, prices: Prices | None = None, lang: str = "vi") -> Summary:
    """``prices`` (report.yaml) turn licence counts into a cost; without them the cost is 0."""
    with paused_gc():
        return _summarise(inp, prices, lang)


def _summarise(inp: ReportInput, prices: Prices | None, lang: str) -> Summary:
    prices = prices or Prices(windows=0, office=0)
    units = {u.id: u for u in inp.units}
    per_unit: dict[str, Indicators] = defaultdict(Indicators)
    for report in inp.hosts:
        per_unit[report.unit or ""].hosts += 1
    indicator_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for ref in inp.indicators:
        indicator_of[ref.control].append((ref.key, ref.counts))
    high_hosts: dict[str, set[str]] = defaultdict(set)
    scan_ids = inp.scan_ids
    for r in inp.results:
        if r.report_id in scan_ids:
            continue  # LAN scan hosts: exposure findings, not the unit's PC figures (as the policy summary)
        ind = per_unit[r.unit or ""]
        # headline indicators: read off their control's outcome (the policy's Indicator), over
        # every host it applies to, whatever the requirement at the host's level
        for key, counts in indicator_of.get(r.control_id, ()):
            if r.outcome is Outcome.unknown:
                getattr(ind, key).add(None)
            elif r.outcome is not Outcome.not_applicable:
                getattr(ind, key).add((r.outcome is Outcome.passed) == (counts == "pass"))
        if r.requirement is Requirement.required:
            if r.outcome is Outcome.passed:
                ind.passed += 1
            elif r.outcome is Outcome.failed:
                ind.failed += 1
            elif r.outcome is Outcome.unknown:
                ind.unknown += 1
        if r.outcome is Outcome.failed and r.severity.lower() in _HIGH and r.requirement is not Requirement.none:
            high_hosts[r.unit or ""].add(r.report_id)
    for unit, ids in high_hosts.items():
        per_unit[unit].high_hosts = len(ids)
    cov: dict[str, UnitCoverage] = coverage(inp.hosts, inp.scans, inp.generated_at)
    for unit, c in cov.items():
        ind = per_unit[unit]
        ind.seen, ind.managed, ind.unmanaged, ind.scanned_units = c.seen, c.managed, len(c.unmanaged), 1

    findings, detail = build_findings(inp, cov, lang)

    prev = inp.previous
    rows = []
    org = Indicators()
    for unit_id in list(units) + sorted(set(per_unit) - set(units)):
        ind = per_unit.get(unit_id, Indicators())
        org.merge(ind)
        unit = units.get(unit_id) or UnitInfo(id=unit_id or "-", name=unit_id or "(không rõ đơn vị)")
        before = prev.units.get(unit_id, {}).get("score") if prev else None
        rows.append(UnitRow(unit=unit, ind=ind, score_before=before))

    lic = Licences(
        windows=org.windows_licensed.no,
        office=org.office_licensed.no,
        windows_unknown=org.windows_licensed.unknown,
        office_unknown=org.office_licensed.unknown,
        windows_price=prices.windows,
        office_price=prices.office,
    )
    now = org.flat()
    changes = [Change(k, prev.indicators.get(k), v) for k, v in now.items()] if prev else []
    summary = Summary(inp, org, rows, findings, lic, changes, [], detail)
    summary.recommendations = _recommendations(summary)
    return summary


def exposed_hosts(inp: ReportInput) -> set[tuple[str, str]]:
    """(unit, host) of the LAN-scan hosts that fail a network control: the failing hosts of the
    exposure findings, read off the Results (building those findings' host lists and evidence
    lines only to count them cost a province 0.3 s)."""
    scan_ids, failed, none = inp.scan_ids, Outcome.failed, Requirement.none
    return {(r.unit or "", r.host) for r in inp.results
            if r.report_id in scan_ids and r.outcome is failed and r.requirement is not none}


def _recommendations(s: Summary) -> list[tuple[str, dict]]:
    """Which advice applies, with its figures; the words live in reports/i18n/<lang>.yaml."""
    o = s.org
    out: list[tuple[str, dict]] = []
    if o.av_present.no or o.av_current.no:
        out.append(("av", {"missing": o.av_present.no, "stale": o.av_current.no}))
    if s.licences.windows or s.licences.office:
        lic = s.licences
        out.append(
            (
                "licences",
                {
                    "windows": lic.windows,
                    "office": lic.office,
                    "cost": lic.cost,
                    "unknown": lic.windows_unknown + lic.office_unknown,
                },
            )
        )
    if o.activators.yes:
        out.append(("activators", {"n": o.activators.yes}))
    if o.unsupported_os.yes:
        out.append(("unsupported_os", {"n": o.unsupported_os.yes}))
    if o.unmanaged:
        out.append(("unmanaged", {"n": o.unmanaged}))
    exposed = len(exposed_hosts(s.inp))
    if exposed:
        out.append(("exposure", {"n": exposed}))
    below = s.units_below
    if below:
        # names beyond the first few are in section II's table; the advice says how many it leaves out
        more = len(below) - UNITS_NAMED
        names = "; ".join(r.unit.name for r in below[:UNITS_NAMED])
        key = "units_below_more" if more > 0 else "units_below"
        out.append((key, {"n": len(below), "names": names, **({"more": more} if more > 0 else {})}))
    if o.unknown:
        out.append(("unknown", {"n": o.unknown}))
    return out
