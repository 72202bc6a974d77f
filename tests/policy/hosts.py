"""HostReports for the policy tests that pass every control of vn-endpoint-nd85-tt12: the synthetic
fleet's PC with every setting good (``secscan.synth.samples.good_pc``) as its agent reports it, and
the same PC's hardening as a Linux workstation reports it; built through the model so they are
valid reports."""

from __future__ import annotations

import copy
import random
from datetime import datetime
from typing import Any

from secscan.model.host import HostReport
from secscan.synth.report import render_report
from secscan.synth.samples import good_pc

COLLECTED_AT = datetime.fromisoformat("2026-11-20T08:30:00+07:00")


def _good_windows() -> dict[str, Any]:
    doc = render_report(good_pc("van-lang", "VANLANG-PC01", "192.168.10.21"), COLLECTED_AT, random.Random(0))
    # Defender as its own probe (Get-MpComputerStatus) reports it: real_time is then the product's
    # word alone, not Security Center's state, so a test that loses it gets unknown.
    (defender,) = doc["antivirus"]["products"]
    defender["source"] = "defender"
    return doc


_WINDOWS = _good_windows()


def windows(**sections: Any) -> dict[str, Any]:
    return _apply(copy.deepcopy(_WINDOWS), sections)


def linux(**sections: Any) -> dict[str, Any]:
    """The good PC's hardening where Linux has it, with what a Linux agent reports in its place."""
    doc = copy.deepcopy(_WINDOWS)
    doc.pop("licences")  # no Windows or Office licence to judge
    hardening = doc["hardening"]
    for windows_only in ("smb", "rdp", "autorun"):
        hardening.pop(windows_only)
    hardening["firewall"] = {"enabled": True, "backend": "nftables"}
    hardening["local_admins"] = {"members": [{"name": "canbo", "kind": "user", "source": "local"}], "count": 1,
                                 "builtin_admin_enabled": False, "guest_enabled": None, "nopasswd_sudo": []}
    hardening["password_policy"]["source"] = hardening["lockout"]["source"] = "login.defs"
    hardening["listening_ports"] = [{"port": 22, "proto": "tcp", "address": "0.0.0.0", "process": "sshd"}]
    hardening["ssh"] = {"installed": True, "permit_root_login": "no", "password_authentication": False}
    doc.update(
        agent={"version": "0.1.0", "platform": "linux", "source": "agent", "elevated": True},
        unit="hahoa-tckh",
        host={"hostname": "tckh-ubuntu", "role": "workstation",
              "os": {"family": "linux", "name": "Ubuntu 24.04 LTS", "version": "24.04"},
              "interfaces": [{"ipv4": ["10.23.2.15"]}]},
        antivirus={"products": [{"name": "ClamAV", "source": "clamav", "enabled": True, "real_time": True,
                                 "signature_age_days": 1.2, "centrally_managed": True}]},
        probes=[{"name": "linux-agent", "status": "ok", "duration_ms": 800.0,
                 "sections": ["host", "antivirus", "hardening"]}],
    )
    return _apply(doc, sections)


def _apply(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``windows(**{"hardening.rdp.enabled": True})``: set dotted paths; ``DELETE`` removes a key."""
    for path, value in changes.items():
        set_path(doc, path, value)
    return HostReport.model_validate(doc).to_document()


DELETE = object()


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
