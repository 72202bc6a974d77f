"""Lint: each error class names file, line, field and reason, and the CLI exits non-zero."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.policy import PolicyError, lint_baseline_file, lint_org_file, load_org
from secscan.policy.cli import org as org_cli
from secscan.policy.cli import policy as policy_cli

ROOT = Path(__file__).resolve().parents[2]

ORG_HEAD = """\
schema: secscan.org/1
name: UBND huyện Thử
units:
  - id: huyen
    name: UBND huyện Thử
    kind: district
    networks: [10.0.0.0/16]
"""

DECISION = """\
decisions:
  - number: 1/QĐ-UBND
    date: 2023-01-02
    signer: Nguyễn Văn A
    regulation: TT 12/2022/TT-BTTTT
    systems:
      - id: lan
        name: Mạng LAN
        level: 2
        units: [huyen, xa-a]
"""

COMMUNE = """\
  - id: xa-a
    name: UBND xã A
    kind: commune
    parent: huyen
    networks: [10.0.5.0/24]
"""


def org_errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(e) for e in lint_org_file(path)]


def test_example_org_lints_clean() -> None:
    assert lint_org_file(ROOT / "examples" / "org.yaml") == []


def test_shipped_policies_lint_clean() -> None:
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        assert lint_baseline_file(path) == [], path


def test_valid_org(tmp_path: Path) -> None:
    assert org_errors(tmp_path, ORG_HEAD + COMMUNE + DECISION) == []


def test_broken_yaml(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + "  - id: [unclosed\n")
    assert len(errors) == 1
    # libyaml says "did not find expected", PyYAML's Python parser "expected": either, with the lines
    assert errors[0].startswith(f"{tmp_path / 'org.yaml'}:9: (yaml): broken YAML: ")
    assert "expected ',' or ']'" in errors[0]
    assert errors[0].endswith("(while parsing a flow sequence started at line 8)")


def test_duplicate_unit_id(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE + COMMUNE.replace("10.0.5.0/24", "10.0.6.0/24") + DECISION)
    assert any(":13: units[xa-a].id: duplicate unit id 'xa-a' (first at line 8)" in e for e in errors), errors


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + "    kind: commune\n" + DECISION)
    assert any(":8: units[huyen].kind: duplicate key" in e for e in errors), errors


def test_level_out_of_range(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE + DECISION.replace("level: 2", "level: 7"))
    assert any(":21: decisions[0].systems[lan].level: Input should be less than or equal to 5" in e
               for e in errors), errors


def test_unit_without_parent(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE.replace("parent: huyen", "parent: tinh") + DECISION)
    assert any(":11: units[xa-a].parent: parent 'tinh' is not a unit id" in e for e in errors), errors
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE.replace("    parent: huyen\n", "") + DECISION)
    assert any(":8: units[xa-a]" in e and "has no parent" in e for e in errors), errors


def test_cycle(tmp_path: Path) -> None:
    text = ORG_HEAD + COMMUNE + """\
  - id: xa-b
    name: UBND xã B
    kind: commune
    parent: xa-c
  - id: xa-c
    name: UBND xã C
    kind: commune
    parent: xa-b
""" + DECISION.replace("[huyen, xa-a]", "[huyen, xa-a, xa-b, xa-c]")
    errors = org_errors(tmp_path, text)
    assert any(":16: units[xa-b].parent: parent cycle: xa-b → xa-c → xa-b" in e for e in errors), errors


def test_overlapping_networks(tmp_path: Path) -> None:
    sibling = COMMUNE.replace("xa-a", "xa-b").replace("10.0.5.0/24", "10.0.5.128/25")
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE + sibling + DECISION)
    assert any(":17: units[xa-b].networks[0]: 10.0.5.128/25 overlaps 10.0.5.0/24 of unit 'xa-a' (line 12)" in e
               for e in errors), errors


def test_nested_network_of_a_child_is_fine(tmp_path: Path) -> None:
    # 10.0.5.0/24 of xa-a sits inside the district's 10.0.0.0/16: allowed, the narrower wins
    org = load_org_text(tmp_path, ORG_HEAD + COMMUNE + DECISION)
    from secscan.policy.org import place_address

    assert place_address(org, ["10.0.5.9"]) == "xa-a"
    assert place_address(org, ["10.0.9.9"]) == "huyen"


def load_org_text(tmp_path: Path, text: str):
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    return load_org(path)


def test_unknown_unit_in_decision(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE + DECISION.replace("[huyen, xa-a]", "[huyen, xa-a, xa-z]"))
    assert any(":22: decisions[0].systems[lan].units[2]: unknown unit 'xa-z' in system 'lan' of decision "
               "1/QĐ-UBND" in e for e in errors), errors


def test_unit_without_level(tmp_path: Path) -> None:
    errors = org_errors(tmp_path, ORG_HEAD + COMMUNE + DECISION.replace("[huyen, xa-a]", "[huyen]"))
    assert any(":8: units[xa-a]: unit 'xa-a' has no level" in e for e in errors), errors
    assert org_errors(tmp_path, "default_level: 2\n" + ORG_HEAD + COMMUNE) == []


def test_load_org_raises_with_every_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_org_text(tmp_path, ORG_HEAD + COMMUNE.replace("id: xa-a", "id: Xã A") + DECISION
                      .replace("level: 2", "level: 0"))
    assert [(e.line, e.field) for e in info.value.errors] == [(8, "units[Xã A].id"),
                                                              (21, "decisions[0].systems[lan].level")]


def test_org_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(org_cli, ["lint", str(ROOT / "examples" / "org.yaml")])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(ORG_HEAD + COMMUNE.replace("parent: huyen", "parent: tinh"), encoding="utf-8")
    result = runner.invoke(org_cli, ["lint", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:11: units[xa-a].parent: parent 'tinh' is not a unit id" in result.output


# --- baselines ----------------------------------------------------------------------------------

BASE_HEAD = """\
schema: secscan.baseline/1
id: test-baseline
version: "1"
title: {vi: Thử}
regulation: [TT 12/2022/TT-BTTTT]
cumulative: true
controls:
"""


def control(cid: str = "fw_on", levels: str = "{1: required, 2: required, 3: required, 4: required, 5: required}",
            expression: str = "hardening.firewall.enabled == `true`", extra: str = "") -> str:
    return f"""\
  - id: {cid}
    title: {{vi: Tường lửa}}
    rationale: {{vi: Lý do}}
    remediation: {{vi: Bật tường lửa}}
    severity: high
    levels: {levels}
    pass: "{expression}"
    problem: {{vi: Tường lửa bị tắt, en: Firewall off}}
{extra}"""


def base_errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "base.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(e) for e in lint_baseline_file(path)]


def test_valid_baseline(tmp_path: Path) -> None:
    assert base_errors(tmp_path, BASE_HEAD + control()) == []


def test_baseline_duplicate_control_id(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control() + control())
    assert any(":16: controls[fw_on].id: duplicate id 'fw_on' (first at line 8)" in e for e in errors), errors


def test_baseline_level_out_of_range_and_missing(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control(levels="{1: required, 2: required, 3: required, 6: required}"))
    assert any(":13: controls[fw_on].levels.6: level 6 out of range" in e for e in errors), errors
    assert any(":13: controls[fw_on].levels: status missing for level(s) [4, 5]" in e for e in errors), errors


def test_baseline_unknown_fact_path(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control(expression="hardening.firewal.enabled == `true`"))
    assert errors == [f"{tmp_path / 'base.yaml'}:14: controls[fw_on].pass: unknown fact path "
                      "'hardening.firewal': not in the host schema"]


def test_baseline_unknown_path_inside_a_filter(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control(expression="length(antivirus.products[?realtime]) > `0`"))
    assert any("controls[fw_on].pass: unknown fact path 'realtime'" in e for e in errors), errors


def test_baseline_bare_null_is_a_field_not_a_literal(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control(expression="hardening.firewall.enabled == null"))
    assert any("unknown fact path 'null'" in e for e in errors), errors


def test_baseline_invalid_jmespath(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control(expression="hardening.firewall.enabled ==="))
    assert any(":14: controls[fw_on].pass: invalid JMESPath" in e for e in errors), errors


def test_baseline_cumulative_may_not_relax(tmp_path: Path) -> None:
    levels = "{1: required, 2: required, 3: recommended, 4: required, 5: required}"
    errors = base_errors(tmp_path, BASE_HEAD + control(levels=levels))
    assert any("controls[fw_on].levels.3: cumulative baseline: recommended at level 3 relaxes required" in e
               for e in errors), errors
    # the same control is fine in a non-cumulative baseline (the 2026 regime)
    assert base_errors(tmp_path, BASE_HEAD.replace("cumulative: true", "cumulative: false")
                       + control(levels=levels)) == []


def test_baseline_parameters(tmp_path: Path) -> None:
    expr = "hardening.patches.days_since_last_patch <= $max_days"
    errors = base_errors(tmp_path, BASE_HEAD + control(expression=expr))
    assert any("controls[fw_on].pass: unknown parameter $max_days" in e for e in errors), errors
    extra = "    params:\n      max_days:\n        levels: {1: 45, 2: 35, 3: 35}\n"
    errors = base_errors(tmp_path, BASE_HEAD + control(expression=expr, extra=extra))
    assert any("controls[fw_on].params.max_days: no value at level 4, where the control is required" in e
               for e in errors), errors


def test_baseline_unknown_field(tmp_path: Path) -> None:
    errors = base_errors(tmp_path, BASE_HEAD + control(extra="    severty: low\n"))
    assert any(":16: controls[fw_on].severty: unknown field" in e for e in errors), errors


def test_policy_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(policy_cli, ["lint"])
    assert ok.exit_code == 0, ok.output
    assert "vn-endpoint-nd85-tt12" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE_HEAD + control(expression="hardening.nope == `true`"), encoding="utf-8")
    result = runner.invoke(policy_cli, ["lint", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:14: controls[fw_on].pass: unknown fact path 'hardening.nope'" in result.output


def test_hostile_yaml_is_bounded(tmp_path: Path) -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    errors = org_errors(tmp_path, laughs)
    assert len(errors) == 1 and "alias expansion" in errors[0]
    errors = org_errors(tmp_path, "[" * 5000 + "]" * 5000)
    assert len(errors) == 1 and ("nested too deeply" in errors[0] or "broken YAML" in errors[0])


def test_assessment_in_the_future(tmp_path: Path) -> None:
    text = ORG_HEAD + "    assessments: [{date: 2999-01-01}]\n" + COMMUNE + DECISION
    errors = org_errors(tmp_path, text)
    assert any(":8: units[huyen].assessments[0].date: 2999-01-01 is in the future" in e for e in errors), errors
