"""Write, spool and push reports. A report is never lost: it is written to the spool before any
network attempt and removed only after the collector answered 200 (accepted or already had; the
collector dedupes by report_id, so a retry after a lost answer is harmless)."""

from __future__ import annotations

import json
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any


def default_spool() -> Path:
    if os.name == "nt":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "secscan" / "spool"
    if os.geteuid() == 0:
        return Path("/var/spool/secscan")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "secscan" / "spool"


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def out_path(target: Path, hostname: str, collected_at: str, report_id: str) -> Path:
    """``--out DIR/`` gets one file per run, named by host and time (and the report id, so two
    runs in the same second do not overwrite each other)."""
    safe_host = "".join(c if c.isalnum() or c in "-_" else "_" for c in hostname)[:63] or "host"
    stamp = collected_at.replace(":", "").replace("-", "")[:15]
    return target / f"{safe_host}-{stamp}-{report_id[:8]}.json"


class PushResult:
    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        self.pending: list[str] = []
        self.error: str | None = None


def push_spool(spool: Path, url: str, token: str | None, ca_bundle: str | None, timeout: float = 15.0) -> PushResult:
    """Deliver every spooled report, oldest first. Stops at the first network failure (the rest
    stay spooled); a report the collector refuses (4xx) moves to spool/rejected/ with the reason."""
    import httpx  # only the push path pays for it

    result = PushResult()
    files = sorted(spool.glob("*.json"), key=lambda p: p.stat().st_mtime)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # TLS is always verified: against the system store, or the given CA bundle (a private CA).
    verify: Any = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    with httpx.Client(timeout=timeout, verify=verify, headers=headers) as client:
        for i, path in enumerate(files):
            try:
                resp = client.post(url, content=path.read_bytes())
            except httpx.HTTPError as exc:
                result.error = f"{url}: {type(exc).__name__}: {exc}"
                result.pending = [p.name for p in files[i:]]
                return result
            if resp.status_code == 200:
                path.unlink(missing_ok=True)
                result.delivered.append(path.name)
            elif 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
                rejected = spool / "rejected"
                rejected.mkdir(exist_ok=True)
                os.replace(path, rejected / path.name)
                (rejected / (path.name + ".reason")).write_text(f"{resp.status_code} {resp.text[:500]}\n")
                result.rejected.append((path.name, f"{resp.status_code} {resp.text[:200]}"))
            else:
                result.error = f"{url}: HTTP {resp.status_code}"
                result.pending = [p.name for p in files[i:]]
                return result
    return result
