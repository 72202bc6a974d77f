"""The capture script: PowerShell 5.1 grammar, one process, the artefact list written in."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from secscan.agent.windows import script_text
from secscan.agent.windows.activators import artefact_paths
from tests.agent.windows.ps51 import code_only, functions, problems

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


def test_the_check_reads_code_not_comments() -> None:
    from tests.agent.windows.ps51 import code_only

    assert problems("# $a ?? $b, Get-X && Get-Y, -AsArray\n$x = 1\n") == []
    assert problems("<#\n  $a ?? $b; $x?.Name; Get-X || Get-Y\n#>\n$x = 1\n") == []
    assert problems("$x = 1  # ?? here is fine\n$y = $a ?? 2\n")  # the same token in code is not
    assert code_only("$x = 1 # ??\n<# ?? #>\n").strip() == "$x = 1"


def _header() -> str:
    return re.match(r"<#(.*?)#>", script_text(), flags=re.DOTALL).group(1)  # type: ignore[union-attr]


def test_script_version_is_the_models() -> None:
    from secscan.model.capture import SCRIPT_VERSION

    text = script_text()
    assert re.findall(r"^\$ScriptVersion = (\d+)$", text, flags=re.MULTILINE) == [str(SCRIPT_VERSION)]
    assert "script_version = $ScriptVersion\n" in text  # a number in the capture, not a string
    assert f"script version {SCRIPT_VERSION}" in _header()


def test_parameters_and_exit_codes_are_documented_in_the_header() -> None:
    params = re.search(r"^param\((.*?)^\)", script_text(), flags=re.DOTALL | re.MULTILINE).group(1)  # type: ignore[union-attr]
    names = re.findall(r"\[(?:string|switch)\]\$(\w+)", params)
    assert names == ["OutFile", "Config", "TokenFile", "Push", "OutDir", "Spool", "SelfTest"]
    header = _header()
    for name in names:
        assert f"-{name}" in header, name
    codes = dict(re.findall(r"^    (\d)  (.+)$", header, flags=re.MULTILINE))
    assert sorted(codes) == ["0", "1", "2", "3", "4", "5", "6"]
    code = code_only(script_text())
    for n in ("2", "3", "4", "5"):
        assert re.search(rf"(Set-ExitCode {n}|exit {n})\b", code), n
    assert "return 6" in functions(script_text())["Invoke-SelfTest"]


def test_push_forces_tls_1_2_and_keeps_certificate_checks() -> None:
    text = script_text()
    assert "ServerCertificateValidationCallback" not in text and "CertificatePolicy" not in text
    tls = functions(text)["Enable-Tls12"]
    assert ("[System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol "
            "-bor [System.Net.SecurityProtocolType]'Tls12'") in tls
    assert "if (-not (Enable-Tls12)) { Stop-Usage" in code_only(text)  # before any push


def test_push_request_and_answer_contract() -> None:
    fns = functions(script_text())
    http = fns["Invoke-Http"]
    assert "[System.Net.WebRequest]::Create($Url)" in http
    assert "$request.Headers.Add('Authorization', 'Bearer ' + $Bearer)" in http
    assert "$request.ContentType = $SignedType" in http
    assert "$SignedType = 'application/vnd.secscan.signed'" in script_text()
    assert "$request.AllowAutoRedirect = $false" in http and "$request.Timeout = $TimeoutMs" in http
    assert "Get-InnerWebException $_.Exception" in http and "$web.Response" in http  # 4xx/5xx read, not guessed
    send = fns["Send-Spool"]
    assert "if ($status -eq 200) {" in send
    assert "$status -ge 400 -and $status -lt 500 -and $status -ne 408 -and $status -ne 429" in send
    assert "'.reason.txt'" in send and "'rejected'" in send
    assert send.index("} else {") < send.index("break")  # anything else: keep, stop sending


def test_spool_and_state_folders_are_private_by_sid() -> None:
    text = script_text()
    body = functions(text)["New-PrivateFolder"]
    assert "$SidSystem = 'S-1-5-18'" in text and "$SidAdmins = 'S-1-5-32-544'" in text
    assert "$sids = @($SidSystem, $SidAdmins)" in body
    assert "SetAccessRuleProtection($true, $false)" in body
    assert "New-Object System.Security.Principal.SecurityIdentifier($sid)" in body
    assert "NTAccount" not in body
    assert "[System.IO.Directory]::CreateDirectory($Path, $security)" in body  # the ACL from the start
    spool = functions(text)["Open-Spool"]
    assert "New-PrivateFolder $dir" in spool and "New-PrivateFolder $StateDir" in spool


def test_capture_files_are_written_to_a_temporary_name_then_renamed() -> None:
    text = script_text()
    atomic = functions(text)["Write-FileAtomic"]
    assert "$tmp = $Path + '.tmp'" in atomic
    assert atomic.index("$stream.Write(") < atomic.index("$stream.Flush($true)") < atomic.index(
        "[System.IO.File]::Move($tmp, $Path)")
    code = code_only(text)
    assert "WriteAllBytes" not in code
    # the spool, the share and -OutFile all go through it
    assert code.count("Write-FileAtomic ") == 4  # -OutFile (signed or plain), the spool, the share
    assert "Write-FileAtomic ([System.IO.Path]::Combine($spoolDir, $FileName)) $Signed" in code
    assert "Write-FileAtomic $target $Signed" in code
    assert "'.secscan'" in code and "\"yyyyMMdd'T'HHmmss'Z'\"" in code


def test_spool_limits_drop_the_oldest_and_say_so() -> None:
    fns = functions(script_text())
    limit = fns["Limit-Envelopes"]
    assert "if ($f.Name -eq $Keep) { continue }" in limit
    assert "Write-Event (" in limit and "dropped the oldest capture" in limit
    assert "Sort-Object -Property 'LastWriteTimeUtc', 'Name'" in fns["Get-Envelopes"]
    assert "Write-Log $Text" in fns["Write-Event"] and "Write-Line $Text" in fns["Write-Event"]
