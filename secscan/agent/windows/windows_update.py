"""Automatic updates on or off, from the capture's ``windows_update`` section.

The rules and their sources are in ``secscan/agent/data/windows_update.toml``. In order:
a policy ``NoAutoUpdate=1`` or a disabled Windows Update service → off; a policy ``AUOptions``
decides (5 hands the choice to the local setting); without a policy Windows 10/11 updates
automatically (the documented default); older builds are decided by the Update Agent's own
``NotificationLevel``, else the local ``AUOptions``, else unknown with the reason.
"""

from __future__ import annotations

from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.products import Services
from secscan.agent.windows.values import as_dict, as_dword, as_int, as_text


def parse(section: Any, build: int | None, service_start_mode: str | None = None) -> tuple[bool | None, str]:
    """(auto_updates, basis). ``service_start_mode`` is Win32_Service.StartMode of wuauserv from the
    ``services`` section, used when the section's own registry read of the service found nothing."""
    table = load("windows_update")
    data = as_dict(section, "windows_update")
    policy = as_dict(data.get("policy"), "policy")
    au = as_dict(data.get("policy_au"), "policy_au")
    wsus = ""
    if as_dword(au.get("UseWUServer"), "UseWUServer") == 1:
        server = as_text(policy.get("WUServer"), "WUServer") or "?"
        wsus = f", updates from WSUS {server}"

    if as_dword(au.get("NoAutoUpdate"), "NoAutoUpdate") == 1:
        return False, "policy NoAutoUpdate=1 (automatic updates disabled)"
    start = as_dword(as_dict(data.get("wuauserv"), "wuauserv").get("Start"), "wuauserv.Start")
    if start == table["service_disabled"] or (start is None and (service_start_mode or "").lower() == "disabled"):
        return False, "Windows Update service (wuauserv) disabled"

    option = as_dword(au.get("AUOptions"), "AUOptions")
    if option is not None:
        row = table["policy_au_options"].get(str(option))
        if row is None:
            return None, f"policy AUOptions={option} is not a documented value"
        if not row.get("local"):
            return row["automatic"], f"policy AUOptions={option} ({row['meaning']}){wsus}"
        local, basis = _local(data, table)
        return local, f"policy AUOptions=5 (local administrator chooses); {basis}{wsus}"

    if build is None:
        return None, "no update policy, and the Windows build is unknown"
    if build >= table["default_automatic_from_build"]:
        return True, f"no update policy: Windows 10/11 (build {build}) updates automatically by default{wsus}"
    local, basis = _local(data, table)
    return local, f"no update policy on build {build}; {basis}{wsus}"


def _local(data: dict[str, Any], table: dict[str, Any]) -> tuple[bool | None, str]:
    """The local setting: the Update Agent's NotificationLevel, else the Control Panel AUOptions."""
    level = as_int(data.get("notification_level"), "notification_level")
    row = table["notification_level"].get(str(level))
    if row is not None:
        return row["automatic"], f"Windows Update Agent NotificationLevel={level} ({row['meaning']})"
    local = as_dword(as_dict(data.get("local_au"), "local_au").get("AUOptions"), "local AUOptions")
    row = table["local_au_options"].get(str(local))
    if row is not None:
        return row["automatic"], f"local AUOptions={local} ({row['meaning']})"
    why = as_text(data.get("notification_level_error"), "notification_level_error", 200)
    agent = f"NotificationLevel {level}" if level is not None else f"NotificationLevel not read ({why or 'no value'})"
    setting = f"local AUOptions {local}" if local is not None else "no local AUOptions"
    return None, f"local setting unknown: {agent}, {setting}"


def service_start_mode(services: Services, name: str = "wuauserv") -> str | None:
    """Win32_Service.StartMode (Auto, Manual, Disabled) of one service in the ``services`` section
    (as products.Inventory.parse_services read it); the first service of that name."""
    if name not in services.keys:
        return None
    return as_text(services.start_modes[services.keys.index(name)], "service.start_mode")
