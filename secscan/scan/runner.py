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

import contextlib
import json
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
from typing import TYPE_CHECKING, Any

from secscan.scan.profiles import Profile, nmap_args
from secscan.scan.targets import Network, compact, nmap_spec

if TYPE_CHECKING:
    from secscan.model.scan import ScanReport
    from secscan.scan.nmap_xml import NmapXmlReader, ParsedRun, ProgressFn

STATS_EVERY = "2s"  # nmap's progress lines; often enough for a bar, rare enough to cost nothing
# `nmap -V` says "Nmap version 7.93 ( https://nmap.org )"; python-nmap's PortScanner tests the same.
NMAP_VERSION = re.compile(rb"^Nmap version (\d+\.\d+)\S* \( https?://", re.MULTILINE)
VERSION_TIMEOUT = 30  # seconds; a program that hangs on -V is not nmap
WINDOWS_NMAP = (r"C:\Program Files (x86)\Nmap\nmap.exe", r"C:\Program Files\Nmap\nmap.exe")
# Limits of the documents a scan writes, mirrored here so that nothing is checked only after nmap
# has run (pydantic is not loaded before nmap starts); tests/scan/test_limits.py holds them equal
# to the contract's and the collector's.
MAX_ARGS = 4096  # NmapRun.args: the contract's Text bound
MAX_REPORT_BYTES = 4 * 1024 * 1024  # secscan.collector.intake.MAX_REPORT_BYTES: one document, as written


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


@dataclass(frozen=True)
class Command:
    argv: list[str]  # exactly what runs, and what the report records (nmap.args)
    lost: list[str]  # what this scan cannot see
    stdin: str | None = None  # the targets, one a line, when they go by ``-iL -``

    @property
    def recorded(self) -> str:
        return shlex.join(self.argv)


def command(
    nmap_path: str, profile: Profile, targets: Sequence[Network], *, is_privileged: bool, dns: bool = True
) -> Command:
    """The nmap command. The targets go on its command line while the whole line fits in the
    report's ``nmap.args`` (``MAX_ARGS``); a longer list (hundreds of single addresses) goes to
    nmap's standard input (``-iL -``) instead, so the recorded command line stays exact and short,
    and ``targets`` in the report lists them. Raises ScanError, before anything runs, when even
    that cannot be recorded."""
    options, lost = nmap_args(profile, privileged=is_privileged, dns=dns)
    head = [nmap_path, *options, "-oX", "-", "--stats-every", STATS_EVERY]
    specs = [nmap_spec(t) for t in targets]
    inline = Command([*head, "--", *specs], lost)
    if len(inline.recorded) <= MAX_ARGS:
        return inline
    listed = Command([*head, "-iL", "-"], lost, "".join(f"{spec}\n" for spec in specs))
    if len(listed.recorded) > MAX_ARGS:
        raise ScanError(f"the nmap command line is {len(listed.recorded)} characters without its targets, more than "
                        f"a ScanReport records ({MAX_ARGS}): use an nmap at a shorter path (--nmap)")
    return listed


def check_targets(targets: Sequence[Network], max_bytes: int = MAX_REPORT_BYTES) -> None:
    """Refuse, before nmap runs, a target list too long to be repeated in every part of a report:
    more than a quarter of a document (tens of thousands of scattered addresses; contiguous ones
    are merged into CIDRs first)."""
    size = len(json.dumps([str(t) for t in targets], indent=4))
    if size > max_bytes // 4:
        raise ScanError(
            f"{len(targets)} separate targets take {size:,} bytes in the report, more than {max_bytes // 4:,} "
            f"(a quarter of the {max_bytes:,} bytes the collector takes per document): "
            "scan them in several runs, or give whole networks (CIDRs)"
        )


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
    warnings: list[str] | None = None,
    max_bytes: int = MAX_REPORT_BYTES,
) -> ScanReport:
    """Run nmap and read its XML into a ScanReport. ``while_running`` is work that may overlap the
    scan (the CLI's full org.yaml check): it runs once nmap has started, and if it raises, nmap
    is stopped and the error propagates. ``warnings`` receives what the user should be told at
    once (hosts dropped from nmap's output), besides the report's notes. ``max_bytes``: the size
    of a document the report will be split to (``split``)."""
    targets = compact(targets)
    check_targets(targets, max_bytes)
    nmap = nmap or find_nmap()
    is_privileged = privileged() if is_privileged is None else is_privileged
    cmd = command(nmap.path, profile, targets, is_privileged=is_privileged, dns=dns)
    started = datetime.now(UTC)
    proc = _start(cmd)
    assert proc.stdout is not None
    try:
        # nmap's first output means it has read its data files and begun. CPU time taken from it
        # before that stretches its start-up, so the imports below wait for it (docs/scan.md).
        head = proc.stdout.read1(65536)
        # Loaded while nmap already runs: building the pydantic models is most of our start-up time.
        from pydantic import ValidationError

        from secscan.model.scan import NmapRun, ScanReport
        from secscan.scan.nmap_xml import NmapXmlError, NmapXmlReader

        # Everything the report holds besides nmap's findings, validated now: a value the contract
        # refuses (a --unit that is no unit id, say) stops nmap here, not after a long scan.
        try:
            record = ScanReport(
                scan_id=uuid.uuid4(),
                unit=unit,
                targets=[str(t) for t in targets],
                profile=profile.name,
                nmap=NmapRun(version=nmap.version, args=cmd.recorded, privileged=is_privileged),
                started_at=started,
                finished_at=started,
                notes=cmd.lost,
            )
        except ValidationError as exc:
            raise ScanError(f"the scan cannot be recorded: {_first_error(exc)}") from None
        if while_running is not None:
            while_running()
    except BaseException:  # an error or Ctrl-C this early must not leave nmap behind either
        proc.kill()
        proc.wait()
        raise
    try:
        # Given the targets, the reader drops any host outside them (and notes how many).
        run = _finish(proc, NmapXmlReader(progress, targets=targets), head)
    except NmapXmlError as exc:
        raise ScanError(f"{exc} (nmap {nmap.path})") from None
    if warnings is not None:
        warnings += run.dropped
    # The reader built every host (and every note) within the contract, so nothing here can be
    # refused now that the scan has run: the record above is completed, not validated again.
    try:
        ran = NmapRun(version=run.version or nmap.version, args=cmd.recorded, privileged=is_privileged)
    except ValidationError:  # the version nmap wrote in its XML (clipped already): keep `nmap -V`'s
        ran = record.nmap
    return record.model_copy(update={
        "nmap": ran,
        "finished_at": datetime.now(UTC),
        "hosts": run.hosts,
        "notes": [*record.notes, *run.notes],
    })


def _first_error(exc: Any) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or '(report)'}: {err['msg']} (got {str(err.get('input'))[:60]!r})"


def _start(cmd: Command) -> subprocess.Popen[bytes]:
    stdin = subprocess.DEVNULL if cmd.stdin is None else subprocess.PIPE
    try:
        proc = subprocess.Popen(cmd.argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ScanError(f"cannot start nmap ({cmd.argv[0]}): {exc.strerror}: {install_hint()}") from None
    if cmd.stdin is not None:
        # nmap reads its target list as it goes: written from a thread, so a list longer than the
        # pipe's buffer cannot stall nmap's output, which this thread reads meanwhile.
        threading.Thread(target=_feed, args=(proc, cmd.stdin.encode()), daemon=True).start()
    return proc


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
    except OSError:  # nmap ended (or was stopped) before reading all of it: its exit status says why
        pass
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def document(report: ScanReport) -> str:
    """The ScanReport as ``secscan scan`` writes it."""
    data = report.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def split(report: ScanReport, max_bytes: int = MAX_REPORT_BYTES) -> list[tuple[ScanReport, str]]:
    """The report as one or more documents of at most ``max_bytes`` each (UTF-8), with their text.

    A scan of thousands of live hosts outgrows what the collector accepts in one document; its
    hosts are then shared out over several ScanReports, each with its own scan_id and the same
    unit, targets, profile, nmap run, times and notes, plus one note saying which part it is. The
    report stage counts a host seen by several scans of a unit once, so the parts add up to the
    whole scan."""
    whole = document(report)
    if len(whole.encode()) <= max_bytes or len(report.hosts) <= 1:
        return [(report, whole)]
    header = len(document(report.model_copy(update={"hosts": []})).encode()) + 1024  # + the part's note
    # check_targets keeps the header to a fraction of a document; were it ever larger, each part
    # still takes at least one host (and the CLI warns of a part over the limit: written, not lost)
    room = max(max_bytes - header, 1)
    chunks: list[list[Any]] = []
    size = room + 1
    for host in report.hosts:
        text = json.dumps(host.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=2)
        cost = len(text.encode()) + 4 * (text.count("\n") + 1) + 2  # nested two levels deeper, and ",\n"
        if size + cost > room:
            chunks.append([])
            size = 0
        chunks[-1].append(host)
        size += cost
    out: list[tuple[ScanReport, str]] = []
    for i, hosts in enumerate(chunks, 1):
        note = (f"part {i} of {len(chunks)} of one scan: its {len(report.hosts)} live hosts are shared out over "
                f"{len(chunks)} reports so that each stays within the {max_bytes:,} bytes the collector takes "
                f"per document; the parts have the same targets, nmap run and times (first part: {report.scan_id})")
        part = report.model_copy(update={
            "scan_id": report.scan_id if i == 1 else uuid.uuid4(), "hosts": hosts, "notes": [*report.notes, note],
        })
        out.append((part, document(part)))
    return out


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
