"""Every control names its shortcoming ("problem"), in Vietnamese and English, apart from the
requirement its title states: the documents list findings under it. Lint and load refuse a control
without one, or with one that repeats the title."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.policy import lint_baseline_file, load_baselines
from secscan.policy.baseline import load_baseline
from secscan.policy.source import PolicyError

HEAD = """\
schema: secscan.baseline/1
id: test-baseline
version: "1"
title: {vi: Thử}
regulation: [TT 12/2022/TT-BTTTT]
cumulative: true
controls:
  - id: fw_on
    title: {vi: Bật tường lửa, en: Host firewall on}
    rationale: {vi: Lý do}
    remediation: {vi: Bật tường lửa}
    severity: high
    levels: {1: required, 2: required, 3: required, 4: required, 5: required}
    pass: "hardening.firewall.enabled == `true`"
"""


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "base.yaml"
    path.write_text(HEAD + extra, encoding="utf-8")
    return path


def test_every_shipped_control_states_its_problem_in_both_languages() -> None:
    for baseline in load_baselines().values():
        for c in baseline.baseline.controls:
            for lang in ("vi", "en"):
                problem, title = c.problem.get(lang), c.title.get(lang)
                assert problem and problem.casefold() != title.casefold(), (baseline.id, c.id, lang)


def test_a_control_without_a_problem_is_refused_by_lint_and_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    assert [str(e) for e in lint_baseline_file(path)] == [f"{path}:8: controls[fw_on].problem: required field missing"]
    with pytest.raises(PolicyError, match="problem: required field missing"):
        load_baseline(path)


def test_a_problem_needs_both_languages(tmp_path: Path) -> None:
    path = _write(tmp_path, "    problem: {vi: Tường lửa bị tắt}\n")
    assert [str(e) for e in lint_baseline_file(path)] == [
        f"{path}:15: controls[fw_on].problem.en: required field missing"]


@pytest.mark.parametrize("problem", ["{vi: Bật tường lửa, en: Firewall off}",
                                     "{vi: Tường lửa bị tắt, en: host firewall ON}"])
def test_a_problem_that_repeats_the_requirement_is_refused(tmp_path: Path, problem: str) -> None:
    errors = [str(e) for e in lint_baseline_file(_write(tmp_path, f"    problem: {problem}\n"))]
    assert len(errors) == 1 and "repeats the title" in errors[0] and ":8: controls[fw_on]" in errors[0], errors


def test_policy_lint_command_names_the_missing_problem(tmp_path: Path) -> None:
    from secscan.policy.cli import policy

    path = _write(tmp_path, "")
    result = CliRunner().invoke(policy, ["lint", str(path)])
    assert result.exit_code != 0
    assert f"{path}:8: controls[fw_on].problem: required field missing" in result.output
    good = _write(tmp_path, "    problem: {vi: Tường lửa bị tắt, en: Host firewall off}\n")
    assert CliRunner().invoke(policy, ["lint", str(good)]).exit_code == 0
