"""Hand-built HostReports for the policy tests: a Windows PC and a Linux PC that pass every
control of vn-endpoint-nd85-tt12, built through the model so they are valid reports."""

from __future__ import annotations

import copy
from typing import Any

from secscan.model.host import HostReport

_COMMON: dict[str, Any] = {
    "report_id": "6f1c2a52-3f7e-4a51-9d0e-6f0a2b7c9d10",
    "collected_at": "2026-11-20T08:30:00+07:00",
    "probes": [
        {"name": "firewall", "status": "ok", "duration_ms": 12, "sections": ["hardening.firewall"]},
        {"name": "antivirus", "status": "ok", "duration_ms": 40, "sections": ["antivirus.products"]},
    ],
}

_HARDENING: dict[str, Any] = {
    "firewall": {"enabled": True, "backend": "windows"},
    "patches": {"days_since_last_patch": 12.5, "auto_updates": True},
    "os_end_of_life": {"supported": True, "end_of_support": "2027-10-12"},
    "smb": {"smb1_server": False, "smb1_client": False},
    "rdp": {"enabled": False, "nla_required": True},
    "autorun": {"disabled_all_drives": True, "no_drive_type_autorun": 255},
    "local_admins": {"members": [{"name": "canbo", "kind": "user", "source": "local"}], "count": 1,
                     "builtin_admin_enabled": False, "guest_enabled": False},
    "password_policy": {"min_length": 10, "max_age_days": 60, "complexity": True},
    "lockout": {"threshold": 5, "duration_minutes": 30},
    "disk_encryption": {"system_volume_encrypted": True},
    "screen_lock": {"enabled": True, "timeout_seconds": 600},
    "remote_access": {"tools": []},
    "listening_ports": [{"port": 445, "proto": "tcp", "address": "0.0.0.0"}],
}


def windows(**sections: Any) -> dict[str, Any]:
    doc = copy.deepcopy({
        **_COMMON,
        "agent": {"version": "0.1.0", "platform": "windows", "source": "agent", "elevated": True},
        "unit": "van-lang",
        "host": {"hostname": "VANLANG-PC01", "role": "workstation",
                 "os": {"family": "windows", "name": "Windows 11 Pro", "build": 22631},
                 "interfaces": [{"mac": "00:1a:2b:3c:4d:5e", "ipv4": ["192.168.10.21"]}]},
        "antivirus": {"products": [{"name": "Microsoft Defender Antivirus", "source": "defender", "state": "on",
                                    "enabled": True, "real_time": True, "up_to_date": True,
                                    "signature_age_days": 0.4, "centrally_managed": True}]},
        "licences": {"os": {"product": "Windows(R), Professional edition", "classification": "genuine",
                            "license_status": 1},
                     "office": [{"product": "Office 16, Office16ProPlusVL_MAK", "classification": "genuine"}],
                     "activators": []},
        "hardening": _HARDENING,
    })
    return _apply(doc, sections)


def linux(**sections: Any) -> dict[str, Any]:
    hardening = copy.deepcopy(_HARDENING)
    for windows_only in ("smb", "rdp", "autorun"):
        hardening.pop(windows_only)
    hardening["firewall"]["backend"] = "nftables"
    hardening["local_admins"].update(builtin_admin_enabled=False, guest_enabled=None, nopasswd_sudo=[])
    hardening["ssh"] = {"installed": True, "permit_root_login": "no", "password_authentication": False}
    doc = copy.deepcopy({
        **_COMMON,
        "agent": {"version": "0.1.0", "platform": "linux", "source": "agent", "elevated": True},
        "unit": "hahoa-tckh",
        "host": {"hostname": "tckh-ubuntu", "role": "workstation",
                 "os": {"family": "linux", "name": "Ubuntu 24.04 LTS", "version": "24.04"},
                 "interfaces": [{"ipv4": ["10.23.2.15"]}]},
        "antivirus": {"products": [{"name": "ClamAV", "source": "clamav", "enabled": True, "real_time": True,
                                    "signature_age_days": 1.2, "centrally_managed": True}]},
        "hardening": hardening,
    })
    return _apply(doc, sections)


def _apply(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``windows(**{"hardening.rdp.enabled": True})``: set dotted paths; ``DELETE`` removes a key."""
    for path, value in changes.items():
        set_path(doc, path, value)
    return HostReport.model_validate(doc).to_document()


DELETE = object()


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
