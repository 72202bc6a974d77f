"""Patch state on Debian-family Linux: automatic updates, last upgrade, pending (security)
updates, reboot required. Other families report ``unsupported`` rather than a guess."""

from __future__ import annotations

import glob
import os
import re
from datetime import UTC, datetime
from typing import Any

from secscan.agent._exec import read_text, run, which
from secscan.agent.errors import ProbeUnsupported
from secscan.agent.runner import Facts

_APT_PERIODIC = re.compile(r'^\s*APT::Periodic::([A-Za-z-]+)\s+"?(\d+)"?\s*;', re.MULTILINE)
_DPKG_UPGRADE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:upgrade|install) ", re.MULTILINE)


def parse_apt_periodic(texts: list[str]) -> dict[str, int]:
    """Merge APT::Periodic settings; files are read in name order, later ones win (apt.conf(5))."""
    values: dict[str, int] = {}
    for text in texts:
        for key, value in _APT_PERIODIC.findall(text):
            values[key] = int(value)
    return values


def parse_dpkg_log(text: str) -> datetime | None:
    """Newest package upgrade/install time in a dpkg.log (local time, as dpkg writes it)."""
    stamps = _DPKG_UPGRADE.findall(text)
    if not stamps:
        return None
    return datetime.strptime(max(stamps), "%Y-%m-%d %H:%M:%S").astimezone(UTC)


def parse_apt_simulation(text: str) -> tuple[int, int]:
    """Count `Inst` lines of `apt-get -s upgrade`; security ones name a *-security suite."""
    inst = [line for line in text.splitlines() if line.startswith("Inst ")]
    security = [line for line in inst if re.search(r"[-/]security\b|Debian-Security", line)]
    return len(inst), len(security)


def collect(now: datetime | None = None) -> Facts:
    if not which("apt-get") or not os.path.isdir("/etc/apt"):
        raise ProbeUnsupported("not a Debian-family system (no apt): patch facts not collected")
    now = now or datetime.now(UTC)
    confs = sorted(glob.glob("/etc/apt/apt.conf.d/*"))
    texts = []
    for path in confs:
        try:
            texts.append(read_text(path))
        except Exception:  # an unreadable fragment does not hide the others
            continue
    periodic = parse_apt_periodic(texts)
    facts: dict[str, Any] = {
        "auto_updates": periodic.get("Unattended-Upgrade", 0) >= 1 and periodic.get("Update-Package-Lists", 0) >= 1,
    }
    last = None
    for path in ("/var/log/dpkg.log", "/var/log/dpkg.log.1"):
        try:
            stamp = parse_dpkg_log(read_text(path, limit=64 * 1024 * 1024))
        except Exception:
            continue
        if stamp and (last is None or stamp > last):
            last = stamp
    if last:
        facts["last_patch_at"] = last.isoformat()
        facts["days_since_last_patch"] = round(max((now - last).total_seconds(), 0) / 86400, 2)
    if os.path.exists("/var/run/reboot-required"):
        facts["reboot_required"] = True
    elif os.path.isdir("/usr/share/update-notifier") or which("needrestart"):
        # Only where something maintains the flag does its absence mean "no reboot needed".
        facts["reboot_required"] = False
    return {"hardening.patches": facts}


def apt_cache_disabled(apt_config_dump: str) -> bool:
    """Docker-style images set Dir::Cache::pkgcache "" so apt rebuilds its cache on every run."""
    return re.search(r'^Dir::Cache::pkgcache "";', apt_config_dump, re.MULTILINE) is not None


def collect_pending(timeout: float = 1.2) -> Facts:
    """Pending updates from an apt simulation: cheap with apt's binary cache, seconds without."""
    if not which("apt-get"):
        raise ProbeUnsupported("not a Debian-family system (no apt)")
    dump = run(["apt-config", "dump"], timeout=2)
    if apt_cache_disabled(dump.stdout):
        raise ProbeUnsupported('apt binary cache disabled (Dir::Cache::pkgcache ""): a simulation would '
                               "rebuild it from the package lists (seconds); pending updates not counted")
    out = run(["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"], timeout=timeout)
    if out.returncode != 0:
        raise ValueError(f"apt-get -s upgrade exited {out.returncode}: {out.stderr.strip()[:200]}")
    pending, security = parse_apt_simulation(out.stdout)
    return {"hardening.patches.pending_updates": pending, "hardening.patches.pending_security_updates": security}
