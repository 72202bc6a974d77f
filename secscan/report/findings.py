"""Results → findings: one failing (or unjudgeable) control in one unit, plus the network findings
(risky services the LAN scan saw open, hosts no agent reports for), with status carried over from
the previous period's findings."""

from __future__ import annotations

import json
from collections import Counter
from json.encoder import c_make_encoder, encode_basestring
from operator import attrgetter

from secscan.model.finding import (
    SEVERITY_RANK,
    AffectedHost,
    Finding,
    FindingKind,
    FindingStatus,
    Severity,
    finding_id,
)
from secscan.model.host import Confidence, HostReport
from secscan.model.result import Outcome, Requirement, Result
from secscan.report.coverage import UnitCoverage
from secscan.report.evidence import reader
from secscan.report.inputs import ControlInfo, ReportInput
from secscan.report.texts import texts

UNMANAGED_CONTROL = "inventory.unmanaged"
_EVIDENCE_MAX = 300  # characters of one evidence line: a hostile report cannot bloat the documents
_CONF_RANK = {Confidence.low: 0, Confidence.medium: 1, Confidence.high: 2}


def _severity(value: str) -> Severity:
    # A policy severity we do not know is shown as medium rather than dropped.
    try:
        return Severity(value.lower())
    except ValueError:
        return Severity.medium


def _evidence_encoder():
    # One C encoder reused for every line: JSONEncoder.encode builds a new one per call, which
    # is half the cost of encoding the small dicts evidence is (≈180,000 lines for a province).
    if c_make_encoder is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str, check_circular=False).encode
    # the arguments JSONEncoder.iterencode passes for these options (no circular-reference
    # markers: evidence is parsed JSON or a validated model's facts, it cannot hold a cycle)
    chunks = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", True, False, True)
    return lambda value: "".join(chunks(value, 0))


_encode_evidence = _evidence_encoder()


def evidence_line(result: Result) -> str:
    """The facts a result read, as JSON (the CSV's evidence column); documents show
    ``secscan.report.evidence`` readings instead."""
    unknown = result.outcome is Outcome.unknown
    text = (result.reason or "unknown") if unknown else _encode_evidence(result.evidence)
    return text if len(text) <= _EVIDENCE_MAX else text[: _EVIDENCE_MAX - 1] + "…"


def _confidence(reports: list[HostReport]) -> str | None:
    best: Confidence | None = None
    for report in reports:
        for ev in report.licences.activators or []:
            if best is None or _CONF_RANK[ev.confidence] > _CONF_RANK[best]:
                best = ev.confidence
    return best.value if best else None


def _ips(report: HostReport | None) -> list[str]:
    if report is None:
        return []
    return [str(ip) for iface in report.host.interfaces for ip in iface.ipv4]


class ControlDetail:
    """The host lists and evidence lines of control findings, built only for the findings a
    document shows (``Summary.detailed``). A province has ~200,000 failing or unjudged host ×
    control pairs; the leadership PDF lists 6 hosts of at most 12 findings and the SOC feed reads
    the Results themselves, and building every entry took about 2 s of the PDF's 9 to 11."""

    def __init__(self, inp: ReportInput, lang: str = "vi") -> None:
        self.read = reader(lang).line
        self.reports = {str(h.report_id): h for h in inp.hosts}
        self._ips: dict[str, list[str]] = {}
        self._groups: dict[str, tuple[list[Result], list[Result], bool]] = {}

    def add(self, finding_id: str, failing: list[Result], unjudged: list[Result], exposure: bool) -> None:
        self._groups[finding_id] = (failing, unjudged, exposure)

    def of(self, finding_id: str) -> tuple[list[AffectedHost], list[str]] | None:
        """(hosts: failing then unjudged, each by name with its evidence read as one line; the 5
        most common of those lines), or
        None for a finding that carries its hosts already (network, unmanaged, resolved)."""
        group = self._groups.get(finding_id)
        if group is None:
            return None
        failing, unjudged, exposure = group
        new_host = AffectedHost.trusted  # every value comes from validated models (Result, HostReport)
        hosts = []
        evidence: Counter[str] = Counter()
        for results, outcome in ((failing, Outcome.failed.value), (unjudged, Outcome.unknown.value)):
            for r in sorted(results, key=_BY_HOST):
                line = self.read(r)
                evidence[line] += 1
                # a scan host's Result names it by its IP
                hosts.append(new_host(r.host, outcome, [r.host] if exposure else self._host_ips(r.report_id), line))
        return hosts, [line for line, _ in evidence.most_common(5)]

    def _host_ips(self, report_id: str) -> list[str]:
        ips = self._ips.get(report_id)
        if ips is None:
            ips = self._ips[report_id] = _ips(self.reports.get(report_id))
        return ips


_BY_HOST = attrgetter("host")


def control_findings(inp: ReportInput, lang: str, detail: ControlDetail) -> list[Finding]:
    """One finding per (unit, control) with failing or unjudged hosts, with their counts; the
    host list and evidence are left to ``detail``."""
    catalogue: dict[str, ControlInfo] = {c.id: c for c in inp.controls}
    reports = detail.reports
    scan_ids = inp.scan_ids
    # per (unit, control): the failing results, then the unjudgeable ones
    groups: dict[tuple[str, str], tuple[list[Result], list[Result]]] = {}
    failed_, unknown_, none_ = Outcome.failed, Outcome.unknown, Requirement.none
    for result in inp.results:
        outcome = result.outcome
        if (outcome is failed_ or outcome is unknown_) and result.requirement is not none_:
            key = (result.unit or "", result.control_id)
            pair = groups.get(key)
            if pair is None:
                pair = groups[key] = ([], [])
            pair[outcome is unknown_].append(result)
    out = []
    for (unit, control_id), (failing, unjudged) in groups.items():
        control = catalogue.get(control_id)
        results = failing + unjudged
        exposure = results[0].report_id in scan_ids  # a control judged on LAN scan hosts
        finding = Finding(
            id=finding_id(unit, control_id),
            # policies/vn-network.yaml controls: exposure findings
            kind=FindingKind.exposure if exposure else FindingKind.control,
            unit=unit,
            control_id=control_id,
            severity=control.severity if control else _severity(results[0].severity),
            # the shortcoming ("Máy không có …"), never the requirement ("Có …") it fails
            title=(control.problem or control.title).get(lang) if control else control_id,
            recommendation=control.remediation.get(lang) if control and control.remediation else "",
            failed=len(failing),
            unknown=len(unjudged),
            references=control.references if control else [],
            confidence=_confidence([reports[r.report_id] for r in results if r.report_id in reports])
            if control and control.heuristic
            else None,
            first_seen=inp.generated_at,
            last_seen=inp.generated_at,
        )
        detail.add(finding.id, failing, unjudged, exposure)
        out.append(finding)
    return out


def unmanaged_findings(inp: ReportInput, cov: dict[str, UnitCoverage], lang: str) -> list[Finding]:
    """One finding per unit whose LAN scans saw hosts no agent reports for."""
    t = texts(lang)
    out = []
    for unit, c in cov.items():
        if not c.unmanaged:
            continue
        hosts = []
        for h in c.unmanaged:
            detail = "; ".join(x for x in (h.reason, h.mac, h.vendor, ", ".join(h.open_ports)) if x)
            hosts.append(
                AffectedHost(
                    host=h.hostnames[0] if h.hostnames else h.ip, outcome="unmanaged", ips=[h.ip], detail=detail or None
                )
            )
        out.append(
            Finding(
                id=finding_id(unit, UNMANAGED_CONTROL),
                kind=FindingKind.unmanaged,
                unit=unit,
                control_id=UNMANAGED_CONTROL,
                severity=Severity.medium,
                title=t["finding"]["unmanaged_title"],
                recommendation=t["finding"]["unmanaged_remediation"],
                failed=len(hosts),
                hosts=hosts,
                evidence=[t["finding"]["unmanaged_evidence"].format(seen=c.seen, managed=c.managed)],
                first_seen=inp.generated_at,
                last_seen=inp.generated_at,
            )
        )
    return out


def carry_status(current: list[Finding], previous: list[Finding]) -> list[Finding]:
    """new / open from the previous findings; previous ones now gone come back as resolved.
    A finding resolved last period that reappears is new again (it was absent in between)."""
    before = {f.id: f for f in previous if f.status is not FindingStatus.resolved}
    out = []
    for finding in current:
        prev = before.pop(finding.id, None)
        if prev is not None:
            finding = finding.model_copy(update={"status": FindingStatus.open, "first_seen": prev.first_seen})
        out.append(finding)
    for prev in before.values():
        out.append(prev.model_copy(update={"status": FindingStatus.resolved, "hosts": [], "failed": 0, "unknown": 0}))
    return out


def sort_key(finding: Finding) -> tuple:
    return (
        finding.status is FindingStatus.resolved,
        -SEVERITY_RANK[finding.severity],
        -finding.failed,
        -finding.unknown,
        finding.unit,
        finding.control_id,
    )


def build_findings(inp: ReportInput, cov: dict[str, UnitCoverage], lang: str) -> tuple[list[Finding], ControlDetail]:
    """Every finding, sorted, with its status carried over; control findings without their host
    list and evidence, which ``ControlDetail`` builds when asked."""
    detail = ControlDetail(inp, lang)
    current = control_findings(inp, lang, detail) + unmanaged_findings(inp, cov, lang)
    previous = inp.previous.findings if inp.previous else []
    return sorted(carry_status(current, previous), key=sort_key), detail
