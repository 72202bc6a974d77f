"""Run the capture script on this PC: one PowerShell start, with a time limit."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterable
from importlib import resources

from secscan.agent import _exec
from secscan.agent.errors import ProbeFailure
from secscan.agent.runner import assemble
from secscan.agent.windows import activators
from secscan.agent.windows.capture import CaptureError
from secscan.agent.windows.decode import SECTIONS, decode_capture
from secscan.model.common import ProbeRecord, ProbeStatus
from secscan.model.host import HostReport

_BEGIN = "# secscan:artefact-paths:begin"
_END = "# secscan:artefact-paths:end"
POWERSHELL = ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File"]


def script_text() -> str:
    """collect.ps1 with the activator file list from activators.toml written in."""
    text = resources.files("secscan.agent.windows").joinpath("collect.ps1").read_text(encoding="utf-8")
    head, rest = text.split(_BEGIN, 1)
    _, tail = rest.split(_END, 1)
    indent = head[head.rfind("\n") + 1:]
    lines = "".join(f"{indent}'{path.replace(chr(39), chr(39) * 2)}'\n" for path in activators.artefact_paths())
    return f"{head}{_BEGIN}\n{lines}{indent}{_END}{tail}"


def collect(timeout: float = 60.0, kms_allow: Iterable[str] = ()) -> HostReport:
    """Run collect.ps1 with Windows PowerShell and decode what it prints. A capture that cannot run
    or cannot be decoded still gives a valid report whose probe record says why."""
    started = time.perf_counter()
    # Windows PowerShell 5.1 reads a .ps1 without a BOM in the ANSI code page: write one.
    fd, path = tempfile.mkstemp(prefix="secscan-", suffix=".ps1")
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig") as fh:
            fh.write(script_text())
        out = _exec.run([*POWERSHELL, path], timeout=timeout)
        if not out.stdout.strip():
            reason = (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[0]
            return _failed(started, ProbeStatus.error, f"PowerShell printed no capture: {reason}")
        return decode_capture(out.stdout, kms_allow=kms_allow, source="agent")
    except ProbeFailure as exc:
        return _failed(started, ProbeStatus(exc.status), str(exc))
    except CaptureError as exc:
        return _failed(started, ProbeStatus.error, f"capture unreadable: {exc}")
    finally:
        os.unlink(path)


def _failed(started: float, status: ProbeStatus, reason: str) -> HostReport:
    paths = sorted({p for paths in SECTIONS.values() for p in paths})
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    record = ProbeRecord(name="windows.capture", status=status, duration_ms=elapsed, error=reason[:500], sections=paths)
    return assemble({}, [record], platform="windows", elevated=None, started=started,
                    fallback_host={"hostname": socket.gethostname() or "unknown", "os": {"family": "windows"}})
