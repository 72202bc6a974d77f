"""Unmanaged hosts: machines alive on a unit's LAN that no agent has reported on recently.

Matching a scanned host to an agent report, strongest evidence first:

1. **MAC**: the scanned MAC is one the agent reported for one of its interfaces. A MAC is only
   seen on the local segment with raw sockets (root/Administrator).
2. **hostname**: the first label of a reverse-DNS name equals the agent's hostname (case
   ignored: Windows reports "KETOAN-PC", DNS says "ketoan-pc.ubnd.local").
3. **IP**: only when the scan has no MAC for the host, or the agent reported none. When both sides
   know a MAC and they differ, the address was handed to another device (DHCP) and the host is
   unmanaged whatever its IP.

A matched host whose last report is older than ``days`` is unmanaged too ("stale"). The scanning
machine itself (nmap: ``localhost-response``) is left out: it is the officer's laptop.
Pure functions: no I/O, no clock (``now`` is passed in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from secscan.model.host import HostReport
from secscan.model.scan import ScannedHost, ScanReport


@dataclass(frozen=True)
class KnownHost:
    """What identifies one agent-managed machine, and when it last reported."""

    hostname: str
    last_seen: datetime
    macs: frozenset[str] = frozenset()
    ips: frozenset[str] = frozenset()
    report_id: str | None = None


@dataclass(frozen=True)
class UnmanagedHost:
    ip: str
    mac: str | None
    vendor: str | None  # from the MAC prefix (nmap's table): "Hewlett Packard", "Dell", ...
    hostnames: list[str]
    open_ports: list[str]  # "23/tcp telnet (Linux telnetd)", so the officer knows what to look for
    reason: str  # "no agent report" | "last agent report 45 days ago"
    matched: str | None = None  # the agent hostname it matched, if any
    matched_by: str | None = None  # mac | hostname | ip
    last_seen: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def known_hosts(reports: Iterable[HostReport | dict[str, Any]]) -> list[KnownHost]:
    """One KnownHost per machine (machine id, else hostname) from its HostReports: every MAC and
    address it ever reported, and the time of its newest report."""
    merged: dict[str, dict[str, Any]] = {}
    for report in reports:
        doc = report.model_dump(mode="json", by_alias=True) if isinstance(report, HostReport) else report
        host = doc.get("host") or {}
        name = str(host.get("hostname") or "")
        key = str(host.get("machine_id") or name.casefold())
        seen = doc["collected_at"]
        seen = datetime.fromisoformat(seen) if isinstance(seen, str) else seen
        entry = merged.setdefault(
            key, {"hostname": name, "last_seen": seen, "macs": set(), "ips": set(), "report_id": doc.get("report_id")}
        )
        if seen >= entry["last_seen"]:
            entry.update(hostname=name, last_seen=seen, report_id=doc.get("report_id"))
        for iface in host.get("interfaces") or []:
            if iface.get("mac"):
                entry["macs"].add(iface["mac"].lower())
            entry["ips"].update(str(a) for a in (iface.get("ipv4") or []) + (iface.get("ipv6") or []))
    return [
        KnownHost(
            hostname=e["hostname"],
            last_seen=e["last_seen"],
            macs=frozenset(e["macs"]),
            ips=frozenset(e["ips"]),
            report_id=str(e["report_id"]) if e["report_id"] else None,
        )
        for e in merged.values()
    ]


def match(host: ScannedHost, known: Sequence[KnownHost]) -> tuple[KnownHost | None, str | None]:
    """The agent host this scanned host is, and how that was decided (see the module doc)."""
    mac = host.mac.lower() if host.mac else None
    if mac:
        for k in known:
            if mac in k.macs:
                return k, "mac"
    names = {h.split(".")[0].casefold() for h in host.hostnames if h}
    if names:
        for k in known:
            if k.hostname.split(".")[0].casefold() in names:
                return k, "hostname"
    ip = str(host.ip)
    for k in known:
        if ip in k.ips and (mac is None or not k.macs):
            return k, "ip"
    return None, None


def unmanaged_hosts(
    scan: ScanReport,
    known: Sequence[KnownHost],
    *,
    now: datetime,
    days: int,
    networks: Sequence[IPv4Network | IPv6Network] | None = None,
) -> list[UnmanagedHost]:
    """Live hosts of ``scan`` (inside ``networks`` when given) with no agent report in ``days``."""
    cutoff = now - timedelta(days=days)
    out: list[UnmanagedHost] = []
    for host in scan.hosts:
        if host.status_reason == "localhost-response":
            continue
        if networks is not None and not any(ip_address(host.ip) in net for net in networks):
            continue
        agent, how = match(host, known)
        if agent is not None and agent.last_seen >= cutoff:
            continue
        if agent is None:
            reason = "no agent report"
        else:
            age = (now - agent.last_seen).days
            reason = f"last agent report {age} days ago (more than {days})"
        out.append(
            UnmanagedHost(
                ip=str(host.ip),
                mac=host.mac,
                vendor=host.vendor,
                hostnames=list(host.hostnames),
                open_ports=[_describe(p) for p in host.ports if p.state == "open"],
                reason=reason,
                matched=agent.hostname if agent else None,
                matched_by=how,
                last_seen=agent.last_seen if agent else None,
                evidence={
                    "scan_id": str(scan.scan_id),
                    "status_reason": host.status_reason,
                    "os_guess": host.os_guess[0].name if host.os_guess else None,
                },
            )
        )
    return out


def _describe(port: Any) -> str:
    text = f"{port.port}/{port.proto}"
    if port.service:
        text += f" {port.service}"
    detail = " ".join(x for x in (port.product, port.version) if x)
    return f"{text} ({detail})" if detail else text
