"""A ``Pc`` rendered as the HostReport document (``secscan.host-report/1``) that the Python agent
would send from it, to be signed by the caller."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from secscan.model.host import HOST_REPORT_SCHEMA
from secscan.synth.pc import BUILTIN_ADMIN, OFFICE_APP, OS, REMOTE_TOOL, WINDOWS_APP, Pc


def antivirus_products(pc: Pc, now: datetime) -> list[dict[str, Any]]:
    products: list[dict[str, Any]] = []
    updated = (now - timedelta(days=pc.sig_age_days)).isoformat()
    if pc.os != "win7":
        defender_on = pc.av == "Windows Defender"
        state = (0x061100 if defender_on else 0x060100) | (0 if pc.av_current or not defender_on else 0x10)
        products.append({
            "name": "Windows Defender", "vendor": "Microsoft", "source": "securitycenter2",
            "state": "on" if defender_on else "off", "enabled": defender_on, "real_time": defender_on,
            "up_to_date": (state & 0xF0) == 0, "microsoft": True,
            **({"centrally_managed": pc.av_managed} if defender_on and pc.av_managed is not None else {}),
            "product_state": state,
            "signature_age_days": pc.sig_age_days if defender_on else None,
            "signature_updated_at": updated if defender_on else None,
        })
    if pc.av is not None and pc.av != "Windows Defender":
        current = pc.av_current
        products.append({
            "name": pc.av, "vendor": "Bkav" if pc.av.startswith("Bkav") else "Kaspersky", "source": "securitycenter2",
            "state": "on", "enabled": True, "real_time": True, "up_to_date": current, "microsoft": False,
            **({"centrally_managed": pc.av_managed} if pc.av_managed is not None else {}),
            "product_state": 0x061000 | (0 if current else 0x10), "signature_age_days": pc.sig_age_days,
            "signature_updated_at": updated,
        })
    return products


def windows_licence(pc: Pc) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(licences.os, the activator evidence it leaves)."""
    base = {"product": "Windows(R), Professional edition", "application_id": WINDOWS_APP,
            "partial_key": pc.local.partial_key}
    if pc.windows_licensed:
        channel = {"oem": "OEM:DM", "retail": "Retail", "mak": "Volume:MAK"}[pc.windows]
        return {**base, "channel": channel, "license_status": 1, "license_status_text": "Licensed",
                "grace_minutes": 0, "classification": "genuine", "confidence": "medium",
                "evidence": [f"{channel} channel, licensed; no activator artefacts found"]}, []
    if pc.windows == "unlicensed":
        return {**base, "channel": "Retail", "license_status": 5, "license_status_text": "Notification",
                "grace_minutes": 0, "classification": "unlicensed", "confidence": "high",
                "evidence": ["LicenseStatus 5 (Notification)"]}, []
    host = pc.kms_host
    lic = {**base, "channel": "Volume:GVLK", "license_status": 1, "license_status_text": "Licensed",
           "grace_minutes": 7340421 if pc.windows == "kms38" else 259000, "kms_host": host, "kms_port": 1688,
           "classification": "suspicious", "confidence": "high", "evidence": [f"KMS client activated by {host}"]}
    evidence = [{"kind": "kms_host", "detail": f"KeyManagementServiceMachine = {host}",
                 "tool": {"kms38": "MAS KMS38", "kmspico": "KMSpico"}.get(pc.windows), "confidence": "high"}]
    if pc.windows == "kmspico":
        evidence.append({"kind": "file", "detail": r"C:\Program Files\KMSpico\AutoPico.exe", "tool": "KMSpico",
                         "confidence": "high"})
    return lic, evidence


def office_licence(pc: Pc) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if pc.office is None:
        return [], []
    if pc.office == "c2r_retail":
        return [{"product": "Office 16, Office16HomeBusiness2019R_Retail edition", "application_id": OFFICE_APP,
                 "channel": "Retail", "license_status": 1, "license_status_text": "Licensed", "grace_minutes": 0,
                 "classification": "genuine", "confidence": "medium",
                 "evidence": ["Retail channel, licensed; no activator artefacts found"]}], []
    host = pc.office_kms_host
    lic = {"product": "Office 16, Office16ProPlusVL_KMS_Client edition", "application_id": OFFICE_APP,
           "channel": "Volume:GVLK", "license_status": 1, "license_status_text": "Licensed", "grace_minutes": 258642,
           "kms_host": host, "kms_port": 1688, "classification": "suspicious", "confidence": "high",
           "evidence": [f"KMS client activated by {host}"]}
    return [lic], [{"kind": "kms_host", "detail": f"Office KMS host {host}", "tool": None, "confidence": "high"}]


def accounts(pc: Pc) -> dict[str, Any]:
    """The local accounts and the password and lockout policies."""
    local = pc.local
    return {
        "local_admins": {"members": [{"name": f"{pc.hostname}\\{name}", "kind": "user", "source": "local",
                                      "builtin_admin": name == BUILTIN_ADMIN,
                                      "enabled": name != BUILTIN_ADMIN or local.builtin_admin_enabled}
                                     for name in local.admins],
                         "count": pc.enabled_admins, "builtin_admin_enabled": local.builtin_admin_enabled,
                         "guest_enabled": False},
        "password_policy": {"min_length": local.password_min_length, "max_age_days": local.password_max_age,
                            "complexity": local.password_complexity, "source": "secedit"},
        "lockout": {"threshold": local.lockout_threshold, "source": "secedit"},
    }


def hardening(pc: Pc, now: datetime) -> dict[str, Any]:
    os_row = OS[pc.os]
    local = pc.local
    eos = pc.end_of_support
    last_patch = pc.last_patch(now)
    return {
        "firewall": {"enabled": pc.firewall, "backend": "windows",
                     "profiles": [{"name": n, "enabled": pc.firewall} for n in ("Domain", "Private", "Public")]},
        "patches": {"last_patch_at": last_patch.isoformat(),
                    "days_since_last_patch": round((now - last_patch).total_seconds() / 86400, 1),
                    "auto_updates": pc.auto_updates},
        "listening_ports": [{"port": port, "proto": proto, "address": address, "process": process}
                            for proto, port, address, _, process in pc.listeners],
        "os_end_of_life": {"end_of_support": eos.isoformat(), "supported": pc.os_supported,
                           "days_left": (eos - now.date()).days, "basis": f"{os_row['name']} (synthetic table)"},
        "smb": {"smb1_server": pc.smb1, "smb1_client": pc.smb1},
        "rdp": {"enabled": pc.rdp, "nla_required": local.rdp_nla, "port": 3389},
        "autorun": {"disabled_all_drives": local.autorun_off,
                    "no_drive_type_autorun": 255 if local.autorun_off else 145},
        **accounts(pc),
        "disk_encryption": {"system_volume_encrypted": local.disk_encrypted,
                            "volumes": [{"mount": "C:", "encrypted": local.disk_encrypted, "system": True}]},
        "screen_lock": {"enabled": local.screen_lock_seconds is not None,
                        "timeout_seconds": local.screen_lock_seconds},
        "remote_access": {"tools": [{"name": REMOTE_TOOL, "installed": True, "source": "uninstall"}]
                          if local.remote_tool else []},
    }


def render_report(pc: Pc, now: datetime, rng: random.Random) -> dict[str, Any]:
    """The HostReport document for ``pc`` collected at ``now``; ``rng`` draws its id and duration."""
    os_row = OS[pc.os]
    win_lic, win_ev = windows_licence(pc)
    office, office_ev = office_licence(pc)
    return {
        "schema": HOST_REPORT_SCHEMA,
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
            "hardware": {"manufacturer": pc.maker[0], "model": pc.maker[1], "is_virtual": False},
            "interfaces": [{"name": "Ethernet", "mac": pc.mac, "ipv4": [pc.ip], "up": True}],
        },
        "antivirus": {"products": antivirus_products(pc, now)},
        "licences": {"os": win_lic, "office": office, "activators": win_ev + office_ev},
        "hardening": hardening(pc, now),
        "probes": [{"name": "windows-capture", "status": "ok", "duration_ms": 3000.0,
                    "sections": ["host", "antivirus", "licences", "hardening"]}],
    }
