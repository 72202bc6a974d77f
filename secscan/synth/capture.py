"""A ``Pc`` rendered as the raw Windows capture (``secscan.windows-capture/1``) that ``collect.ps1``
would print on it: the PowerShell-only path, decoded centrally by the same decoder as every
capture. The decoded capture and ``render_report`` of the same PC judge alike (tests/synth)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from secscan.synth import capture_parts as parts
from secscan.synth.capture_parts import PS_DATE, failed, ok
from secscan.synth.pc import BUILTIN_ADMIN, OFFICER, OS, REMOTE_TOOL, Pc

SID = "S-1-5-21-2012345678-3012345678-4012345678"
NO_NETTCP = ("The term 'Get-NetTCPConnection' is not recognized as the name of a cmdlet, function, "
             "script file, or operable program.")


def system(pc: Pc) -> dict[str, Any]:
    os_row = OS[pc.os]
    maker, model = pc.maker
    return {
        "hostname": pc.hostname,
        "os": {"caption": f"Microsoft {os_row['name']}", "version": os_row["version"],
               "build_number": str(os_row["build"]), "product_type": 1, "architecture": "64-bit"},
        # Windows 11 still reports "Windows 10" in ProductName; the build tells them apart.
        "current_version": {"ProductName": os_row["name"].replace("Windows 11", "Windows 10"),
                            "DisplayVersion": os_row["display_version"], "CurrentBuild": str(os_row["build"]),
                            "UBR": os_row["ubr"], "EditionID": "Professional", "InstallationType": "Client"},
        "computer": {"manufacturer": maker, "model": model, "domain": "WORKGROUP", "part_of_domain": False,
                     "workgroup": "WORKGROUP", "total_memory": 4 * 1024**3, "logical_processors": 4,
                     "pc_system_type": 1, "hypervisor_present": False},
        "machine_guid": pc.machine_id,
        "interfaces": [{"description": "Realtek PCIe GbE Family Controller", "mac": pc.mac.upper(), "ip": [pc.ip]}],
    }


def accounts(pc: Pc) -> dict[str, dict[str, Any]]:
    """local_admins, local_users and secedit: the accounts and the password and lockout policies."""
    local = pc.local
    sids = {name: f"{SID}-{500 if name == BUILTIN_ADMIN else 1001 + i}" for i, name in enumerate(local.admins)}
    users = [{"name": BUILTIN_ADMIN, "sid": f"{SID}-500", "disabled": not local.builtin_admin_enabled},
             {"name": "Guest", "sid": f"{SID}-501", "disabled": True},
             *({"name": name, "sid": sids[name], "disabled": False} for name in local.admins if name != BUILTIN_ADMIN)]
    blob = parts.secedit_blob(local.password_min_length, local.password_max_age, int(local.password_complexity), 0,
                              local.lockout_threshold)
    return {
        "local_admins": ok({"method": "Get-LocalGroupMember", "members": [
            {"name": f"{pc.hostname}\\{name}", "sid": sid, "class": "User", "source": "Local"}
            for name, sid in sids.items()]}),
        "local_users": ok({"users": users}),
        "secedit": ok({"inf_base64": blob}),
        "net_accounts": failed("unsupported", "not needed: secedit answered"),
    }


def screen_lock(pc: Pc) -> dict[str, Any]:
    seconds = pc.local.screen_lock_seconds
    desktop = ({"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": str(seconds)}
               if seconds is not None else {"ScreenSaveActive": "0", "ScreenSaverIsSecure": "0"})
    return {"users": [{"sid": f"{SID}-1001", "account": f"{pc.hostname}\\{OFFICER}", "desktop": desktop,
                       "policy": None}], "InactivityTimeoutSecs": None}


def windows_update(pc: Pc) -> dict[str, Any]:
    """Windows 10/11 on by default, off by the policy NoAutoUpdate=1; Windows 7 by its Control Panel
    setting (Update Agent level 4 "install automatically" or 1 "never check")."""
    win7 = pc.os == "win7"
    policy_au = None
    if not pc.auto_updates and not win7:
        policy_au = {"NoAutoUpdate": 1, "AUOptions": None, "UseWUServer": None, "ScheduledInstallDay": None,
                     "ScheduledInstallTime": None}
    level = (4 if pc.auto_updates else 1) if win7 else 0
    return {"policy": None, "policy_au": policy_au, "local_au": {"AUOptions": level} if win7 else None,
            "wuauserv": {"Start": 2 if win7 else 3}, "notification_level": level, "notification_level_error": None}


def listening_ports(pc: Pc) -> dict[str, Any]:
    """Get-NetTCPConnection rows, or on Windows 7 the netstat -ano text the script falls back to."""
    if pc.os != "win7":
        rows = {proto: [{"address": a, "port": port, "pid": pid} for p, port, a, pid, _ in pc.listeners if p == proto]
                for proto in ("tcp", "udp")}
        return {"source": "Get-NetTCPConnection", "fallback_reason": None, **rows, "netstat": []}
    lines = ["", "Active Connections", "", "  Proto  Local Address          Foreign Address        State           PID"]
    for proto, port, address, pid, _ in pc.listeners:
        local = f"{address}:{port}"
        if proto == "tcp":
            lines.append(f"  TCP    {local:<22} {'0.0.0.0:0':<22} {'LISTENING':<15} {pid}")
        else:
            lines.append(f"  UDP    {local:<22} {'*:*':<22} {'':<15} {pid}")
    return {"source": "netstat", "tcp": [], "udp": [], "netstat": lines, "fallback_reason": NO_NETTCP}


def bitlocker_volume(encrypted: bool) -> dict[str, Any]:
    """Win32_EncryptableVolume of the system drive: fully encrypted with XTS-AES 128 and protected, or off."""
    return {"DriveLetter": "C:", "ProtectionStatus": int(encrypted), "ConversionStatus": int(encrypted),
            "EncryptionMethod": 6 if encrypted else 0, "VolumeType": 0}


def hardening(pc: Pc, now: datetime) -> dict[str, dict[str, Any]]:
    """The firewall, patch, SMB, RDP/AutoRun, disk and screen sections."""
    patched = pc.last_patch(now).date().isoformat()
    return {
        "firewall": ok({"source": "Get-NetFirewallProfile", "profiles": [
            {"name": n, "enabled": str(pc.firewall), "default_inbound": "Block"}
            for n in ("Domain", "Private", "Public")]}),
        "hotfixes": ok({"hotfixes": [{"id": "KB5046613", "description": "Security Update", "installed_on": "",
                                      "installed_on_iso": patched}]}),
        "smb": ok({"server_configuration": {"EnableSMB1Protocol": pc.smb1, "EnableSMB2Protocol": True},
                   "server_configuration_error": None, "lanman_server": {},
                   "mrxsmb10": {"Start": 2} if pc.smb1 else None}),
        "rdp_autorun": ok({"fDenyTSConnections": 0 if pc.rdp else 1, "UserAuthentication": int(pc.local.rdp_nla),
                           "PortNumber": 3389, "NoDriveTypeAutoRun": 255 if pc.local.autorun_off else 145,
                           "NoAutorun": None}),
        "bitlocker": ok({"system_drive": "C:", "volumes": [
            bitlocker_volume(pc.local.disk_encrypted)]}),
        "windows_update": ok(windows_update(pc)),
        "listening_ports": ok(listening_ports(pc)),
        "screen_lock": ok(screen_lock(pc)),
    }


def software(pc: Pc, now: datetime) -> dict[str, dict[str, Any]]:
    """Anti-virus, processes, installed programs and licensing."""
    sc2, defender, av_processes = parts.antivirus(pc, now)
    products, registry, files = parts.licensing(pc)
    listeners = sorted({(r[4], r[3]) for r in pc.listeners})
    tool = [{"name": REMOTE_TOOL, "publisher": "DucFabulous", "version": "6.6", "location": None,
             "key": f"{REMOTE_TOOL}_is1"}] if pc.local.remote_tool else []
    oem = pc.windows == "oem"
    return {
        "securitycenter2": sc2,
        "defender": defender,
        "defender_exclusions": ok({"paths": [], "processes": []}),
        "defender_threats": ok({"threats": []}),
        "services": ok({"services": []}),
        "processes": ok({"processes": [{"name": "explorer.exe", "path": r"C:\Windows\explorer.exe"}, *av_processes,
                                       *({"name": name, "path": None, "pid": pid} for name, pid in listeners)]}),
        "uninstall": ok({"entries": tool}),
        "licensing": ok({"products": products, "service": {
            "Version": "10.0.19041.5129", "OA3KeyPresent": oem, "OA3KeyLast5": pc.local.partial_key if oem else None}}),
        "office_ospp": failed("unsupported", "Invalid class"),
        "kms_registry": ok({"keys": registry}),
        "ifeo": ok({"keys": {}}),
        "artefact_files": ok({"checked": 41, "present": files}),
        "scheduled_tasks": ok({"tasks": [], "complete": True}),
        "hosts_file": ok({"lines": []}),
    }


def render_capture(pc: Pc, now: datetime, rng: random.Random) -> dict[str, Any]:
    """The capture of ``pc`` finished at ``now``; ``rng`` draws its id."""
    return {
        "schema": "secscan.windows-capture/1",
        "script_version": "1",
        "capture_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "hostname": pc.hostname,
        "started_at": (now - timedelta(seconds=12)).strftime(PS_DATE),
        "finished_at": now.strftime(PS_DATE),
        "duration_ms": 12000,
        "powershell": {"version": "5.1.19041.5129", "edition": "Desktop"},
        "elevated": True,
        "user": f"{pc.hostname}\\{OFFICER}",
        "sections": {"system": ok(system(pc)), **software(pc, now), **accounts(pc), **hardening(pc, now)},
    }
