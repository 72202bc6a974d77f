"""Probe isolation: whatever a probe does, the report stays valid and says what happened."""

from __future__ import annotations

import time

from secscan.agent.errors import ProbeDenied, ProbeUnsupported
from secscan.agent.runner import Probe, assemble, run_probes
from secscan.model.common import ProbeStatus

HOST = {"hostname": "pc-01", "os": {"family": "linux"}}


def _boom() -> dict:
    raise ZeroDivisionError("division by zero")


def _denied() -> dict:
    raise ProbeDenied("needs root")


def _unsupported() -> dict:
    raise ProbeUnsupported("nft not installed")


def _slow() -> dict:
    time.sleep(2)
    return {"hardening.smb": {"smb1_server": False}}


def _bad_value() -> dict:
    return {"hardening.rdp": {"port": "not a number"}}


def _undeclared() -> dict:
    return {"hardening.autorun": {"no_autorun": 1}}


def _good() -> dict:
    return {"hardening.smb": {"smb1_server": False, "smb1_client": True}}


def test_each_failure_becomes_a_status_and_the_report_stays_valid() -> None:
    probes = [
        Probe("boom", ("hardening.firewall",), _boom),
        Probe("denied", ("hardening.lockout",), _denied),
        Probe("unsupported", ("hardening.ssh",), _unsupported),
        Probe("slow", ("hardening.screen_lock",), _slow, timeout=0.2),
        Probe("bad_value", ("hardening.rdp",), _bad_value),
        Probe("undeclared", ("hardening.smb",), _undeclared),
        Probe("good", ("hardening.smb",), _good),
    ]
    started = time.perf_counter()
    facts, records = run_probes(probes)
    assert time.perf_counter() - started < 1.5  # the slow probe was abandoned, not awaited
    report = assemble(facts, records, platform="linux", elevated=False, started=started, fallback_host=HOST)
    status = {p.name: (p.status, p.error) for p in report.probes}
    assert status["boom"] == (ProbeStatus.error, "ZeroDivisionError: division by zero")
    assert status["denied"] == (ProbeStatus.denied, "needs root")
    assert status["unsupported"] == (ProbeStatus.unsupported, "nft not installed")
    assert status["slow"][0] == ProbeStatus.timeout
    assert status["bad_value"][0] == ProbeStatus.error and "hardening.rdp.port" in status["bad_value"][1]
    assert status["undeclared"][0] == ProbeStatus.error and "undeclared" in status["undeclared"][1]
    assert status["good"] == (ProbeStatus.ok, None)
    assert report.hardening.rdp is None  # the invalid section was dropped, not half-kept
    assert report.hardening.smb is not None and report.hardening.smb.smb1_client is True
    assert report.hardening.firewall is None and report.hardening.lockout is None
    assert report.host.hostname == "pc-01"  # fallback identity


def test_probe_durations_are_their_own() -> None:
    def quick() -> dict:
        return {}

    _facts, records = run_probes([Probe("slow", ("a",), _slow, timeout=0.3), Probe("quick", ("b",), quick)])
    durations = {r.name: r.duration_ms for r in records}
    assert durations["quick"] < 200


def test_a_hung_probe_does_not_keep_the_agent_from_exiting() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = ("import threading; from secscan.agent.runner import Probe, run_probes; "
            "facts, records = run_probes([Probe('hang', ('a',), lambda: threading.Event().wait(), timeout=0.2)]); "
            "print(records[0].status)")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          cwd=Path(__file__).parents[2])
    assert proc.stdout.strip() == "timeout", proc.stderr
    assert time.perf_counter() - started < 10
