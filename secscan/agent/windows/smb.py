"""SMBv1 server and client.

Server: Get-SmbServerConfiguration when it answered; else the LanmanServer ``SMB1`` value (absent
means enabled on Windows 7/8.1, and on Windows 10 1709+ SMB1 is usually not installed: then the
driver below is missing too). Client: the ``mrxsmb10`` driver; missing or Start=4 means disabled.
"""

from __future__ import annotations

from typing import Any

from secscan.agent.windows.values import as_bool, as_dict, as_dword

_DISABLED = 4


def parse(section: Any) -> dict[str, Any]:
    data = as_dict(section, "smb")
    driver = data.get("mrxsmb10")
    if driver is None:
        client: bool | None = False  # the SMB1 client driver is not installed
    else:
        start = as_dword(as_dict(driver, "mrxsmb10").get("Start"), "mrxsmb10.Start")
        client = None if start is None else start != _DISABLED

    config = data.get("server_configuration")
    if config is not None:
        server = as_bool(as_dict(config, "server_configuration").get("EnableSMB1Protocol"), "EnableSMB1Protocol")
    else:
        lanman = data.get("lanman_server")
        value = as_dword(as_dict(lanman, "lanman_server").get("SMB1"), "SMB1") if lanman is not None else None
        if value is not None:
            server = value != 0
        elif lanman is not None and driver is not None:
            server = True  # no SMB1 value and the SMB1 stack installed: the old default, enabled
        elif lanman is not None:
            server = False  # SMB1 feature removed
        else:
            server = None
    return {"smb1_server": server, "smb1_client": client}
