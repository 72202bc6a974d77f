"""Who this machine is: hostname, OS (/etc/os-release), kernel, machine-id, hardware, interfaces."""

from __future__ import annotations

import platform
import socket
from datetime import UTC, datetime
from typing import Any

import psutil

from secscan.agent._exec import read_text
from secscan.agent.errors import ProbeUnsupported
from secscan.agent.runner import Facts

# SMBIOS chassis types that mean a portable machine (DMTF DSP0134 7.4.1).
_PORTABLE_CHASSIS = {8, 9, 10, 14, 30, 31, 32}


def parse_os_release(text: str) -> dict[str, str]:
    """Parse os-release(5): KEY=value lines, values optionally quoted with shell escapes."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if not key.isidentifier():
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\").replace("\\$", "$").replace("\\`", "`")
        values[key] = value
    return values


def _interfaces() -> list[dict[str, Any]]:
    stats = psutil.net_if_stats()
    result = []
    for name, addrs in psutil.net_if_addrs().items():
        if name == "lo":
            continue
        up = stats[name].isup if name in stats else None
        entry: dict[str, Any] = {"name": name, "ipv4": [], "ipv6": [], "up": up}
        for addr in addrs:
            if addr.family == psutil.AF_LINK and addr.address and addr.address != "00:00:00:00:00:00":
                entry["mac"] = addr.address.lower()
            elif addr.family == socket.AF_INET:
                entry["ipv4"].append(addr.address)
            elif addr.family == socket.AF_INET6:
                entry["ipv6"].append(addr.address.split("%")[0])
        result.append(entry)
    return result


def _optional(path: str) -> str | None:
    try:
        return read_text(path, limit=4096).strip() or None
    except Exception:
        return None


def _hardware() -> dict[str, Any]:
    chassis = _optional("/sys/class/dmi/id/chassis_type")
    cpu = None
    try:
        for line in read_text("/proc/cpuinfo").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except Exception:
        cpu = None
    return {
        "manufacturer": _optional("/sys/class/dmi/id/sys_vendor"),
        "model": _optional("/sys/class/dmi/id/product_name"),
        "cpu": cpu,
        "cpu_count": psutil.cpu_count(),
        "memory_mb": psutil.virtual_memory().total // (1024 * 1024),
        "is_laptop": int(chassis) in _PORTABLE_CHASSIS if chassis and chassis.isdigit() else None,
    }


def os_facts(os_release: dict[str, str]) -> dict[str, Any]:
    return {
        "family": "linux",
        "name": os_release.get("PRETTY_NAME") or os_release.get("NAME"),
        "product_name_raw": os_release.get("NAME"),
        "version": os_release.get("VERSION_ID"),
        "edition": os_release.get("ID"),
        "kernel": platform.release(),
        "arch": platform.machine(),
    }


def fallback_host() -> dict[str, Any]:
    return {"hostname": socket.gethostname() or "unknown", "os": {"family": "linux"}}


def collect() -> Facts:
    try:
        os_release = parse_os_release(read_text("/etc/os-release"))
    except ProbeUnsupported:
        os_release = parse_os_release(read_text("/usr/lib/os-release"))
    users = sorted({u.name for u in psutil.users()})
    return {
        "host": {
            "hostname": socket.gethostname(),
            "machine_id": _optional("/etc/machine-id"),
            "os": os_facts(os_release),
            "hardware": _hardware(),
            "interfaces": _interfaces(),
            "boot_time": datetime.fromtimestamp(psutil.boot_time(), UTC).isoformat(),
            "logged_in_users": users,
        }
    }
