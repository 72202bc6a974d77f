"""Section parsers on their own: password policy (secedit, net accounts in English, Vietnamese and an
unknown language), KMS hosts, hosts file, and garbage in one section."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.agent.windows import activators, decode_capture, licensing, password_policy
from secscan.model.common import ProbeStatus
from tests.agent.windows.conftest import CAPTURES

SECEDIT = ("[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nMinimumPasswordAge = 1\r\nMaximumPasswordAge = -1\r\n"
           "MinimumPasswordLength = 12\r\nPasswordComplexity = 0\r\nPasswordHistorySize = 24\r\n"
           "LockoutBadCount = 0\r\n[Event Audit]\r\nMinimumPasswordLength = 99\r\n")


@pytest.mark.parametrize("encode", [
    lambda t: b"\xff\xfe" + t.encode("utf-16-le"),  # what secedit writes
    lambda t: t.encode("utf-16-le"),  # no BOM
    lambda t: t.encode("utf-8"),
])
def test_secedit_export(encode: Any) -> None:
    blob = base64.b64encode(encode(SECEDIT)).decode()
    (pw, lock), unread = password_policy.parse_secedit({"inf_base64": blob})
    assert unread == []  # no LockoutDuration/ResetLockoutCount: lockout is off (LockoutBadCount = 0)
    assert (pw["min_length"], pw["max_age_days"], pw["min_age_days"], pw["complexity"], pw["history"]) == (
        12, 0, 1, False, 24)  # -1: never expires, recorded as 0; [Event Audit] is not [System Access]
    assert lock["threshold"] == 0 and lock["duration_minutes"] is None


@pytest.mark.parametrize("blob", ["not base64!!", base64.b64encode(b"\xff\xfe\x00\xd8").decode(),
                                  base64.b64encode("[Version]\r\n".encode("utf-16")).decode()])
def test_secedit_garbage_raises(blob: str) -> None:
    with pytest.raises(ValueError):
        password_policy.parse_secedit({"inf_base64": blob})


def test_net_accounts_english() -> None:
    from tests.fixtures.windows.base_capture import NET_ACCOUNTS_EN

    (pw, lock), unread = password_policy.parse_net_accounts({"lines": NET_ACCOUNTS_EN})
    assert pw["source"] == "net_accounts" and unread == []
    assert (pw["min_length"], pw["max_age_days"], pw["history"]) == (0, 42, 0)
    assert (lock["threshold"], lock["duration_minutes"], lock["reset_minutes"]) == (0, 30, 30)


def test_net_accounts_unknown_language_uses_the_line_order() -> None:
    lines = ["Erzwungene Abmeldung nach Ablauf der Anmeldezeit?:      Nie",
             "Minimales Kennwortalter (Tage):                          2",
             "Maximales Kennwortalter (Tage):                          60",
             "Minimale Kennwortlänge:                                  10",
             "Länge der Kennwortchronik:                               Keine",
             "Sperrschwelle:                                           3",
             "Sperrdauer (Minuten):                                    20",
             "Zurücksetzungsdauer des Sperrzählers (Minuten):          25",
             "Computerrolle:                                           ARBEITSSTATION",
             "Der Befehl wurde erfolgreich ausgeführt."]
    (pw, lock), unread = password_policy.parse_net_accounts({"lines": lines})
    assert pw["source"] == "net_accounts:order" and unread == []
    assert (pw["min_age_days"], pw["max_age_days"], pw["min_length"], pw["history"]) == (2, 60, 10, 0)
    assert (lock["threshold"], lock["duration_minutes"], lock["reset_minutes"]) == (3, 20, 25)


@pytest.mark.parametrize("lines", [[], ["System error 5 has occurred.", "Access is denied."], "not a list"])
def test_net_accounts_garbage_raises(lines: Any) -> None:
    with pytest.raises(ValueError):
        password_policy.parse_net_accounts({"lines": lines})


@pytest.mark.parametrize(("host", "verdict", "tool"), [
    ("kms01.sotttt.example.gov.vn", "allowed", None),
    ("kms02.SOTTTT.example.gov.vn:1688", "allowed", None),  # ".example.gov.vn" domain entry, port stripped
    ("127.0.0.2", "crack", "MAS KMS38"),
    ("127.0.0.9", "crack", "KMS emulator"),
    ("172.16.0.2", "crack", "KMS_VL_ALL"),
    ("10.3.0.7", "crack", "KMSAuto"),
    ("kms.03k.org", "crack", "public KMS"),
    ("42.193.139.78", "crack", "public KMS"),
    ("192.168.10.5", "private", None),
    ("kms.unknown-domain.vn", "unknown", None),
])
def test_kms_judge(host: str, verdict: str, tool: str | None) -> None:
    judge = licensing.KmsJudge(["kms01.sotttt.example.gov.vn", ".example.gov.vn"])
    got, _, got_tool, _ = judge.judge(host)
    assert (got, got_tool) == (verdict, tool)


def test_hosts_file_blocks() -> None:
    found = activators.parse_hosts({"lines": [
        "127.0.0.1 localhost", "0.0.0.0 validation.sls.microsoft.com activation.sls.microsoft.com # crack",
        "10.0.0.5 kaspersky.com", "127.0.0.1 www.virustotal.com", "0.0.0.0"]})
    assert [e["detail"] for e in found] == [
        "hosts file blocks validation.sls.microsoft.com, activation.sls.microsoft.com (0.0.0.0)",
        "hosts file blocks www.virustotal.com (127.0.0.1)"]


def _capture(name: str = "win10_defender_only") -> dict[str, Any]:
    return json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("section", "garbage", "fact"), [
    ("firewall", {"source": "Get-NetFirewallProfile", "profiles": [{"name": "Domain", "enabled": "perhaps"}]},
     lambda r: r.hardening.firewall),
    # hardening.patches still carries auto_updates from the windows_update section
    ("hotfixes", {"hotfixes": "KB1"},
     lambda r: r.hardening.patches and (r.hardening.patches.hotfixes or r.hardening.patches.last_patch_at)),
    ("windows_update", {"policy_au": {"AUOptions": "sometimes"}},
     lambda r: r.hardening.patches and r.hardening.patches.auto_updates),
    ("listening_ports", {"source": "netstat", "netstat": ["  TCP    0.0.0.0:http   0.0.0.0:0   LISTENING   4"]},
     lambda r: r.hardening.listening_ports),
    ("bitlocker", {"volumes": [{"DriveLetter": "C:", "ProtectionStatus": "on-ish"}]},
     lambda r: r.hardening.disk_encryption),
    ("licensing", {"products": [{"Name": "Windows", "ApplicationID": licensing.WINDOWS_APP, "LicenseStatus": 9}]},
     lambda r: r.licences.os),
    ("system", {"hostname": None}, lambda r: r.hardening.os_end_of_life),
    ("defender", [1, 2, 3], lambda r: [p for p in r.antivirus.products or [] if p.source == "defender"] or None),
    ("secedit", {"inf_base64": "%%%"}, lambda r: r.hardening.password_policy if
     r.hardening.password_policy and r.hardening.password_policy.source == "secedit" else None),
])
def test_garbage_in_one_section_is_an_error_and_an_unknown(section: str, garbage: Any, fact: Any) -> None:
    cap = _capture()
    cap["sections"][section]["data"] = garbage
    report = decode_capture(json.dumps(cap))
    record = next(p for p in report.probes if p.name == f"windows.{section}")
    assert record.status == ProbeStatus.error and record.error and section in record.error
    assert fact(report) is None
    # Everything else is still there.
    assert report.hardening.rdp and report.hardening.rdp.enabled is False


def test_password_policy_falls_back_to_net_accounts_when_secedit_is_unreadable() -> None:
    cap = _capture()
    cap["sections"]["secedit"]["data"] = {"inf_base64": "%%%"}
    report = decode_capture(json.dumps(cap))
    assert report.hardening.password_policy and report.hardening.password_policy.source == "net_accounts"


def test_a_section_missing_from_the_capture_is_recorded() -> None:
    cap = _capture()
    del cap["sections"]["smb"]
    report = decode_capture(json.dumps(cap))
    record = next(p for p in report.probes if p.name == "windows.smb")
    assert record.status == ProbeStatus.error and record.error == "section not in the capture"
    assert report.hardening.smb is None


def test_a_failed_securitycenter2_does_not_claim_no_antivirus() -> None:
    cap = _capture()
    cap["sections"]["securitycenter2"] = {"status": "denied", "error": "Access denied", "ms": 3, "data": None}
    cap["sections"]["defender"] = {"status": "error", "error": "0x800106ba", "ms": 3, "data": None}
    cap["sections"]["services"]["data"] = {"services": []}
    cap["sections"]["processes"]["data"] = {"processes": []}
    report = decode_capture(json.dumps(cap))
    assert report.antivirus.products is None  # unknown, not "no anti-virus"
    cap["sections"]["securitycenter2"] = {"status": "ok", "error": None, "ms": 3,
                                          "data": {"antivirus": [], "firewall": []}}
    assert decode_capture(json.dumps(cap)).antivirus.products == []  # every source answered: none found


def _licence(channel: str, description: str, key: str = "ABCDE", status: int = 1) -> dict[str, Any]:
    return {"Name": "Office 16, Office16O365ProPlusR_Subscription1 edition", "Description": description,
            "ApplicationID": licensing.OFFICE_APP, "PartialProductKey": key, "ProductKeyChannel": channel,
            "LicenseStatus": status, "GracePeriodRemaining": 0}


@pytest.mark.parametrize(("item", "expected"), [
    (_licence("Retail", "Office 16, TIMEBASED_SUB channel"), ("genuine", "medium")),
    (_licence("", "Office 16, TIMEBASED_SUB channel"), ("genuine", "medium")),  # no channel: from the description
    (_licence("Retail", "Office 16, RETAIL channel", status=5), ("unlicensed", "high")),
    (_licence("Volume:GVLK", "Office 16, VOLUME_KMSCLIENT channel"), ("unknown", "low")),  # no KMS host on record
])
def test_office_classification(item: dict[str, Any], expected: tuple[str, str]) -> None:
    _, office = licensing.parse_products({"products": [item]}, None)
    assert office
    licensing.classify(office[0], judge=licensing.KmsJudge(), registry_hosts={}, oa3_last5=None,
                       machine_evidence=[], checks_incomplete=[])
    assert (office[0]["classification"], office[0]["confidence"]) == expected


def test_machine_evidence_counts_only_for_the_products_the_tool_activates() -> None:
    ohook = {"kind": "file", "detail": "C:\\Program Files\\Microsoft Office\\root\\vfs\\System\\sppc64.dll",
             "tool": "MAS Ohook", "confidence": "high"}
    win, office = licensing.parse_products({"products": [
        {"Name": "Windows(R), Professional edition", "Description": "Windows(R) Operating System, OEM_DM channel",
         "ApplicationID": licensing.WINDOWS_APP, "PartialProductKey": "7XRCQ", "LicenseStatus": 1},
        _licence("Retail", "Office 16, RETAIL channel", status=5)]}, None)
    assert win and office
    for lic in (win, office[0]):
        licensing.classify(lic, judge=licensing.KmsJudge(), registry_hosts={}, oa3_last5="7XRCQ",
                           machine_evidence=[ohook], checks_incomplete=[])
    assert (win["classification"], win["confidence"]) == ("genuine", "high")  # Ohook touches Office only
    assert office[0]["classification"] == "unlicensed" and ohook["detail"] in office[0]["evidence"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(section=st.sampled_from(sorted(_capture()["sections"])), value=json_values)
def test_any_garbage_in_a_section_never_escapes(section: str, value: Any) -> None:
    cap = _capture()
    cap["sections"][section]["data"] = value
    report = decode_capture(json.dumps(cap))
    record = next(p for p in report.probes if p.name == f"windows.{section}")
    assert record.status in (ProbeStatus.ok, ProbeStatus.error, ProbeStatus.unsupported)
