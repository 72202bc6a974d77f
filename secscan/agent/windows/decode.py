"""Decode a capture into a HostReport: one probe record per capture section, one pure parser per
fact area, and the rule that a fact whose section failed stays None (unknown), never a guess.

Used by ``secscan agent decode`` (anywhere) and by ``secscan agent run`` on Windows.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from secscan.agent.runner import assemble
from secscan.agent.windows import (
    activators,
    admins,
    antivirus,
    bitlocker,
    defender,
    firewall,
    identity,
    licensing,
    listening,
    password_policy,
    patches,
    rdp,
    remote_tools,
    screen_lock,
    smb,
    software,
    windows_update,
)
from secscan.agent.windows.capture import Capture, load
from secscan.agent.windows.products import Inventory
from secscan.agent.windows.values import Unread
from secscan.model.common import ProbeRecord, ProbeStatus
from secscan.model.host import HostReport

T = TypeVar("T")

_ACTIVATORS = "licences.activators"
_AV = "antivirus.products"
_REMOTE = "hardening.remote_access"
_AUTO_UPDATES = "hardening.patches.auto_updates"
_PASSWORD = ("hardening.password_policy", "hardening.lockout")

# capture section -> the HostReport paths it feeds
SECTIONS: dict[str, tuple[str, ...]] = {
    "system": ("host", "hardening.os_end_of_life"),
    "securitycenter2": (_AV, "hardening.firewall"),
    "defender": (_AV,),
    "defender_exclusions": (_ACTIVATORS,),
    "defender_threats": ("antivirus.detections", _ACTIVATORS),
    "services": (_AV, _ACTIVATORS, _REMOTE),
    "processes": (_AV, _ACTIVATORS, _REMOTE),
    "uninstall": (_AV, _ACTIVATORS, _REMOTE, "software"),
    "licensing": ("licences.os", "licences.office"),
    "office_ospp": ("licences.office",),
    "kms_registry": ("licences.os", "licences.office", _ACTIVATORS),
    "ifeo": (_ACTIVATORS,),
    "artefact_files": (_ACTIVATORS,),
    "scheduled_tasks": (_ACTIVATORS,),
    "hosts_file": (_ACTIVATORS,),
    "firewall": ("hardening.firewall",),
    "hotfixes": ("hardening.patches",),
    "smb": ("hardening.smb",),
    "rdp_autorun": ("hardening.rdp", "hardening.autorun"),
    "local_admins": ("hardening.local_admins",),
    "local_users": ("hardening.local_admins",),
    "secedit": _PASSWORD,
    "net_accounts": _PASSWORD,
    "bitlocker": ("hardening.disk_encryption",),
    "screen_lock": ("hardening.screen_lock",),
    "windows_update": (_AUTO_UPDATES,),
    "listening_ports": ("hardening.listening_ports",),
}
# Sections whose failure leaves the activator search incomplete ("unsupported" is fine: e.g. no Defender).
_ARTEFACT_SECTIONS = ("ifeo", "artefact_files", "scheduled_tasks", "services", "processes", "uninstall",
                      "defender_exclusions", "defender_threats", "hosts_file", "kms_registry")
_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


@dataclass(slots=True)
class _Record:
    """A section's probe record while the capture is decoded; a ProbeRecord (validated) once decided."""

    name: str
    status: ProbeStatus
    duration_ms: float
    error: str | None
    sections: list[str]

    def decided(self) -> ProbeRecord:
        return ProbeRecord(name=self.name, status=self.status, duration_ms=self.duration_ms, error=self.error,
                           sections=self.sections)


class _Decoder:
    def __init__(self, cap: Capture) -> None:
        self.cap = cap
        self.records: dict[str, _Record] = {}
        for name, paths in SECTIONS.items():
            sec = cap.section(name)
            if sec is None:
                self.records[name] = _Record(f"windows.{name}", ProbeStatus.error, 0, "section not in the capture",
                                             list(paths))
            else:
                self.records[name] = _Record(f"windows.{name}", ProbeStatus(sec.status), sec.ms, sec.error,
                                             list(paths))

    def status(self, name: str) -> ProbeStatus:
        return self.records[name].status

    def data(self, name: str) -> Any:
        """The section's data if it was collected and has not been found unreadable."""
        return self.cap.data(name) if self.status(name) == ProbeStatus.ok else None

    def attempt(self, blame: str, fn: Callable[[], T]) -> T | None:
        """Run a parser; unreadable data turns the blamed section's record into an error."""
        try:
            return fn()
        except _PARSE_ERRORS as exc:
            record = self.records[blame]
            if record.status == ProbeStatus.ok:
                record.status = ProbeStatus.error
                record.error = f"unreadable {blame} data: {exc}"[:500]
            return None

    def partial(self, blame: str, under: str, fn: Callable[[], tuple[T, list[Unread]]]) -> T | None:
        """Run a text parser that may leave some facts unknown (values.Unread). What it read stays;
        each fact it could not read is named, with the reason, in the blamed record's error, and its
        path (``under`` + the parser's path) joins the record's sections, so a control that needs the
        fact is told why by baseline.missing_reason (the longest matching section wins)."""
        result = self.attempt(blame, fn)
        if result is None:
            return None
        value, unread = result
        record = self.records[blame]
        if unread and record.status == ProbeStatus.ok:
            # Status error, not ok: part of the input was unreadable, which is what "error" means
            # ("its input was garbage"), and with ok the missing fact's verdict would only say "not
            # observed (probe ran)" and drop the reason. The facts that were read are kept beside it.
            record.status = ProbeStatus.error
            record.error = f"partly unreadable {blame} data: {'; '.join(str(u) for u in unread)}"[:1000]
            record.sections += [p for p in (f"{under}.{u.path}" for u in unread if u.path) if p not in record.sections]
        return value


def _report_id(cap: Capture, raw: bytes | str) -> uuid.UUID:
    # The same capture decodes to the same report_id, so importing it twice is deduplicated.
    try:
        return uuid.UUID(cap.capture_id or "")
    except ValueError:
        blob = raw.encode("utf-8") if isinstance(raw, str) else raw
        return uuid.uuid5(uuid.NAMESPACE_URL, "secscan-capture:" + hashlib.sha256(blob).hexdigest())


def decode_capture(raw: bytes | str, *, kms_allow: Iterable[str] = (), source: str = "capture") -> HostReport:
    """Decode a secscan.windows-capture/1 document. Raises CaptureError when it is not one."""
    started = time.perf_counter()
    cap = load(raw)
    collected_at = cap.finished_at or cap.started_at or datetime.now(UTC)
    d = _Decoder(cap)
    facts: dict[str, Any] = {}

    host = None
    if (system := d.data("system")) is not None:
        host = d.attempt("system", lambda: identity.parse(system))
    if host is not None:
        facts["host"] = host
        facts["hardening.os_end_of_life"] = d.attempt("system", lambda: patches.end_of_life(host["os"], collected_at))

    inv = _inventory(d)
    _antivirus(d, inv, facts)
    _licences(d, inv, facts, kms_allow)
    _hardening(d, inv, facts, collected_at, host)
    if (apps := d.data("uninstall")) is not None:  # last: an over-long list errs the record, not the facts above
        facts["software"] = d.attempt("uninstall", lambda: software.parse(apps, inv.uninstall))

    fallback_host = {"hostname": cap.hostname or "unknown", "os": {"family": "windows"}}
    report = assemble(facts, [r.decided() for r in d.records.values()], platform="windows", elevated=cap.elevated,
                      started=started, fallback_host=fallback_host, collected_at=collected_at)
    agent = report.agent.model_copy(update={"source": source, "duration_ms": cap.duration_ms,
                                            "script_version": cap.script_version})
    return report.model_copy(update={"report_id": _report_id(cap, raw), "agent": agent})


def _inventory(d: _Decoder) -> Inventory:
    parsers = {"services": Inventory.parse_services, "processes": Inventory.parse_processes,
               "uninstall": Inventory.parse_uninstall}
    parts: dict[str, Any] = {}
    for name, parse in parsers.items():
        data = d.data(name)
        parts[name] = None if data is None else d.attempt(name, lambda p=parse, v=data: p(v))
    return Inventory.build(parts["services"], parts["processes"], parts["uninstall"])


def _antivirus(d: _Decoder, inv: Inventory, facts: dict[str, Any]) -> None:
    products: list[dict[str, Any]] = []
    if (sc2 := d.data("securitycenter2")) is not None:
        products += d.attempt("securitycenter2", lambda: antivirus.parse_securitycenter2(sc2)) or []
    if (status := d.data("defender")) is not None:
        product = d.attempt("defender", lambda: defender.parse(status))
        if product:
            products.append(product)
    products += d.attempt("services", lambda: antivirus.parse_fallback(inv, products)) or []
    antivirus.mark_management(products, inv)
    # An empty list claims "checked, none found": only when every source answered (SecurityCenter2
    # may be unsupported: Windows Server has none, the inventory is the designed fallback there).
    sc2_answered = d.status("securitycenter2") in (ProbeStatus.ok, ProbeStatus.unsupported)
    facts[_AV] = products if products or (sc2_answered and inv.complete) else None
    if (threats := d.data("defender_threats")) is not None:
        facts["antivirus.detections"] = d.attempt("defender_threats", lambda: defender.parse_threats(threats))


def _licences(d: _Decoder, inv: Inventory, facts: dict[str, Any], kms_allow: Iterable[str]) -> None:
    evidence: list[dict[str, Any]] = []
    parsers: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
        "ifeo": activators.parse_ifeo,
        "artefact_files": activators.parse_files,
        "scheduled_tasks": activators.parse_tasks,
        "defender_exclusions": activators.parse_exclusions,
        "defender_threats": lambda data: activators.parse_threats(defender.parse_threats(data)),
        "hosts_file": activators.parse_hosts,
    }
    for name, parse in parsers.items():
        if (data := d.data(name)) is not None:
            evidence += d.attempt(name, lambda p=parse, v=data: p(v)) or []
    evidence += d.attempt("services", lambda: activators.parse_inventory(inv)) or []
    incomplete = [n for n in _ARTEFACT_SECTIONS if d.status(n) not in (ProbeStatus.ok, ProbeStatus.unsupported)]
    registry = d.data("kms_registry")
    hosts = (d.attempt("kms_registry", lambda: licensing.kms_registry_hosts(registry)) or {}) if registry else {}

    lic_data, ospp = d.data("licensing"), d.data("office_ospp")
    pair = d.attempt("licensing", lambda: licensing.parse_products(lic_data, ospp)) if lic_data else None
    if pair is not None:
        os_lic, office = pair
        if d.status("office_ospp") not in (ProbeStatus.ok, ProbeStatus.unsupported):
            office = None  # Office 2010 (and any Office on Windows 7) is only in the OSPP class
        service = (lic_data or {}).get("service") or {}
        oa3 = service.get("OA3KeyLast5") if isinstance(service, dict) else None
        judge = licensing.KmsJudge(kms_allow)
        machine = list(evidence)  # machine-wide traces; a licence's own KMS evidence stays its own
        for lic in [x for x in [os_lic, *(office or [])] if x]:
            bound = d.attempt("licensing", lambda x=lic: licensing.classify(
                x, judge=judge, registry_hosts=hosts, oa3_last5=oa3 if isinstance(oa3, str) else None,
                machine_evidence=machine, checks_incomplete=incomplete)) or []
            evidence += [b for b in bound if b["detail"] not in {e["detail"] for e in evidence}]
        if d.status("licensing") == ProbeStatus.ok:
            facts["licences.os"] = licensing.finish(os_lic) if os_lic else None
            facts["licences.office"] = [licensing.finish(o) for o in office] if office is not None else None
    facts[_ACTIVATORS] = evidence if evidence or not incomplete else None


def _hardening(d: _Decoder, inv: Inventory, facts: dict[str, Any], collected_at: datetime,
               host: dict[str, Any] | None) -> None:
    def fact(path: str, section: str, parse: Callable[[Any], Any]) -> None:
        if (data := d.data(section)) is not None:
            facts[path] = d.attempt(section, lambda: parse(data))

    sc2 = d.data("securitycenter2")
    third_party = (d.attempt("securitycenter2", lambda: antivirus.third_party_firewalls(sc2)) or []) if sc2 else []
    fact("hardening.firewall", "firewall", lambda data: firewall.parse(data, third_party))
    if (hotfixes := d.data("hotfixes")) is not None:
        facts["hardening.patches"] = d.partial("hotfixes", "hardening.patches",
                                               lambda: patches.parse(hotfixes, collected_at))
    fact("hardening.smb", "smb", smb.parse)
    fact("hardening.rdp", "rdp_autorun", rdp.parse_rdp)
    fact("hardening.autorun", "rdp_autorun", rdp.parse_autorun)
    fact("hardening.disk_encryption", "bitlocker", bitlocker.parse)
    fact("hardening.screen_lock", "screen_lock", screen_lock.parse)
    hostname = host["hostname"] if host else d.cap.hostname
    fact("hardening.local_admins", "local_admins",
         lambda data: admins.parse(data, d.data("local_users"), hostname))

    policy = None
    if (secedit := d.data("secedit")) is not None:
        policy = d.partial("secedit", "hardening", lambda: password_policy.parse_secedit(secedit))
    if policy is None and (net := d.data("net_accounts")) is not None:
        policy = d.partial("net_accounts", "hardening", lambda: password_policy.parse_net_accounts(net))
    if policy is not None:
        facts["hardening.password_policy"], facts["hardening.lockout"] = policy

    if (wu := d.data("windows_update")) is not None:
        build = host["os"].get("build") if host else None
        services = inv.services if d.status("services") == ProbeStatus.ok else None
        mode = None if services is None else d.attempt("services", lambda: windows_update.service_start_mode(services))
        decided = d.attempt("windows_update", lambda: windows_update.parse(wu, build, mode))
        if decided is not None:
            if facts.get("hardening.patches", {}) is None:
                del facts["hardening.patches"]  # unreadable hotfixes: the patch facts stay unknown, not this one
            facts[_AUTO_UPDATES], basis = decided
            if decided[0] is None:
                d.records["windows_update"].error = f"auto_updates unknown: {basis}"[:500]
    if (ports := d.data("listening_ports")) is not None:
        processes = inv.processes if d.status("processes") == ProbeStatus.ok else None
        names = (d.attempt("processes", lambda: listening.process_names(processes)) or {}) if processes else {}
        facts["hardening.listening_ports"] = d.attempt("listening_ports", lambda: listening.parse(ports, names))

    tools = d.attempt("services", lambda: remote_tools.parse(inv))
    if tools is not None and (tools["tools"] or inv.complete):
        facts[_REMOTE] = tools
