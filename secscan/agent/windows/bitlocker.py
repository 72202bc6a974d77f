"""BitLocker from Win32_EncryptableVolume (root/CIMV2/Security/MicrosoftVolumeEncryption)."""

from __future__ import annotations

from typing import Any

from secscan.agent.windows.values import as_dict, as_int, as_list, as_text

_METHODS = {0: "None", 1: "Aes128Diffuser", 2: "Aes256Diffuser", 3: "Aes128", 4: "Aes256", 5: "Hardware",
            6: "XtsAes128", 7: "XtsAes256"}
_FULLY_ENCRYPTED = 1


def parse(section: Any) -> dict[str, Any]:
    data = as_dict(section, "bitlocker")
    system_drive = (as_text(data.get("system_drive"), "system_drive") or "C:").upper()
    volumes = []
    for v in as_list(data.get("volumes")):
        v = as_dict(v, "volumes[]")
        letter = as_text(v.get("DriveLetter"), "DriveLetter")
        protection = as_int(v.get("ProtectionStatus"), "ProtectionStatus")
        conversion = as_int(v.get("ConversionStatus"), "ConversionStatus")
        method = as_int(v.get("EncryptionMethod"), "EncryptionMethod")
        volume_type = as_int(v.get("VolumeType"), "VolumeType")
        if conversion is not None:
            encrypted: bool | None = conversion == _FULLY_ENCRYPTED  # in progress/paused: not yet
        else:
            encrypted = None if protection is None else protection == 1  # Windows 7: no ConversionStatus
        volumes.append({
            "mount": letter or "(no letter)",
            "encrypted": encrypted,
            "method": _METHODS.get(method, str(method)) if method is not None else None,
            "protection_on": None if protection is None or protection == 2 else protection == 1,
            "system": volume_type == 0 if volume_type is not None else (letter or "").upper() == system_drive,
        })
    system = [v for v in volumes if v["system"]]
    return {
        "system_volume_encrypted": system[0]["encrypted"] if system else None,
        "volumes": volumes,
    }
