"""Listening sockets: the netstat -ano parser (Windows 7) on recorded text, the Get-NetTCPConnection
rows (Windows 8+), pid → process names, and the decoded captures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secscan.agent.windows import decode_capture, listening
from secscan.agent.windows.products import Inventory
from secscan.model.common import ProbeStatus

from .conftest import CAPTURES, decode

NETSTAT = (CAPTURES / "netstat_ano_win7.txt").read_text(encoding="ascii").splitlines()


def test_netstat_recorded_text() -> None:
    rows = listening.parse_netstat(NETSTAT)
    tcp = [(r["address"], r["port"], r["pid"]) for r in rows if r["proto"] == "tcp"]
    udp = [(r["address"], r["port"], r["pid"]) for r in rows if r["proto"] == "udp"]
    # ESTABLISHED and TIME_WAIT rows are connections, not listeners; the headings are skipped
    assert tcp == [("0.0.0.0", 21, 1520), ("0.0.0.0", 135, 712), ("0.0.0.0", 445, 4), ("0.0.0.0", 3389, 1160),
                   ("0.0.0.0", 49152, 388), ("0.0.0.0", 49153, 808), ("127.0.0.1", 14147, 1520),
                   ("192.168.1.23", 139, 4), ("::", 21, 1520), ("::", 135, 712), ("::", 445, 4), ("::", 3389, 1160)]
    assert udp == [("0.0.0.0", 500, 808), ("0.0.0.0", 4500, 808), ("127.0.0.1", 1900, 1840),
                   ("192.168.1.23", 137, 4), ("192.168.1.23", 138, 4), ("::", 500, 808),
                   ("fe80::1c2d:3e4f:5a6b:7c8d%11", 1900, 1840)]


def test_netstat_with_a_localized_state_word_uses_the_foreign_port() -> None:
    lines = ["  Proto  Lokale Adresse         Remoteadresse          Status           PID",
             "  TCP    0.0.0.0:23             0.0.0.0:0              ABHÖREN          1312",
             "  TCP    [::]:23                [::]:0                 ABHÖREN          1312",
             "  TCP    192.168.1.23:49231     113.171.224.26:443     HERGESTELLT      2412",
             "  TCP    192.168.1.23:49232     113.171.224.26:443     ESTABLISHED      2412"]
    assert [(r["address"], r["port"]) for r in listening.parse_netstat(lines)] == [("0.0.0.0", 23), ("::", 23)]


@pytest.mark.parametrize("line", ["  TCP    0.0.0.0:http   0.0.0.0:0   LISTENING   4",
                                  "  UDP    0.0.0.0:500    *:*    LISTENING    808",
                                  "  TCP    nonsense       0.0.0.0:0   LISTENING   4"])
def test_netstat_garbage_raises(line: str) -> None:
    with pytest.raises(ValueError):
        listening.parse_netstat([line])


def test_get_nettcpconnection_rows_with_process_names() -> None:
    section = {"source": "Get-NetTCPConnection", "fallback_reason": None, "netstat": [],
               "tcp": [{"address": "0.0.0.0", "port": 23, "pid": 1312}, {"address": "::", "port": 23, "pid": 1312},
                       {"address": "0.0.0.0", "port": 23, "pid": 1312}],  # a duplicate row is one listener
               "udp": {"address": "0.0.0.0", "port": 69, "pid": 999}}  # PS 5.1: one row as an object
    names = listening.process_names(Inventory.parse_processes({"processes": [
        {"name": "tlntsvr.exe", "pid": 1312}, {"name": "System", "pid": 4}, {"name": "old", "path": None}]}))
    assert names == {1312: "tlntsvr.exe", 4: "System"}
    assert listening.parse(section, names) == [
        {"port": 23, "proto": "tcp", "address": "0.0.0.0", "process": "tlntsvr.exe"},
        {"port": 23, "proto": "tcp", "address": "::", "process": "tlntsvr.exe"},
        {"port": 69, "proto": "udp", "address": "0.0.0.0", "process": None}]  # pid not in the process list


@pytest.mark.parametrize("bad", [{"source": "ss"}, {"source": "Get-NetTCPConnection", "tcp": [{"port": 80}]},
                                 {"source": "Get-NetTCPConnection", "tcp": [{"address": "::", "port": "eighty"}]},
                                 {"source": "netstat", "netstat": "  TCP 0.0.0.0:x 0.0.0.0:0 LISTENING 4"}])
def test_garbage_raises(bad: Any) -> None:
    with pytest.raises(ValueError):
        listening.parse(bad, {})


def test_windows10_capture() -> None:
    ports = decode("win10_defender_only").hardening.listening_ports
    assert ports is not None
    by_port = {(p.port, p.proto, p.address): p.process for p in ports}
    assert by_port[(445, "tcp", "0.0.0.0")] == "System"
    assert by_port[(135, "tcp", "::")] == "svchost.exe"
    assert by_port[(49664, "tcp", "0.0.0.0")] == "lsass.exe"
    assert by_port[(1900, "udp", "127.0.0.1")] == "svchost.exe"  # loopback listeners are kept, as on Linux
    assert not {21, 23, 69, 512, 513, 514} & {p.port for p in ports}


def test_windows7_capture_uses_the_netstat_fallback() -> None:
    report = decode("windows7")
    ports = report.hardening.listening_ports
    assert ports is not None
    ftp = [(p.address, p.process) for p in ports if p.port == 21]
    assert ftp == [("0.0.0.0", "FileZilla Server.exe"), ("::", "FileZilla Server.exe")]
    assert ("127.0.0.1", 14147) in {(p.address, p.port) for p in ports}


def test_failed_section_is_unknown_with_its_reason() -> None:
    report = decode("win10_bkav_old_signatures")
    assert report.hardening.listening_ports is None
    record = next(p for p in report.probes if p.name == "windows.listening_ports")
    assert record.status is ProbeStatus.error and record.error == "netstat -ano failed (exit code 1)"


def test_capture_from_before_the_section_existed() -> None:
    cap = json.loads((CAPTURES / "win10_defender_only.json").read_text(encoding="utf-8"))
    del cap["sections"]["listening_ports"], cap["sections"]["windows_update"]
    for row in cap["sections"]["processes"]["data"]["processes"]:
        del row["pid"]
    report = decode_capture(json.dumps(cap))
    assert report.hardening.listening_ports is None and report.hardening.patches.auto_updates is None
    errors = {p.name: p.error for p in report.probes if p.name in ("windows.listening_ports", "windows.windows_update")}
    assert errors == {"windows.listening_ports": "section not in the capture",
                      "windows.windows_update": "section not in the capture"}
