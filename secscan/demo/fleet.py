"""A synthetic fleet whose statistics match the 2023 district report the project starts from:
406 commune PCs of which about 75 % have antivirus and about 35 % run licensed software, district
departments close to fully equipped and better kept; a realistic mix of Windows 7/10/11,
Bkav/Kaspersky/Defender, KMS cracks, old signatures, SMBv1 and RDP.

Each PC is first drawn as a ``Pc`` (the generator's truth), then rendered as the HostReport a
Windows agent would send. ``Truth`` counts the headline numbers from the draws, so the demo and
its end-to-end test can check what the pipeline computed against what was generated.
Deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from secscan.demo import hahoa

COMMUNE_PCS = 406
DESK_PCS = 2  # front-desk PCs in each commune's one-stop-shop

# OUIs of the PC makers common in Vietnamese offices (IEEE registry).
OUIS = {"Dell": "f8:bc:12", "HP": "3c:52:82", "Lenovo": "54:ee:75", "Asus": "04:d4:c4"}


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


COMMUNE = Profile(av_on=0.75, sig_current=0.70, windows_genuine=0.35, office_installed=0.92, office_genuine=0.30,
                  firewall_on=0.80, smb1=0.30, rdp_open=0.20,
                  os_mix=(("win7", 0.18), ("win10", 0.62), ("win11", 0.20)))
DEPARTMENT = Profile(av_on=0.97, sig_current=0.90, windows_genuine=0.85, office_installed=0.97, office_genuine=0.75,
                     firewall_on=0.95, smb1=0.08, rdp_open=0.08,
                     os_mix=(("win7", 0.03), ("win10", 0.57), ("win11", 0.40)))

OS = {
    "win7": {"name": "Windows 7 Professional", "version": "6.1.7601", "build": 7601, "ubr": 24546,
             "display_version": None, "eos": "2020-01-14"},
    "win10": {"name": "Windows 10 Pro", "version": "10.0.19045", "build": 19045, "ubr": 5737,
              "display_version": "22H2", "eos": "2025-10-14"},
    "win11": {"name": "Windows 11 Pro", "version": "10.0.26200", "build": 26200, "ubr": 7171,
              "display_version": "25H2", "eos": "2027-10-12"},
}
WINDOWS_APP = "55c92734-d682-4d71-983e-d6ec3f16059f"
OFFICE_APP = "0ff1ce15-a989-479d-af46-f275c6370663"
PUBLIC_KMS = ["kms.03k.org", "kms8.msguides.com", "42.193.139.78", "kms.digiboy.ir"]


@dataclass
class Pc:
    unit: str
    hostname: str
    os: str
    mac: str
    ip: str
    av: str | None  # "Bkav Pro", "Kaspersky Endpoint Security", "Windows Defender", or None
    sig_age_days: float
    windows: str  # oem, retail, mak, kms_public, kms38, kmspico, unlicensed
    office: str | None  # c2r_retail, vl_public_kms, vl_kmspico, or None
    firewall: bool
    smb1: bool
    rdp: bool
    patch_age_days: float
    machine_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def has_av(self) -> bool:
        return self.av is not None

    @property
    def av_current(self) -> bool:
        return self.av is not None and self.sig_age_days <= 3

    @property
    def windows_licensed(self) -> bool:
        return self.windows in ("oem", "retail", "mak")

    @property
    def office_licensed(self) -> bool | None:
        return None if self.office is None else self.office == "c2r_retail"

    @property
    def activator(self) -> bool:
        return self.windows in ("kms_public", "kms38", "kmspico") or self.office in ("vl_public_kms", "vl_kmspico")

    @property
    def os_supported(self) -> bool:
        return date.fromisoformat(OS[self.os]["eos"]) >= date(2026, 11, 26)

    @property
    def auto_updates(self) -> bool:
        # Not drawn on its own: patch ages are drawn 3-40 days (updates run by themselves) or 60+ days.
        return self.patch_age_days <= 40

    @property
    def listeners(self) -> list[tuple[str, int, str, int, str]]:
        """(proto, port, address, pid, process) of the usual Windows listeners; RDP when it is on.
        No insecure service (Telnet, FTP, ...) is drawn."""
        rows = [("tcp", 135, "0.0.0.0", 1044, "svchost.exe"), ("tcp", 139, self.ip, 4, "System"),
                ("tcp", 445, "0.0.0.0", 4, "System"), ("udp", 137, self.ip, 4, "System"),
                ("udp", 1900, "127.0.0.1", 1388, "svchost.exe")]
        if self.rdp:
            rows.append(("tcp", 3389, "0.0.0.0", 1160, "svchost.exe"))
        return rows


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def _draw_pc(rng: random.Random, unit: str, prefix: str, n: int, net: int, p: Profile) -> Pc:
    os_key = _pick(rng, p.os_mix)
    if rng.random() < p.av_on:
        av = rng.choices(["Bkav Pro", "Kaspersky Endpoint Security for Windows", "Windows Defender"],
                         weights=[0.45, 0.20, 0.35])[0]
        if os_key == "win7" and av == "Windows Defender":
            av = "Bkav Pro"  # Windows 7's Defender is anti-spyware only
    else:
        av = None
    sig_age = round(rng.uniform(0.1, 2.5), 2) if rng.random() < p.sig_current else round(rng.uniform(20, 400), 1)
    if rng.random() < p.windows_genuine:
        windows = rng.choices(["oem", "retail", "mak"], weights=[0.7, 0.2, 0.1])[0]
    else:
        windows = rng.choices(["kms_public", "kms38", "kmspico", "unlicensed"], weights=[0.4, 0.2, 0.3, 0.1])[0]
    office = None
    if rng.random() < p.office_installed:
        office = "c2r_retail" if rng.random() < p.office_genuine else rng.choice(["vl_public_kms", "vl_kmspico"])
    vendor = rng.choice(list(OUIS))
    mac = OUIS[vendor] + ":" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
    patch = rng.uniform(3, 40) if os_key != "win7" and rng.random() < 0.6 else rng.uniform(60, 1500)
    return Pc(unit=unit, hostname=f"{prefix}-PC{n:02d}", os=os_key, mac=mac, ip=f"10.231.{net}.{20 + n}", av=av,
              sig_age_days=sig_age, windows=windows, office=office, firewall=rng.random() < p.firewall_on,
              smb1=rng.random() < p.smb1, rdp=rng.random() < p.rdp_open, patch_age_days=round(patch, 1),
              machine_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)))


def _spread(rng: random.Random, total: int, parts: int) -> list[int]:
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    counts = [max(8, int(total * w / sum(weights))) for w in weights]
    counts[-1] += total - sum(counts)
    return counts


def draw(seed: int) -> list[Pc]:
    rng = random.Random(seed)
    pcs: list[Pc] = []
    office_counts = _spread(rng, COMMUNE_PCS - DESK_PCS * len(hahoa.COMMUNES), len(hahoa.COMMUNES))
    for i, ((uid, _, _), count) in enumerate(zip(hahoa.COMMUNES, office_counts, strict=True)):
        prefix = uid.split("-", 1)[1].replace("-", "").upper()[:10]
        pcs += [_draw_pc(rng, uid, prefix, n + 1, 100 + i, COMMUNE) for n in range(count)]
        pcs += [_draw_pc(rng, f"{uid}-{hahoa.DESK}", prefix + "-1C", n + 1, 200 + i, COMMUNE)
                for n in range(DESK_PCS)]
    for i, (uid, _, count) in enumerate(hahoa.DEPARTMENTS):
        prefix = uid.replace("phong-", "").replace("-", "").upper()[:10]
        pcs += [_draw_pc(rng, uid, prefix, n + 1, 10 + i, DEPARTMENT) for n in range(count)]
    pcs += [_draw_pc(rng, f"{hahoa.ROOT}-{hahoa.DESK}", "HUYEN-1C", n + 1, 9, DEPARTMENT) for n in range(3)]
    return pcs


# --- rendering as the HostReport a Windows agent sends ----------------------------------------------


def _av_products(pc: Pc, now: datetime) -> list[dict[str, Any]]:
    products: list[dict[str, Any]] = []
    updated = (now - timedelta(days=pc.sig_age_days)).isoformat()
    third_party = pc.av not in (None, "Windows Defender")
    if pc.os != "win7":
        defender_on = pc.av == "Windows Defender"
        state = (0x061100 if defender_on else 0x060100) | (0 if pc.av_current or not defender_on else 0x10)
        products.append({
            "name": "Windows Defender", "vendor": "Microsoft", "source": "securitycenter2",
            "state": "on" if defender_on else "off", "enabled": defender_on, "real_time": defender_on,
            "up_to_date": (state & 0xF0) == 0, "microsoft": True, "product_state": state,
            "signature_age_days": pc.sig_age_days if defender_on else None,
            "signature_updated_at": updated if defender_on else None,
        })
    if third_party:
        current = pc.av_current
        products.append({
            "name": pc.av, "vendor": "Bkav" if pc.av.startswith("Bkav") else "Kaspersky", "source": "securitycenter2",
            "state": "on", "enabled": True, "real_time": True, "up_to_date": current, "microsoft": False,
            "product_state": 0x061000 | (0 if current else 0x10), "signature_age_days": pc.sig_age_days,
            "signature_updated_at": updated,
        })
    return products


def _windows_licence(pc: Pc, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    base = {"product": "Windows(R), Professional edition", "application_id": WINDOWS_APP,
            "partial_key": "".join(rng.choice("BCDFGHJKMPQRTVWXY2346789") for _ in range(5))}
    evidence: list[dict[str, Any]] = []
    if pc.windows in ("oem", "retail", "mak"):
        channel = {"oem": "OEM:DM", "retail": "Retail", "mak": "Volume:MAK"}[pc.windows]
        lic = {**base, "channel": channel, "license_status": 1, "license_status_text": "Licensed",
               "grace_minutes": 0, "classification": "genuine", "confidence": "medium",
               "evidence": [f"{channel} channel, licensed; no activator artefacts found"]}
    elif pc.windows == "unlicensed":
        lic = {**base, "channel": "Retail", "license_status": 5, "license_status_text": "Notification",
               "grace_minutes": 0, "classification": "unlicensed", "confidence": "high",
               "evidence": ["LicenseStatus 5 (Notification)"]}
    else:
        host = {"kms_public": rng.choice(PUBLIC_KMS), "kms38": "127.0.0.2", "kmspico": "127.0.0.1"}[pc.windows]
        grace = 7340421 if pc.windows == "kms38" else 259000
        lic = {**base, "channel": "Volume:GVLK", "license_status": 1, "license_status_text": "Licensed",
               "grace_minutes": grace, "kms_host": host, "kms_port": 1688, "classification": "suspicious",
               "confidence": "high", "evidence": [f"KMS client activated by {host}"]}
        evidence.append({"kind": "kms_host", "detail": f"KeyManagementServiceMachine = {host}",
                         "tool": {"kms38": "MAS KMS38", "kmspico": "KMSpico"}.get(pc.windows), "confidence": "high"})
        if pc.windows == "kmspico":
            evidence.append({"kind": "file", "detail": r"C:\Program Files\KMSpico\AutoPico.exe", "tool": "KMSpico",
                             "confidence": "high"})
    return lic, evidence


def _office_licence(pc: Pc) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if pc.office is None:
        return [], []
    if pc.office == "c2r_retail":
        return [{"product": "Office 16, Office16HomeBusiness2019R_Retail edition", "application_id": OFFICE_APP,
                 "channel": "Retail", "license_status": 1, "license_status_text": "Licensed", "grace_minutes": 0,
                 "classification": "genuine", "confidence": "medium",
                 "evidence": ["Retail channel, licensed; no activator artefacts found"]}], []
    host = "kms.03k.org" if pc.office == "vl_public_kms" else "127.0.0.1"
    lic = {"product": "Office 16, Office16ProPlusVL_KMS_Client edition", "application_id": OFFICE_APP,
           "channel": "Volume:GVLK", "license_status": 1, "license_status_text": "Licensed", "grace_minutes": 258642,
           "kms_host": host, "kms_port": 1688, "classification": "suspicious", "confidence": "high",
           "evidence": [f"KMS client activated by {host}"]}
    return [lic], [{"kind": "kms_host", "detail": f"Office KMS host {host}", "tool": None, "confidence": "high"}]


def host_report(pc: Pc, now: datetime, seed: int) -> dict[str, Any]:
    """The HostReport document (to be signed) for one drawn PC."""
    rng = random.Random(f"{seed}-{pc.hostname}")
    os_row = OS[pc.os]
    eos = date.fromisoformat(os_row["eos"])
    win_lic, win_ev = _windows_licence(pc, rng)
    office, office_ev = _office_licence(pc)
    last_patch = now - timedelta(days=pc.patch_age_days)
    return {
        "schema": "secscan.host-report/1",
        "report_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "collected_at": now.isoformat(),
        "agent": {"version": "0.1.0", "platform": "windows", "source": "synthetic", "elevated": True,
                  "duration_ms": round(rng.uniform(2500, 9000), 1)},
        "unit": pc.unit,
        "host": {
            "hostname": pc.hostname, "workgroup": "WORKGROUP", "machine_id": pc.machine_id, "role": "workstation",
            "os": {"family": "windows", "name": os_row["name"], "version": os_row["version"],
                   "build": os_row["build"], "ubr": os_row["ubr"], "display_version": os_row["display_version"],
                   "edition": "Professional", "installation_type": "client", "arch": "x64"},
            "interfaces": [{"name": "Ethernet", "mac": pc.mac, "ipv4": [pc.ip], "up": True}],
        },
        "antivirus": {"products": _av_products(pc, now)},
        "licences": {"os": win_lic, "office": office, "activators": win_ev + office_ev},
        "hardening": {
            "firewall": {"enabled": pc.firewall, "backend": "windows",
                         "profiles": [{"name": n, "enabled": pc.firewall} for n in ("Domain", "Private", "Public")]},
            "patches": {"last_patch_at": last_patch.isoformat(), "days_since_last_patch": pc.patch_age_days,
                        "auto_updates": pc.auto_updates},
            "listening_ports": [{"port": port, "proto": proto, "address": address, "process": process}
                                for proto, port, address, _, process in pc.listeners],
            "os_end_of_life": {"end_of_support": eos.isoformat(), "supported": pc.os_supported,
                               "days_left": (eos - now.date()).days, "basis": f"{os_row['name']} (demo table)"},
            "smb": {"smb1_server": pc.smb1, "smb1_client": pc.smb1},
            "rdp": {"enabled": pc.rdp, "nla_required": not pc.rdp or rng.random() < 0.5, "port": 3389},
            "autorun": {"disabled_all_drives": rng.random() < 0.4, "no_drive_type_autorun": 145},
            "local_admins": {"members": [{"name": f"{pc.hostname}\\Administrator", "kind": "user",
                                          "source": "local", "builtin_admin": True}], "count": 1 + rng.randrange(3),
                             "builtin_admin_enabled": rng.random() < 0.5},
            "password_policy": {"min_length": rng.choice([0, 0, 6, 8]), "max_age_days": rng.choice([0, 42]),
                                "complexity": rng.random() < 0.3, "source": "secedit"},
            "lockout": {"threshold": rng.choice([0, 0, 5]), "source": "secedit"},
            "disk_encryption": {"system_volume_encrypted": False,
                                "volumes": [{"mount": "C:", "encrypted": False, "system": True}]},
            "screen_lock": {"enabled": rng.random() < 0.4, "timeout_seconds": rng.choice([300, 600, 900])},
            "remote_access": {"tools": [{"name": "UltraViewer", "installed": True, "running": True,
                                         "source": "uninstall"}] if rng.random() < 0.35 else []},
        },
        "probes": [{"name": "windows-capture", "status": "ok", "duration_ms": 3000.0,
                    "sections": ["host", "antivirus", "licences", "hardening"]}],
    }


@dataclass
class Truth:
    """The headline numbers as drawn, for the commune PCs and for everything."""

    pcs: int
    commune_pcs: int
    antivirus: int
    av_current: int
    windows_licensed: int
    office_installed: int
    office_licensed: int
    activators: int
    os_unsupported: int
    commune_antivirus: int
    commune_windows_licensed: int

    @classmethod
    def of(cls, pcs: list[Pc]) -> Truth:
        communes = {c[0] for c in hahoa.COMMUNES}
        commune = [p for p in pcs if p.unit.removesuffix(f"-{hahoa.DESK}") in communes]
        return cls(
            pcs=len(pcs), commune_pcs=len(commune),
            antivirus=sum(p.has_av for p in pcs), av_current=sum(p.av_current for p in pcs),
            windows_licensed=sum(p.windows_licensed for p in pcs),
            office_installed=sum(p.office is not None for p in pcs),
            office_licensed=sum(bool(p.office_licensed) for p in pcs),
            activators=sum(p.activator for p in pcs), os_unsupported=sum(not p.os_supported for p in pcs),
            commune_antivirus=sum(p.has_av for p in commune),
            commune_windows_licensed=sum(p.windows_licensed for p in commune),
        )


def now_for_period() -> datetime:
    return datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
