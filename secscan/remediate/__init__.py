"""Remediate stage: turn a unit's failing results into one reviewable PowerShell 5.1 script, from
the catalogue in ``policies/remediation/`` (loaded by ``secscan.policy.remediation``).

Input: Results (the store's latest judgement of each PC), the HostReports they judged (for each
PC's identity, Windows build and evidence) and the catalogue; output: the script's text. Nothing
here reads the store or runs anything: the wiring (``secscan remediate``, in ``secscan/cli.py``)
does the reading and writes the file. See docs/remediate.md.

* :func:`make_plan` decides, from the Results alone, which PC gets which fix and which guidance:
  a PC is in the script when one of its latest results *fails* a control the catalogue knows;
  a fix outside its Windows builds, its ``applies_when`` or (for ``domain: gpo`` fixes) on a
  domain member becomes that control's guidance, with the PC's evidence.
* :func:`render` (in ``powershell.py``; ``posix.py`` for Linux) writes the script: header (unit,
  findings, secscan version, date), the PCs it may touch (hostname and machine id) and their
  fixes, the catalogue's helpers and snippets, and the engine (``engine.ps1``: guard, -WhatIf
  default, -Apply, -Undo, log, fresh capture).

Every value that came from a report reaches the script through :func:`secscan.remediate.quote.ps_literal`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from secscan.model.host import HostReport
from secscan.model.result import Outcome, Result
from secscan.policy.remediation import Catalogue, Fix
from secscan.remediate.powershell import ENGINE, render, script_bytes
from secscan.remediate.quote import UnsafeValue, ps_literal, sh_literal, shown

__all__ = ["ENGINE", "PLATFORMS", "PcPlan", "Plan", "RemediateError", "fix_pairs", "make_plan", "render",
           "script_bytes"]

PLATFORMS = ("windows", "linux")
MAX_EVIDENCE_CHARS = 300


class RemediateError(ValueError):
    """A request that cannot be met (unknown host, control or alternative): one line."""


@dataclass
class GuidanceLine:
    control: str
    title: str
    text: str
    evidence: list[tuple[str, str]]  # (label, value), values as found in the report
    why: str | None = None  # why the control's fix does not cover this PC, when it has one

    def one_line(self) -> str:
        """What the script prints on the PC: the control, why it is not scripted, the evidence
        (the guidance text itself is in the script's header, once per control)."""
        parts = [f"{self.control}: {self.title}"]
        if self.why:
            parts.append(f"({self.why})")
        if self.evidence:
            parts.append("-- " + "; ".join(f"{label}: {value}" for label, value in self.evidence))
        return " ".join(parts)


@dataclass
class PcPlan:
    hostname: str
    machine_id: str
    report_id: str
    os_name: str | None
    build: int | None
    failing: list[str] = field(default_factory=list)  # control ids this PC fails, in scope
    fixes: list[str] = field(default_factory=list)  # fix ids, catalogue order
    guidance: list[GuidanceLine] = field(default_factory=list)


@dataclass
class Finding:
    control: str
    title: str
    failing: list[str] = field(default_factory=list)  # hostnames
    scripted: list[str] = field(default_factory=list)  # hostnames with at least one fix for it
    guidance: list[str] = field(default_factory=list)  # hostnames given guidance only


@dataclass
class Plan:
    unit: str
    lang: str
    pcs: list[PcPlan]
    findings: list[Finding]
    excluded: list[tuple[str, str]]  # (hostname as shown, reason): failing PCs left out
    fixes: list[Fix]  # every fix some PC gets, catalogue order
    uses: list[str]  # --use alternatives chosen
    platform: str = "windows"  # the script's language: windows (PowerShell 5.1) or linux (POSIX sh)

    def script_id(self, generated_at: datetime) -> str:
        material = json.dumps([self.unit, generated_at.isoformat(), [(p.hostname, p.machine_id, p.fixes)
                                                                   for p in self.pcs]], ensure_ascii=False)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def _value_text(value: Any) -> str | None:
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        items = list(dict.fromkeys(_value_text(v) or "?" for v in value if v is not None))
        text = ", ".join(items[:10]) + (f" (+{len(items) - 10})" if len(items) > 10 else "")
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1] + "…"


def _guidance(catalogue: Catalogue, control: str, doc: Callable[[], dict[str, Any]], lang: str,
              why: str | None, with_evidence: bool = True) -> GuidanceLine | None:
    item = catalogue.guidance.get(control)
    if item is None:
        return None
    evidence = []
    for label, fn in catalogue.evidence.get(control, []) if with_evidence else ():
        try:
            text = _value_text(fn(doc()))
        except Exception:  # an expression over a report never stops the script being written
            text = None
        if text is not None:
            evidence.append((label.get(lang), text))
    return GuidanceLine(control, item.title.get(lang), item.text.get(lang), evidence, why)


def _fix_applies(catalogue: Catalogue, fix: Fix, report: HostReport, doc: Callable[[], dict[str, Any]]) -> str | None:
    """None when ``fix`` may run on this PC (as far as its report tells); else why not."""
    build, builds = report.host.os.build, fix.windows
    if builds is not None and build is not None and (build < builds.min_build or
                                                     (builds.max_build is not None and build > builds.max_build)):
        return f"{fix.id} is for {builds.label}; this PC runs build {build}"
    if fix.domain == "gpo" and report.host.domain:
        return f"{fix.id}: this PC is in the domain {report.host.domain}, which sets it by Group Policy"
    applies = catalogue.applies.get(fix.id)
    if applies is not None:
        try:
            ok = applies(doc()) is True
        except Exception:
            ok = False
        if not ok:
            return f"{fix.id} does not apply to what this PC's report shows"
    return None


def make_plan(results: Iterable[Result], reports: Iterable[HostReport], catalogue: Catalogue, *, unit: str,
              hosts: Iterable[str] = (), controls: Iterable[str] = (), use: Iterable[str] = (), lang: str = "vi",
              titles: dict[str, Any] | None = None, platform: str = "windows", evidence: bool = True) -> Plan:
    """Which PC of ``unit`` gets which fix and which guidance, from its latest ``results``.

    ``platform``: ``windows`` (a PowerShell script: Windows fixes and guidance) or ``linux`` (a
    POSIX sh script: Linux fixes only). PCs of the other of the two are not this script's business;
    PCs of any other family are left out with the reason.

    ``hosts`` / ``controls`` narrow it (a name or id that is not there is a RemediateError);
    ``use`` picks alternative fixes (``rdp-off``); ``titles`` maps control ids to a baseline's
    Localized titles for the header (else the catalogue's titles are used); ``evidence=False``
    leaves the guidance lines without each PC's evidence (the reports only count them)."""
    use = list(dict.fromkeys(use))
    known = catalogue.controls(platform)
    wanted_controls = list(dict.fromkeys(controls))
    _check_request(catalogue, known, use, wanted_controls)
    results = [r for r in results if r.unit == unit]
    by_report = {str(r.report_id): r for r in reports}
    names = {r.host.casefold() for r in results}
    missing = sorted(h for h in dict.fromkeys(hosts) if h.casefold() not in names)
    if missing:
        raise RemediateError(f"--host {shown(missing[0])}: no PC of that name in the latest results of unit {unit}")
    failing = _failing_by_report(results, scope=set(wanted_controls or known),
                                 wanted_hosts={h.casefold() for h in hosts})

    order = {c: i for i, c in enumerate(known)}
    findings: dict[str, Finding] = {}
    pcs: list[PcPlan] = []
    excluded: list[tuple[str, str]] = []
    used: dict[str, Fix] = {}
    for report_id, fails in failing.items():
        fails.sort(key=lambda r: order[r.control_id])
        report = by_report.get(report_id)
        hostname = fails[0].host
        if report is not None and report.host.os.family != platform and report.host.os.family in PLATFORMS:
            continue  # the other platform's script has it
        for r in fails:
            title = (titles or {}).get(r.control_id)
            title_text = title.get(lang) if title is not None else _catalogue_title(catalogue, r.control_id, lang)
            finding = findings.setdefault(r.control_id, Finding(r.control_id, title_text))
            finding.failing.append(hostname)
        problem = _identity_problem(report, platform)
        if problem:
            excluded.append((shown(hostname), problem))
            continue
        assert report is not None
        pc = _plan_pc(catalogue, report, report_id, fails, findings, used, use=use, lang=lang,
                      platform=platform, evidence=evidence)
        if pc.fixes or pc.guidance:
            pcs.append(pc)
    fixes = [f for f in catalogue.fixes.values() if f.id in used]
    ordered = sorted(findings.values(), key=lambda f: order[f.control])
    return Plan(unit, lang, pcs, ordered, excluded, fixes, use, platform)


def _check_request(catalogue: Catalogue, known: list[str], use: list[str], controls: list[str]) -> None:
    """A RemediateError for a ``--use`` that is not an alternative fix or a ``--control`` the
    catalogue has nothing for."""
    for fix_id in use:
        fix = catalogue.fixes.get(fix_id)
        if fix is None or fix.instead_of is None:
            alternatives = sorted(f.id for f in catalogue.fixes.values() if f.instead_of)
            raise RemediateError(f"--use {fix_id}: not an alternative fix (alternatives: {', '.join(alternatives)})")
    for control in controls:
        if control not in known:
            raise RemediateError(f"--control {control}: the catalogue has no fix or guidance for it "
                                 f"(it has: {', '.join(known)})")


def _failing_by_report(results: list[Result], *, scope: set[str], wanted_hosts: set[str]) -> dict[str, list[Result]]:
    """The failed results in scope (controls, and hosts when any were named), by report id."""
    failing: dict[str, list[Result]] = {}
    for result in results:
        if result.outcome != Outcome.failed or result.control_id not in scope:
            continue
        if wanted_hosts and result.host.casefold() not in wanted_hosts:
            continue
        failing.setdefault(result.report_id, []).append(result)
    return failing


def _plan_pc(catalogue: Catalogue, report: HostReport, report_id: str, fails: list[Result],
             findings: dict[str, Finding], used: dict[str, Fix], *, use: list[str], lang: str, platform: str,
             evidence: bool) -> PcPlan:
    """One PC's fixes and guidance for its failing results; records on ``findings`` which of its
    controls are scripted or guided and on ``used`` the fixes it gets."""
    hostname = fails[0].host
    doc = cache(report.to_document)  # read only when an applies_when or evidence needs it
    pc = PcPlan(report.host.hostname, report.host.machine_id or "", report_id, report.host.os.name,
                report.host.os.build, failing=[r.control_id for r in fails])
    for r in fails:
        fixes = catalogue.fixes_for(r.control_id, use, platform)
        reasons = [_fix_applies(catalogue, f, report, doc) for f in fixes]
        chosen = [f for f, reason in zip(fixes, reasons, strict=True) if reason is None]
        for f in chosen:
            pc.fixes.append(f.id)
            used[f.id] = f
        if chosen:
            findings[r.control_id].scripted.append(hostname)
            continue
        why = "; ".join(x for x in reasons if x) or None
        if platform != "windows":  # guidance is written for Windows PCs only (guidance.yaml)
            continue
        line = _guidance(catalogue, r.control_id, doc, lang, why, evidence)
        if line is None and why:  # a fix exists but not for this PC, and no guidance was written
            line = GuidanceLine(r.control_id, findings[r.control_id].title,
                                "Not scripted for this PC: fix it by hand or in Group Policy.", [], why)
        if line is not None:
            pc.guidance.append(line)
            findings[r.control_id].guidance.append(hostname)
    fix_order = {f: i for i, f in enumerate(catalogue.fixes)}
    pc.fixes.sort(key=fix_order.__getitem__)
    return pc


def fix_pairs(plan: Plan, catalogue: Catalogue) -> tuple[list[tuple[PcPlan, str]], list[tuple[PcPlan, str]]]:
    """The plan's failing (PC, control) pairs that its script fixes (a fix for that control covers
    the PC), and those that get guidance only."""
    scripted: list[tuple[PcPlan, str]] = []
    guided: list[tuple[PcPlan, str]] = []
    for pc in plan.pcs:
        fixed = {catalogue.fixes[f].control for f in pc.fixes}
        scripted += [(pc, control) for control in pc.failing if control in fixed]
        guided += [(pc, g.control) for g in pc.guidance if g.control not in fixed]
    return scripted, guided


def _catalogue_title(catalogue: Catalogue, control: str, lang: str) -> str:
    if control in catalogue.guidance:
        return catalogue.guidance[control].title.get(lang)
    return next(f.title.get(lang) for f in catalogue.fixes.values() if f.control == control)


def _identity_problem(report: HostReport | None, platform: str = "windows") -> str | None:
    """Why a PC cannot be on the script's list, or None."""
    if report is None:
        return "its latest report is not in the store"
    if report.host.os.family not in PLATFORMS:
        return f"neither Windows nor Linux ({report.host.os.family}): no script for it"
    if not report.host.machine_id:
        where = "MachineGuid" if platform == "windows" else "/etc/machine-id"
        return f"its report has no machine id ({where}), so the script could not tell it from another PC"
    literal = ps_literal if platform == "windows" else sh_literal
    for value in (report.host.hostname, report.host.machine_id):
        try:
            literal(value, strict=True)
        except UnsafeValue as exc:
            return f"its name or machine id cannot be written into a script: {exc}"
    return None
