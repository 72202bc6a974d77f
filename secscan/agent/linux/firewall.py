"""Host firewall on Linux: nftables, ufw, firewalld, iptables.

As root the ruleset itself is read (nft -j, iptables -S). Without root only configuration and
service state are visible (ufw.conf, firewalld running, nftables.service active); when none of
them answers, the probe is ``denied`` rather than guessing "off".
"""

from __future__ import annotations

import json
import os
from typing import Any

from secscan.agent._exec import read_text, run, which
from secscan.agent.errors import ProbeDenied, ProbeFailure
from secscan.agent.linux.processes import running_names
from secscan.agent.runner import Facts


def parse_nft_json(text: str) -> dict[str, Any]:
    """Decide from `nft -j list ruleset` whether inbound traffic is filtered: some base chain on
    the input hook drops by default, or holds a drop/reject rule."""
    doc = json.loads(text)
    items = doc.get("nftables") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ValueError("nft JSON has no 'nftables' list")
    input_chains: list[dict[str, Any]] = []
    dropping_chains: set[tuple[str, str, str]] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        chain = item.get("chain")
        if isinstance(chain, dict) and chain.get("hook") == "input":
            input_chains.append(chain)
        rule = item.get("rule")
        if isinstance(rule, dict):
            verdicts = json.dumps(rule.get("expr", []))
            if '"drop"' in verdicts or '"reject"' in verdicts:
                dropping_chains.add((str(rule.get("family")), str(rule.get("table")), str(rule.get("chain"))))
    filtering = any(
        c.get("policy") == "drop" or (str(c.get("family")), str(c.get("table")), str(c.get("name"))) in dropping_chains
        for c in input_chains
    )
    return {"enabled": filtering, "backend": "nftables",
            "raw": {"input_chains": [f"{c.get('family')} {c.get('table')} {c.get('name')} policy={c.get('policy')}"
                                     for c in input_chains][:20]}}


def parse_ufw_status(text: str) -> dict[str, Any]:
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first.startswith("Status:"):
        raise ValueError(f"unexpected ufw output: {first[:80]!r}")
    active = first.split(":", 1)[1].strip() == "active"
    default_in = None
    for line in text.splitlines():
        if line.startswith("Default:"):
            default_in = line.split(":", 1)[1].split(",")[0].strip()  # "deny (incoming)"
    profile = {"name": "ufw", "enabled": active, "default_inbound": default_in}
    return {"enabled": active, "backend": "ufw", "profiles": [profile]}


def parse_ufw_conf(text: str) -> bool | None:
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key == "ENABLED":
            return value.strip().strip('"').lower() == "yes"
    return None


def parse_iptables_s(text: str) -> dict[str, Any]:
    """`iptables -S INPUT`: filtering when the policy is DROP or a rule jumps to DROP/REJECT."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    policy = next((p[2] for p in lines if len(p) >= 3 and p[0] == "-P" and p[1] == "INPUT"), None)
    if policy is None:
        raise ValueError("iptables output has no INPUT policy line")
    rejecting = any("-j" in p and p[p.index("-j") + 1 : p.index("-j") + 2] in (["DROP"], ["REJECT"]) for p in lines)
    return {"enabled": policy == "DROP" or rejecting, "backend": "iptables", "raw": {"input_policy": policy}}


def _as_root() -> dict[str, Any] | None:
    if which("ufw"):
        out = run(["ufw", "status", "verbose"])
        if out.returncode == 0 and out.stdout.startswith("Status:"):
            result = parse_ufw_status(out.stdout)
            if result["enabled"]:
                return result
    if which("nft"):
        out = run(["nft", "-j", "list", "ruleset"])
        if out.returncode == 0 and out.stdout.strip():
            return parse_nft_json(out.stdout)
    for tool in ("iptables", "iptables-legacy"):
        if which(tool):
            out = run([tool, "-S", "INPUT"])
            if out.returncode == 0:
                return parse_iptables_s(out.stdout)
    return None


def _unprivileged() -> dict[str, Any] | None:
    try:
        enabled = parse_ufw_conf(read_text("/etc/ufw/ufw.conf"))
        if enabled:
            return {"enabled": True, "backend": "ufw", "raw": {"from": "/etc/ufw/ufw.conf"}}
    except ProbeFailure:
        pass
    if "firewalld" in running_names():
        return {"enabled": True, "backend": "firewalld", "raw": {"from": "firewalld process running"}}
    if which("systemctl"):
        out = run(["systemctl", "is-active", "nftables.service"], timeout=3)
        if out.stdout.strip() == "active":
            return {"enabled": True, "backend": "nftables", "raw": {"from": "nftables.service active"}}
    return None


def collect() -> Facts:
    if os.geteuid() == 0:
        result = _as_root()
        if result is None:
            # Root, yet no tool answered: no firewall software at all is a fact, not an unknown.
            if not any(which(t) for t in ("nft", "iptables", "iptables-legacy", "ufw", "firewall-cmd")):
                return {"hardening.firewall": {"enabled": False, "backend": None,
                                               "raw": {"note": "no nft, iptables, ufw or firewalld installed"}}}
            raise ProbeFailure("firewall tools present but none returned a ruleset")
        return {"hardening.firewall": result}
    result = _unprivileged()
    if result is None:
        raise ProbeDenied("reading the nftables/iptables ruleset needs root; ufw, firewalld and "
                          "nftables.service show no active firewall")
    return {"hardening.firewall": result}
