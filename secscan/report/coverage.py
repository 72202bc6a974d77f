"""Which hosts the LAN scans saw, and which of them an agent reports for: the policy stage's
matching (``secscan.policy.unmanaged``: MAC, then hostname, then IP; a report older than
``STALE_DAYS`` counts as unmanaged), per unit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from secscan.model.host import HostReport
from secscan.model.scan import ScanReport
from secscan.policy.unmanaged import KnownHost, UnmanagedHost, unmanaged_hosts

STALE_DAYS = 30  # as the collector's unit summary: no report for a month = not managed


@dataclass
class UnitCoverage:
    seen: int = 0  # distinct hosts the scans saw (the scanning laptop left out)
    managed: int = 0  # of those, hosts an agent reported for in the last STALE_DAYS
    unmanaged: list[UnmanagedHost] = field(default_factory=list)
    scanned: bool = False  # at least one scan of this unit

    @property
    def ratio(self) -> float | None:
        return self.managed / self.seen if self.seen else None


def _known(report: HostReport) -> KnownHost:
    # Built from the models directly (one latest report per host here), not via known_hosts(),
    # which re-serialises every report.
    ifaces = report.host.interfaces
    return KnownHost(
        hostname=report.host.hostname,
        last_seen=report.collected_at,
        macs=frozenset(i.mac.lower() for i in ifaces if i.mac),
        ips=frozenset(str(a) for i in ifaces for a in [*i.ipv4, *i.ipv6]),
        report_id=str(report.report_id),
    )


def coverage(hosts: list[HostReport], scans: list[ScanReport], now: datetime) -> dict[str, UnitCoverage]:
    """Per unit id (a scan without a unit is grouped under "")."""
    known: dict[str, list[KnownHost]] = defaultdict(list)
    for report in hosts:
        known[report.unit or ""].append(_known(report))
    out: dict[str, UnitCoverage] = {}
    seen: dict[str, set[str]] = defaultdict(set)
    missing: dict[str, dict[str, UnmanagedHost]] = defaultdict(dict)
    for scan in scans:
        unit = scan.unit or ""
        out.setdefault(unit, UnitCoverage(scanned=True))
        seen[unit].update(str(h.ip) for h in scan.hosts if h.status_reason != "localhost-response")
        for host in unmanaged_hosts(scan, known.get(unit, []), now=now, days=STALE_DAYS):
            missing[unit].setdefault(host.ip, host)  # one host seen by two scans counts once
    for unit, cov in out.items():
        cov.seen = len(seen[unit])
        cov.unmanaged = sorted(missing[unit].values(), key=lambda h: h.ip)
        cov.managed = cov.seen - len(cov.unmanaged)
    return out
