"""Every Linux probe, for real, on this machine; and the whole `agent run`, as root and not."""

from __future__ import annotations

import os
import pwd
import socket
from pathlib import Path

import pytest

from secscan.agent.errors import ProbeFailure
from secscan.agent.linux import PROBES, collect
from secscan.model.host import HostReport


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_probe_runs_for_real(probe) -> None:  # type: ignore[no-untyped-def]
    """Each probe either yields facts for exactly its sections or fails with a stated reason."""
    try:
        facts = probe.collect()
    except ProbeFailure as exc:
        assert str(exc), f"{probe.name} failed without a reason"
        return
    assert set(facts) <= set(probe.sections)


def test_collect_is_a_valid_report_of_this_machine() -> None:
    report = collect()
    assert report.host.hostname == socket.gethostname()
    assert report.host.os.family == "linux"
    assert report.host.os.kernel == os.uname().release
    names = {p.name for p in report.probes}
    assert names == {p.name for p in PROBES}
    for record in report.probes:
        if record.status != "ok":
            assert record.error, f"{record.name} is {record.status} without a reason"
    machine_id = Path("/etc/machine-id")
    if machine_id.exists() and machine_id.read_text().strip():
        assert report.host.machine_id == machine_id.read_text().strip()
    # Round trip through the contract: what the agent writes, the collector can read.
    HostReport.model_validate_json(report.model_dump_json(by_alias=True))


def test_listening_socket_is_seen() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        report = collect()
    ports = report.hardening.listening_ports or []
    assert any(p.port == port and p.proto == "tcp" for p in ports)


def _nobody() -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


@pytest.mark.root
def test_agent_run_as_non_root_is_still_valid() -> None:
    """Fork, drop to 'nobody', collect: the report is valid and root-only facts are unknown."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to the 'nobody' user")
    ids = _nobody()
    if ids is None:
        pytest.skip("no 'nobody' user on this machine")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
            data = collect().model_dump_json(by_alias=True).encode()
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    report = HostReport.model_validate_json(data)
    assert report.agent.elevated is False
    statuses = {p.name: p.status for p in report.probes}
    assert statuses["identity"] == "ok"
    # Without root /etc/shadow is unreadable: the built-in admin state is unknown, not guessed.
    assert report.hardening.local_admins is not None
    assert report.hardening.local_admins.builtin_admin_enabled is None
