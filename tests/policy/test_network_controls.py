"""policies/vn-network.yaml judged on scanned hosts: each control fails on its port, passes
without it, and stays unknown where the scan could not tell."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan.model.scan import ScannedHost, ScanReport
from secscan.policy import evaluate_scan, load_baseline, load_org

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.fixture(scope="module")
def judge():
    org = load_org(ROOT / "tests" / "fixtures" / "scan" / "org.yaml")
    base = load_baseline(ROOT / "policies" / "vn-network.yaml")

    def run(open_ports: list[int], os_name: str | None = None, device: str | None = None) -> dict[str, str]:
        host = ScannedHost(
            ip="10.213.7.20",
            ports=[{"port": p, "proto": "tcp", "state": "open", "device_type": device} for p in open_ports]
            + [{"port": 22, "proto": "tcp", "state": "closed"}],
            os_guess=[{"name": os_name, "accuracy": 95}] if os_name else [],
        )
        scan = ScanReport(
            scan_id=uuid.uuid4(),
            unit="xa-lab",
            targets=["10.213.7.0/24"],
            nmap={"args": "nmap"},
            started_at=NOW,
            finished_at=NOW,
            hosts=[host],
        )
        return {r.control_id: r.outcome.value for r in evaluate_scan(scan, org, base)}

    return run


@pytest.mark.parametrize(
    ("control", "port"),
    [
        ("net_no_telnet", 23),
        ("net_no_ftp", 21),
        ("net_no_vnc", 5900),
        ("net_no_vnc", 5901),
        ("net_no_database_on_lan", 1433),
        ("net_no_database_on_lan", 3306),
        ("net_no_database_on_lan", 5432),
    ],
)
def test_port_open_fails_closed_passes(judge, control: str, port: int) -> None:
    assert judge([port])[control] == "fail"
    assert judge([])[control] == "pass"


def test_smb_rdp_on_a_windows_workstation(judge) -> None:
    assert judge([445], "Microsoft Windows 10 1607")["net_workstation_no_smb_rdp"] == "fail"
    assert judge([3389], "Microsoft Windows 11 21H2")["net_workstation_no_smb_rdp"] == "fail"
    assert judge([80], "Microsoft Windows 10 1607")["net_workstation_no_smb_rdp"] == "pass"


def test_smb_on_a_server_or_linux_is_not_this_control(judge) -> None:
    assert judge([445], "Microsoft Windows Server 2019")["net_workstation_no_smb_rdp"] == "not_applicable"
    assert judge([445], "Linux 5.4")["net_workstation_no_smb_rdp"] == "not_applicable"


def test_without_an_os_guess_the_workstation_control_is_unknown(judge) -> None:
    assert judge([445])["net_workstation_no_smb_rdp"] == "unknown"


def test_printer_admin_page(judge) -> None:
    assert judge([80, 9100])["net_device_admin_page"] == "fail"  # JetDirect marks a printer
    assert judge([9100])["net_device_admin_page"] == "pass"
    assert judge([443], device="webcam")["net_device_admin_page"] == "fail"  # nmap named it a camera
    assert judge([80])["net_device_admin_page"] == "not_applicable"  # a web server, not a device
