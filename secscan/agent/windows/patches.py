"""Patch level (newest hotfix date, build/UBR) and OS end of support from windows_eol.toml."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.values import as_dict, as_list, as_text, parse_date


def parse(section: Any, collected_at: datetime) -> dict[str, Any]:
    ids: list[str] = []
    newest: datetime | None = None
    for item in as_list(as_dict(section, "hotfixes").get("hotfixes")):
        item = as_dict(item, "hotfixes[]")
        hotfix = as_text(item.get("id"), "hotfix.id")
        if hotfix:
            ids.append(hotfix)
        # The script's own ISO date first; else the raw InstalledOn (M/d/yyyy, hex FILETIME, PS 5.1 shapes).
        when = parse_date(item.get("installed_on_iso"), "installed_on_iso") or _lenient(item.get("installed_on"))
        if when and (newest is None or when > newest):
            newest = when
    days = max((collected_at - newest).total_seconds() / 86400, 0) if newest else None
    return {
        "last_patch_at": newest,
        "days_since_last_patch": round(days, 1) if days is not None else None,
        "hotfixes": ids,
    }


def _lenient(value: Any) -> datetime | None:
    # One unreadable InstalledOn (seen on old entries) must not hide the others.
    try:
        return parse_date(value, "installed_on")
    except ValueError:
        return None


def _edition_group(edition: str | None) -> str | None:
    groups = load("windows_eol")["editions"]
    for group, editions in groups.items():
        if edition and edition.lower() in (e.lower() for e in editions):
            return group
    return None


def end_of_life(os_: dict[str, Any], collected_at: datetime) -> dict[str, Any] | None:
    """The end-of-support row for this build and edition; None when the build is not in the table."""
    build, installation = os_.get("build"), os_.get("installation_type") or "client"
    if build is None:
        return None
    group = _edition_group(os_.get("edition"))
    rows = [r for r in load("windows_eol")["release"] if r["build"] == build and r["installation"] == installation]
    row = next((r for r in rows if group and r.get("editions") == group), None) or next(
        (r for r in rows if "editions" not in r), None)
    if row is None:
        return None
    end: date = row["end"]
    days_left = (end - collected_at.date()).days
    basis = row["product"] + ("" if row.get("verified") else " (date not verified against Microsoft Lifecycle)")
    return {"end_of_support": end, "supported": days_left > 0, "days_left": days_left, "basis": basis}
