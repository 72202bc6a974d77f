"""Render a drawn demo PC as the raw Windows capture (``secscan.windows-capture/1``) that
``collect.ps1`` would print on it — the PowerShell-only path, decoded centrally by the same
decoder as everything else. Section shapes follow tests/fixtures/windows/build_captures.py."""

from __future__ import annotations

import base64
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from secscan.demo.fleet import OFFICE_APP, OS, PUBLIC_KMS, WINDOWS_APP, Pc

SPP = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
MAKERS = {
    "f8:bc:12": ("Dell Inc.", "OptiPlex 3080"),
    "3c:52:82": ("HP", "ProDesk 400 G7"),
    "54:ee:75": ("LENOVO", "ThinkCentre M70t"),
    "04:d4:c4": ("ASUSTeK COMPUTER INC.", "ExpertCenter D5"),
}
THIRD_PARTY = {
    "Bkav Pro": {
        "guid": "{8C2D6F3A-1B7E-4E1C-9A51-6F0D2B3C4E5F}",
        "exe": r"C:\Program Files (x86)\Bkav Pro\BkavService.exe",
        "process": "BkavService.exe",
        "publisher": "Bkav Corporation",
    },
    "Kaspersky Endpoint Security for Windows": {
        "guid": "{B41C7598-35F6-4D89-7D0E-7ADE69B4047B}",
        "exe": r"C:\Program Files (x86)\Kaspersky Lab\KES.12.3.0\avp.exe",
        "process": "avp.exe",
        "publisher": "AO Kaspersky Lab",
    },
}


def ok(data: Any, ms: int = 20) -> dict[str, Any]:
    return {"status": "ok", "error": None, "ms": ms, "data": data}


def failed(status: str, error: str) -> dict[str, Any]:
    return {"status": status, "error": error, "ms": 5, "data": None}


def slp(
    name: str,
    description: str,
    channel: str,
    key: str,
    *,
    status: int = 1,
    grace: int = 0,
    app: str = WINDOWS_APP,
    kms: str | None = None,
    sku: str = "4de7cb65-cdf1-4de9-8ae8-e3cce27b9f2c",
) -> dict[str, Any]:
    """One SoftwareLicensingProduct row, as the script selects it."""
    volume = channel.startswith("Volume:GVLK")
    return {
        "ID": sku,
        "Name": name,
        "Description": description,
        "ApplicationID": app,
        "PartialProductKey": key,
        "ProductKeyChannel": channel,
        "LicenseStatus": status,
        "LicenseStatusReason": 0,
        "GracePeriodRemaining": grace,
        "LicenseFamily": "Professional",
        "LicenseIsAddon": False,
        "KeyManagementServiceMachine": kms,
        "KeyManagementServicePort": 1688 if kms else 0,
        "DiscoveredKeyManagementServiceMachineName": None,
        "DiscoveredKeyManagementServiceMachinePort": 0,
        "VLActivationInterval": 120 if volume else 4294967295,
        "VLRenewalInterval": 10080 if volume else 4294967295,
    }


def secedit_blob(min_length: int, max_age: int, complexity: int, lockout: int) -> str:
    """`secedit /export` output: UTF-16LE with a BOM, base64 as the script carries it."""
    text = (
        "[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordAge = 0\r\n"
        f"MaximumPasswordAge = {max_age}\r\nMinimumPasswordLength = {min_length}\r\n"
        f"PasswordComplexity = {complexity}\r\nPasswordHistorySize = 0\r\nLockoutBadCount = {lockout}\r\n"
        'ResetLockoutCount = 30\r\nLockoutDuration = 30\r\n[Version]\r\nsignature="$CHICAGO$"\r\nRevision=1\r\n'
    )
    return base64.b64encode(b"\xff\xfe" + text.encode("utf-16-le")).decode()


def _antivirus(pc: Pc, now: datetime) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(securitycenter2, defender sections, extra processes)."""
    stale = 0 if pc.av_current else 0x10
    products: list[dict[str, Any]] = []
    processes: list[dict[str, Any]] = []
    if pc.os != "win7":
        on = pc.av == "Windows Defender"
        products.append(
            {
                "displayName": "Windows Defender",
                "instanceGuid": "{D68DDC3A-831F-4fae-9E44-DA132C1ACF46}",
                "pathToSignedProductExe": "windowsdefender://",
                "pathToSignedReportingExe": r"%ProgramFiles%\Windows Defender\MsMpeng.exe",
                "productState": (0x061100 | stale) if on else 0x060100,
                "timestamp": now.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            }
        )
    if pc.av in THIRD_PARTY:
        row = THIRD_PARTY[pc.av]
        products.append(
            {
                "displayName": pc.av,
                "instanceGuid": row["guid"],
                "pathToSignedProductExe": row["exe"],
                "pathToSignedReportingExe": row["exe"],
                "productState": 0x061000 | stale,
            }
        )
        processes.append({"name": row["process"], "path": None})
    if pc.av == "Windows Defender":
        updated = now - timedelta(days=pc.sig_age_days)
        defender = ok(
            {
                "AMServiceEnabled": True,
                "AntivirusEnabled": True,
                "RealTimeProtectionEnabled": True,
                "IsTamperProtected": True,
                "AMRunningMode": "Normal",
                "AntivirusSignatureAge": int(pc.sig_age_days),
                "AntivirusSignatureLastUpdated": updated.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
                "ProductStatus": 524288 if pc.av_current else 524320,
                "DefenderSignaturesOutOfDate": not pc.av_current,
            }
        )
    elif pc.os == "win7":
        defender = failed("unsupported", "Invalid namespace")
    else:
        # With another anti-virus registered (or Defender turned off), its WMI provider refuses.
        defender = failed("error", "Operation failed with the following error: 0x800106ba")
    return ok({"antivirus": products, "firewall": []}), defender, processes


def _licensing(pc: Pc, rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """(licensing products, KMS registry keys, activator files present)."""
    key = "".join(rng.choice("BCDFGHJKMPQRTVWXY2346789") for _ in range(5))
    name = "Windows(R), Professional edition"
    files: list[str] = []
    registry: dict[str, Any] = {}
    gvlk = dict(
        name=name,
        description="Windows(R) Operating System, VOLUME_KMSCLIENT channel",
        channel="Volume:GVLK",
        key="T83GX",
        sku="2de67392-b7a7-462a-b1ca-108dd189f588",
    )
    products = {
        "oem": lambda: slp(name, "Windows(R) Operating System, OEM_DM channel", "OEM:DM", key),
        "retail": lambda: slp(name, "Windows(R) Operating System, RETAIL channel", "Retail", key),
        "mak": lambda: slp(name, "Windows(R) Operating System, VOLUME_MAK channel", "Volume:MAK", key),
        "unlicensed": lambda: slp(name, "Windows(R) Operating System, RETAIL channel", "Retail", key, status=5),
        "kms_public": lambda: slp(**gvlk, grace=259180, kms=rng.choice(PUBLIC_KMS)),
        "kms38": lambda: slp(**gvlk, grace=7340421, kms="127.0.0.2"),
        "kmspico": lambda: slp(**gvlk, grace=259000),
    }
    rows = [products[pc.windows]()]
    if pc.windows == "kms38":
        registry[f"{SPP}\\{WINDOWS_APP}\\2de67392-b7a7-462a-b1ca-108dd189f588"] = {
            "KeyManagementServiceName": "127.0.0.2",
            "KeyManagementServicePort": "1688",
        }
    if pc.windows == "kmspico" or pc.office == "vl_kmspico":
        files = [r"C:\Program Files\KMSpico\AutoPico.exe", r"C:\Windows\SECOH-QAD.exe"]
    if pc.office == "c2r_retail":
        rows.append(
            slp(
                "Office 21, Office21ProPlus2021R_Retail edition",
                "Office 21, RETAIL channel",
                "Retail",
                "6F7TH",
                app=OFFICE_APP,
                sku="fbdb3e18-a8ef-4fb3-9183-dffd60bd0984",
            )
        )
    elif pc.office in ("vl_public_kms", "vl_kmspico"):
        rows.append(
            slp(
                "Office 16, Office16ProPlusVL_KMS_Client edition",
                "Office 16, VOLUME_KMSCLIENT channel",
                "Volume:GVLK",
                "WFG99",
                app=OFFICE_APP,
                grace=258642,
                sku="d450596f-894d-49e0-966a-fd39ed4c4c64",
            )
        )
        if pc.office == "vl_public_kms":
            registry[f"{SPP}\\{OFFICE_APP}"] = {
                "KeyManagementServiceName": "kms.03k.org",
                "KeyManagementServicePort": "1688",
            }
    return rows, registry, files


def render(pc: Pc, now: datetime, seed: int) -> dict[str, Any]:
    rng = random.Random(f"capture-{seed}-{pc.hostname}")
    os_row = OS[pc.os]
    maker, model = MAKERS.get(pc.mac[:8], ("Dell Inc.", "OptiPlex 3080"))
    sc2, defender, av_processes = _antivirus(pc, now)
    products, registry, files = _licensing(pc, rng)
    started = now - timedelta(seconds=12)
    patched = (now - timedelta(days=pc.patch_age_days)).date().isoformat()
    sid = "S-1-5-21-2012345678-3012345678-4012345678"
    # Windows 11 still reports "Windows 10" in ProductName; the build tells them apart.
    product_name = os_row["name"].replace("Windows 11", "Windows 10")
    return {
        "schema": "secscan.windows-capture/1",
        "script_version": "1",
        "capture_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "hostname": pc.hostname,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        "finished_at": now.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        "duration_ms": 12000,
        "powershell": {"version": "5.1.19041.5129", "edition": "Desktop"},
        "elevated": True,
        "user": f"{pc.hostname}\\quantri",
        "sections": {
            "system": ok(
                {
                    "hostname": pc.hostname,
                    "os": {
                        "caption": f"Microsoft {os_row['name']}",
                        "version": os_row["version"],
                        "build_number": str(os_row["build"]),
                        "product_type": 1,
                        "architecture": "64-bit",
                    },
                    "current_version": {
                        "ProductName": product_name,
                        "DisplayVersion": os_row["display_version"],
                        "CurrentBuild": str(os_row["build"]),
                        "UBR": os_row["ubr"],
                        "EditionID": "Professional",
                        "InstallationType": "Client",
                    },
                    "computer": {
                        "manufacturer": maker,
                        "model": model,
                        "domain": "WORKGROUP",
                        "part_of_domain": False,
                        "workgroup": "WORKGROUP",
                        "total_memory": 4 * 1024**3,
                        "logical_processors": 4,
                        "pc_system_type": 1,
                        "hypervisor_present": False,
                    },
                    "machine_guid": pc.machine_id,
                    "interfaces": [
                        {"description": "Realtek PCIe GbE Family Controller", "mac": pc.mac.upper(), "ip": [pc.ip]}
                    ],
                }
            ),
            "securitycenter2": sc2,
            "defender": defender,
            "defender_exclusions": ok({"paths": [], "processes": []}),
            "defender_threats": ok({"threats": []}),
            "services": ok({"services": []}),
            "processes": ok(
                {"processes": [{"name": "explorer.exe", "path": r"C:\Windows\explorer.exe"}, *av_processes,
                               *({"name": name, "path": None, "pid": pid}
                                 for name, pid in sorted({(r[4], r[3]) for r in pc.listeners}))]}
            ),
            "uninstall": ok(
                {
                    "entries": [
                        {
                            "name": "UltraViewer",
                            "publisher": "DucFabulous",
                            "version": "6.6",
                            "location": None,
                            "key": "UltraViewer_is1",
                        }
                    ]
                    if rng.random() < 0.35
                    else []
                }
            ),
            "licensing": ok(
                {
                    "products": products,
                    "service": {
                        "Version": "10.0.19041.5129",
                        "OA3KeyPresent": pc.windows == "oem",
                        "OA3KeyLast5": products[0]["PartialProductKey"] if pc.windows == "oem" else None,
                    },
                }
            ),
            "office_ospp": failed("unsupported", "Invalid class"),
            "kms_registry": ok({"keys": registry}),
            "ifeo": ok({"keys": {}}),
            "artefact_files": ok({"checked": 41, "present": files}),
            "scheduled_tasks": ok({"tasks": [], "complete": True}),
            "hosts_file": ok({"lines": []}),
            "firewall": ok(
                {
                    "source": "Get-NetFirewallProfile",
                    "profiles": [
                        {"name": n, "enabled": str(pc.firewall), "default_inbound": "Block"}
                        for n in ("Domain", "Private", "Public")
                    ],
                }
            ),
            "hotfixes": ok(
                {
                    "hotfixes": [
                        {
                            "id": "KB5046613",
                            "description": "Security Update",
                            "installed_on": "",
                            "installed_on_iso": patched,
                        }
                    ]
                }
            ),
            "smb": ok(
                {
                    "server_configuration": {"EnableSMB1Protocol": pc.smb1, "EnableSMB2Protocol": True},
                    "server_configuration_error": None,
                    "lanman_server": {},
                    "mrxsmb10": {"Start": 2} if pc.smb1 else None,
                }
            ),
            "rdp_autorun": ok(
                {
                    "fDenyTSConnections": 0 if pc.rdp else 1,
                    "UserAuthentication": rng.choice([0, 1]),
                    "PortNumber": 3389,
                    "NoDriveTypeAutoRun": rng.choice([145, 255]),
                    "NoAutorun": None,
                }
            ),
            "local_admins": ok(
                {
                    "method": "Get-LocalGroupMember",
                    "members": [
                        {
                            "name": f"{pc.hostname}\\Administrator",
                            "sid": f"{sid}-500",
                            "class": "User",
                            "source": "Local",
                        },
                        {"name": f"{pc.hostname}\\quantri", "sid": f"{sid}-1001", "class": "User", "source": "Local"},
                    ],
                }
            ),
            "local_users": ok(
                {
                    "users": [
                        {"name": "Administrator", "sid": f"{sid}-500", "disabled": rng.random() < 0.5},
                        {"name": "Guest", "sid": f"{sid}-501", "disabled": True},
                        {"name": "quantri", "sid": f"{sid}-1001", "disabled": False},
                    ]
                }
            ),
            "secedit": ok(
                {
                    "inf_base64": secedit_blob(
                        rng.choice([0, 6, 8]), rng.choice([0, 42]), rng.choice([0, 1]), rng.choice([0, 5])
                    )
                }
            ),
            "net_accounts": failed("unsupported", "not needed: secedit answered"),
            "bitlocker": ok(
                {
                    "system_drive": "C:",
                    "volumes": [
                        {
                            "DriveLetter": "C:",
                            "ProtectionStatus": 0,
                            "ConversionStatus": 0,
                            "EncryptionMethod": 0,
                            "VolumeType": 0,
                        }
                    ],
                }
            ),
            "windows_update": ok(_windows_update(pc)),
            "listening_ports": ok(_listening_ports(pc)),
            "screen_lock": ok(
                {
                    "users": [
                        {
                            "sid": f"{sid}-1001",
                            "account": f"{pc.hostname}\\quantri",
                            "desktop": {
                                "ScreenSaveActive": "1",
                                "ScreenSaverIsSecure": "1",
                                "ScreenSaveTimeOut": str(rng.choice([300, 600, 1800])),
                            },
                            "policy": None,
                        }
                    ],
                    "InactivityTimeoutSecs": None,
                }
            ),
        },
    }


def _windows_update(pc: Pc) -> dict[str, Any]:
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


def _listening_ports(pc: Pc) -> dict[str, Any]:
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
    return {"source": "netstat", "tcp": [], "udp": [], "netstat": lines,
            "fallback_reason": "The term 'Get-NetTCPConnection' is not recognized as the name of a cmdlet, function, "
                               "script file, or operable program."}
