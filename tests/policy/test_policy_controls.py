"""Every shipped control, judged on hand-built HostReports: pass, fail and unknown."""

from __future__ import annotations

from typing import Any

import pytest

from secscan.model.result import Outcome
from secscan.policy import default_baseline
from tests.policy.hosts import DELETE, linux, windows

BASELINE = default_baseline()

# control id -> (factory, changes that make it fail, changes that make it unknown)
CASES: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {
    "av_installed": (windows, {"antivirus.products": []}, {"antivirus.products": None}),
    "av_real_time": (windows, {"antivirus.products.0.real_time": False}, {"antivirus.products.0.real_time": None}),
    "av_signatures_current": (windows, {"antivirus.products.0.signature_age_days": 9.0},
                              {"antivirus.products.0.signature_age_days": None,
                               "antivirus.products.0.up_to_date": None}),
    "av_centrally_managed": (windows, {"antivirus.products.0.centrally_managed": False},
                             {"antivirus.products.0.centrally_managed": None}),
    "os_licensed": (windows, {"licences.os.classification": "unlicensed"}, {"licences.os.classification": "unknown"}),
    "office_licensed": (windows, {"licences.office.0.classification": "suspicious"}, {"licences.office": None}),
    "no_activator": (windows, {"licences.activators": [{"kind": "kms_host", "detail": "KeyManagementServiceName="
                                                        "127.0.0.2", "tool": "KMSAuto", "confidence": "high"}]},
                     {"licences.activators": None}),
    "firewall_enabled": (windows, {"hardening.firewall.enabled": False}, {"hardening.firewall": None}),
    "patches_recent": (windows, {"hardening.patches.days_since_last_patch": 120},
                       {"hardening.patches.days_since_last_patch": None}),
    "os_supported": (windows, {"hardening.os_end_of_life.supported": False}, {"hardening.os_end_of_life": None}),
    "updates_automatic": (windows, {"hardening.patches.auto_updates": False}, {"hardening.patches": None}),
    "smb1_disabled": (windows, {"hardening.smb.smb1_client": True}, {"hardening.smb.smb1_client": None}),
    "insecure_services_off": (linux, {"hardening.listening_ports": [{"port": 23, "proto": "tcp",
                                                                     "address": "0.0.0.0"}]},
                              {"hardening.listening_ports": None}),
    "rdp_secure": (windows, {"hardening.rdp.enabled": True, "hardening.rdp.nla_required": False},
                   {"hardening.rdp.enabled": True, "hardening.rdp.nla_required": None}),
    "autorun_disabled": (windows, {"hardening.autorun.disabled_all_drives": False}, {"hardening.autorun": None}),
    "password_length_complexity": (linux, {"hardening.password_policy.min_length": 6},
                                   {"hardening.password_policy.complexity": None}),
    "password_expiry": (windows, {"hardening.password_policy.max_age_days": 0},
                        {"hardening.password_policy.max_age_days": None}),
    "account_lockout": (linux, {"hardening.lockout.threshold": 0}, {"hardening.lockout": None}),
    "builtin_admin_disabled": (linux, {"hardening.local_admins.builtin_admin_enabled": True},
                               {"hardening.local_admins.builtin_admin_enabled": None}),
    "guest_disabled": (windows, {"hardening.local_admins.guest_enabled": True},
                       {"hardening.local_admins.guest_enabled": None}),
    "local_admins_limited": (windows, {"hardening.local_admins.count": 4}, {"hardening.local_admins.count": None}),
    "sudo_nopasswd_none": (linux, {"hardening.local_admins.nopasswd_sudo": ["%admin ALL=(ALL) NOPASSWD: ALL"]},
                           {"hardening.local_admins.nopasswd_sudo": None}),
    "screen_lock": (windows, {"hardening.screen_lock.timeout_seconds": 3600},
                    {"hardening.screen_lock.enabled": None}),
    "remote_tools_absent": (windows, {"hardening.remote_access.tools": [{"name": "UltraViewer", "installed": True}]},
                            {"hardening.remote_access": None}),
    "ssh_root_login_disabled": (linux, {"hardening.ssh.permit_root_login": "yes"},
                                {"hardening.ssh.permit_root_login": None}),
    "disk_encryption": (linux, {"hardening.disk_encryption.system_volume_encrypted": False},
                        {"hardening.disk_encryption": DELETE}),
}


def outcome(doc: dict[str, Any], control_id: str, level: int = 3) -> tuple[Outcome, str | None, dict[str, Any]]:
    verdict = next(v for v in BASELINE.judge(doc, level) if v.control_id == control_id)
    return verdict.outcome, verdict.reason, BASELINE.evidence(doc, control_id)


def test_every_control_has_cases() -> None:
    assert set(CASES) == set(BASELINE.by_id)
    assert len(BASELINE.controls) >= 22


@pytest.mark.parametrize("control_id", sorted(CASES))
def test_pass(control_id: str) -> None:
    factory, _, _ = CASES[control_id]
    assert outcome(factory(), control_id)[0] is Outcome.passed


@pytest.mark.parametrize("control_id", sorted(CASES))
def test_fail(control_id: str) -> None:
    factory, fail, _ = CASES[control_id]
    result, _, evidence = outcome(factory(**fail), control_id)
    assert result is Outcome.failed
    assert evidence  # the facts read are recorded


@pytest.mark.parametrize("control_id", sorted(CASES))
def test_unknown(control_id: str) -> None:
    factory, _, unknown = CASES[control_id]
    result, reason, _ = outcome(factory(**unknown), control_id)
    assert result is Outcome.unknown
    assert reason


def test_unknown_quotes_the_probe() -> None:
    doc = windows(**{"hardening.firewall": None, "probes": [
        {"name": "firewall", "status": "denied", "duration_ms": 3, "error": "Get-NetFirewallProfile needs admin",
         "sections": ["hardening.firewall"]}]})
    result, reason, _ = outcome(doc, "firewall_enabled")
    assert result is Outcome.unknown
    assert reason == "hardening.firewall.enabled: denied (probe firewall): Get-NetFirewallProfile needs admin"


def test_licences_not_applicable_on_linux() -> None:
    for control_id in ("os_licensed", "office_licensed", "no_activator"):
        assert outcome(linux(), control_id)[0] is Outcome.not_applicable


def test_office_not_installed_is_not_applicable() -> None:
    assert outcome(windows(**{"licences.office": []}), "office_licensed")[0] is Outcome.not_applicable


def test_low_confidence_activator_hint_is_unknown_not_pass() -> None:
    doc = windows(**{"licences.activators": [{"kind": "file", "detail": "C:\\Tools\\kms.txt", "confidence": "low"}]})
    assert outcome(doc, "no_activator")[0] is Outcome.unknown


def test_per_level_parameters() -> None:
    doc = windows(**{"antivirus.products.0.signature_age_days": 5.0})
    assert outcome(doc, "av_signatures_current", level=2)[0] is Outcome.passed  # 7 days at level 2
    assert outcome(doc, "av_signatures_current", level=3)[0] is Outcome.failed  # 3 days at level 3


def test_up_to_date_flag_used_when_age_unknown() -> None:
    doc = windows(**{"antivirus.products.0.signature_age_days": None, "antivirus.products.0.up_to_date": False})
    assert outcome(doc, "av_signatures_current")[0] is Outcome.failed


def test_rdp_enabled_with_nla_passes() -> None:
    doc = windows(**{"hardening.rdp.enabled": True, "hardening.rdp.nla_required": True})
    assert outcome(doc, "rdp_secure")[0] is Outcome.passed


def test_requirement_follows_level() -> None:
    doc = windows()
    by_level = {level: {v.control_id: v.requirement.value for v in BASELINE.judge(doc, level)} for level in (1, 3)}
    assert by_level[1]["av_centrally_managed"] == "recommended"
    assert by_level[3]["av_centrally_managed"] == "required"
    assert "account_lockout" not in by_level[1]  # '-' at level 1 and not an indicator: not evaluated


def test_unknown_os_family_gives_unknown_for_os_specific_controls() -> None:
    doc = windows()
    doc["host"]["os"]["family"] = None  # a hostile or broken report, judged as a plain dict
    assert outcome(doc, "smb1_disabled")[0] is Outcome.unknown


def test_defender_listed_but_off_is_no_antivirus() -> None:
    """Windows always lists Defender in Security Center; turned off with nothing else, it protects nothing."""
    from tests.policy.hosts import windows as make

    doc = make()
    doc["antivirus"]["products"] = [{"name": "Windows Defender", "source": "securitycenter2", "state": "off",
                                     "enabled": False, "product_state": 393472}]
    verdicts = {v.control_id: v.outcome for v in BASELINE.judge(doc, 2)}
    assert verdicts["av_installed"] == Outcome.failed
    doc["antivirus"]["products"][0].update(state="unknown", enabled=None)
    assert {v.control_id: v.outcome for v in BASELINE.judge(doc, 2)}["av_installed"] == Outcome.unknown
