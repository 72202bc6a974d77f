"""Microsoft Defender Antivirus from MSFT_MpComputerStatus (``Get-MpComputerStatus``)."""

from __future__ import annotations

import re
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.values import NEVER, as_bool, as_dict, as_int, as_list, as_text, parse_date

# ProductStatus bits (Intune windowsDefenderProductStatus): signatures out of date, product expired.
_AV_SIGNATURES_OUT_OF_DATE = 32
_PRODUCT_EXPIRED = 16384
_SERVICE_NOT_RUNNING = 1


def parse(section: Any) -> dict[str, Any]:
    s = as_dict(section, "defender")
    service = as_bool(s.get("AMServiceEnabled"), "AMServiceEnabled")
    antivirus = as_bool(s.get("AntivirusEnabled"), "AntivirusEnabled")
    real_time = as_bool(s.get("RealTimeProtectionEnabled"), "RealTimeProtectionEnabled")
    mode = as_text(s.get("AMRunningMode"), "AMRunningMode")
    age = as_int(s.get("AntivirusSignatureAge"), "AntivirusSignatureAge")
    status = as_int(s.get("ProductStatus"), "ProductStatus")
    out_of_date = as_bool(s.get("DefenderSignaturesOutOfDate"), "DefenderSignaturesOutOfDate")
    if out_of_date is None and status is not None:
        out_of_date = bool(status & _AV_SIGNATURES_OUT_OF_DATE)

    # Passive / not running: installed but another product protects the PC.
    passive = bool(mode) and mode.lower() != "normal"
    if status is not None and status & _PRODUCT_EXPIRED:
        state = "expired"
    elif service is False or antivirus is False or passive or (status is not None and status & _SERVICE_NOT_RUNNING):
        state = "off"
    elif service and antivirus:
        state = "on"
    else:
        state = "unknown"
    return {
        "name": "Microsoft Defender Antivirus",
        "vendor": "Microsoft",
        "source": "defender",
        "state": state,
        "enabled": state == "on" if state != "unknown" else None,
        "real_time": real_time,
        "up_to_date": None if out_of_date is None else not out_of_date,
        "signature_age_days": None if age is None or age == NEVER else age,
        "signature_updated_at": parse_date(s.get("AntivirusSignatureLastUpdated"), "AntivirusSignatureLastUpdated"),
        "signature_version": as_text(s.get("AntivirusSignatureVersion"), "AntivirusSignatureVersion"),
        "engine_version": as_text(s.get("AMEngineVersion"), "AMEngineVersion"),
        "product_version": as_text(s.get("AMProductVersion"), "AMProductVersion"),
        "microsoft": True,
        "tamper_protected": as_bool(s.get("IsTamperProtected"), "IsTamperProtected"),
        "running_mode": mode,
        "raw": {k: s.get(k) for k in ("AMServiceEnabled", "AntivirusEnabled", "RealTimeProtectionEnabled",
                                      "AMRunningMode", "AntivirusSignatureAge", "ProductStatus", "ComputerState",
                                      "DefenderSignaturesOutOfDate")},
    }


def parse_threats(section: Any) -> list[str]:
    names = []
    for item in as_list(as_dict(section, "defender_threats").get("threats")):
        name = as_text(as_dict(item, "threats[]").get("name"), "threat.name")
        if name and name not in names:
            names.append(name)
    return names


def activator_threats(names: list[str]) -> list[str]:
    patterns = [re.compile(p, re.IGNORECASE) for p in load("activators")["defender"]["threats"]]
    return [n for n in names if any(p.search(n) for p in patterns)]
