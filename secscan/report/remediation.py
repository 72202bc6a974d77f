"""Closing the loop of ``secscan remediate`` in the reports: per unit, how many failing (PC, control)
results a script can fix and how many need guidance, and, for the pairs a written script targets,
which are resolved and which still fail on which PCs.

The wiring hands this module its data in ``ReportInput.remediation`` (:class:`RemediationInput`):

* ``fixable`` — per unit, the failing pairs the remediation catalogue can fix on that PC (a fix
  exists and covers the PC's OS version) and those it can only explain (guidance);
* ``scripts`` — what each ``secscan remediate`` recorded in the store when it wrote a script: the
  (PC, control) pairs it targets with fixes, and the report of each PC it was written from.

A pair is *resolved* when the PC has sent a newer report than the one the script was written from
and the control passes in it; *still failing* when it fails in that newer report; *awaiting a
report* when the PC's latest report is still the one the script was written from. secscan does not
know whether the script ran on a PC, only what the PC's reports say since: docs/remediate.md.

The template partial ``reports/templates/remediation.html.j2`` calls :meth:`RemediationInput.view`;
its words are in ``reports/i18n/remediation.<lang>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from secscan.model.common import AwareDatetime, Contract, ShortText
from secscan.model.result import Outcome, Result

if TYPE_CHECKING:
    from secscan.report.inputs import ReportInput

SCRIPT_RECORD = "secscan.remediation-script/1"
MAX_SCRIPTS_PER_UNIT = 20  # records the wiring keeps per unit, newest last


class ScriptTarget(Contract):
    host: ShortText
    machine_id: ShortText
    report_id: ShortText  # the PC's report the script was written from
    control: ShortText
    fixes: list[ShortText] = Field(default_factory=list)


class ScriptRecord(Contract):
    """What ``secscan remediate`` records in the store beside the script it writes."""

    schema_: Literal["secscan.remediation-script/1"] = Field(default=SCRIPT_RECORD, alias="schema")
    script_id: ShortText
    unit: ShortText
    written_at: AwareDatetime
    file: ShortText
    version: ShortText  # the secscan that wrote it
    platform: Literal["windows", "linux"] = "windows"
    targets: list[ScriptTarget] = Field(default_factory=list)


class PairRef(Contract):
    report_id: ShortText
    control: ShortText


class UnitFixability(Contract):
    unit: ShortText
    script: list[PairRef] = Field(default_factory=list)  # failing pairs a script can fix
    guidance: list[PairRef] = Field(default_factory=list)  # failing pairs given guidance only


class RemediationInput(Contract):
    fixable: list[UnitFixability] = Field(default_factory=list)
    scripts: list[ScriptRecord] = Field(default_factory=list)

    def view(self, inp: ReportInput, lang: str) -> RemediationView:
        return build_view(self, inp, lang)


# --- the view the partial prints -----------------------------------------------------------------

Status = Literal["resolved", "failing", "waiting", "unknown"]


@dataclass
class FixRow:
    unit_id: str
    name: str
    failing: int  # failing (PC, control) results of the unit
    script: int  # of which a script can fix
    guidance: int  # of which need guidance (no script may or can fix them on that PC)

    @property
    def other(self) -> int:
        """Failing pairs the catalogue has nothing for (or whose PC no script can name)."""
        return self.failing - self.script - self.guidance


@dataclass
class ControlLoop:
    control: str
    title: str
    hosts: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in STATUSES})


@dataclass
class UnitLoop:
    unit_id: str
    name: str
    scripts: list[ScriptRecord]  # those whose targets are counted, oldest first
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    controls: list[ControlLoop] = field(default_factory=list)

    @property
    def targeted(self) -> int:
        return sum(self.counts.values())


@dataclass
class RemediationView:
    words: dict[str, Any]
    fix_rows: list[FixRow]
    loops: list[UnitLoop]

    @property
    def totals(self) -> FixRow:
        return FixRow("", "", sum(r.failing for r in self.fix_rows), sum(r.script for r in self.fix_rows),
                      sum(r.guidance for r in self.fix_rows))


STATUSES: tuple[Status, ...] = ("resolved", "failing", "waiting", "unknown")


def words(lang: str) -> dict[str, Any]:
    from secscan.report.texts import LANGS, data_file

    if lang not in LANGS:
        raise ValueError(f"--lang {lang}: unsupported (use one of {', '.join(LANGS)})")
    return data_file(f"i18n/remediation.{lang}.yaml")


def _titles(inp: ReportInput, lang: str) -> dict[str, str]:
    return {c.id: c.title.get(lang) for c in inp.controls}


def newest_per_machine(inp: ReportInput) -> dict[str, str]:
    """Machine id (casefolded) -> the id of the newest of the latest reports that carry it. A PC the
    store knows under two host records (a hand-run capture naming no unit, then a signed report
    naming one) has two "latest" reports; only the newer one says where the PC stands."""
    latest: dict[str, str] = {}
    stamp: dict[str, datetime] = {}
    for report in inp.hosts:
        mid = (report.host.machine_id or "").casefold()
        if mid and (mid not in stamp or report.collected_at > stamp[mid]):
            latest[mid], stamp[mid] = str(report.report_id), report.collected_at
    return latest


def superseded(inp: ReportInput) -> set[str]:
    """Report ids whose PC has a newer report among ``inp.hosts`` (see :func:`newest_per_machine`)."""
    newest = newest_per_machine(inp)
    return {str(r.report_id) for r in inp.hosts
            if r.host.machine_id and newest[r.host.machine_id.casefold()] != str(r.report_id)}


def build_view(rem: RemediationInput, inp: ReportInput, lang: str) -> RemediationView:
    fixable = {f.unit: f for f in rem.fixable}
    failing: dict[str, int] = {}
    old = superseded(inp)
    for r in inp.results:
        if r.outcome is Outcome.failed and r.unit is not None and r.report_id not in old:
            failing[r.unit] = failing.get(r.unit, 0) + 1
    rows = []
    for unit in inp.units:
        f = fixable.get(unit.id)
        if unit.id not in failing and f is None:
            continue
        rows.append(FixRow(unit.id, unit.name, failing.get(unit.id, 0), len(f.script) if f else 0,
                           len(f.guidance) if f else 0))
    return RemediationView(words(lang), rows, loops(rem.scripts, inp, lang))


def target_status(target: ScriptTarget, latest: dict[str, str], results: dict[tuple[str, str], Result]) -> Status:
    """Where one targeted (PC, control) pair stands now. ``latest``: machine id (casefolded) -> the
    PC's latest report id; ``results``: (report id, control) -> Result."""
    now = latest.get(target.machine_id.casefold())
    if now is None:
        return "unknown"  # the PC is not among the report's hosts any more
    if now == target.report_id:
        return "waiting"
    result = results.get((now, target.control))
    if result is None:
        return "unknown"
    if result.outcome is Outcome.passed:
        return "resolved"
    if result.outcome is Outcome.failed:
        return "failing"
    return "unknown"


def loops(scripts: list[ScriptRecord], inp: ReportInput, lang: str) -> list[UnitLoop]:
    """Per unit with a recorded script: each targeted pair's status, the latest script that targets
    a pair deciding (a newer script for the same PC and control replaces an older one's target)."""
    units = {u.id: u for u in inp.units}
    wanted = [s for s in scripts if s.unit in units]
    if not wanted:
        return []
    latest = newest_per_machine(inp)
    wanted_ids = set(latest.values())
    results = {(r.report_id, r.control_id): r for r in inp.results if r.report_id in wanted_ids}
    titles = _titles(inp, lang)
    out = []
    for unit_id in dict.fromkeys(u.id for u in inp.units):
        mine = sorted((s for s in wanted if s.unit == unit_id), key=lambda s: s.written_at)
        if not mine:
            continue
        chosen: dict[tuple[str, str], tuple[ScriptRecord, ScriptTarget]] = {}
        for script in mine:
            for target in script.targets:
                chosen[(target.machine_id.casefold(), target.control)] = (script, target)
        used = {id(s) for s, _ in chosen.values()}
        loop = UnitLoop(unit_id, units[unit_id].name, [s for s in mine if id(s) in used])
        by_control: dict[str, ControlLoop] = {}
        for _, target in sorted(chosen.values(), key=lambda st: (st[1].control, st[1].host.casefold())):
            status = target_status(target, latest, results)
            loop.counts[status] += 1
            row = by_control.setdefault(target.control,
                                        ControlLoop(target.control, titles.get(target.control, target.control)))
            row.hosts[status].append(target.host)
        loop.controls = sorted(by_control.values(), key=lambda c: (-len(c.hosts["failing"]), c.control))
        out.append(loop)
    return out
