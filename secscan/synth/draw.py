"""Drawing PCs from a seeded random generator at explicit rates.

A ``Profile`` holds the rates of one kind of unit. ``draw_pc`` draws the facts the headline
numbers count from the caller's generator (so a fleet drawn PC by PC from one seed is the same
fleet every time) and the PC's local settings from a generator of its own, seeded by the fleet's
seed and the hostname, so that adding a setting never moves the headline draws."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from secscan.synth.pc import ANTIVIRUS, BUILTIN_ADMIN, MAKERS, OFFICER, PUBLIC_KMS, Local, Pc

KEY_CHARS = "BCDFGHJKMPQRTVWXY2346789"  # the characters of a Windows product key


@dataclass(frozen=True)
class Profile:
    """Probabilities for one kind of unit."""

    av_on: float  # an antivirus product enabled
    sig_current: float  # of those, signatures current
    windows_genuine: float
    office_installed: float
    office_genuine: float  # of installed
    firewall_on: float
    smb1: float
    rdp_open: float
    os_mix: tuple[tuple[str, float], ...]
    # the anti-virus products, the genuine and the cracked Windows licences, by weight
    av_mix: tuple[tuple[str, float], ...] = tuple(zip(ANTIVIRUS, (0.45, 0.20, 0.35), strict=True))
    genuine_mix: tuple[tuple[str, float], ...] = (("oem", 0.7), ("retail", 0.2), ("mak", 0.1))
    cracked_mix: tuple[tuple[str, float], ...] = (("kms_public", 0.4), ("kms38", 0.2), ("kmspico", 0.3),
                                                  ("unlicensed", 0.1))
    patched_recently: float = 0.6  # Windows 10/11 whose updates run by themselves (3-40 days old)


# The 2023 district report: about 75 % of commune PCs with anti-virus, about 35 % licensed.
COMMUNE = Profile(av_on=0.75, sig_current=0.70, windows_genuine=0.35, office_installed=0.92, office_genuine=0.30,
                  firewall_on=0.80, smb1=0.30, rdp_open=0.20,
                  os_mix=(("win7", 0.18), ("win10", 0.62), ("win11", 0.20)))
# District departments: close to fully equipped and better kept.
DEPARTMENT = Profile(av_on=0.97, sig_current=0.90, windows_genuine=0.85, office_installed=0.97, office_genuine=0.75,
                     firewall_on=0.95, smb1=0.08, rdp_open=0.08,
                     os_mix=(("win7", 0.03), ("win10", 0.57), ("win11", 0.40)))


@dataclass(frozen=True)
class Where:
    """Where a PC sits: its unit, hostname and address."""

    unit: str | None
    hostname: str
    ip: str


def pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def draw_pc(rng: random.Random, where: Where, p: Profile, seed: int | str) -> Pc:
    """One PC of a unit of profile ``p``; ``seed`` seeds its local settings (with the hostname)."""
    os_key = pick(rng, p.os_mix)
    av = None
    if rng.random() < p.av_on:
        av = pick(rng, p.av_mix)
        if os_key == "win7" and av == "Windows Defender":
            av = "Bkav Pro"  # Windows 7's Defender is anti-spyware only
    sig_age = round(rng.uniform(0.1, 2.5), 2) if rng.random() < p.sig_current else round(rng.uniform(20, 400), 1)
    windows = pick(rng, p.genuine_mix if rng.random() < p.windows_genuine else p.cracked_mix)
    office = None
    if rng.random() < p.office_installed:
        office = "c2r_retail" if rng.random() < p.office_genuine else rng.choice(["vl_public_kms", "vl_kmspico"])
    mac = rng.choice(list(MAKERS)) + ":" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
    recent = os_key != "win7" and rng.random() < p.patched_recently
    patch = rng.uniform(3, 40) if recent else rng.uniform(60, 1500)
    return Pc(unit=where.unit, hostname=where.hostname, os=os_key, mac=mac, ip=where.ip, av=av,
              sig_age_days=sig_age, windows=windows, office=office, firewall=rng.random() < p.firewall_on,
              smb1=rng.random() < p.smb1, rdp=rng.random() < p.rdp_open, patch_age_days=round(patch, 1),
              machine_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
              local=draw_local(random.Random(f"{seed}-{where.hostname}")))


def draw_local(rng: random.Random) -> Local:
    """Local settings as commune PCs are found: weak password policies, screen locks often off."""
    extra = rng.randrange(3)
    return Local(
        partial_key="".join(rng.choice(KEY_CHARS) for _ in range(5)),
        public_kms=rng.choice(PUBLIC_KMS),
        rdp_nla=rng.random() < 0.5,
        autorun_off=rng.random() < 0.4,
        admins=(BUILTIN_ADMIN, OFFICER, *(f"canbo{i + 1}" for i in range(extra))),
        builtin_admin_enabled=rng.random() < 0.5,
        password_min_length=rng.choice([0, 0, 6, 8]),
        password_max_age=rng.choice([0, 42]),
        password_complexity=rng.random() < 0.3,
        lockout_threshold=rng.choice([0, 0, 5]),
        screen_lock_seconds=rng.choice([300, 600, 900]) if rng.random() < 0.4 else None,
        remote_tool=rng.random() < 0.35,
    )


def spread(rng: random.Random, total: int, parts: int, least: int = 8) -> list[int]:
    """``total`` PCs over ``parts`` units, each between about 0.6 and 1.4 of the mean, at least ``least``."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    counts = [max(least, int(total * w / sum(weights))) for w in weights]
    counts[-1] += total - sum(counts)
    return counts
