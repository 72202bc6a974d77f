"""Anti-malware: SecurityCenter2 (productState decoded), and the fallback over services, processes
and the uninstall registry where SecurityCenter2 is missing (Windows Server) or incomplete.

productState is undocumented; the mask decoding below is the community one (facts §1.3). A nibble
outside the known values decodes to ``unknown`` and the raw number is always kept.
"""

from __future__ import annotations

from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.products import Inventory, find, name_matches
from secscan.agent.windows.values import as_dict, as_int, as_list, as_text, parse_date

_STATES = {0x0: "off", 0x1: "on", 0x2: "snoozed", 0x3: "expired"}
_OWNERS = {0x0: False, 0x1: True}
_SIGNATURES = {0x0: True, 0x1: False}


def decode_product_state(value: int) -> dict[str, Any]:
    """productState -> state (on/off/snoozed/expired/unknown), microsoft, up_to_date."""
    state = _STATES.get((value >> 12) & 0xF, "unknown")
    return {
        "state": state,
        "enabled": {"on": True, "off": False, "snoozed": False, "expired": False}.get(state),
        "microsoft": _OWNERS.get((value >> 8) & 0xF),
        "up_to_date": _SIGNATURES.get((value >> 4) & 0xF),
    }


def table() -> list[dict[str, Any]]:
    return load("windows_av")["product"]


def _known(name: str | None) -> dict[str, Any] | None:
    return next((entry for entry in table() if name_matches(name, entry)), None)


def parse_securitycenter2(section: Any) -> list[dict[str, Any]]:
    products = []
    for item in as_list(as_dict(section, "securitycenter2").get("antivirus")):
        item = as_dict(item, "antivirus[]")
        name = as_text(item.get("displayName"), "displayName") or "?"
        state_value = as_int(item.get("productState"), "productState")
        decoded = decode_product_state(state_value) if state_value is not None else {}
        entry = _known(name)
        products.append({
            "name": name,
            "vendor": entry["vendor"] if entry else None,
            "source": "securitycenter2",
            **decoded,
            "product_state": state_value,
            "raw": {k: item.get(k) for k in ("displayName", "instanceGuid", "pathToSignedProductExe", "productState")}
            | {"timestamp": _timestamp(item.get("timestamp"))},
        })
    return products


def _timestamp(value: Any) -> str | None:
    try:
        parsed = parse_date(value, "timestamp")
    except ValueError:
        return as_text(value, "timestamp")  # optional, free-form on Windows 7: keep as text
    return parsed.isoformat() if parsed else None


def third_party_firewalls(section: Any) -> list[str]:
    names = []
    for item in as_list(as_dict(section, "securitycenter2").get("firewall")):
        name = as_text(as_dict(item, "firewall[]").get("displayName"), "displayName")
        if name:
            names.append(name)
    return names


def parse_fallback(inv: Inventory, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Products found by service/process/uninstall name that no other source reported."""
    seen_entries = {id(e) for p in seen if (e := _known(p["name"])) is not None}
    if any(p["source"] == "defender" for p in seen):
        seen_entries |= {id(e) for e in table() if e.get("microsoft")}
    products = []
    for entry in table():
        if id(entry) in seen_entries:
            continue
        match = find(inv, entry)
        if match is None:
            continue
        products.append({
            "name": entry["name"],
            "vendor": entry.get("vendor"),
            "source": match.source,
            "state": "unknown",
            "enabled": match.running,
            "microsoft": bool(entry.get("microsoft")),
            "raw": {"matched": match.describe(), "table_verified": bool(entry.get("verified"))},
        })
    return products


def mark_management(products: list[dict[str, Any]], inv: Inventory) -> None:
    """Fill ``centrally_managed`` from the vendor's management agent (windows_av.toml): seen → True;
    not seen in a complete inventory → False where the agent is the vendor's only way; else unknown."""
    for product in products:
        entry = _known(product["name"])
        agent = entry.get("management") if entry else None
        if not agent:
            continue
        seen = find(inv, {"services": agent.get("services", []), "processes": agent.get("processes", [])})
        if seen is not None:
            product["centrally_managed"] = True
        elif agent.get("only_way") and inv.services is not None and inv.processes is not None:
            product["centrally_managed"] = False
