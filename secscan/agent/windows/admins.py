"""Members of the local Administrators group, found by its SID S-1-5-32-544 (the name is
localized), and whether the built-in Administrator (RID 500) and Guest (RID 501) are enabled."""

from __future__ import annotations

from typing import Any

from secscan.agent.windows.values import as_bool, as_dict, as_list, as_text

ADMINISTRATORS_SID = "S-1-5-32-544"
_DOMAIN_SOURCES = {"activedirectory", "azuread", "microsoftaccount", "2", "3", "4"}


def _rid(sid: str | None) -> int | None:
    if not sid or not sid.startswith("S-1-5-21-"):
        return None
    tail = sid.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def parse(members_section: Any, users_section: Any, hostname: str | None) -> dict[str, Any]:
    data = as_dict(members_section, "local_admins")
    users = {}
    if users_section is not None:
        for u in as_list(as_dict(users_section, "local_users").get("users")):
            u = as_dict(u, "users[]")
            users[as_text(u.get("sid"), "user.sid")] = as_bool(u.get("disabled"), "user.disabled")
    host = (hostname or "").lower()
    members = []
    for m in as_list(data.get("members")):
        m = as_dict(m, "members[]")
        name = as_text(m.get("name"), "member.name") or "?"
        sid = as_text(m.get("sid"), "member.sid")
        cls = (as_text(m.get("class"), "member.class") or "").lower()
        kind = "group" if "group" in cls else "user" if "user" in cls or "account" in cls else "unknown"
        source_text = (as_text(m.get("source"), "member.source") or "").lower()
        local_flag = as_bool(m.get("local"), "member.local")
        prefix = name.split("\\", 1)[0].lower() if "\\" in name else ""
        if source_text == "local" or source_text == "1" or local_flag or (host and prefix == host):
            source = "local"
        elif source_text in _DOMAIN_SOURCES or local_flag is False or (prefix and prefix != host):
            source = "domain"
        else:
            source = "unknown"
        disabled = users.get(sid)
        members.append({
            "name": name, "sid": sid, "kind": kind, "source": source,
            "builtin_admin": _rid(sid) == 500 if sid else None,
            "enabled": None if disabled is None else not disabled,
        })
    builtin = next((not d for s, d in users.items() if _rid(s) == 500 and d is not None), None)
    guest = next((not d for s, d in users.items() if _rid(s) == 501 and d is not None), None)
    # Count local human accounts that are admins and not disabled (domain groups are policy elsewhere).
    count = sum(1 for m in members if m["source"] == "local" and m["kind"] == "user" and m["enabled"] is not False)
    return {"members": members, "count": count, "builtin_admin_enabled": builtin, "guest_enabled": guest}
