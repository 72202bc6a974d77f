"""The remediation catalogue (policies/remediation/*.yaml): what it must hold, that every snippet
stays within the PowerShell 5.1 grammar, and that `secscan policy lint` catches each kind of
mistake with a one-line FILE:LINE: FIELD: REASON error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.policy.baseline import load_baselines
from secscan.policy.cli import policy as policy_cli
from secscan.policy.remediation import check_catalogue, default_catalogue_files, load_catalogue, snippet_problems
from tests.agent.windows.ps51 import problems

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ROOT / "policies" / "remediation" / "windows.yaml"
GUIDANCE = ROOT / "policies" / "remediation" / "guidance.yaml"

# The issue's list: each of these controls has a scripted fix.
SCRIPTED = {"smb1_disabled", "firewall_enabled", "autorun_disabled", "rdp_secure", "av_real_time",
            "av_signatures_current", "screen_lock", "password_length_complexity", "account_lockout",
            "updates_automatic"}
# ... and these must never be scripted: guidance only.
GUIDANCE_ONLY = {"os_licensed", "office_licensed", "no_activator", "av_installed", "os_supported"}


@pytest.fixture(scope="module")
def catalogue():  # type: ignore[no-untyped-def]
    return load_catalogue(baselines=load_baselines().values())


def test_shipped_catalogue_lints_clean_against_the_shipped_baselines() -> None:
    assert [p.name for p in default_catalogue_files()] == ["guidance.yaml", "linux.yaml", "windows.yaml"]
    catalogue, errors = check_catalogue(baselines=load_baselines().values())
    assert errors == [] and catalogue is not None


def test_the_issues_controls_are_scripted_and_the_others_are_guidance_only(catalogue) -> None:  # type: ignore[no-untyped-def]
    scripted = {f.control for f in catalogue.fixes.values()}
    assert scripted >= SCRIPTED
    assert not GUIDANCE_ONLY & scripted
    assert set(catalogue.guidance) >= GUIDANCE_ONLY
    assert {f.id for f in catalogue.fixes_for("smb1_disabled")} == {"smb1-server", "smb1-client"}
    assert [f.id for f in catalogue.fixes_for("rdp_secure")] == ["rdp-nla"]
    assert [f.id for f in catalogue.fixes_for("rdp_secure", use=["rdp-off"])] == ["rdp-off"]
    for item in catalogue.guidance.values():
        assert item.text.vi and item.text.en and item.title.vi and item.title.en
    for control in GUIDANCE_ONLY:
        assert catalogue.guidance[control].text.vi.startswith("Không sửa bằng script")


def test_every_fix_has_check_apply_undo_and_microsoft_sources(catalogue) -> None:  # type: ignore[no-untyped-def]
    for fix in windows_fixes(catalogue):
        assert fix.check.strip() and fix.apply.strip() and fix.undo.strip(), fix.id
        assert fix.sources, fix.id
        for source in fix.sources:
            assert source.url.startswith(("https://learn.microsoft.com/", "https://support.microsoft.com/")), source.url
        assert fix.windows.min_build >= 7601 and fix.windows.label


def windows_fixes(catalogue):  # type: ignore[no-untyped-def]
    """The PowerShell ones (the Linux fixes: tests/remediate/test_linux.py)."""
    return [f for f in catalogue.fixes.values() if f.platform == "windows"]


def wrapped(kind: str, code: str) -> str:
    """A snippet as the generated script holds it: a script block, with its param line."""
    head = {"check": "", "apply": "param($State)\n", "undo": "param($Before)\n"}[kind]
    return "$block = {\n" + head + code + "\n}\n"


def test_every_snippet_and_helper_parses_as_powershell_5_1(catalogue) -> None:  # type: ignore[no-untyped-def]
    for helper in catalogue.helpers.values():
        assert problems(helper.code) == [], helper.name
    for fix in windows_fixes(catalogue):
        for kind in ("check", "apply", "undo"):
            assert problems(wrapped(kind, getattr(fix, kind))) == [], (fix.id, kind)


def test_the_grammar_check_would_notice_a_broken_snippet() -> None:
    assert problems(wrapped("apply", "if ($x -eq 1 { Set-Thing }")) != []
    assert problems(wrapped("apply", "$a = $b ?? 1")) != []


@pytest.mark.parametrize(("kind", "code", "expected"), [
    ("check", "Set-ItemProperty -Path 'HKLM:\\x' -Name a -Value 1\nreturn @{ Ok = $true; State = @{} }", "only reads"),
    ("check", "$null = & sc.exe config wuauserv start= demand\nreturn @{ Ok = $true; State = @{} }", "only reads"),
    ("check", "$null = & netsh.exe advfirewall set allprofiles state on\nreturn @{ Ok = $true; State = @{} }",
     "only reads"),
    ("check", "return $true", "returns @{ Ok"),
    ("apply", "if ($State.X) { exit 3 }", "calls exit"),
    ("undo", "param($Before)\nSet-Thing", "declares param"),
    ("apply", "Write-Output 'Tắt SMBv1'", "printable ASCII"),
    ("apply", "   ", "is empty"),
    ("apply", "$t = @'\nline\n'@", "here-string"),
])
def test_snippet_rules(kind: str, code: str, expected: str) -> None:
    assert any(expected in p for p in snippet_problems(code, kind)), snippet_problems(code, kind)  # type: ignore[arg-type]


def test_snippet_rules_read_code_not_comments_or_messages() -> None:
    code = ("# Set-ItemProperty would be wrong here; exit too\n$m = 'exit, Set-Thing'\n"
            "return @{ Ok = $true; State = @{} }")
    assert snippet_problems(code, "check") == []


FIX = """\
schema: secscan.remediation/1
id: test
version: "1"
platform: windows
helpers:
  - name: Get-Thing
    code: |
      function Get-Thing { return 1 }
fixes:
  - id: autorun-test
    control: autorun_disabled
    title: {vi: Tắt AutoRun, en: AutoRun off}
    windows: {min_build: 7601, label: Windows 7 SP1 and later}
    uses: [Get-Thing]
    sources:
      - {url: "https://learn.microsoft.com/en-us/windows/win32/shell/autoplay-reg", title: AutoPlay}
    check: |
      return @{ Ok = ((Get-Thing) -eq 1); State = [ordered]@{ A = 1 } }
    apply: |
      Set-Thing 1
    undo: |
      Set-Thing $Before.A
"""


def lint(tmp_path: Path, text: str, name: str = "fix.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    _, errors = check_catalogue([path], load_baselines().values())
    return [str(e) for e in errors]


def test_a_minimal_catalogue_lints_clean(tmp_path: Path) -> None:
    assert lint(tmp_path, FIX) == []


@pytest.mark.parametrize(("change", "expected"), [
    (("    undo: |\n      Set-Thing $Before.A\n", ""), ":10: fixes[autorun-test].undo: required field missing"),
    (("    sources:\n      - {url: \"https://learn.microsoft.com/en-us/windows/win32/shell/autoplay-reg\", "
      "title: AutoPlay}\n", "    sources: []\n"), "fixes[autorun-test].sources:"),
    (("https://learn", "http://learn"), "fixes[autorun-test].sources[0].url: must be an https:// address"),
    (("uses: [Get-Thing]", "uses: [Get-Other]"), "helper Get-Other is not defined"),
    (("uses: [Get-Thing]", "uses: []"), "the snippets call helper Get-Thing: list it in uses"),
    (("control: autorun_disabled", "control: no_such_control"), "control 'no_such_control' is in no baseline"),
    (("control: autorun_disabled", "control: sudo_nopasswd_none"), "is not judged on Windows"),
    (("    uses:", "    applies_when: \"hardening.nothing == `true`\"\n    uses:"),
     "reads hardening.nothing, which a HostReport does not have"),
    (("    uses:", "    applies_when: \"hardening.smb.smb1_server == `true`\"\n    uses:"),
     "covers only some PCs: give guidance for autorun_disabled"),
    (("    uses:", "    instead_of: rdp-nla\n    uses:"), "'rdp-nla' is not a default fix of control autorun_disabled"),
    (("function Get-Thing", "function Get-Other"), "helpers[0].code: does not define function Get-Thing"),
    (("en: AutoRun off", "en: AutoRun off}\n    note: {vi: chỉ tiếng Việt"), "need Vietnamese and English"),
])
def test_lint_errors_name_file_line_field_and_reason(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in FIX
    errors = lint(tmp_path, FIX.replace(change[0], change[1], 1))
    assert any(expected in e for e in errors), errors
    for error in errors:
        assert error.startswith(str(tmp_path / "fix.yaml") + ":") and len(error.splitlines()) == 1


def test_meets_is_checked_against_every_level_of_every_baseline(tmp_path: Path) -> None:
    text = FIX.replace("control: autorun_disabled", "control: account_lockout").replace(
        "    uses:", "    meets:\n      - {param: max_failed_logons, value: 8, compare: le}\n    uses:")
    errors = lint(tmp_path, text)
    # nd85-tt12 allows 5 from level 3 on; nd331 allows 10 at every level
    assert any("8 does not meet vn-endpoint-nd85-tt12 account_lockout.max_failed_logons at level 3 (needs <= 5)" in e
               for e in errors), errors
    assert not any("nd331" in e for e in errors)
    bad_param = text.replace("param: max_failed_logons", "param: max_nothing")
    assert any("no baseline gives account_lockout a parameter 'max_nothing'" in e for e in lint(tmp_path, bad_param))


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(FIX, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(FIX.replace("id: test", "id: other"), encoding="utf-8")
    _, errors = check_catalogue([tmp_path / "a.yaml", tmp_path / "b.yaml"], load_baselines().values())
    text = [str(e) for e in errors]
    assert any("fix id 'autorun-test' is used twice" in e for e in text)
    assert any("helper Get-Thing is defined twice" in e for e in text)


def test_policy_lint_cli_lints_the_shipped_catalogue_and_refuses_a_broken_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(policy_cli, ["lint"])
    assert result.exit_code == 0, result.output
    assert "remediation catalogue guidance" in result.output and "13 fixes" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(FIX.replace("    undo: |\n      Set-Thing $Before.A\n", ""), encoding="utf-8")
    result = CliRunner().invoke(policy_cli, ["lint", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:10: fixes[autorun-test].undo: required field missing" in result.output
    fine = tmp_path / "fine.yaml"
    fine.write_text(FIX, encoding="utf-8")
    result = CliRunner().invoke(policy_cli, ["lint", str(fine)])
    assert result.exit_code == 0 and "remediation catalogue test 1" in result.output
