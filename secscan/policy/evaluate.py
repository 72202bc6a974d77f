"""Judge reports: place each host in a unit, take the unit's level, run the compiled baseline."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from secscan.model.host import HostReport
from secscan.model.org import Organisation
from secscan.model.result import Result, UnplacedHost
from secscan.model.scan import ScanReport
from secscan.policy.baseline import CompiledBaseline, Verdict
from secscan.policy.expr import compile_expression
from secscan.policy.org import place_address
from secscan.runtime import cyclic_gc_paused


def _doc(report: HostReport | ScanReport | dict[str, Any]) -> dict[str, Any]:
    if isinstance(report, dict):
        return report
    return report.model_dump(mode="json", by_alias=True)


_ADDRESSES = compile_expression("host.interfaces[].[ipv4, ipv6][][]")


def _addresses(doc: dict[str, Any]) -> list[str]:
    found = _ADDRESSES(doc)
    return [a for a in found if isinstance(a, str)] if isinstance(found, list) else []


def place_host(report: HostReport | dict[str, Any], org: Organisation) -> tuple[str | None, str]:
    """(unit id, how it was found): the report's own ``unit`` when org.yaml knows it, else the
    unit whose network holds one of the host's addresses (most specific network first)."""
    # the unit first: a model is dumped to a document only when its addresses must be read
    named = report.get("unit") if isinstance(report, dict) else report.unit
    if not isinstance(named, str):
        named = None
    if named is not None and named in org.unit_index:
        return named, "unit named in the report"
    unit = place_address(org, _addresses(_doc(report)))
    if unit is not None:
        return unit, "interface address in the unit's network"
    if named is not None:
        return None, f"unit {named!r} named in the report is not in org.yaml, and no address is in a unit network"
    return None, "report names no unit and no interface address is in a unit network"


class Judgement(NamedTuple):
    """One document judged: its unit and level, the verdicts, or why it could not be judged."""

    unit: str | None
    level: int | None
    verdicts: list[Verdict]
    unplaced_reason: str | None


def judge_document(doc: dict[str, Any], org: Organisation, baseline: CompiledBaseline) -> Judgement:
    """The bulk path: a plain dict in, a Judgement out (verdicts empty when unit or level is missing)."""
    unit, how = place_host(doc, org)
    if unit is None:
        return Judgement(None, None, [], how)
    level = org.level_of(unit)
    if level is None:
        return Judgement(unit, None, [], f"unit {unit!r} has no level (org.yaml)")
    return Judgement(unit, level, baseline.judge(doc, level), None)


def judge_documents(docs: Iterable[dict[str, Any]], org: Organisation, baseline: CompiledBaseline
                    ) -> list[Judgement]:
    """``judge_document`` over a batch of plain documents (the collector's re-evaluation path)."""
    with cyclic_gc_paused():
        return [judge_document(doc, org, baseline) for doc in docs]


def _hostname(doc: dict[str, Any]) -> str:
    return str(_HOSTNAME(doc) or doc.get("report_id") or "?")


_HOSTNAME = compile_expression("host.hostname")


def _results(doc: dict[str, Any], verdicts: list[Verdict], baseline: CompiledBaseline, report_id: str, host: str,
             unit: str, level: int) -> list[Result]:
    out = []
    for v in verdicts:
        control = baseline.by_id[v.control_id].control
        out.append(Result(report_id=report_id, host=host, unit=unit, baseline=baseline.id, control_id=v.control_id,
                          level=level, requirement=v.requirement, outcome=v.outcome, severity=control.severity,
                          evidence=baseline.evidence(doc, v.control_id), reason=v.reason))
    return out


def evaluate_host(report: HostReport | dict[str, Any], org: Organisation, baseline: CompiledBaseline) -> list[Result]:
    """One Result per applicable control; ``[]`` when the host has no unit or level (see place_host)."""
    doc = _doc(report)
    judged = judge_document(doc, org, baseline)
    if judged.unit is None or judged.level is None:
        return []
    return _results(doc, judged.verdicts, baseline, str(doc.get("report_id")), _hostname(doc), judged.unit,
                    judged.level)


def evaluate_scan(scan: ScanReport | dict[str, Any], org: Organisation, baseline: CompiledBaseline) -> list[Result]:
    """Controls with ``applies_to.subject: scan_host``, for every host nmap saw (host = its IP)."""
    doc = _doc(scan)
    named = doc.get("unit") if isinstance(doc.get("unit"), str) and doc.get("unit") in org.unit_index else None
    out: list[Result] = []
    hosts = doc.get("hosts")
    for host in hosts if isinstance(hosts, list) else []:
        if not isinstance(host, dict):
            continue
        unit = named or place_address(org, [str(host.get("ip"))])
        level = org.level_of(unit) if unit else None
        if unit is None or level is None:
            continue
        out += _results(host, baseline.judge_scan_host(host, level), baseline, str(doc.get("scan_id")),
                        str(host.get("ip")), unit, level)
    return out


def evaluate_reports(reports: Iterable[HostReport | dict[str, Any]], org: Organisation, baseline: CompiledBaseline
                     ) -> tuple[list[Result], list[UnplacedHost]]:
    """Many reports: the Results, and the hosts that could not be judged with the reason."""
    results: list[Result] = []
    unplaced: list[UnplacedHost] = []
    with cyclic_gc_paused():
        for report in reports:
            doc = _doc(report)
            judged = judge_document(doc, org, baseline)
            if judged.unit is None or judged.level is None:
                unplaced.append(UnplacedHost(report_id=str(doc.get("report_id")), host=_hostname(doc),
                                             reason=judged.unplaced_reason or "?"))
                continue
            results += _results(doc, judged.verdicts, baseline, str(doc.get("report_id")), _hostname(doc),
                                judged.unit, judged.level)
    return results, unplaced
