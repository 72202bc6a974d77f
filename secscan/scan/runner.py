"""Run nmap over a unit's LAN and assemble the ScanReport.

``find_nmap`` finds the nmap binary and checks it is nmap with ``nmap -V``, as python-nmap's
``PortScanner`` does (not through it: importing python-nmap alone delays nmap's start by ~30 ms,
docs/scan.md "Speed"). The scan itself is one nmap process whose XML on stdout is read as it
arrives, by the same parser as saved files: that gives the progress bar (``--stats-every``)
without a second nmap run. python-nmap's own ``scan()`` waits for nmap to exit and returns
nothing before that, so it cannot feed a progress bar; and its XML parsing is not hardened
against hostile input.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.scan.profiles import Profile, nmap_args
from secscan.scan.targets import Network, nmap_spec

if TYPE_CHECKING:
    from secscan.model.scan import ScanReport
    from secscan.scan.nmap_xml import NmapXmlReader, ParsedRun, ProgressFn

STATS_EVERY = "2s"  # nmap's progress lines; often enough for a bar, rare enough to cost nothing
# `nmap -V` says "Nmap version 7.93 ( https://nmap.org )"; python-nmap's PortScanner tests the same.
NMAP_VERSION = re.compile(rb"^Nmap version (\d+\.\d+)\S* \( https?://", re.MULTILINE)
VERSION_TIMEOUT = 30  # seconds; a program that hangs on -V is not nmap
WINDOWS_NMAP = (r"C:\Program Files (x86)\Nmap\nmap.exe", r"C:\Program Files\Nmap\nmap.exe")


class ScanError(RuntimeError):
    """A scan that could not run or did not finish; the message says what to do."""


@dataclass(frozen=True)
class Nmap:
    path: str
    version: str  # "7.93"


def install_hint() -> str:
    if sys.platform.startswith("win"):
        return "install it from https://nmap.org/download.html (the installer includes Npcap), then open a new terminal"
    if sys.platform == "darwin":
        return "install it with `brew install nmap`"
    return "install it with `sudo apt-get install nmap` (Debian/Ubuntu) or `sudo dnf install nmap` (Fedora/RHEL)"


def find_nmap(path: str | None = None) -> Nmap:
    """The nmap to run: ``path``, else $SECSCAN_NMAP, else PATH, else the Windows install folders;
    the first that answers ``-V`` as nmap does. Never runs a program with scan arguments before
    it has said it is nmap."""
    candidates = [path or os.environ.get("SECSCAN_NMAP") or shutil.which("nmap") or ""]
    if sys.platform.startswith("win"):
        candidates += list(WINDOWS_NMAP)
    for candidate in filter(None, candidates):
        if not Path(candidate).is_file():
            continue
        try:
            answer = subprocess.run(
                [candidate, "-V"], stdin=subprocess.DEVNULL, capture_output=True, timeout=VERSION_TIMEOUT
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if match := NMAP_VERSION.search(answer):
            return Nmap(path=candidate, version=match[1].decode())
    where = path or os.environ.get("SECSCAN_NMAP")
    found = f"{where} is not an nmap program" if where else "nmap is not installed (not found on PATH)"
    raise ScanError(f"{found}: {install_hint()}")


def privileged() -> bool:
    """Can nmap use raw sockets (SYN scan, ARP, OS guess)? Asked of the OS, not guessed from the
    user name: root in a container without CAP_NET_RAW cannot, an elevated Windows prompt can."""
    if sys.platform.startswith("win"):
        import ctypes

        try:
            return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            return False
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except (PermissionError, OSError):
        return False
    return True


def command(
    nmap_path: str, profile: Profile, targets: Sequence[Network], *, is_privileged: bool, dns: bool = True
) -> tuple[list[str], list[str]]:
    """(the exact argv, what this scan cannot see)."""
    options, lost = nmap_args(profile, privileged=is_privileged, dns=dns)
    argv = [nmap_path, *options, "-oX", "-", "--stats-every", STATS_EVERY, "--", *(nmap_spec(t) for t in targets)]
    return argv, lost


def scan(
    targets: Sequence[Network],
    profile: Profile,
    *,
    unit: str | None,
    nmap: Nmap | None = None,
    is_privileged: bool | None = None,
    dns: bool = True,
    progress: ProgressFn | None = None,
    while_running: Callable[[], object] | None = None,
) -> ScanReport:
    """Run nmap and read its XML into a ScanReport. ``while_running`` is work that may overlap the
    scan (the CLI's full org.yaml check): it runs once nmap has started, and if it raises, nmap
    is stopped and the error propagates."""
    nmap = nmap or find_nmap()
    is_privileged = privileged() if is_privileged is None else is_privileged
    argv, lost = command(nmap.path, profile, targets, is_privileged=is_privileged, dns=dns)
    started = datetime.now(UTC)
    proc = _start(argv)
    assert proc.stdout is not None
    try:
        # nmap's first output means it has read its data files and begun. CPU time taken from it
        # before that stretches its start-up, so the imports below wait for it (docs/scan.md).
        head = proc.stdout.read1(65536)
        # Loaded while nmap already runs: building the pydantic models is most of our start-up time.
        from secscan.model.scan import NmapRun, ScanReport
        from secscan.scan.nmap_xml import NmapXmlError, NmapXmlReader

        if while_running is not None:
            while_running()
    except BaseException:  # an error or Ctrl-C this early must not leave nmap behind either
        proc.kill()
        proc.wait()
        raise
    try:
        run = _finish(proc, NmapXmlReader(progress), head)
    except NmapXmlError as exc:
        raise ScanError(f"{exc} (nmap {nmap.path})") from None
    return ScanReport(
        scan_id=uuid.uuid4(),
        unit=unit,
        targets=[str(t) for t in targets],
        profile=profile.name,
        nmap=NmapRun(version=run.version or nmap.version, args=shlex.join(argv), privileged=is_privileged),
        started_at=started,
        finished_at=datetime.now(UTC),
        hosts=run.hosts,
        notes=lost + run.notes,
    )


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ScanError(f"cannot start nmap ({argv[0]}): {exc.strerror}: {install_hint()}") from None


def _finish(proc: subprocess.Popen[bytes], reader: NmapXmlReader, head: bytes) -> ParsedRun:
    """Feed nmap's stdout (``head``: what was read of it already) to ``reader`` as it arrives;
    kill nmap if anything goes wrong."""
    assert proc.stdout is not None and proc.stderr is not None
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    drain.start()
    try:
        chunk = head
        while chunk:
            reader.feed(chunk)
            chunk = proc.stdout.read1(65536)
        proc.wait()
    except BaseException:  # a parse error, Ctrl-C: never leave nmap running behind us
        proc.kill()
        proc.wait()
        raise
    finally:
        drain.join(timeout=5)
    err = b"".join(stderr).decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        last = err.splitlines()[-1] if err else "no message"
        raise ScanError(f"nmap exited with status {proc.returncode}: {last}")
    return reader.close()
