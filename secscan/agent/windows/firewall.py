"""Windows Firewall profiles (Get-NetFirewallProfile, or the registry on Windows 7) and third-party
firewalls registered in SecurityCenter2."""

from __future__ import annotations

from typing import Any

from secscan.agent.windows.values import as_dict, as_dword, as_list, as_text

_ACTIONS = {0: "NotConfigured", 2: "Allow", 4: "Block"}  # NetSecurity.Action as PS 5.1 writes it
_GPO_BOOL = {"true": True, "false": False, "1": True, "0": False}


def _enabled(value: Any) -> bool | None:
    # GpoBoolean: True/False/NotConfigured (NotConfigured in the active store means the default: on)
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("notconfigured", "2"):
        return True
    if text not in _GPO_BOOL:
        raise ValueError(f"firewall profile Enabled: unexpected {str(value)[:40]!r}")
    return _GPO_BOOL[text]


def _action(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return _ACTIONS.get(value, str(value))
    return as_text(value, "default_inbound")


def parse(section: Any, third_party: list[str] | None = None) -> dict[str, Any]:
    data = as_dict(section, "firewall")
    source = as_text(data.get("source"), "firewall.source")
    profiles = []
    for item in as_list(data.get("profiles")):
        item = as_dict(item, "profiles[]")
        name = as_text(item.get("name"), "profile.name") or "?"
        if source == "registry":
            policy = as_dword(item.get("policy_enable_firewall"), "policy_enable_firewall")
            local = as_dword(item.get("enable_firewall"), "enable_firewall")
            value = policy if policy is not None else local
            enabled = None if value is None else bool(value)
            inbound_raw = item.get("policy_default_inbound_action")
            if inbound_raw is None:
                inbound_raw = item.get("default_inbound_action")
            action = as_dword(inbound_raw, "DefaultInboundAction")
            inbound = {0: "Allow", 1: "Block"}.get(1 if action is None else action)  # absent: Block
        else:
            enabled = _enabled(item.get("enabled"))
            inbound = _action(item.get("default_inbound"))
        profiles.append({"name": name, "enabled": enabled, "default_inbound": inbound})
    # On and filtering: a profile whose default inbound action is Allow lets everything in.
    states = [p["enabled"] and p["default_inbound"] != "Allow" if p["enabled"] is not None else None
              for p in profiles]
    overall = None if not profiles or None in states else all(states)
    return {
        "enabled": overall,
        "backend": "windows",
        "profiles": profiles,
        "third_party": third_party or [],
        "raw": {"source": source},
    }
