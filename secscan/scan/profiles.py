"""Scan profiles (``ports.toml``) and the nmap arguments they become.

``nmap_args`` is pure: the same profile and privilege give the same arguments, which the
ScanReport records and ``bench/scan.py`` replays through plain nmap.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PORTS_FILE = Path(__file__).with_name("ports.toml")
PROFILES = ("quick", "standard", "full")  # each includes the ports of the ones before it


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    timing: int
    discovery: tuple[int, ...]
    version: bool
    os: bool
    tcp: tuple[int, ...]
    udp: tuple[int, ...]


@cache
def load_profiles(path: Path = PORTS_FILE) -> dict[str, Profile]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return parse_profiles(data, str(path))


def parse_profiles(data: dict[str, Any], source: str) -> dict[str, Profile]:
    ports = data.get("port")
    if not isinstance(ports, list) or not ports:
        raise ValueError(f"{source}: port: a list of [[port]] tables is required")
    wanted: dict[str, dict[str, set[int]]] = {name: {"tcp": set(), "udp": set()} for name in PROFILES}
    for i, entry in enumerate(ports):
        where = f"{source}: port[{i}]"
        number, proto, lowest = entry.get("port"), entry.get("proto"), entry.get("profile")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 65536:
            raise ValueError(f"{where}.port: a port number 1-65535 is required, got {number!r}")
        if proto not in ("tcp", "udp"):
            raise ValueError(f"{where}.proto: 'tcp' or 'udp', got {proto!r}")
        if lowest not in PROFILES:
            raise ValueError(f"{where}.profile: one of {', '.join(PROFILES)}, got {lowest!r}")
        for name in PROFILES[PROFILES.index(lowest) :]:
            wanted[name][proto].add(number)
    profiles: dict[str, Profile] = {}
    for name in PROFILES:
        raw = (data.get("profile") or {}).get(name)
        if not isinstance(raw, dict):
            raise ValueError(f"{source}: profile.{name}: missing")
        timing = raw.get("timing")
        if timing not in range(6):
            raise ValueError(f"{source}: profile.{name}.timing: 0-5 (nmap -T), got {timing!r}")
        discovery = raw.get("discovery", [])
        if not isinstance(discovery, list) or not all(isinstance(p, int) and 0 < p < 65536 for p in discovery):
            raise ValueError(f"{source}: profile.{name}.discovery: a list of TCP port numbers")
        profiles[name] = Profile(
            name=name,
            description=str(raw.get("description", "")),
            timing=timing,
            discovery=tuple(discovery),
            version=bool(raw.get("version")),
            os=bool(raw.get("os")),
            tcp=tuple(sorted(wanted[name]["tcp"])),
            udp=tuple(sorted(wanted[name]["udp"])),
        )
    return profiles


def nmap_args(profile: Profile, *, privileged: bool, dns: bool = True) -> tuple[list[str], list[str]]:
    """(nmap options without targets and output flags, what this scan cannot see and why)."""
    lost: list[str] = []
    udp = profile.udp if privileged else ()
    ports = "T:" + ",".join(map(str, profile.tcp)) + (",U:" + ",".join(map(str, udp)) if udp else "")
    args = ["-sS" if privileged else "-sT"]
    if udp:
        args.append("-sU")
    args += ["-p", ports, f"-T{profile.timing}"]
    # Windows Firewall drops ping: also knock on the ports Windows PCs and printers answer on.
    # ARP on the local segment needs no option: nmap uses it whenever it has raw sockets.
    discovery = ",".join(str(p) for p in profile.discovery)
    args += ["-PE", "-PP", f"-PS{discovery}", "-PA80"] if privileged else [f"-PS{discovery}"]
    if profile.version:
        args.append("-sV")
    if profile.os and privileged:
        args += ["-O", "--osscan-limit"]
    if not dns:
        args.append("-n")
    if not privileged:
        lost.append(
            "not run as root/Administrator: TCP connect scan (-sT) instead of SYN scan; no MAC addresses "
            "or vendors (unmanaged hosts are matched by IP and hostname only); hosts that drop ping and "
            "close every discovery port are missed"
        )
        if profile.udp:
            lost.append(f"UDP ports not scanned without raw sockets: {', '.join(map(str, profile.udp))}")
        if profile.os:
            lost.append("no OS guess (-O needs raw sockets)")
    return args, lost
