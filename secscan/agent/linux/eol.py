"""Is this Linux release still supported? A lookup in data/linux_eol.toml; an unknown release
stays unknown."""

from __future__ import annotations

from datetime import date
from typing import Any

from secscan.agent._exec import read_text
from secscan.agent.data import load
from secscan.agent.errors import ProbeUnsupported
from secscan.agent.linux.identity import parse_os_release
from secscan.agent.runner import Facts


def lookup(distro: str, version: str, today: date, table: dict[str, Any] | None = None) -> dict[str, Any]:
    table = load("linux_eol") if table is None else table
    row = table.get(distro, {}).get(version)
    if row is None:
        raise ProbeUnsupported(f"{distro} {version} is not in the end-of-life table")
    end = date.fromisoformat(row["end"])
    basis = f"linux_eol.toml {distro} {version}" + ("" if row.get("verified") else " (unverified date)")
    return {"end_of_support": end.isoformat(), "supported": today <= end, "days_left": (end - today).days,
            "basis": basis}


def collect() -> Facts:
    osr = parse_os_release(read_text("/etc/os-release"))
    return {"hardening.os_end_of_life": lookup(osr.get("ID", ""), osr.get("VERSION_ID", ""), date.today())}
