"""Remote Desktop (allowed, NLA, port) and AutoRun from the registry; policy values win."""

from __future__ import annotations

from typing import Any

from secscan.agent.windows.values import as_dict, as_dword

ALL_DRIVES = 0xFF


def _first(*values: int | None) -> int | None:
    return next((v for v in values if v is not None), None)


def parse_rdp(section: Any) -> dict[str, Any]:
    d = as_dict(section, "rdp_autorun")
    deny = _first(as_dword(d.get("policy_fDenyTSConnections"), "policy_fDenyTSConnections"),
                  as_dword(d.get("fDenyTSConnections"), "fDenyTSConnections"))
    nla = _first(as_dword(d.get("policy_UserAuthentication"), "policy_UserAuthentication"),
                 as_dword(d.get("UserAuthentication"), "UserAuthentication"))
    return {
        "enabled": None if deny is None else deny == 0,
        "nla_required": None if nla is None else nla == 1,
        "port": as_dword(d.get("PortNumber"), "PortNumber"),
    }


def parse_autorun(section: Any) -> dict[str, Any]:
    d = as_dict(section, "rdp_autorun")
    mask = _first(as_dword(d.get("NoDriveTypeAutoRun"), "NoDriveTypeAutoRun"),
                  as_dword(d.get("user_NoDriveTypeAutoRun"), "user_NoDriveTypeAutoRun"))
    no_autorun = as_dword(d.get("NoAutorun"), "NoAutorun")
    if no_autorun == 1 or (mask is not None and mask & ALL_DRIVES == ALL_DRIVES):
        disabled: bool | None = True
    else:
        # No policy value: Windows' default mask 0x91 leaves removable and fixed drives on.
        disabled = False
    return {"disabled_all_drives": disabled, "no_drive_type_autorun": mask, "no_autorun": no_autorun}
