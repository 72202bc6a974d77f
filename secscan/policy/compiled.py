"""A compiled baseline: every control's expressions as closures, planned per (OS family, role,
level) into the list the hot loop runs over plain report dictionaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from secscan.model.policy import Baseline, Control
from secscan.model.result import Outcome, Requirement
from secscan.policy import expr

UNDECIDED = "the facts present do not decide this control (a value inside a list is unknown)"
_FAMILY = expr.compile_expression("host.os.family")


class Verdict(NamedTuple):
    """One control on one subject. The evidence (the facts the control read) is not carried here:
    it is a pure function of the document, built when a Result is made
    (``CompiledBaseline.evidence``), so that bulk judging allocates nothing for a pass or a fail."""

    control_id: str
    requirement: Requirement
    outcome: Outcome
    reason: str | None = None


class Fact(NamedTuple):
    """A fact read from the document root: its dotted path and the closure that reads it."""

    path: str
    get: expr.Fn


class LevelExpressions(NamedTuple):
    passed: expr.Fn
    failed: expr.Fn | None  # the control's explicit fail expression, if it has one


class Applicability(NamedTuple):
    condition: expr.Fn  # applies_when
    needs: list[Fact]  # the root facts it reads: null ones make the verdict unknown


class GuardedPass(NamedTuple):
    """For a "one fact compared to a constant" control: pass with the null check built in."""

    passed: expr.Fn
    path: str


@dataclass(slots=True, frozen=True)
class PlannedControl:
    """One control planned for one level: everything the hot loop needs, read by name (a slotted
    attribute reads as fast as unpacking a plain tuple; a NamedTuple unpacks ~70 % slower)."""

    control: CompiledControl
    requirement: Requirement
    requires: tuple[Fact, ...]  # facts that must be non-null before pass/fail can decide
    passed: expr.Fn
    failed: expr.Fn | None
    pass_verdict: Verdict  # shared by every host that passes: a pass allocates nothing
    fail_verdict: Verdict
    guard: str | None  # the guarded fact's path (``passed`` returns None when it is null)
    has_applies_when: bool


@dataclass
class CompiledControl:
    control: Control
    evidence: list[Fact]  # root facts the expressions read: recorded with a Result
    requires: list[Fact]  # must be non-null for a verdict
    # per level; levels whose status is "-" still compile (indicators use them)
    by_level: dict[int, LevelExpressions]
    applies: Applicability | None = None
    guarded: dict[int, GuardedPass] | None = None  # per level

    @property
    def id(self) -> str:
        return self.control.id

    def planned(self, level: int, requirement: Requirement) -> PlannedControl:
        passed, failed = self.by_level[level]
        requires, guard = tuple(self.requires), None
        if self.guarded is not None:
            passed, guard = self.guarded[level]
            requires = ()
        return PlannedControl(self, requirement, requires, passed, failed,
                              Verdict(self.id, requirement, Outcome.passed),
                              Verdict(self.id, requirement, Outcome.failed), guard, self.applies is not None)

    def evidence_of(self, doc: dict[str, Any]) -> dict[str, Any]:
        facts = self.evidence + (self.applies.needs if self.applies else [])
        return {path: get(doc) for path, get in facts}

    def applicability(self, doc: dict[str, Any], requirement: Requirement) -> Verdict | None:
        """The applies_when verdict when it stops evaluation (not applicable / unknown), else None."""
        assert self.applies is not None
        for fact in self.applies.needs:
            if fact.get(doc) is None:
                return Verdict(self.id, requirement, Outcome.unknown, missing_reason(doc, fact.path))
        applies = self.applies.condition(doc)
        if applies is True:
            return None
        if applies is False:
            return Verdict(self.id, requirement, Outcome.not_applicable, f"not applicable: {self.control.applies_when}")
        return Verdict(self.id, requirement, Outcome.unknown, f"applicability undecided: {self.control.applies_when}")


def run_planned(doc: dict[str, Any], planned: list[PlannedControl], out: list[Verdict]) -> None:
    """The hot loop: judge ``doc`` on each planned control, appending to ``out``. A pass or a fail
    is a shared, pre-built Verdict; only unknown and not-applicable allocate (they carry a reason)."""
    append = out.append
    for p in planned:
        if p.has_applies_when:
            stop = p.control.applicability(doc, p.requirement)
            if stop is not None:
                append(stop)
                continue
        requires = p.requires
        if requires:
            missing = None
            for fact in requires:  # by attribute: unpacking a NamedTuple is slower than a tuple
                if fact.get(doc) is None:
                    missing = fact.path
                    break
            if missing is not None:
                append(Verdict(p.control.id, p.requirement, Outcome.unknown, missing_reason(doc, missing)))
                continue
        failed = p.failed
        try:
            if failed is not None and failed(doc) is True:  # fail wins; then pass need not run
                append(p.fail_verdict)
                continue
            passed = p.passed(doc)
        except expr.JMESPathError as exc:
            append(Verdict(p.control.id, p.requirement, Outcome.unknown, f"expression error: {exc}"))
            continue
        if passed is True:
            append(p.pass_verdict)
        elif failed is None and passed is False:
            append(p.fail_verdict)
        elif p.guard is not None and p.control.requires[0].get(doc) is None:
            append(Verdict(p.control.id, p.requirement, Outcome.unknown, missing_reason(doc, p.guard)))
        else:
            append(Verdict(p.control.id, p.requirement, Outcome.unknown, UNDECIDED))


def missing_reason(doc: dict[str, Any], path: str) -> str:
    """Why ``path`` is null: the probe that fills it (``probes[].sections``), with its status."""
    probes = doc.get("probes")
    best: tuple[int, dict[str, Any]] | None = None
    for probe in probes if isinstance(probes, list) else []:
        sections = probe.get("sections") if isinstance(probe, dict) else None
        for section in sections if isinstance(sections, list) else []:
            if not isinstance(section, str):
                continue
            if path == section or path.startswith(section + ".") or section.startswith(path + "."):
                score = len(section) if path.startswith(section) else 0
                if best is None or score > best[0]:
                    best = (score, probe)
    if best is None:
        return f"{path}: no probe reported this fact"
    probe = best[1]
    if probe.get("status") == "ok":
        return f"{path}: not observed (probe {probe.get('name')} ran)"
    error = f": {probe['error']}" if probe.get("error") else ""
    return f"{path}: {probe.get('status')} (probe {probe.get('name')}){error}"


@dataclass(slots=True)
class _Plan:
    run: list[PlannedControl]
    constant: list[Verdict]  # not applicable / unknown family: the same verdict for every such host


class CompiledBaseline:
    def __init__(self, baseline: Baseline, controls: list[CompiledControl], path: str | None = None,
                 id_line: int | None = None):
        self.baseline = baseline
        self.path = path
        self.id_line = id_line
        self.controls = controls
        self.by_id = {c.id: c for c in controls}
        self._indicator_controls = {i.control for i in baseline.indicators}
        self._plans: dict[tuple[str, Any, Any, int], _Plan] = {}

    @property
    def id(self) -> str:
        return self.baseline.id

    def _plan(self, subject: str, family: Any, role: Any, level: int) -> _Plan:
        key = (subject, family, role, level)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        plan = _Plan([], [])
        for c in self.controls:
            applies = c.control.applies_to
            if applies.subject != subject:
                continue
            requirement = c.control.requirement(level)
            if requirement is Requirement.none and c.id not in self._indicator_controls:
                continue
            settled = _settled_by_subject(c, requirement, family, role) if subject == "host" else None
            if settled is not None:
                plan.constant.append(settled)
            else:
                plan.run.append(c.planned(level, requirement))
        self._plans[key] = plan
        return plan

    def judge(self, doc: dict[str, Any], level: int) -> list[Verdict]:
        """Judge one HostReport document (``to_document()``) at ``level``; no re-validation.
        Order: controls judged on facts first, then those settled by OS family or role."""
        host = doc.get("host")
        os_ = host.get("os") if host.__class__ is dict else None
        family = os_.get("family") if os_.__class__ is dict else None
        role = host.get("role") if host.__class__ is dict else None
        if family.__class__ is not str:
            family = None  # unknown (or garbage in an unvalidated document): OS-specific controls → unknown
        if role.__class__ is not str:
            role = None
        plan = self._plan("host", family, role, level)
        out: list[Verdict] = []
        run_planned(doc, plan.run, out)
        out += plan.constant
        return out

    def judge_scan_host(self, doc: dict[str, Any], level: int) -> list[Verdict]:
        """Judge one ``ScanReport.hosts[]`` item document at ``level``."""
        out: list[Verdict] = []
        run_planned(doc, self._plan("scan_host", None, None, level).run, out)
        return out

    def evidence(self, doc: dict[str, Any], control_id: str) -> dict[str, Any]:
        """The facts ``control_id`` reads from ``doc`` (for a Result), with the OS family when the
        control is limited to some families."""
        control = self.by_id[control_id]
        out = control.evidence_of(doc)
        if control.control.applies_to.os_family is not None:
            out["host.os.family"] = _FAMILY(doc)
        return out


def _settled_by_subject(c: CompiledControl, requirement: Requirement, family: Any, role: Any) -> Verdict | None:
    """The verdict of a host control that its OS family or role settles for every such host."""
    applies = c.control.applies_to
    if applies.os_family is not None and family is None:
        return Verdict(c.id, requirement, Outcome.unknown, "host.os.family: not observed, so applicability is unknown")
    if applies.os_family is not None and family not in applies.os_family:
        return Verdict(c.id, requirement, Outcome.not_applicable, f"applies to {', '.join(applies.os_family)} only")
    if applies.role is not None and role is not None and role not in applies.role:
        return Verdict(c.id, requirement, Outcome.not_applicable, f"applies to role {', '.join(applies.role)} only")
    return None
