"""Unmanaged hosts: matching scanned hosts to agent reports by MAC, then hostname, then IP."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

from secscan.model.host import HostReport
from secscan.model.scan import ScanReport
from secscan.policy.unmanaged import KnownHost, known_hosts, unmanaged_hosts
from secscan.scan.nmap_xml import parse
from tests.policy.hosts import windows

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LAB = Path(__file__).parents[1] / "fixtures" / "nmap" / "lab-standard.xml"


def scan_report(hosts: list | None = None) -> ScanReport:
    run = parse(LAB.read_bytes())
    return ScanReport(
        scan_id=uuid.uuid4(),
        unit="xa-lab",
        targets=["10.213.7.0/24"],
        nmap={"args": run.args or ""},
        started_at=NOW,
        finished_at=NOW,
        hosts=run.hosts if hosts is None else hosts,
    )


def agent(hostname: str, mac: str | None, ip: str, days_ago: float, machine_id: str | None = None) -> dict:
    doc = copy.deepcopy(windows())
    doc["report_id"] = str(uuid.uuid4())
    doc["collected_at"] = (NOW - timedelta(days=days_ago)).isoformat()
    doc["host"]["hostname"] = hostname
    doc["host"]["machine_id"] = machine_id
    doc["host"]["interfaces"] = [{"name": "Ethernet", "mac": mac, "ipv4": [ip]}]
    return HostReport.model_validate(doc).model_dump(mode="json", by_alias=True)


def by_ip(entries: list) -> dict:
    return {e.ip: e for e in entries}


def test_nobody_reports_every_live_host_is_unmanaged_but_the_scanner() -> None:
    found = by_ip(unmanaged_hosts(scan_report(), [], now=NOW, days=30))
    assert sorted(found) == ["10.213.7.10", "10.213.7.11", "10.213.7.12"]
    printer = found["10.213.7.10"]
    assert (printer.mac, printer.vendor, printer.reason) == ("00:1b:78:aa:00:10", "Hewlett Packard", "no agent report")
    assert printer.hostnames == ["may-in-tang2.ubnd.local"]
    assert printer.open_ports == ["80/tcp http (HP LaserJet M404 printer http config)", "9100/tcp jetdirect"]
    assert found["10.213.7.11"].open_ports == ["23/tcp telnet (Linux telnetd)", "445/tcp tcpwrapped"]


def test_match_by_mac_even_when_the_ip_changed() -> None:
    known = known_hosts([agent("PC-01", "b8:ac:6f:aa:00:11", "10.213.7.99", days_ago=2)])
    found = by_ip(unmanaged_hosts(scan_report(), known, now=NOW, days=30))
    assert "10.213.7.11" not in found


def test_stale_report_is_unmanaged_with_its_age() -> None:
    known = known_hosts([agent("PC-01", "b8:ac:6f:aa:00:11", "10.213.7.11", days_ago=45)])
    entry = by_ip(unmanaged_hosts(scan_report(), known, now=NOW, days=30))["10.213.7.11"]
    assert entry.reason == "last agent report 45 days ago (more than 30)"
    assert (entry.matched, entry.matched_by) == ("PC-01", "mac")
    assert "10.213.7.11" not in by_ip(unmanaged_hosts(scan_report(), known, now=NOW, days=60))


def test_match_by_hostname_ignores_case_and_domain() -> None:
    known = known_hosts([agent("KETOAN-PC", "aa:bb:cc:00:00:01", "10.213.7.50", days_ago=1)])
    assert "10.213.7.11" not in by_ip(unmanaged_hosts(scan_report(), known, now=NOW, days=30))


def test_same_ip_but_another_mac_is_another_device() -> None:
    known = known_hosts([agent("PC-OLD", "aa:bb:cc:00:00:02", "10.213.7.12", days_ago=1)])
    entry = by_ip(unmanaged_hosts(scan_report(), known, now=NOW, days=30))["10.213.7.12"]
    assert entry.reason == "no agent report" and entry.matched is None


def test_ip_match_when_the_scan_saw_no_mac() -> None:
    report = scan_report()
    hosts = [h.model_copy(update={"mac": None, "vendor": None, "hostnames": []}) for h in report.hosts]
    known = known_hosts([agent("PC-03", "aa:bb:cc:00:00:03", "10.213.7.12", days_ago=1)])
    found = by_ip(unmanaged_hosts(scan_report(hosts), known, now=NOW, days=30))
    assert "10.213.7.12" not in found and "10.213.7.11" in found


def test_only_hosts_inside_the_unit_networks() -> None:
    found = unmanaged_hosts(scan_report(), [], now=NOW, days=30, networks=[ip_network("10.213.7.8/30")])
    assert [e.ip for e in found] == ["10.213.7.10", "10.213.7.11"]


def test_known_hosts_merge_reports_of_one_machine() -> None:
    old = agent("PC-01", "b8:ac:6f:aa:00:11", "10.213.7.11", days_ago=40, machine_id="m-1")
    new = agent("PC-01", "00:e0:4c:aa:00:99", "10.213.7.40", days_ago=1, machine_id="m-1")
    (merged,) = known_hosts([new, old])
    assert isinstance(merged, KnownHost)
    assert merged.macs == {"b8:ac:6f:aa:00:11", "00:e0:4c:aa:00:99"}
    assert merged.last_seen == NOW - timedelta(days=1) and merged.report_id == new["report_id"]
