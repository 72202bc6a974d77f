"""The pieces of a raw Windows capture (``secscan.windows-capture/1``) as ``collect.ps1`` writes
them: a section's envelope, a SoftwareLicensingProduct row, ``secedit /export`` output, and the
anti-virus and licensing sections of a ``Pc``. Shared by the capture renderer and the hand-made
capture fixtures of the decoder's tests."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from secscan.synth.pc import MANAGEMENT_AGENT, OFFICE_APP, WINDOWS_APP, Pc

SPP = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform"
GVLK_SKU = "2de67392-b7a7-462a-b1ca-108dd189f588"  # Windows 10/11 Pro, KMS client
DEFENDER_SC2 = {"displayName": "Windows Defender", "instanceGuid": "{D68DDC3A-831F-4fae-9E44-DA132C1ACF46}",
                "pathToSignedProductExe": "windowsdefender://",
                "pathToSignedReportingExe": "%ProgramFiles%\\Windows Defender\\MsMpeng.exe"}
DEFENDER_REFUSES = "Operation failed with the following error: 0x800106ba"
THIRD_PARTY = {
    "Bkav Pro": {"guid": "{8C2D6F3A-1B7E-4E1C-9A51-6F0D2B3C4E5F}",
                 "exe": r"C:\Program Files (x86)\Bkav Pro\BkavService.exe", "process": "BkavService.exe"},
    "Kaspersky Endpoint Security for Windows": {"guid": "{B41C7598-35F6-4D89-7D0E-7ADE69B4047B}",
                                                "exe": r"C:\Program Files (x86)\Kaspersky Lab\KES.12.3.0\avp.exe",
                                                "process": "avp.exe"},
}
KMSPICO_FILES = [r"C:\Program Files\KMSpico\AutoPico.exe", r"C:\Windows\SECOH-QAD.exe"]
PS_DATE = "%Y-%m-%dT%H:%M:%S.0000000Z"  # how the script writes a DateTime


def ok(data: Any, ms: int = 20) -> dict[str, Any]:
    return {"status": "ok", "error": None, "ms": ms, "data": data}


def failed(status: str, error: str, ms: int = 5) -> dict[str, Any]:
    return {"status": status, "error": error, "ms": ms, "data": None}


def slp(name: str, description: str, channel: str | None, key: str, status: int = 1, grace: int = 0,
        app: str = WINDOWS_APP, kms: str | None = None, discovered: str | None = None, act: int = 4294967295,
        ren: int = 4294967295, family: str = "Professional", sku: str = "4de7cb65-cdf1-4de9-8ae8-e3cce27b9f2c",
        reason: int = 0) -> dict[str, Any]:
    """One SoftwareLicensingProduct row, as the script selects it (``channel`` None: a Windows 7
    row, which has no ProductKeyChannel)."""
    item = {"ID": sku, "Name": name, "Description": description, "ApplicationID": app, "PartialProductKey": key,
            "ProductKeyChannel": channel, "LicenseStatus": status, "LicenseStatusReason": reason,
            "GracePeriodRemaining": grace, "LicenseFamily": family, "LicenseIsAddon": False,
            "KeyManagementServiceMachine": kms, "KeyManagementServicePort": 1688 if kms else 0,
            "DiscoveredKeyManagementServiceMachineName": discovered,
            "DiscoveredKeyManagementServiceMachinePort": 1688 if discovered else 0,
            "VLActivationInterval": act, "VLRenewalInterval": ren}
    if channel is None:
        del item["ProductKeyChannel"]
    return item


def secedit_blob(min_length: int, max_age: int, complexity: int, history: int, lockout: int) -> str:
    """`secedit /export` output: UTF-16LE with a BOM, base64 as the script carries it."""
    text = ("[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordAge = 0\r\n"
            f"MaximumPasswordAge = {max_age}\r\nMinimumPasswordLength = {min_length}\r\n"
            f"PasswordComplexity = {complexity}\r\nPasswordHistorySize = {history}\r\nLockoutBadCount = {lockout}\r\n"
            "ResetLockoutCount = 30\r\nLockoutDuration = 30\r\nNewAdministratorName = \"Administrator\"\r\n"
            "[Version]\r\nsignature=\"$CHICAGO$\"\r\nRevision=1\r\n")
    return base64.b64encode(b"\xff\xfe" + text.encode("utf-16-le")).decode()


def antivirus(pc: Pc, now: datetime) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(securitycenter2, defender sections, the anti-virus processes)."""
    stale = 0 if pc.av_current else 0x10
    products: list[dict[str, Any]] = []
    processes: list[dict[str, Any]] = []
    if pc.os != "win7":
        on = pc.av == "Windows Defender"
        products.append({**DEFENDER_SC2, "productState": (0x061100 | stale) if on else 0x060100,
                         "timestamp": now.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    if pc.av in THIRD_PARTY:
        row = THIRD_PARTY[pc.av]
        products.append({"displayName": pc.av, "instanceGuid": row["guid"], "pathToSignedProductExe": row["exe"],
                         "pathToSignedReportingExe": row["exe"], "productState": 0x061000 | stale})
        processes.append({"name": row["process"], "path": None})
    if pc.av_managed:
        processes.append({"name": MANAGEMENT_AGENT[pc.av or ""], "path": None})
    if pc.av == "Windows Defender":
        defender = ok({
            "AMServiceEnabled": True, "AntivirusEnabled": True, "RealTimeProtectionEnabled": True,
            "IsTamperProtected": True, "AMRunningMode": "Normal", "AntivirusSignatureAge": int(pc.sig_age_days),
            "AntivirusSignatureLastUpdated": (now - timedelta(days=pc.sig_age_days)).strftime(PS_DATE),
            "ProductStatus": 524288 if pc.av_current else 524320, "DefenderSignaturesOutOfDate": not pc.av_current})
    elif pc.os == "win7":
        defender = failed("unsupported", "Invalid namespace")
    else:
        # With another anti-virus registered (or Defender turned off), its WMI provider refuses.
        defender = failed("error", DEFENDER_REFUSES)
    return ok({"antivirus": products, "firewall": []}), defender, processes


WINDOWS_PRO = "Windows(R), Professional edition"
WINDOWS_CHANNELS = {"oem": ("OEM_DM", "OEM:DM"), "retail": ("RETAIL", "Retail"), "mak": ("VOLUME_MAK", "Volume:MAK"),
                    "unlicensed": ("RETAIL", "Retail")}
KMS_GRACE = {"kms_public": 259180, "kms38": 7340421, "kmspico": 259000}
OFFICE_RETAIL = ("Office 21, Office21ProPlus2021R_Retail edition", "Office 21, RETAIL channel", "Retail", "6F7TH")
OFFICE_VL = ("Office 16, Office16ProPlusVL_KMS_Client edition", "Office 16, VOLUME_KMSCLIENT channel",
             "Volume:GVLK", "WFG99")


def windows_product(pc: Pc) -> dict[str, Any]:
    if pc.windows in WINDOWS_CHANNELS:
        described, channel = WINDOWS_CHANNELS[pc.windows]
        return slp(WINDOWS_PRO, f"Windows(R) Operating System, {described} channel", channel, pc.local.partial_key,
                   status=5 if pc.windows == "unlicensed" else 1)
    # KMSpico answers as a local KMS host that the licensing service does not name.
    kms = None if pc.windows == "kmspico" else pc.kms_host
    return slp(WINDOWS_PRO, "Windows(R) Operating System, VOLUME_KMSCLIENT channel", "Volume:GVLK", "T83GX",
               grace=KMS_GRACE[pc.windows], kms=kms, act=120, ren=10080, sku=GVLK_SKU)


def licensing(pc: Pc) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    """(licensing products, KMS registry keys, activator files present)."""
    rows = [windows_product(pc)]
    registry: dict[str, Any] = {}
    if pc.windows == "kms38":
        registry[f"{SPP}\\{WINDOWS_APP}\\{GVLK_SKU}"] = {"KeyManagementServiceName": pc.kms_host,
                                                         "KeyManagementServicePort": "1688"}
    if pc.office == "c2r_retail":
        rows.append(slp(*OFFICE_RETAIL, app=OFFICE_APP, sku="fbdb3e18-a8ef-4fb3-9183-dffd60bd0984"))
    elif pc.office is not None:
        rows.append(slp(*OFFICE_VL, app=OFFICE_APP, grace=258642, act=120, ren=10080,
                        sku="d450596f-894d-49e0-966a-fd39ed4c4c64"))
        if pc.office == "vl_public_kms":
            registry[f"{SPP}\\{OFFICE_APP}"] = {"KeyManagementServiceName": pc.office_kms_host,
                                                "KeyManagementServicePort": "1688"}
    files = KMSPICO_FILES if "kmspico" in (pc.windows, pc.office and pc.office.removeprefix("vl_")) else []
    return rows, registry, list(files)
