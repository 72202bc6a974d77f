"""OpenSSH server settings that matter: PermitRootLogin and PasswordAuthentication.

sshd uses the FIRST value it reads for a keyword, and `Include` pulls files in at that point
(sshd_config(5)); unset keywords take OpenSSH's defaults (prohibit-password since 7.0; yes).
"""

from __future__ import annotations

import glob
import os
from typing import Any

from secscan.agent._exec import read_text, which
from secscan.agent.errors import ProbeUnsupported
from secscan.agent.runner import Facts

DEFAULTS = {"permitrootlogin": "prohibit-password", "passwordauthentication": "yes"}


def effective(files: list[str], reader=read_text, depth: int = 0) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """First-value-wins over the config files, following Include (global section only)."""
    seen: dict[str, str] = {}
    for path in files:
        text = reader(path)
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.replace("=", " ", 1).split(None, 1)
            key = parts[0].lower()
            value = parts[1].strip() if len(parts) > 1 else ""
            if key == "match":
                break  # Match blocks apply to some connections only; the global value is what counts
            if key == "include" and depth < 8:
                pattern = value if os.path.isabs(value) else os.path.join("/etc/ssh", value)
                for key2, value2 in effective(sorted(glob.glob(pattern)), reader, depth + 1).items():
                    seen.setdefault(key2, value2)
            elif key in DEFAULTS:
                seen.setdefault(key, value.lower())
    return seen


def parse(values: dict[str, str]) -> dict[str, Any]:
    merged = {**DEFAULTS, **values}
    return {"installed": True, "permit_root_login": merged["permitrootlogin"],
            "password_authentication": merged["passwordauthentication"] == "yes"}


def collect() -> Facts:
    if not which("sshd") and not os.path.exists("/etc/ssh/sshd_config"):
        return {"hardening.ssh": {"installed": False}}
    if not os.path.exists("/etc/ssh/sshd_config"):
        raise ProbeUnsupported("sshd installed but /etc/ssh/sshd_config missing")
    return {"hardening.ssh": parse(effective(["/etc/ssh/sshd_config"]))}
