"""Screen lock of each loaded user profile (HKEY_USERS\\S-1-5-21-*): screen saver on, secure
(password on resume) and its timeout; Group Policy values win over the user's own. The machine
inactivity limit (InactivityTimeoutSecs) locks every session, so it counts for all users."""

from __future__ import annotations

from typing import Any

from secscan.agent.windows.values import as_dict, as_int, as_list, as_text


def _value(user: dict[str, Any], name: str) -> Any:
    policy = user.get("policy") or {}
    if isinstance(policy, dict) and policy.get(name) is not None:
        return policy[name]
    desktop = user.get("desktop") or {}
    return desktop.get(name) if isinstance(desktop, dict) else None


def parse(section: Any) -> dict[str, Any]:
    data = as_dict(section, "screen_lock")
    machine = as_int(data.get("InactivityTimeoutSecs"), "InactivityTimeoutSecs")
    machine = machine if machine and machine > 0 else None
    users = []
    for u in as_list(data.get("users")):
        u = as_dict(u, "users[]")
        name = as_text(u.get("account"), "account") or as_text(u.get("sid"), "sid") or "?"
        active = as_int(_value(u, "ScreenSaveActive"), "ScreenSaveActive")
        secure = as_int(_value(u, "ScreenSaverIsSecure"), "ScreenSaverIsSecure")
        timeout = as_int(_value(u, "ScreenSaveTimeOut"), "ScreenSaveTimeOut")
        enabled = None if active is None else active == 1 and bool(timeout)
        is_secure = None if secure is None else secure == 1
        if machine:
            timeout = min(timeout, machine) if timeout and enabled else machine
            enabled, is_secure = True, True
        users.append({"user": name, "enabled": enabled, "secure": is_secure, "timeout_seconds": timeout})
    if not users:
        overall = True if machine else None
        worst = machine
    else:
        overall = all(u["enabled"] and u["secure"] for u in users) if all(
            u["enabled"] is not None and u["secure"] is not None for u in users) else (
            False if any(u["enabled"] is False or u["secure"] is False for u in users) else None)
        timeouts = [u["timeout_seconds"] for u in users if u["timeout_seconds"]]
        worst = max(timeouts) if timeouts else None
    return {"enabled": overall, "timeout_seconds": worst, "users": users}
