"""Quick PCs and documents for tests and benchmarks: ``fleet(n, units, seed)`` gives ``n``
distinct commune PCs (the same seed, the same fleet), ``host_report(rng, pc)`` the next report
from one of them (its settings drawn afresh, its identity kept), signed when given a token;
``good_pc`` a PC with every setting good; ``scan_report`` a LAN scan; ``forget`` a report whose
probes lost some facts."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from secscan.model.scan import SCAN_REPORT_SCHEMA
from secscan.model.signing import sign
from secscan.synth.draw import COMMUNE, Profile, Where, draw_pc
from secscan.synth.pc import Local, Pc
from secscan.synth.report import render_report

WEEK_START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # reports are collected over the five days after


def _where(i: int, unit: str | None) -> Where:
    return Where(unit=unit, hostname=f"{(unit or 'pc').upper()}-PC{i:05d}"[:63],
                 ip=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{(i & 255) or 1}")


def fleet(n: int, units: list[str] | None = None, seed: int = 1, profile: Profile = COMMUNE) -> list[Pc]:
    """``n`` PCs spread over ``units`` in turn (no unit when None), each on its own address."""
    rng = random.Random(seed)
    return [draw_pc(rng, _where(i, units[i % len(units)] if units else None), profile, seed) for i in range(n)]


def redraw(rng: random.Random, pc: Pc, profile: Profile = COMMUNE) -> Pc:
    """The same PC (name, address, MAC, machine id) with its facts drawn again."""
    fresh = draw_pc(rng, Where(pc.unit, pc.hostname, pc.ip), profile, rng.getrandbits(32))
    return replace(fresh, mac=pc.mac, machine_id=pc.machine_id)


def host_report(rng: random.Random, pc: Pc | None = None, *, unit: str | None = None,
                collected_at: datetime | None = None, token: str | None = None) -> dict[str, Any]:
    """A HostReport document from ``pc`` (a fresh random PC when omitted) with facts drawn afresh,
    reporting ``unit`` when given, signed with ``token`` when given."""
    if pc is None:
        pc = fleet(1, [unit] if unit else None, seed=rng.getrandbits(32))[0]
    pc = redraw(rng, pc)
    when = collected_at or WEEK_START + timedelta(minutes=rng.randrange(60 * 24 * 5))
    doc = render_report(pc, when, rng)
    if unit is not None:
        doc["unit"] = unit
    return sign(doc, token) if token else doc


def good_pc(unit: str | None, hostname: str, ip: str, mac: str = "f8:bc:12:3c:4d:5e",
            machine_id: str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301") -> Pc:
    """A PC with every setting good, that passes every control of the shipped baselines: Windows 11
    with an OEM licence and retail Office, Defender on, current and centrally managed, BitLocker
    on, patched 12 days ago, no SMB1, RDP off, the default local settings (``Local``)."""
    return Pc(unit=unit, hostname=hostname, os="win11", mac=mac, ip=ip, av="Windows Defender", sig_age_days=0.4,
              windows="oem", office="c2r_retail", firewall=True, smb1=False, rdp=False, patch_age_days=12.5,
              machine_id=machine_id, local=Local(disk_encrypted=True, av_managed=True))


def scan_report(rng: random.Random, unit: str | None = None, hosts: int = 5) -> dict[str, Any]:
    """One ScanReport document for a /24 with ``hosts`` live hosts."""
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    return {
        "schema": SCAN_REPORT_SCHEMA,
        "scan_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "unit": unit, "targets": ["192.168.1.0/24"], "profile": "default",
        "nmap": {"version": "7.93", "args": "nmap -sS -O 192.168.1.0/24", "privileged": True},
        "started_at": start.isoformat(), "finished_at": (start + timedelta(minutes=4)).isoformat(),
        "hosts": [{"ip": f"192.168.1.{10 + i}", "hostnames": [], "status_reason": "arp-response",
                   "ports": [{"port": 445, "proto": "tcp", "state": "open", "service": "microsoft-ds"}]}
                  for i in range(hosts)],
    }


def forget(doc: dict[str, Any], rng: random.Random, rate: float) -> dict[str, Any]:
    """``doc`` with each hardening section, the anti-virus products and the Windows licence lost at
    ``rate`` (a probe that failed: the fact is unknown, never guessed)."""
    for name in list(doc["hardening"]):
        if rng.random() < rate:
            doc["hardening"][name] = None
    if rng.random() < rate:
        doc["antivirus"]["products"] = None
    if rng.random() < rate:
        doc["licences"]["os"] = None
    return doc
