"""The real nmap against a LAN of network namespaces this test builds (secscan/scan/lab.py).

Three lab hosts with real listeners: an HP printer (web admin page on 80, JetDirect on 9100),
a Dell PC with Telnet on 23 and SMB on 445, and a Realtek PC with SMB only. `secscan scan` runs
inside the lab's scanner namespace, which has no route out: only lab addresses are scanned.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan.model.scan import ScanReport
from secscan.policy import evaluate_scan, load_baseline, load_org
from secscan.policy.unmanaged import KnownHost, unmanaged_hosts
from secscan.scan.lab import Lab, unavailable

ROOT = Path(__file__).parents[2]
ORG = str(ROOT / "tests" / "fixtures" / "scan" / "org.yaml")

pytestmark = [pytest.mark.root, pytest.mark.nmap]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    why = unavailable()
    if why:
        pytest.skip(why)
    if shutil.which("nmap") is None:
        pytest.skip("nmap is not installed (scripts/system-deps.sh installs it)")
    lab = Lab()
    lab.add_host(10, "00:1b:78:aa:00:10", ["80:http", "9100:close"], "may-in-tang2.ubnd.local")
    lab.add_host(11, "b8:ac:6f:aa:00:11", ["23:telnet", "445:close"], "ketoan-pc.ubnd.local")
    lab.add_host(12, "00:e0:4c:aa:00:12", ["445:close"])
    with lab:
        yield lab


def secscan_scan(lab: Lab, tmp: Path, *args: str, unprivileged: bool = False) -> tuple[ScanReport, str]:
    out = tmp / "scan.json"
    # nobody cannot reach pytest's tmp_path (0700): the unprivileged run writes to stdout
    target = "-" if unprivileged else str(out)
    proc = lab.run(
        [sys.executable, "-m", "secscan", "scan", *args, "--org", ORG, "--out", target], unprivileged=unprivileged
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout if unprivileged else out.read_text(encoding="utf-8")
    return ScanReport.model_validate(json.loads(text)), proc.stderr


def open_ports(report: ScanReport) -> dict[str, set[int]]:
    return {str(h.ip): {p.port for p in h.ports if p.state == "open"} for h in report.hosts}


def test_quick_scan_as_root_finds_hosts_macs_ports_and_findings(lab: Lab, tmp_path: Path) -> None:
    report, stderr = secscan_scan(lab, tmp_path, "10.213.7.0/24", "--unit", "xa-lab", "--profile", "quick")
    assert open_ports(report) == {
        "10.213.7.1": set(),
        "10.213.7.10": {80, 9100},
        "10.213.7.11": {23, 445},
        "10.213.7.12": {445},
    }
    hosts = {str(h.ip): h for h in report.hosts}
    assert (hosts["10.213.7.10"].mac, hosts["10.213.7.10"].vendor) == ("00:1b:78:aa:00:10", "Hewlett Packard")
    assert hosts["10.213.7.11"].vendor == "Dell" and hosts["10.213.7.11"].status_reason == "arp-response"
    assert hosts["10.213.7.11"].hostnames == ["ketoan-pc.ubnd.local"]
    assert report.unit == "xa-lab" and report.profile == "quick" and report.targets == ["10.213.7.0/24"]
    assert report.nmap.privileged is True and report.nmap.version
    assert report.nmap.args.startswith(shutil.which("nmap") or "nmap") and " -sS " in report.nmap.args
    assert report.nmap.args.endswith("-- 10.213.7.0/24") and report.notes == []
    assert "4 hosts up, 5 open ports" in stderr

    results = evaluate_scan(report, load_org(ORG), load_baseline(ROOT / "policies" / "vn-network.yaml"))
    failed = sorted((r.host, r.control_id) for r in results if r.outcome.value == "fail")
    assert failed == [("10.213.7.10", "net_device_admin_page"), ("10.213.7.11", "net_no_telnet")]

    now = datetime.now(UTC)
    known = [
        KnownHost(hostname="KETOAN-PC", last_seen=now - timedelta(days=3), macs=frozenset({"b8:ac:6f:aa:00:11"})),
        KnownHost(
            hostname="PC-CU",
            last_seen=now - timedelta(days=1),
            macs=frozenset({"aa:bb:cc:00:00:09"}),
            ips=frozenset({"10.213.7.12"}),
        ),
    ]
    found = {u.ip: u for u in unmanaged_hosts(report, known, now=now, days=30)}
    assert sorted(found) == ["10.213.7.10", "10.213.7.12"]
    assert found["10.213.7.10"].vendor == "Hewlett Packard" and found["10.213.7.10"].reason == "no agent report"
    assert found["10.213.7.12"].open_ports == ["445/tcp microsoft-ds"]
    assert found["10.213.7.12"].reason == "no agent report"  # same IP as PC-CU, but another MAC


def test_standard_scan_detects_services(lab: Lab, tmp_path: Path) -> None:
    report, _ = secscan_scan(lab, tmp_path, "10.213.7.10-11", "--unit", "xa-lab", "--profile", "standard")
    ports = {(str(h.ip), p.port): p for h in report.hosts for p in h.ports if p.state == "open"}
    assert ports["10.213.7.11", 23].product == "Linux telnetd"
    assert ports["10.213.7.10", 80].device_type == "printer" and "LaserJet" in (ports["10.213.7.10", 80].product or "")
    assert " -sV " in report.nmap.args


def test_without_root_falls_back_to_connect_scan_and_says_what_is_lost(lab: Lab, tmp_path: Path) -> None:
    report, stderr = secscan_scan(
        lab, tmp_path, "10.213.7.8/29", "--unit", "xa-lab", "--profile", "quick", unprivileged=True
    )
    assert "not root/Administrator" in stderr
    assert report.nmap.privileged is False and " -sT " in report.nmap.args
    assert open_ports(report) == {"10.213.7.10": {80, 9100}, "10.213.7.11": {23, 445}, "10.213.7.12": {445}}
    assert all(h.mac is None for h in report.hosts)
    assert any("no MAC addresses" in note for note in report.notes)


def test_force_scans_outside_the_unit_and_records_it(lab: Lab, tmp_path: Path) -> None:
    report, _ = secscan_scan(lab, tmp_path, "10.213.7.12", "--unit", "xa-khac", "--profile", "quick", "--force")
    assert [str(h.ip) for h in report.hosts] == ["10.213.7.12"]
    assert report.notes[0].startswith("scanned with --force: targets outside the unit's networks (10.213.8.0/24)")


def test_refused_target_scans_nothing(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    proc = lab.run(
        [sys.executable, "-m", "secscan", "scan", "10.213.7.12", "--unit", "xa-khac", "--org", ORG, "--out", str(out)]
    )
    assert proc.returncode == 1 and "targets outside unit 'xa-khac'" in proc.stderr and not out.exists()


def test_an_org_error_found_while_nmap_runs_stops_it(lab: Lab, tmp_path: Path) -> None:
    """The targets lie inside the unit's networks, so nmap starts before the full org.yaml
    validation (docs/scan.md, "Speed"); a mistake elsewhere in org.yaml, here a decision without
    its date, then stops nmap: the same one-line error, nothing written, no nmap left running."""
    org = tmp_path / "org.yaml"
    broken = "decisions:\n  - {number: 1/QĐ-UBND, signer: Nguyễn Văn A, regulation: TT 12/2022/TT-BTTTT}\n"
    org.write_text(Path(ORG).read_text(encoding="utf-8") + broken, encoding="utf-8")
    log = tmp_path / "nmap.pid"
    nmap = tmp_path / "nmap"
    nmap.write_text(f'#!/bin/sh\n[ "$1" = -V ] || echo $$ >> {log}\nexec {shutil.which("nmap")} "$@"\n')
    nmap.chmod(0o755)
    out = tmp_path / "scan.json"
    args = ["10.213.7.0/24", "--unit", "xa-lab", "--org", str(org), "--nmap", str(nmap), "--out", str(out)]
    proc = lab.run([sys.executable, "-m", "secscan", "scan", *args])
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"Error: {org}: decisions.0.date: Field required (run `secscan org lint {org}`)"
    )
    assert not out.exists() and not list(tmp_path.glob(".scan.json.*"))
    pid = log.read_text().split()[0]  # nmap did start: the check ran while it scanned ...
    assert not Path(f"/proc/{pid}").exists()  # ... and stopped it (a /24 takes nmap ~2 s)


@pytest.fixture(scope="module")
def wide_lab() -> Iterator[Lab]:
    """A /22 LAN (of the district unit 'huyen', 10.213.0.0/16 in the fixture org.yaml)."""
    why = unavailable()
    if why:
        pytest.skip(why)
    if shutil.which("nmap") is None:
        pytest.skip("nmap is not installed (scripts/system-deps.sh installs it)")
    import ipaddress

    lab = Lab(subnet=ipaddress.ip_network("10.213.4.0/22"))
    lab.add_host(10, "00:1b:78:aa:04:10", ["80:http"])
    lab.add_host(11, "00:1b:78:aa:04:11", ["80:http"])  # not a target: never in the report
    lab.add_host(600, "b8:ac:6f:aa:06:58", ["445:close"])  # 10.213.6.88
    with lab:
        yield lab


def test_400_single_addresses_are_scanned_and_recorded(wide_lab: Lab, tmp_path: Path) -> None:
    """Issue 16: a few hundred single addresses (~260 of 192.168.x.y) made the recorded command
    line longer than the contract's nmap.args (4,096 characters) and the scan was lost after nmap
    had run. The targets now go to nmap by -iL - and the report lists them."""
    targets = [f"10.213.{4 + n // 256}.{n % 256}" for n in range(2, 802, 2)]  # 400, no two adjacent
    assert len(targets) == 400 and "10.213.4.10" in targets and "10.213.6.88" in targets
    report, stderr = secscan_scan(wide_lab, tmp_path, *targets, "--unit", "huyen", "--profile", "quick")
    assert {str(h.ip) for h in report.hosts} >= {"10.213.4.10", "10.213.6.88"}
    assert "10.213.4.11" not in {str(h.ip) for h in report.hosts}
    assert report.nmap.args.endswith(" -iL -") and len(report.nmap.args) <= 4096
    assert len(report.targets) == 400 and report.targets[0] == "10.213.4.2/32"
    assert "hosts up" in stderr
