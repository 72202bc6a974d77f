"""Baselines: load a ``policies/*.yaml`` file, lint it (naming file, line and field), and compile
every expression once into closures that judge plain report dictionaries (the compiled form and
its hot loop are in ``compiled``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from secscan.model.policy import LEVELS, Baseline, Control
from secscan.model.result import Requirement
from secscan.policy import expr
from secscan.policy.compiled import (
    UNDECIDED,
    Applicability,
    CompiledBaseline,
    CompiledControl,
    Fact,
    GuardedPass,
    LevelExpressions,
    Verdict,
    missing_reason,
)
from secscan.policy.source import LintError, PolicyError, Source, pydantic_errors, read

DEFAULT_BASELINE = "vn-endpoint-nd85-tt12"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_RANK = {Requirement.none: 0, Requirement.recommended: 1, Requirement.required: 2}


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
    """Lint one control (parameters, levels, fact paths against the subject's schema), then compile
    it; None when it has errors (reported through ``src``)."""
    before = len(src.errors)
    texts = {"pass": control.pass_, **({"fail": control.fail} if control.fail else {}),
             **({"applies_when": control.applies_when} if control.applies_when else {})}
    _lint_params(control, texts, src, loc)
    _lint_levels(control, baseline, src, loc)
    if len(src.errors) > before:
        return None
    roots, applies_roots = _fact_paths(control, texts, src, loc)
    if len(src.errors) > before:
        return None
    return _build(control, roots, applies_roots)


def _lint_params(control: Control, texts: dict[str, str], src: Source, loc: tuple) -> None:
    """Every $name must be defined, used, and have a value at every level where the control counts."""
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


def _lint_levels(control: Control, baseline: Baseline, src: Source, loc: tuple) -> None:
    if baseline.cumulative:
        for level in LEVELS[1:]:
            if _RANK[control.requirement(level)] < _RANK[control.requirement(level - 1)]:
                src.error((*loc, "levels", level), f"cumulative baseline: {control.requirement(level).value} at "
                          f"level {level} relaxes {control.requirement(level - 1).value} at level {level - 1}")
    if control.applies_to.subject == "scan_host" and (control.applies_to.os_family or control.applies_to.role):
        src.error((*loc, "applies_to"), "os_family/role apply to subject host only")


def _fact_paths(control: Control, texts: dict[str, str], src: Source, loc: tuple
                ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(root paths of pass/fail, root paths of applies_when), each checked against the subject's
    schema; ``requires`` entries must be plain fact paths of that schema."""
    subject = control.applies_to.subject
    schema = subject_schema(subject)
    roots: list[tuple[str, ...]] = []
    applies_roots: list[tuple[str, ...]] = []
    for key, text in texts.items():
        probe_values = {name: control.params[name].at(1) for name in param_names(text)}
        try:
            analysis = expr.analyse(expr.parse(substitute(text, probe_values)), schema)
        except expr.JMESPathError as exc:
            src.error((*loc, key), f"invalid JMESPath: {exc}".replace("\n", " "))
            continue
        for path in analysis.unknown_paths:
            src.error((*loc, key), f"unknown fact path {path!r}: not in the {subject} schema")
        target = applies_roots if key == "applies_when" else roots
        target += [p for p in analysis.root_paths if p not in target]
    for index, path in enumerate(control.requires):
        try:
            analysis = expr.analyse(expr.parse(path), schema)
        except expr.JMESPathError as exc:
            src.error((*loc, "requires", index), f"invalid path: {exc}".replace("\n", " "))
            continue
        if analysis.unknown_paths or len(analysis.root_paths) != 1 or ".".join(analysis.root_paths[0]) != path:
            src.error((*loc, "requires", index), f"{path!r} is not a fact path of the {subject} "
                      "schema (write a dotted path such as hardening.rdp.enabled)")
    return roots, applies_roots


def _fact(path: tuple[str, ...]) -> Fact:
    return Fact(".".join(path), expr.compile_expression(".".join(f'"{p}"' for p in path)))


def _at_level(text: str, control: Control, level: int) -> str:
    return substitute(text, {name: p.at(level) for name, p in control.params.items()})


def _build(control: Control, roots: list[tuple[str, ...]], applies_roots: list[tuple[str, ...]]) -> CompiledControl:
    """The closures of a linted control: per level, its evidence, the facts it requires."""
    cache: dict[str, expr.Fn] = {}  # levels with the same parameter values share closures

    def compiled(text: str | None, level: int) -> expr.Fn | None:
        if text is None:
            return None
        concrete = _at_level(text, control, level)
        if concrete not in cache:
            cache[concrete] = expr.compile_expression(concrete)
        return cache[concrete]

    by_level: dict[int, LevelExpressions] = {}
    for level in LEVELS:
        passed = compiled(control.pass_, level)
        assert passed is not None
        by_level[level] = LevelExpressions(passed, compiled(control.fail, level))
    evidence = [_fact(p) for p in roots]
    # Without an explicit fail expression every fact read from the root must be present:
    # "not pass" on a missing fact would otherwise read as fail, or worse, pass.
    required = list(evidence) if control.fail is None else []
    known = {fact.path for fact in required}
    required += [_fact(tuple(p.split("."))) for p in control.requires if p not in known]
    guarded = _guarded(control, evidence, required)
    applies = None
    if control.applies_when:
        applies = Applicability(expr.compile_expression(control.applies_when), [_fact(p) for p in applies_roots])
    return CompiledControl(control, evidence, required, by_level, applies, guarded)


def _guarded(control: Control, evidence: list[Fact], required: list[Fact]) -> dict[int, GuardedPass] | None:
    """A control that compares its one fact with a constant, at every level: the pass closure
    with the null check built in, so the hot loop skips a separate one."""
    if control.fail is not None or len(required) != 1 or len(evidence) != 1:
        return None
    fused = {level: expr.guarded(_at_level(control.pass_, control, level)) for level in LEVELS}
    if all(f is not None and ".".join(f[1]) == required[0].path for f in fused.values()):
        return {level: GuardedPass(f[0], required[0].path) for level, f in fused.items() if f is not None}
    return None


__all__ = ["DEFAULT_BASELINE", "UNDECIDED", "CompiledBaseline", "CompiledControl", "Verdict", "check_baseline_file",
           "default_baseline", "default_policy_files", "lint_baseline_file", "load_baseline", "load_baselines",
           "missing_reason", "param_names", "subject_schema", "substitute"]
