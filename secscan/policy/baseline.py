"""Baselines: load a ``policies/*.yaml`` file, lint it (naming file, line and field), and compile
every expression once into closures that judge plain report dictionaries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from secscan.model.policy import LEVELS, Baseline, Control
from secscan.model.result import Outcome, Requirement
from secscan.policy import expr
from secscan.policy.source import LintError, PolicyError, Source, pydantic_errors, read

DEFAULT_BASELINE = "vn-endpoint-nd85-tt12"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_RANK = {Requirement.none: 0, Requirement.recommended: 1, Requirement.required: 2}


class Verdict(NamedTuple):
    """One control on one subject. The evidence (the facts the control read) is not carried here:
    it is a pure function of the document, built when a Result is made
    (``CompiledBaseline.evidence``), so that bulk judging allocates nothing for a pass or a fail."""

    control_id: str
    requirement: Requirement
    outcome: Outcome
    reason: str | None = None


UNDECIDED = "the facts present do not decide this control (a value inside a list is unknown)"
_FAMILY = expr.compile_expression("host.os.family")


@lru_cache(maxsize=2)
def subject_schema(subject: str) -> expr.SchemaView:
    if subject == "scan_host":
        from secscan.model.scan import ScannedHost

        return expr.SchemaView(ScannedHost.model_json_schema(by_alias=True))
    from secscan.model.host import HostReport

    return expr.SchemaView(HostReport.model_json_schema(by_alias=True))


def substitute(text: str, values: dict[str, Any]) -> str:
    """``$max_days`` → ```30``` (a JMESPath JSON literal). Unknown names raise KeyError."""
    return _PARAM.sub(lambda m: "`" + json.dumps(values[m.group(1)], ensure_ascii=False).replace("`", "\\`") + "`",
                      text)


def param_names(text: str) -> list[str]:
    return _PARAM.findall(text)


# --- compiled form ---------------------------------------------------------------------------


def _getter(path: tuple[str, ...]) -> expr.Fn:
    return expr.compile_expression(".".join(f'"{p}"' for p in path))


@dataclass
class CompiledControl:
    control: Control
    # (dotted path, getter) read from the document root: evidence; ``requires`` must be non-null
    evidence: list[tuple[str, expr.Fn]]
    requires: list[tuple[str, expr.Fn]]
    # per level: (pass, fail or None); levels whose status is "-" still compile (indicators use them)
    by_level: dict[int, tuple[expr.Fn, expr.Fn | None]]
    # applies_when: (expression, the root facts it needs) or None
    applies: tuple[expr.Fn, list[tuple[str, expr.Fn]]] | None = None
    # per level: for "one fact compared to a constant" controls, pass with the null check built in
    guarded: dict[int, tuple[expr.Fn, str]] | None = None

    @property
    def id(self) -> str:
        return self.control.id

    def entry(self, level: int, requirement: Requirement) -> _Entry:
        passed, failed = self.by_level[level]
        requires, guard = tuple(self.requires), None
        if self.guarded is not None:
            passed, guard = self.guarded[level]
            requires = ()
        return (requires, passed, failed, Verdict(self.id, requirement, Outcome.passed),
                Verdict(self.id, requirement, Outcome.failed), self, requirement, guard, self.applies is not None)

    def evidence_of(self, doc: dict[str, Any]) -> dict[str, Any]:
        paths = self.evidence + (self.applies[1] if self.applies else [])
        return {path: get(doc) for path, get in paths}

    def applicability(self, doc: dict[str, Any], requirement: Requirement) -> Verdict | None:
        """The applies_when verdict when it stops evaluation (not applicable / unknown), else None."""
        assert self.applies is not None
        condition, needs = self.applies
        for path, get in needs:
            if get(doc) is None:
                return Verdict(self.id, requirement, Outcome.unknown, missing_reason(doc, path))
        applies = condition(doc)
        if applies is True:
            return None
        if applies is False:
            return Verdict(self.id, requirement, Outcome.not_applicable, f"not applicable: {self.control.applies_when}")
        return Verdict(self.id, requirement, Outcome.unknown, f"applicability undecided: {self.control.applies_when}")


# (requires, pass, fail, pass verdict, fail verdict, control, requirement, guarded path, has applies_when):
# one planned control, everything the hot loop needs in one tuple
_Entry = tuple[tuple[tuple[str, expr.Fn], ...], expr.Fn, "expr.Fn | None", Verdict, Verdict, CompiledControl,
               Requirement, "str | None", bool]


def _run(doc: dict[str, Any], entries: tuple[_Entry, ...] | list[_Entry], out: list[Verdict]) -> None:
    """The hot loop: judge ``doc`` on each planned control, appending to ``out``. A pass or a fail
    is a shared, pre-built Verdict; only unknown and not-applicable allocate (they carry a reason)."""
    append = out.append
    for requires, passed, failed, v_pass, v_fail, control, requirement, guard, applies in entries:
        if applies:
            stop = control.applicability(doc, requirement)
            if stop is not None:
                append(stop)
                continue
        if requires:
            missing = None
            for path, get in requires:
                if get(doc) is None:
                    missing = path
                    break
            if missing is not None:
                append(Verdict(control.id, requirement, Outcome.unknown, missing_reason(doc, missing)))
                continue
        try:
            if failed is not None and failed(doc) is True:  # fail wins; then pass need not run
                append(v_fail)
                continue
            p = passed(doc)
        except expr.JMESPathError as exc:
            append(Verdict(control.id, requirement, Outcome.unknown, f"expression error: {exc}"))
            continue
        if p is True:
            append(v_pass)
        elif failed is None and p is False:
            append(v_fail)
        elif guard is not None and control.requires[0][1](doc) is None:
            append(Verdict(control.id, requirement, Outcome.unknown, missing_reason(doc, guard)))
        else:
            append(Verdict(control.id, requirement, Outcome.unknown, UNDECIDED))


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


@dataclass
class _Plan:
    run: list[_Entry]
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
        run: list[_Entry] = []
        constant: list[Verdict] = []
        for c in self.controls:
            applies = c.control.applies_to
            if applies.subject != subject:
                continue
            requirement = c.control.requirement(level)
            if requirement is Requirement.none and c.id not in self._indicator_controls:
                continue
            if subject == "host" and applies.os_family is not None and family is None:
                constant.append(Verdict(c.id, requirement, Outcome.unknown,
                                        "host.os.family: not observed, so applicability is unknown"))
            elif subject == "host" and applies.os_family is not None and family not in applies.os_family:
                constant.append(Verdict(c.id, requirement, Outcome.not_applicable,
                                        f"applies to {', '.join(applies.os_family)} only"))
            elif subject == "host" and applies.role is not None and role is not None and role not in applies.role:
                constant.append(Verdict(c.id, requirement, Outcome.not_applicable,
                                        f"applies to role {', '.join(applies.role)} only"))
            else:
                run.append(c.entry(level, requirement))
        plan = self._plans[key] = _Plan(run, constant)
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
        _run(doc, plan.run, out)
        out += plan.constant
        return out

    def judge_scan_host(self, doc: dict[str, Any], level: int) -> list[Verdict]:
        """Judge one ``ScanReport.hosts[]`` item document at ``level``."""
        out: list[Verdict] = []
        _run(doc, self._plan("scan_host", None, None, level).run, out)
        return out

    def evidence(self, doc: dict[str, Any], control_id: str) -> dict[str, Any]:
        """The facts ``control_id`` reads from ``doc`` (for a Result), with the OS family when the
        control is limited to some families."""
        control = self.by_id[control_id]
        out = control.evidence_of(doc)
        if control.control.applies_to.os_family is not None:
            out["host.os.family"] = _FAMILY(doc)
        return out


# --- load, lint, compile ---------------------------------------------------------------------


def lint_baseline_file(path: str | Path) -> list[LintError]:
    return check_baseline_file(path)[1]


def load_baseline(path: str | Path) -> CompiledBaseline:
    compiled, errors = check_baseline_file(path)
    if errors or compiled is None:
        raise PolicyError(errors)
    return compiled


def default_policy_files() -> list[Path]:
    from secscan.runtime import data_dir

    return sorted(data_dir("policies").glob("*.yaml"))


def load_baselines(paths: Iterable[str | Path] | None = None) -> dict[str, CompiledBaseline]:
    """Every baseline in ``paths`` (default: the shipped ``policies/*.yaml``), keyed by id."""
    out: dict[str, CompiledBaseline] = {}
    errors: list[LintError] = []
    for path in default_policy_files() if paths is None else paths:
        compiled, errs = check_baseline_file(path)
        errors += errs
        if compiled is not None and not errs:
            if compiled.id in out:
                errors.append(LintError(str(path), compiled.id_line, "id",
                                        f"baseline id {compiled.id!r} also in {out[compiled.id].path}"))
            out[compiled.id] = compiled
    if errors:
        raise PolicyError(errors)
    return out


def default_baseline() -> CompiledBaseline:
    return load_baselines()[DEFAULT_BASELINE]


def check_baseline_file(path: str | Path) -> tuple[CompiledBaseline | None, list[LintError]]:
    src = read(path)
    if src.errors and src.data is None:
        return None, src.errors
    if not isinstance(src.data, dict):
        src.error((), "a baseline is a mapping with id, version, title, regulation, cumulative, controls")
        return None, src.errors
    _lint_raw(src)
    try:
        baseline = Baseline.model_validate(src.data)
    except ValidationError as exc:
        pydantic_errors(src, exc)
        return None, src.errors
    compiled = _compile(baseline, src)
    return (None if src.errors else compiled), src.errors


def _lint_raw(src: Source) -> None:
    """Checks that need the raw YAML (before pydantic): duplicate ids, every level explicit."""
    seen: dict[str, int] = {}
    for key in ("controls", "indicators"):
        items = src.data.get(key)
        if not isinstance(items, list):
            continue
        seen.clear()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            cid = item.get("id")
            if isinstance(cid, str):
                if cid in seen:
                    first = src.line((key, seen[cid], "id"))
                    src.error((key, i, "id"), f"duplicate id {cid!r} (first at line {first})")
                else:
                    seen[cid] = i
            levels = item.get("levels") if key == "controls" else None
            if isinstance(levels, dict):
                for level in levels:
                    if level not in LEVELS:
                        src.error((key, i, "levels", level), f"level {level!r} out of range: levels are 1 to 5")
                missing = [lvl for lvl in LEVELS if lvl not in levels]
                if missing:
                    src.error((key, i, "levels"), f"status missing for level(s) {missing}: state every level 1-5 "
                              "as required, recommended or '-'")


def _compile(baseline: Baseline, src: Source) -> CompiledBaseline:
    controls = []
    ids = {c.id for c in baseline.controls}
    for index, control in enumerate(baseline.controls):
        loc = ("controls", index)
        compiled = _compile_control(control, baseline, src, loc)
        if compiled is not None:
            controls.append(compiled)
    for index, indicator in enumerate(baseline.indicators):
        if indicator.control not in ids:
            src.error(("indicators", index, "control"), f"unknown control {indicator.control!r}")
    if baseline.assessment is not None:
        months = baseline.assessment.months
        if sorted(months) != list(LEVELS) or any(m < 1 for m in months.values()):
            src.error(("assessment", "months"), "give a positive number of months for each level 1-5")
    return CompiledBaseline(baseline, controls, src.file, src.line(("id",)))


def _compile_control(control: Control, baseline: Baseline, src: Source, loc: tuple) -> CompiledControl | None:
    before = len(src.errors)
    # parameters: every $name must be defined, with a value at every level where the control counts
    texts = {"pass": control.pass_, **({"fail": control.fail} if control.fail else {}),
             **({"applies_when": control.applies_when} if control.applies_when else {})}
    used = {name for text in texts.values() for name in param_names(text)}
    for key, text in texts.items():
        for name in param_names(text):
            if key == "applies_when":
                src.error((*loc, key), f"${name}: parameters are not allowed in applies_when")
            elif name not in control.params:
                src.error((*loc, key), f"unknown parameter ${name}: define it under params")
    for name, param in control.params.items():
        if name not in used:
            src.error((*loc, "params", name), f"parameter {name!r} is not used by pass or fail")
        if param.levels is not None:
            bad = sorted(k for k in param.levels if k not in LEVELS)
            if bad:
                src.error((*loc, "params", name, "levels"), f"level(s) {bad} out of range: levels are 1 to 5")
        for level in LEVELS:
            if control.requirement(level) is not Requirement.none and param.at(level) is None:
                src.error((*loc, "params", name), f"no value at level {level}, where the control is "
                          f"{control.requirement(level).value}")
    if baseline.cumulative:
        for level in LEVELS[1:]:
            if _RANK[control.requirement(level)] < _RANK[control.requirement(level - 1)]:
                src.error((*loc, "levels", level), f"cumulative baseline: {control.requirement(level).value} at "
                          f"level {level} relaxes {control.requirement(level - 1).value} at level {level - 1}")
    if control.applies_to.subject == "scan_host" and (control.applies_to.os_family or control.applies_to.role):
        src.error((*loc, "applies_to"), "os_family/role apply to subject host only")
    if len(src.errors) > before:
        return None

    schema = subject_schema(control.applies_to.subject)
    roots: list[tuple[str, ...]] = []
    applies_roots: list[tuple[str, ...]] = []
    by_level: dict[int, tuple[expr.Fn, expr.Fn | None]] = {}
    cache: dict[str, expr.Fn] = {}
    for key, text in texts.items():
        probe_values = {name: control.params[name].at(1) for name in param_names(text)}
        try:
            analysis = expr.analyse(expr.parse(substitute(text, probe_values)), schema)
        except expr.JMESPathError as exc:
            src.error((*loc, key), f"invalid JMESPath: {exc}".replace("\n", " "))
            continue
        for path in analysis.unknown_paths:
            src.error((*loc, key), f"unknown fact path {path!r}: not in the {control.applies_to.subject} schema")
        target = applies_roots if key == "applies_when" else roots
        target += [p for p in analysis.root_paths if p not in target]
    for index, path in enumerate(control.requires):
        try:
            analysis = expr.analyse(expr.parse(path), schema)
        except expr.JMESPathError as exc:
            src.error((*loc, "requires", index), f"invalid path: {exc}".replace("\n", " "))
            continue
        if analysis.unknown_paths or len(analysis.root_paths) != 1 or ".".join(analysis.root_paths[0]) != path:
            src.error((*loc, "requires", index), f"{path!r} is not a fact path of the {control.applies_to.subject} "
                      "schema (write a dotted path such as hardening.rdp.enabled)")
    if len(src.errors) > before:
        return None
    for level in LEVELS:
        values = {name: p.at(level) for name, p in control.params.items()}
        pair = []
        for text in (control.pass_, control.fail):
            if text is None:
                pair.append(None)
                continue
            concrete = substitute(text, values)
            if concrete not in cache:
                cache[concrete] = expr.compile_expression(concrete)
            pair.append(cache[concrete])
        by_level[level] = (pair[0], pair[1])
    evidence = [(".".join(p), _getter(p)) for p in roots]
    # Without an explicit fail expression every fact read from the root must be present:
    # "not pass" on a missing fact would otherwise read as fail, or worse, pass.
    required = list(evidence) if control.fail is None else []
    known = {path for path, _ in required}
    required += [(p, _getter(tuple(p.split(".")))) for p in control.requires if p not in known]
    guarded = None
    if control.fail is None and len(required) == 1 and len(evidence) == 1:
        fused = {level: expr.guarded(substitute(control.pass_, {n: p.at(level) for n, p in control.params.items()}))
                 for level in LEVELS}
        if all(f is not None and ".".join(f[1]) == required[0][0] for f in fused.values()):
            guarded = {level: (f[0], required[0][0]) for level, f in fused.items() if f is not None}
    applies = None
    if control.applies_when:
        applies = (expr.compile_expression(control.applies_when),
                   [(".".join(p), _getter(p)) for p in applies_roots])
    return CompiledControl(control, evidence, required, by_level, applies, guarded)
