"""Anti-malware on Linux: ClamAV in depth, other products by process name.

ClamAV's signature age comes from the header of its databases (daily.cvd/.cld): the first 512
bytes, colon-separated, the 9th field being the build time in epoch seconds
(facts/windows-probes.md §7). The newest of daily/main/bytecode is the database's age.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from secscan.agent._exec import which
from secscan.agent.data import load
from secscan.agent.linux.processes import running_names
from secscan.agent.runner import Facts

DB_DIRS = ("/var/lib/clamav", "/var/clamav", "/usr/local/share/clamav")
DB_FILES = ("daily.cld", "daily.cvd", "main.cld", "main.cvd", "bytecode.cld", "bytecode.cvd")
HEADER_LEN = 512


class HeaderError(ValueError):
    pass


def parse_cvd_header(data: bytes) -> dict[str, Any]:
    """Decode a CVD/CLD header into version, signature count and build time (UTC)."""
    if len(data) < 40:
        raise HeaderError(f"header too short ({len(data)} bytes)")
    head = data[:HEADER_LEN]
    if not head.startswith(b"ClamAV-VDB:"):
        raise HeaderError("not a ClamAV database (no ClamAV-VDB: magic)")
    try:
        text = head.decode("ascii").rstrip(" \x00\n")
    except UnicodeDecodeError as exc:
        raise HeaderError("header is not ASCII") from exc
    fields = text.split(":")
    if len(fields) < 9:
        raise HeaderError(f"header has {len(fields)} fields, expected at least 9")
    try:
        version, sigs, epoch = int(fields[2]), int(fields[3]), int(fields[8])
    except ValueError as exc:
        raise HeaderError(f"header field is not a number: {exc}") from exc
    if not 946684800 <= epoch <= 4102444800:  # 2000-01-01 .. 2100-01-01: anything else is garbage
        raise HeaderError(f"build time {epoch} out of range")
    return {"version": version, "signatures": sigs, "built_at": datetime.fromtimestamp(epoch, UTC)}


def _read_header(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(HEADER_LEN)


def clamav_product(now: datetime, db_dirs: tuple[str, ...] = DB_DIRS, running: set[str] | None = None) -> dict | None:
    running = running_names() if running is None else running
    headers: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for directory in db_dirs:
        for name in DB_FILES:
            path = os.path.join(directory, name)
            if os.path.exists(path):
                try:
                    headers[name] = parse_cvd_header(_read_header(path))
                except (OSError, HeaderError) as exc:
                    errors.append(f"{path}: {exc}")
        if headers or errors:
            break
    installed = bool(headers) or bool(errors) or which("clamscan") or which("clamd") or "clamd" in running
    if not installed:
        return None
    product: dict[str, Any] = {
        "name": "ClamAV",
        "vendor": "Cisco Talos",
        "source": "clamav",
        # clamd is the scanning daemon, clamonacc its on-access client: real-time needs both.
        "enabled": "clamd" in running,
        "real_time": "clamd" in running and "clamonacc" in running,
        "raw": {"freshclam_running": "freshclam" in running, "databases": sorted(headers), "errors": errors},
    }
    if headers:
        newest = max(h["built_at"] for h in headers.values())
        product["signature_updated_at"] = newest.isoformat()
        product["signature_age_days"] = round(max((now - newest).total_seconds(), 0) / 86400, 2)
        daily = headers.get("daily.cld") or headers.get("daily.cvd")
        if daily:
            product["signature_version"] = str(daily["version"])
    if errors and not headers:
        product["raw"]["note"] = "database present but unreadable: signature age unknown"
    return product


def other_products(running: set[str]) -> list[dict[str, Any]]:
    found = []
    for row in load("linux_av")["product"]:
        seen = sorted(set(row["processes"]) & running)
        if seen:
            found.append({"name": row["name"], "vendor": row["vendor"], "source": "process", "enabled": True,
                          "raw": {"processes": seen}})
    return found


def collect() -> Facts:
    running = running_names()
    products = other_products(running)
    clam = clamav_product(datetime.now(UTC), running=running)
    if clam:
        products.insert(0, clam)
    return {"antivirus.products": products}
