"""Placement, levels, summaries, the 2026 baseline, scan-host controls and `secscan evaluate`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from click.testing import CliRunner

from secscan.model.result import Outcome, Requirement
from secscan.policy import (
    default_baseline,
    evaluate_host,
    evaluate_reports,
    evaluate_scan,
    load_baseline,
    load_baselines,
    load_org,
    place_host,
    summarise,
)
from secscan.policy.cli import evaluate
from tests.policy.hosts import linux, windows

ROOT = Path(__file__).resolve().parents[2]
ORG = load_org(ROOT / "examples" / "org.yaml")
BASELINE = default_baseline()


def new_id() -> str:
    return str(uuid.uuid4())


def test_levels_from_the_decision() -> None:
    assert ORG.level_of("van-lang") == 3  # LAN (2) and one-stop shop (3): the highest wins
    assert ORG.level_of("vinh-chan") == 2
    assert "215/QĐ-UBND" in ORG.level_basis("van-lang")


def test_place_by_report_unit_then_by_network() -> None:
    assert place_host(windows(), ORG) == ("van-lang", "unit named in the report")
    doc = windows(unit=None, **{"host.interfaces": [{"ipv4": ["10.23.2.77"]}]})
    assert place_host(doc, ORG)[0] == "hahoa-tckh"  # the department's /24 beats the district's /16
    doc = windows(unit="khong-co", **{"host.interfaces": [{"ipv4": ["10.23.99.1"]}]})
    assert place_host(doc, ORG)[0] == "hahoa"
    unit, why = place_host(windows(unit=None, **{"host.interfaces": [{"ipv4": ["8.8.8.8"]}]}), ORG)
    assert unit is None and "no interface address" in why


def test_evaluate_host_results_carry_level_and_evidence() -> None:
    results = evaluate_host(windows(**{"hardening.firewall.enabled": False}), ORG, BASELINE)
    fw = next(r for r in results if r.control_id == "firewall_enabled")
    assert (fw.unit, fw.level, fw.requirement, fw.outcome) == ("van-lang", 3, Requirement.required, Outcome.failed)
    assert fw.evidence == {"hardening.firewall.enabled": False}
    assert fw.host == "VANLANG-PC01"


def test_summary_score_unknown_apart_and_indicators() -> None:
    good = windows(report_id=new_id())
    bad = windows(report_id=new_id(), **{"host.hostname": "VANLANG-PC02", "antivirus.products": [],
                                         "licences.os.classification": "unlicensed",
                                         "licences.activators": [{"kind": "kms_host", "detail": "127.0.0.2",
                                                                  "confidence": "high"}]})
    blind = windows(report_id=new_id(), **{"host.hostname": "VANLANG-PC03", "hardening.firewall": None})
    lost = windows(report_id=new_id(), unit=None, **{"host.interfaces": [{"ipv4": ["8.8.8.8"]}]})
    results, unplaced = evaluate_reports([good, bad, blind, lost], ORG, BASELINE)
    summary = summarise(results, ORG, BASELINE, unplaced)
    (unit,) = summary.units
    assert unit.unit == "van-lang" and unit.hosts == 3 and unit.level == 3
    assert unit.required.unknown == 1  # the firewall of PC03
    # score over required controls only, unknown outside it
    assert unit.score == unit.required.passed / (unit.required.passed + unit.required.failed)
    assert unit.hosts_compliant == 1
    indicators = {i.indicator_id: i for i in unit.indicators}
    assert (indicators["antivirus"].count, indicators["antivirus"].judged) == (2, 3)
    assert indicators["windows_licensed"].share == 2 / 3
    assert (indicators["activator_found"].count, indicators["activator_found"].share) == (1, 1 / 3)
    fw = next(c for c in unit.controls if c.control_id == "firewall_enabled")
    assert fw.unknown_hosts == ["VANLANG-PC03"]
    assert [u.host for u in summary.unplaced] == ["VANLANG-PC01"]
    assert summary.total.hosts == 3
    (district,) = summary.subtrees  # hahoa: itself and its communes
    assert (district.unit, district.hosts, district.level) == ("hahoa", 3, None)


def test_subtrees_roll_up_the_tree() -> None:
    docs = [windows(report_id=new_id(), unit=unit, **{"host.hostname": f"PC-{i}"})
            for i, unit in enumerate(["van-lang", "vinh-chan", "hahoa-vp", "hahoa"])]
    results, _ = evaluate_reports(docs, ORG, BASELINE)
    summary = summarise(results, ORG, BASELINE)
    assert [u.unit for u in summary.units] == ["hahoa", "hahoa-vp", "van-lang", "vinh-chan"]
    (district,) = summary.subtrees
    assert district.hosts == 4 == summary.total.hosts
    assert district.required.passed == sum(u.required.passed for u in summary.units)


def test_2026_baseline_is_not_cumulative_and_differs_by_level() -> None:
    baselines = load_baselines()
    new = baselines["vn-endpoint-nd331-tcvn14423"]
    assert new.baseline.cumulative is False and BASELINE.baseline.cumulative is True
    old_l1 = {v.control_id: v.requirement for v in BASELINE.judge(windows(), 1)}
    new_l1 = {v.control_id: v.requirement for v in new.judge(windows(), 1)}
    assert old_l1["screen_lock"] is Requirement.recommended and new_l1["screen_lock"] is Requirement.required
    assert all(not c.verified for k in new.controls for c in k.control.citations)


def test_scan_host_controls(tmp_path: Path) -> None:
    policy = tmp_path / "net.yaml"
    policy.write_text("""\
schema: secscan.baseline/1
id: test-network
version: "1"
title: {vi: Kiểm tra qua quét mạng}
regulation: [TT 12/2022/TT-BTTTT]
cumulative: true
controls:
  - id: net_no_telnet
    title: {vi: Không mở Telnet}
    problem: {vi: Đang mở Telnet, en: Telnet open}
    rationale: {vi: Telnet truyền mật khẩu không mã hóa}
    remediation: {vi: Tắt Telnet}
    severity: high
    levels: {1: required, 2: required, 3: required, 4: required, 5: required}
    applies_to: {subject: scan_host}
    pass: "length(ports[?port == `23` && state == 'open']) == `0`"
    fail: "length(ports[?port == `23` && state == 'open']) > `0`"
""", encoding="utf-8")
    baseline = load_baseline(policy)
    scan = {"schema": "secscan.scan-report/1", "scan_id": new_id(), "unit": None, "targets": ["192.168.10.0/24"],
            "nmap": {"args": "nmap -sT"}, "started_at": "2026-11-20T08:00:00+07:00",
            "finished_at": "2026-11-20T08:05:00+07:00",
            "hosts": [{"ip": "192.168.10.5", "ports": [{"port": 23, "proto": "tcp", "state": "open"}]},
                      {"ip": "192.168.10.6", "ports": [{"port": 80, "proto": "tcp", "state": "open"}]},
                      {"ip": "172.16.0.9", "ports": []}]}
    results = evaluate_scan(scan, ORG, baseline)
    assert [(r.host, r.unit, r.level, r.outcome) for r in results] == [
        ("192.168.10.5", "van-lang", 3, Outcome.failed), ("192.168.10.6", "van-lang", 3, Outcome.passed)]
    assert summarise(results, ORG, baseline).units[0].hosts == 2


def test_scan_host_paths_are_linted_against_the_scan_schema(tmp_path: Path) -> None:
    from secscan.policy import lint_baseline_file

    policy = tmp_path / "net.yaml"
    policy.write_text("""\
schema: secscan.baseline/1
id: test-network
version: "1"
title: {vi: Thử}
regulation: [x]
cumulative: true
controls:
  - id: net_fw
    title: {vi: x}
    problem: {vi: y, en: y}
    rationale: {vi: x}
    remediation: {vi: x}
    severity: low
    levels: {1: required, 2: required, 3: required, 4: required, 5: required}
    applies_to: {subject: scan_host}
    pass: "hardening.firewall.enabled == `true`"
""", encoding="utf-8")
    (error,) = lint_baseline_file(policy)
    assert "unknown fact path 'hardening'" in str(error) and "scan_host schema" in str(error)


def test_cli_evaluate(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a.json").write_text(json.dumps(windows()), encoding="utf-8")
    (reports / "b.json").write_text(json.dumps(linux(report_id=new_id())), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(evaluate, ["--org", str(ROOT / "examples" / "org.yaml"), "--json", str(reports)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [u["unit"] for u in doc["hosts"]["units"]] == ["hahoa-tckh", "van-lang"]
    assert doc["network"] is None
    table = runner.invoke(evaluate, ["--org", str(ROOT / "examples" / "org.yaml"), str(reports)])
    assert table.exit_code == 0 and "Tuân thủ yêu cầu bắt buộc" in table.output and "Chỉ tiêu" in table.output
    detail = runner.invoke(evaluate, ["--org", str(ROOT / "examples" / "org.yaml"), "--controls", "--lang", "en",
                                      str(reports)])
    assert detail.exit_code == 0 and "Pass rate per control" in detail.output


def test_cli_evaluate_rejects_bad_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**windows(), "report_id": "not-a-uuid"}), encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["--org", str(ROOT / "examples" / "org.yaml"), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: report_id: Input should be a valid UUID" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["--org", str(ROOT / "examples" / "org.yaml"), str(broken)])
    assert result.exit_code == 1 and f"{broken}: line 1: not JSON" in result.output


def test_cli_evaluate_bad_org(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text("name: x\nunits: []\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["--org", str(org), str(tmp_path)])
    assert result.exit_code == 1
    assert f"{org}:2: units: List should have at least 1 item" in result.output


def test_periodic_assessment_by_level() -> None:
    from datetime import date

    docs = [windows(report_id=new_id(), unit=unit, **{"host.hostname": f"PC-{unit}"})
            for unit in ("van-lang", "vinh-chan")]
    results, _ = evaluate_reports(docs, ORG, BASELINE)
    summary = summarise(results, ORG, BASELINE, today=date(2026, 11, 26))
    units = {u.unit: u for u in summary.units}
    # recorded on the district (2025-06-12), covering its communes; level 3 → yearly, level 2 → every 2 years
    assert (units["van-lang"].last_assessment, units["van-lang"].assessment_due,
            units["van-lang"].assessment_overdue) == (date(2025, 6, 12), date(2026, 6, 12), True)
    assert (units["vinh-chan"].assessment_due, units["vinh-chan"].assessment_overdue) == (date(2027, 6, 12), False)
    bare = ORG.model_copy(update={"units": [u.model_copy(update={"assessments": []}) for u in ORG.units]})
    summary = summarise(results, bare, BASELINE, today=date(2026, 11, 26))
    assert all(u.assessment_overdue is None and u.last_assessment is None for u in summary.units)


def test_batch_restores_the_garbage_collector() -> None:
    import gc

    import pytest

    from secscan.policy import judge_documents

    assert gc.isenabled()
    judged = judge_documents([windows(), linux(report_id=new_id())], ORG, BASELINE)
    assert [unit for unit, *_ in judged] == ["van-lang", "hahoa-tckh"] and gc.isenabled()
    with pytest.raises(AttributeError):
        judge_documents([None], ORG, BASELINE)  # type: ignore[list-item]
    assert gc.isenabled()
