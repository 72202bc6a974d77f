"""Evidence read as one short line per PC, from reports/i18n/evidence.<lang>.yaml."""

from __future__ import annotations

import pytest

from secscan.model.result import Outcome, Requirement, Result
from secscan.policy import load_baselines
from secscan.report.evidence import cut, reader


def _result(control: str, evidence: dict, outcome: Outcome = Outcome.failed, reason: str | None = None) -> Result:
    return Result(report_id="r1", host="PC01", unit="u", baseline="b", control_id=control, outcome=outcome,
                  requirement=Requirement.required, level=2, severity="high", evidence=evidence, reason=reason)


AV = {"antivirus.products": [{"name": "Windows Defender", "state": "off", "real_time": False,
                              "signature_age_days": 41, "centrally_managed": None}]}


def test_antivirus_reads_product_state_and_signature_age() -> None:
    assert reader("vi").line(_result("av_installed", AV)) == (
        "Windows Defender, đã tắt, thời gian thực tắt, mẫu nhận diện 41 ngày tuổi")
    assert reader("en").line(_result("av_installed", AV)) == (
        "Windows Defender, off, real-time off, signatures 41 days old")


def test_a_control_may_read_the_same_facts_its_own_way() -> None:
    assert reader("vi").line(_result("av_centrally_managed", AV)) == "Windows Defender"  # managed: unknown, left out
    managed = {"antivirus.products": [dict(AV["antivirus.products"][0], centrally_managed=False)]}
    assert reader("vi").line(_result("av_centrally_managed", managed)) == "Windows Defender, quản lý tập trung: không"


def test_numbers_scalars_lists_and_unknown() -> None:
    vi = reader("vi")
    assert vi.line(_result("patches_recent", {"hardening.patches.days_since_last_patch": 1977.4})) == (
        "bản vá gần nhất cách đây 1.977,4 ngày")
    assert vi.line(_result("smb1_disabled", {"hardening.smb.smb1_server": True, "host.os.family": "windows"})) == (
        "SMBv1 máy chủ bật")
    ports = {"ports": [{"port": 3389, "proto": "tcp", "service": "ms-wbt-server"}] * 6}
    assert vi.line(_result("net_no_vnc", ports)).endswith("và 2 mục khác")
    assert "3389/tcp" in vi.line(_result("net_no_vnc", ports))  # a port is not a quantity: no "3.389"
    assert vi.line(_result("x", {"a.b": None}, Outcome.unknown, "a.b: not observed")) == (
        "chưa xác định được (a.b: not observed)")
    assert vi.line(_result("x", {"some.new_fact": 2.5})) == "new_fact: 2,5"  # no reading: name and value


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_fact_a_shipped_control_reads_has_a_reading(lang: str) -> None:
    r = reader(lang)
    for baseline in load_baselines().values():
        for control in baseline.controls:
            for path, _ in control.evidence:
                assert path in r.facts or path in r.skip, (baseline.id, control.control.id, path)


def test_a_long_line_is_cut_after_a_word() -> None:
    text = "Windows Defender, đã tắt, " * 20
    out = cut(text, 60)
    assert len(out) <= 60 and out.endswith("…")
    assert text.startswith(out[:-1]) and text[len(out) - 1] in " ,"
