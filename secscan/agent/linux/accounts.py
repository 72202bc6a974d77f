"""Local administrators (sudo/wheel/admin members, uid 0, sudoers NOPASSWD), password policy
(login.defs, pam_pwquality) and lockout (pam_faillock / pam_tally2)."""

from __future__ import annotations

import glob
import grp
import pwd
from typing import Any

from secscan.agent._exec import read_text
from secscan.agent.errors import ProbeDenied, ProbeUnsupported
from secscan.agent.runner import Facts

ADMIN_GROUPS = ("sudo", "wheel", "admin")


def parse_sudoers_nopasswd(text: str) -> list[str]:
    rules = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#include") else ""
        if "NOPASSWD" in line and not line.startswith("Defaults"):
            rules.append(line[:300])
    return rules


def parse_key_values(text: str, sep: str | None = None) -> dict[str, str]:
    """login.defs (whitespace) and pwquality.conf / faillock.conf (`key = value`)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if sep and sep in line:
            key, _, value = line.partition(sep)
        else:
            key, _, value = line.partition(" ") if " " in line else line.partition("\t")
        values[key.strip()] = value.strip()
    return values


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_pam_module(text: str, module: str) -> dict[str, str] | None:
    """Arguments of the first active line loading ``module`` in a PAM stack, or None."""
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if module in line:
            args = {}
            for token in line.split()[3:]:
                key, _, value = token.partition("=")
                args[key] = value
            return args
    return None


def password_policy(login_defs: str, pam_password: str | None, pwquality_conf: str | None) -> dict[str, Any]:
    defs = parse_key_values(login_defs)
    policy: dict[str, Any] = {
        "max_age_days": _int(defs.get("PASS_MAX_DAYS")),
        "min_age_days": _int(defs.get("PASS_MIN_DAYS")),
        "min_length": _int(defs.get("PASS_MIN_LEN")),
        "complexity": False,
        "source": "login.defs",
    }
    if policy["max_age_days"] is not None and policy["max_age_days"] >= 99999:
        policy["max_age_days"] = 0  # shadow's "never expires"
    quality = None
    if pam_password is not None:
        quality = parse_pam_module(pam_password, "pam_pwquality.so") or parse_pam_module(
            pam_password, "pam_cracklib.so")
        unix = parse_pam_module(pam_password, "pam_unix.so") or {}
        if "remember" in unix:
            policy["history"] = _int(unix["remember"])
        if "minlen" in unix:
            policy["min_length"] = _int(unix["minlen"])
    if quality is not None:
        conf = parse_key_values(pwquality_conf or "", sep="=")
        merged = {**conf, **quality}  # arguments on the PAM line override the file
        minlen = _int(merged.get("minlen")) or 8  # pam_pwquality's default minlen (pam_pwquality(8))
        policy["min_length"] = minlen
        minclass = _int(merged.get("minclass")) or 0
        credits = [_int(merged.get(k)) or 0 for k in ("dcredit", "ucredit", "lcredit", "ocredit")]
        policy["complexity"] = minclass >= 3 or sum(1 for c in credits if c < 0) >= 3
        policy["source"] = "login.defs+pam_pwquality"
    return policy


def lockout(pam_auth: str | None, faillock_conf: str | None) -> dict[str, Any]:
    if pam_auth is None:
        return {}
    faillock = parse_pam_module(pam_auth, "pam_faillock.so")
    if faillock is not None:
        merged = {**parse_key_values(faillock_conf or "", sep="="), **faillock}
        return {"threshold": _int(merged.get("deny")) or 3,  # faillock.conf(5) default deny = 3
                "duration_minutes": (_int(merged.get("unlock_time")) or 600) // 60,
                "reset_minutes": (_int(merged.get("fail_interval")) or 900) // 60,
                "source": "pam_faillock"}
    tally = parse_pam_module(pam_auth, "pam_tally2.so")
    if tally is not None and "deny" in tally:
        return {"threshold": _int(tally["deny"]), "duration_minutes": (_int(tally.get("unlock_time")) or 0) // 60,
                "source": "pam_tally2"}
    return {"threshold": 0, "source": "pam (no faillock/tally2 module)"}


def _optional(path: str) -> str | None:
    try:
        return read_text(path)
    except ProbeUnsupported:
        return None


def local_admins() -> dict[str, Any]:
    members: dict[str, dict[str, Any]] = {}
    for user in pwd.getpwall():
        if user.pw_uid == 0:
            members[user.pw_name] = {"name": user.pw_name, "kind": "user", "source": "local", "builtin_admin": True}
    for group in ADMIN_GROUPS:
        try:
            entry = grp.getgrnam(group)
        except KeyError:
            continue
        names = set(entry.gr_mem) | {u.pw_name for u in pwd.getpwall() if u.pw_gid == entry.gr_gid}
        for name in sorted(names):
            members.setdefault(name, {"name": name, "kind": "user", "source": "local", "builtin_admin": False})
    facts: dict[str, Any] = {
        "members": list(members.values()),
        "count": sum(1 for m in members.values() if not m["builtin_admin"]),
    }
    try:
        shadow = read_text("/etc/shadow")
        root_hash = next((line.split(":")[1] for line in shadow.splitlines() if line.startswith("root:")), None)
        if root_hash is not None:
            facts["builtin_admin_enabled"] = not root_hash.startswith(("!", "*")) and root_hash != ""
    except ProbeDenied:
        pass  # needs root: builtin_admin_enabled stays unknown
    try:
        nopasswd: list[str] = []
        for path in ["/etc/sudoers", *sorted(glob.glob("/etc/sudoers.d/*"))]:
            nopasswd += parse_sudoers_nopasswd(read_text(path))
        facts["nopasswd_sudo"] = nopasswd
    except ProbeDenied:
        pass
    except ProbeUnsupported:
        facts["nopasswd_sudo"] = []  # no sudo installed: nobody has passwordless sudo
    return facts


def collect_admins() -> Facts:
    return {"hardening.local_admins": local_admins()}


def collect_policy() -> Facts:
    login_defs = read_text("/etc/login.defs")
    pam_password = _optional("/etc/pam.d/common-password") or _optional("/etc/pam.d/system-auth")
    pam_auth = _optional("/etc/pam.d/common-auth") or _optional("/etc/pam.d/system-auth")
    facts: Facts = {
        "hardening.password_policy": password_policy(
            login_defs, pam_password, _optional("/etc/security/pwquality.conf")),
    }
    lock = lockout(pam_auth, _optional("/etc/security/faillock.conf"))
    if lock:
        facts["hardening.lockout"] = lock
    return facts

