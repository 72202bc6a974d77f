"""Property: making any fact unknown (null, or removing it) never turns a fail — or anything
that was not a pass — into a pass, and never hides a fail as not_applicable."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.model.host import HostReport
from secscan.model.result import Outcome
from secscan.policy import judge_document, load_baselines, load_org

BASELINES = list(load_baselines().values())  # every shipped baseline
ORG = load_org(Path(__file__).resolve().parents[2] / "examples" / "org.yaml")

maybe_bool = st.none() | st.booleans()


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


product = st.fixed_dictionaries({
    "name": st.sampled_from(["Microsoft Defender Antivirus", "BKAV Pro", "Kaspersky Endpoint Security", "ClamAV"]),
    "source": st.sampled_from(["securitycenter2", "defender", "clamav", "service"]),
    "state": st.sampled_from(["on", "off", "snoozed", "expired", "unknown"]),
    "enabled": maybe_bool, "real_time": maybe_bool, "up_to_date": maybe_bool,
    "signature_age_days": maybe(st.floats(min_value=0, max_value=400, allow_nan=False)),
    "centrally_managed": maybe_bool,
})
licence = st.fixed_dictionaries({
    "product": st.just("Windows(R), Professional edition"),
    "classification": st.sampled_from(["genuine", "suspicious", "unlicensed", "unknown"]),
})
activator = st.fixed_dictionaries({
    "kind": st.sampled_from(["kms_host", "service", "task", "file"]), "detail": st.just("x"),
    "confidence": st.sampled_from(["high", "medium", "low"]),
})
tool = st.fixed_dictionaries({"name": st.sampled_from(["UltraViewer", "TeamViewer", "AnyDesk"]),
                              "installed": maybe_bool, "running": maybe_bool})
small = maybe(st.integers(min_value=0, max_value=30))

hardening = st.fixed_dictionaries({
    "firewall": maybe(st.fixed_dictionaries({"enabled": maybe_bool})),
    "patches": maybe(st.fixed_dictionaries({
        "days_since_last_patch": maybe(st.floats(min_value=0, max_value=900, allow_nan=False)),
        "auto_updates": maybe_bool})),
    "os_end_of_life": maybe(st.fixed_dictionaries({"supported": maybe_bool})),
    "smb": maybe(st.fixed_dictionaries({"smb1_server": maybe_bool, "smb1_client": maybe_bool})),
    "rdp": maybe(st.fixed_dictionaries({"enabled": maybe_bool, "nla_required": maybe_bool})),
    "autorun": maybe(st.fixed_dictionaries({"disabled_all_drives": maybe_bool})),
    "local_admins": maybe(st.fixed_dictionaries({
        "count": small, "builtin_admin_enabled": maybe_bool, "guest_enabled": maybe_bool,
        "nopasswd_sudo": maybe(st.lists(st.just("%sudo ALL=(ALL) NOPASSWD: ALL"), max_size=2))})),
    "password_policy": maybe(st.fixed_dictionaries({"min_length": small, "max_age_days": maybe(
        st.integers(min_value=0, max_value=400)), "complexity": maybe_bool})),
    "lockout": maybe(st.fixed_dictionaries({"threshold": small})),
    "disk_encryption": maybe(st.fixed_dictionaries({"system_volume_encrypted": maybe_bool})),
    "screen_lock": maybe(st.fixed_dictionaries({"enabled": maybe_bool, "timeout_seconds": maybe(
        st.integers(min_value=0, max_value=7200))})),
    "remote_access": maybe(st.fixed_dictionaries({"tools": st.lists(tool, max_size=2)})),
    "listening_ports": maybe(st.lists(st.fixed_dictionaries({
        "port": st.sampled_from([22, 23, 80, 445, 3389]), "proto": st.just("tcp"), "address": st.just("0.0.0.0")}),
        max_size=3)),
    "ssh": maybe(st.fixed_dictionaries({"installed": maybe_bool, "permit_root_login": maybe(
        st.sampled_from(["yes", "no", "prohibit-password"]))})),
})

report = st.fixed_dictionaries({
    "report_id": st.just("6f1c2a52-3f7e-4a51-9d0e-6f0a2b7c9d10"),
    "collected_at": st.just("2026-11-20T08:30:00+07:00"),
    "agent": st.just({"version": "0.1.0", "platform": "windows"}),
    "host": st.fixed_dictionaries({"hostname": st.just("PC"), "role": maybe(st.sampled_from(["workstation", "server"])),
                                   "os": st.fixed_dictionaries({"family": st.sampled_from(["windows", "linux"])})}),
    "antivirus": st.fixed_dictionaries({"products": maybe(st.lists(product, max_size=3))}),
    "licences": st.fixed_dictionaries({"os": maybe(licence), "office": maybe(st.lists(licence, max_size=2)),
                                       "activators": maybe(st.lists(activator, max_size=2))}),
    "hardening": hardening,
})


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key / list index in the facts sections: each is a fact that can become unknown."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out += paths(value, (*prefix, i))
    return out


def knock_out(doc: dict[str, Any], path: tuple, remove: bool) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if remove and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = None
    return doc


def declared_fallback(doc: dict[str, Any], path: tuple) -> bool:
    """A fact whose absence the policy answers with another collected fact, by design: without a
    product's signature age, its vendor's own up-to-date flag (Security Center) decides
    av_signatures_current (docs/policy.md). Knocking out the age while that flag stays is not an
    unknown fact turning into a pass but the other fact deciding."""
    if len(path) == 4 and path[:2] == ("antivirus", "products") and path[3] == "signature_age_days":
        return doc["antivirus"]["products"][path[2]].get("up_to_date") is not None
    return False


def outcomes(doc: dict[str, Any], level: int) -> dict[tuple[str, str], Outcome]:
    return {(b.id, v.control_id): v.outcome for b in BASELINES for v in b.judge(doc, level)}


@settings(max_examples=int(os.environ.get("SECSCAN_PROPERTY_EXAMPLES", "150")), deadline=None)
@given(report, st.data(), st.integers(min_value=1, max_value=5), st.booleans())
def test_unknown_fact_never_makes_a_pass(raw: dict[str, Any], data: st.DataObject, level: int, remove: bool) -> None:
    doc = HostReport.model_validate(raw).to_document()
    candidates = [p for p in paths(doc) if p[0] in ("antivirus", "licences", "hardening", "host")
                  and not declared_fallback(doc, p)]
    path = data.draw(st.sampled_from(candidates))
    before = outcomes(doc, level)
    after = outcomes(knock_out(doc, path, remove), level)
    for control_id, outcome in after.items():
        was = before.get(control_id)
        if outcome is Outcome.passed:
            assert was is Outcome.passed, f"{control_id}: {was} became pass when {'.'.join(map(str, path))} unknown"
        if was is Outcome.failed:
            assert outcome in (Outcome.failed, Outcome.unknown), f"{control_id}: fail became {outcome}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "on", "windows", "linux", "genuine", "high", "yes", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["host", "os", "family", "role", "antivirus", "products", "licences", "office", "os",
                         "activators", "hardening", "firewall", "enabled", "patches", "days_since_last_patch",
                         "probes", "sections", "name", "status", "real_time", "classification", "confidence",
                         "ports", "port", "tools", "installed", "listening_ports", "local_admins", "count", "ssh"]),
        inner, max_size=5),
    max_leaves=40)


@settings(max_examples=int(os.environ.get("SECSCAN_PROPERTY_EXAMPLES", "150")), deadline=None)
@given(st.dictionaries(st.sampled_from(["host", "antivirus", "licences", "hardening", "probes", "unit"]),
                       json_values, max_size=6), st.integers(min_value=1, max_value=5))
def test_garbage_documents_never_raise(doc: dict[str, Any], level: int) -> None:
    """judge() runs on unvalidated dictionaries in bulk paths: any JSON shape gives verdicts."""
    judge_document(doc, ORG, BASELINES[0])
    for baseline in BASELINES:
        for verdict in baseline.judge(doc, level):
            assert verdict.outcome in Outcome
        baseline.judge_scan_host(doc, level)
        for compiled in baseline.controls:
            baseline.evidence(doc, compiled.id)


def test_no_antivirus_entry_turns_a_fail_into_a_pass_when_it_becomes_unknown():
    """Exhaustive over two products' Security Center state × enabled flag (the case hypothesis
    found: enabled true with state off read as both working and not working, so when the other
    entry became unknown, fail-wins no longer applied and the host passed)."""
    variants = [{"name": "Microsoft Defender Antivirus", "source": "securitycenter2", "state": state,
                 "enabled": enabled}
                for state in ("on", "off", "expired", "snoozed", "unknown") for enabled in (True, False, None)]
    base = {"report_id": "6f1c2a52-3f7e-4a51-9d0e-6f0a2b7c9d10", "collected_at": "2026-11-20T08:30:00+07:00",
            "agent": {"version": "0.1.0", "platform": "windows"}, "unit": "van-lang",
            "host": {"hostname": "PC", "os": {"family": "windows"}}}
    for first in variants:
        for second in variants:
            doc = HostReport.model_validate({**base, "antivirus": {"products": [first, second]}}).to_document()
            before = outcomes(doc, 2)
            for index in (0, 1):
                after = outcomes(knock_out(doc, ("antivirus", "products", index), False), 2)
                for control_id, outcome in after.items():
                    if outcome is Outcome.passed:
                        assert before[control_id] is Outcome.passed, (control_id, first, second, index)
