"""Which hosts the LAN scans saw, and which of them an agent reports for (by MAC, else by IP)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from secscan.model.host import HostReport
from secscan.model.scan import ScannedHost, ScanReport


@dataclass
class UnitCoverage:
    seen: int = 0  # distinct hosts the scans saw
    managed: int = 0  # of those, hosts an agent reports for
    unmanaged: list[ScannedHost] = field(default_factory=list)
    scanned: bool = False  # at least one scan of this unit

    @property
    def ratio(self) -> float | None:
        return self.managed / self.seen if self.seen else None


def _identities(hosts: list[HostReport]) -> tuple[set[str], set[str]]:
    macs: set[str] = set()
    ips: set[str] = set()
    for report in hosts:
        for iface in report.host.interfaces:
            if iface.mac:
                macs.add(iface.mac)
            ips.update(str(ip) for ip in iface.ipv4)
            ips.update(str(ip) for ip in iface.ipv6)
    return macs, ips


def coverage(hosts: list[HostReport], scans: list[ScanReport]) -> dict[str, UnitCoverage]:
    """Per unit id. Hosts without a unit are grouped under ""."""
    by_unit_hosts: dict[str, list[HostReport]] = defaultdict(list)
    for report in hosts:
        by_unit_hosts[report.unit or ""].append(report)
    seen: dict[str, dict[str, ScannedHost]] = defaultdict(dict)
    for scan in scans:
        unit = scan.unit or ""
        for scanned in scan.hosts:
            seen[unit].setdefault(scanned.mac or str(scanned.ip), scanned)  # one host seen by two scans
    out: dict[str, UnitCoverage] = {}
    for unit, scanned_hosts in seen.items():
        macs, ips = _identities(by_unit_hosts.get(unit, []))
        cov = UnitCoverage(scanned=True)
        for scanned in scanned_hosts.values():
            cov.seen += 1
            if (scanned.mac and scanned.mac in macs) or str(scanned.ip) in ips:
                cov.managed += 1
            else:
                cov.unmanaged.append(scanned)
        out[unit] = cov
    return out
