"""The capture script: PowerShell 5.1 grammar, one process, the artefact list written in."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from secscan.agent.windows import script_text
from secscan.agent.windows.activators import artefact_paths
from tests.agent.windows.ps51 import problems

pytest.importorskip("tree_sitter_powershell", reason="tree-sitter-powershell (dev extra) not installed")


def test_exported_script_is_clean_powershell_5_1() -> None:
    assert problems(script_text()) == []


def test_packaged_file_is_clean_too() -> None:
    raw = resources.files("secscan.agent.windows").joinpath("collect.ps1").read_text(encoding="utf-8")
    assert problems(raw) == []


@pytest.mark.parametrize(("snippet", "expected"), [
    ("$x = $a ?? 'b'", "syntax error"),
    ("$a ??= 3", "syntax error"),
    ("$x = $a?.Name", "syntax error"),
    ("$x = $ok ? 1 : 2", "syntax error"),
    ("Get-Thing && Get-Other", "pipeline chain &&"),
    ("Get-Thing || Get-Other", "pipeline chain ||"),
    ("$a | ConvertTo-Json -AsArray", "-AsArray"),
    ("1..3 | ForEach-Object -Parallel { $_ }", "-Parallel"),
    ("if ($x { 'unclosed' }", "syntax error"),
])
def test_the_check_rejects_newer_or_broken_syntax(snippet: str, expected: str) -> None:
    found = problems(snippet)
    assert found, f"{snippet!r} passed the PS 5.1 check"
    assert any(expected in p for p in found), found


def test_the_check_accepts_ps51_forms() -> None:
    ok = "$x = if ($a) { 1 } else { 2 }\n$p = Get-Process | Select-Object 'Name','Id'\n$h = [ordered]@{ a = @(1) }\n"
    assert problems(ok) == []


def test_artefact_paths_from_the_table_are_written_in() -> None:
    text = script_text()
    paths = artefact_paths()
    assert len(paths) > 20
    for path in paths:
        assert f"'{path}'" in text
    # exactly once: the markers survive and the list is not duplicated
    assert text.count("secscan:artefact-paths:begin") == 1
    assert text.count("'%ProgramFiles%\\KMSpico\\AutoPico.exe'") == 1


def test_one_powershell_process() -> None:
    # No child PowerShell, no jobs or runspaces: everything happens in the one process started.
    code = re.sub(r"<#.*?#>", "", script_text(), flags=re.DOTALL)
    text = "\n".join(line.split("#", 1)[0] for line in code.splitlines()).lower()
    for forbidden in ("start-job", "start-process", "powershell.exe", "pwsh", "invoke-command", "runspacefactory"):
        assert forbidden not in text, forbidden


def test_every_decoded_section_is_collected() -> None:
    from secscan.agent.windows.decode import SECTIONS

    collected = set(re.findall(r"Invoke-Section '([a-z0-9_]+)'", script_text()))
    assert collected == set(SECTIONS)


def test_script_is_ascii_so_any_code_page_reads_it() -> None:
    script_text().encode("ascii")


def test_no_full_product_key_is_read() -> None:
    # DigitalProductId encodes the whole key; the OA3 firmware key leaves the script as its last 5 only.
    text = script_text()
    assert "DigitalProductId" not in text.replace("not DigitalProductId", "")
    assert "OA3KeyLast5 = $oa3Tail" in text and "OA3xOriginalProductKey = " not in text
