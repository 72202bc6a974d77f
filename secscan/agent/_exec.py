"""The only place the agent starts processes: fixed argv (never a shell), a time limit, a cap on
output, UTF-8 decoding that never raises."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from secscan.agent.errors import ProbeDenied, ProbeTimeout, ProbeUnsupported

MAX_OUTPUT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Output:
    returncode: int
    stdout: str
    stderr: str


def which(tool: str) -> str | None:
    # sbin is often missing from a non-root PATH, yet nft/iptables/ufw live there.
    extra = "/usr/local/sbin:/usr/sbin:/sbin"
    return shutil.which(tool, path=os.environ.get("PATH", "") + os.pathsep + extra)


def run(argv: list[str], timeout: float = 5.0, env: dict[str, str] | None = None) -> Output:
    exe = which(argv[0])
    if exe is None:
        raise ProbeUnsupported(f"{argv[0]} not installed")
    full_env = {**os.environ, "LC_ALL": "C", "LANG": "C", **(env or {})}
    try:
        proc = subprocess.run(
            [exe, *argv[1:]], capture_output=True, timeout=timeout, env=full_env, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeTimeout(f"{argv[0]} did not finish within {timeout:g} s") from exc
    except PermissionError as exc:
        raise ProbeDenied(f"{argv[0]}: {exc.strerror}") from exc
    return Output(
        proc.returncode,
        proc.stdout[:MAX_OUTPUT].decode("utf-8", "replace"),
        proc.stderr[:MAX_OUTPUT].decode("utf-8", "replace"),
    )


def read_text(path: str, limit: int = 1024 * 1024) -> str:
    """Read a small text file; a missing file is unsupported, an unreadable one denied."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError as exc:
        raise ProbeUnsupported(f"{path} not found") from exc
    except PermissionError as exc:
        raise ProbeDenied(f"{path}: permission denied") from exc
    if len(data) > limit:
        raise ValueError(f"{path}: larger than {limit} bytes")
    return data.decode("utf-8", "replace")
