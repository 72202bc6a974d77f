"""The script `secscan remediate` writes, on hand-built reports: who gets which fix and which
guidance, hostile names and product names kept inert, the whole script within the PowerShell 5.1
grammar, and the engine's safety rules read from its code (nothing here runs PowerShell)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from secscan.model.host import HostReport
from secscan.model.result import Outcome, Requirement, Result
from secscan.policy.baseline import load_baselines
from secscan.policy.remediation import load_catalogue
from secscan.remediate import ENGINE, RemediateError, make_plan, render, script_bytes
from secscan.remediate.quote import ps_literal
from tests.agent.windows.ps51 import code_only, problems
from tests.policy.hosts import windows
from tests.remediate.scripts import GUARD_CODE, allowed, guard_admits
from tests.remediate.test_quote import command_names, string_literals

UNIT = "xa-thu"
WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogue():  # type: ignore[no-untyped-def]
    return load_catalogue(baselines=load_baselines().values())


def report(n: int, hostname: str, machine_id: str | None, **changes: Any) -> HostReport:
    doc = windows(**changes)
    doc["report_id"] = f"00000000-0000-4000-8000-{n:012d}"
    doc["unit"] = UNIT
    doc["host"]["hostname"] = hostname
    doc["host"]["machine_id"] = machine_id
    return HostReport.model_validate(doc)


def results(rep: HostReport, fail: list[str], passing: list[str] = (), unknown: list[str] = ()) -> list[Result]:
    out = []
    for controls, outcome in ((fail, Outcome.failed), (passing, Outcome.passed), (unknown, Outcome.unknown)):
        for control in controls:
            out.append(Result(report_id=str(rep.report_id), host=rep.host.hostname, unit=UNIT,
                              baseline="vn-endpoint-nd85-tt12", control_id=control, level=2,
                              requirement=Requirement.required, outcome=outcome, severity="high"))
    return out


HOSTILE_NAME = "PC'; Invoke-Pwned; '\u2019 $(Invoke-Pwned) `"
HOSTILE_ID = "id'+(Invoke-Pwned)+'"
HOSTILE_PRODUCT = "Bkav\r\nInvoke-Pwned #> <# '\u2018 $(Invoke-Pwned)"


@pytest.fixture(scope="module")
def fleet() -> tuple[list[HostReport], list[Result]]:
    pcs = [
        report(1, "THU-PC01", "m-1", **{"host.os.build": 19045}),
        report(2, HOSTILE_NAME, HOSTILE_ID),
        report(3, "THU\nInvoke-Pwned", "m-3"),
        report(4, "THU-PC04", None),
        report(5, "THU-PC05", "m-5", **{"host.os.build": 7601, "host.os.name": "Windows 7 Professional"}),
        report(6, "THU-PC06", "m-6", **{"host.domain": "hahoa.local"}),
        report(7, "THU-PC07", "m-7", **{"antivirus.products": [
            {"name": "Kaspersky Endpoint Security", "source": "securitycenter2", "state": "off", "enabled": False,
             "real_time": False, "microsoft": False}]}),
    ]
    linux = windows(**{"host.os.family": "linux", "host.os.name": "Ubuntu 24.04"})
    linux.update(report_id="00000000-0000-4000-8000-000000000008", unit=UNIT)
    linux["host"].update(hostname="thu-ubuntu", machine_id="m-8")
    pcs.append(HostReport.model_validate(linux))
    pcs[1].antivirus.products[0].name = HOSTILE_PRODUCT
    res = (results(pcs[0], ["smb1_disabled", "rdp_secure", "os_licensed"], ["firewall_enabled"], ["autorun_disabled"])
           + results(pcs[1], ["firewall_enabled", "av_installed"])
           + results(pcs[2], ["firewall_enabled"])
           + results(pcs[3], ["firewall_enabled"])
           + results(pcs[4], ["screen_lock", "av_real_time", "autorun_disabled"])
           + results(pcs[5], ["password_length_complexity", "account_lockout", "rdp_secure"])
           + results(pcs[6], ["av_real_time", "av_signatures_current"])
           + results(pcs[7], ["firewall_enabled"])
           + results(pcs[0], ["guest_disabled", "disk_encryption"]))  # failing, but nothing in the catalogue
    return pcs, res


def test_the_plan_gives_each_pc_what_it_fails(catalogue, fleet) -> None:  # type: ignore[no-untyped-def]
    reports, res = fleet
    plan = make_plan(res, reports, catalogue, unit=UNIT)
    got = {pc.hostname: (pc.fixes, [g.control for g in pc.guidance]) for pc in plan.pcs}
    assert got == {
        "THU-PC01": (["smb1-server", "smb1-client", "rdp-nla"], ["os_licensed"]),
        HOSTILE_NAME: (["firewall-profiles"], ["av_installed"]),
        "THU-PC05": (["autorun-off"], ["av_real_time", "screen_lock"]),  # Windows 7: Defender and lock not scripted
        "THU-PC06": (["rdp-nla"], ["password_length_complexity", "account_lockout"]),  # domain: by GPO
        "THU-PC07": ([], ["av_real_time", "av_signatures_current"]),  # another vendor's product
    }
    excluded = dict(plan.excluded)
    assert set(excluded) == {"THU\ufffdInvoke-Pwned", "THU-PC04"}  # the Linux PC: the Linux script's business
    assert "U+000A" in excluded["THU\ufffdInvoke-Pwned"] and "machine id" in excluded["THU-PC04"]
    pc6 = next(p for p in plan.pcs if p.hostname == "THU-PC06")
    assert "hahoa.local" in (pc6.guidance[0].why or "")
    findings = {f.control: (len(f.failing), len(f.scripted), len(f.guidance)) for f in plan.findings}
    assert findings["firewall_enabled"] == (3, 1, 0)  # 2 left out
    assert findings["av_real_time"] == (2, 0, 2)
    assert "guest_disabled" not in findings


def test_use_picks_an_alternative_and_filters_narrow(catalogue, fleet) -> None:  # type: ignore[no-untyped-def]
    reports, res = fleet
    plan = make_plan(res, reports, catalogue, unit=UNIT, use=["rdp-off"], hosts=["thu-pc01"],
                     controls=["rdp_secure"])
    assert [(p.hostname, p.fixes, p.guidance) for p in plan.pcs] == [("THU-PC01", ["rdp-off"], [])]
    for kwargs, message in (({"use": ["rdp-nla"]}, "--use rdp-nla: not an alternative fix"),
                            ({"hosts": ["NOPE"]}, "--host NOPE: no PC of that name"),
                            ({"controls": ["guest_disabled"]}, "--control guest_disabled: the catalogue has no fix")):
        with pytest.raises(RemediateError, match=re.escape(message)):
            make_plan(res, reports, catalogue, unit=UNIT, **kwargs)


def test_the_script_parses_and_no_report_value_escapes_its_literal(catalogue, fleet) -> None:  # type: ignore[no-untyped-def]
    reports, res = fleet
    plan = make_plan(res, reports, catalogue, unit=UNIT)
    text = render(plan, catalogue, version="0.1.0", generated_at=WHEN)
    assert problems(text) == []
    assert "Invoke-Pwned" not in command_names(text)
    assert "Invoke-Pwned" in text  # it is there, inert
    assert "\r" not in text and "\u2028" not in text
    entries = allowed(text)
    assert [(e.hostname, e.machine_id) for e in entries] == [(p.hostname, p.machine_id) for p in plan.pcs]
    hostile = next(e for e in entries if e.hostname == HOSTILE_NAME)
    assert hostile.machine_id == HOSTILE_ID and hostile.fixes == ("firewall-profiles",)
    assert any("Bkav\ufffd\ufffdInvoke-Pwned #> <# '\u2018 $(Invoke-Pwned)" in g for g in hostile.guidance)
    assert ps_literal(HOSTILE_NAME, strict=True) in string_literals(text)
    # every header line that carries a report value is a comment line
    for line in text.splitlines():
        if "Invoke-Pwned" in line:
            assert line.lstrip().startswith(("#", "Hostname = ", "MachineId = ", "'")), line


def test_the_header_names_unit_findings_version_and_date(catalogue, fleet) -> None:  # type: ignore[no-untyped-def]
    reports, res = fleet
    plan = make_plan(res, reports, catalogue, unit=UNIT, lang="en")
    text = render(plan, catalogue, version="0.1.0", generated_at=WHEN, file_name="fix-xa-thu.ps1")
    header = text.split("\nparam(")[0]
    assert all(line.startswith("#") for line in header.splitlines() if line)
    assert "# Đơn vị / unit: 'xa-thu'" in header
    assert "secscan '0.1.0', 2026-11-20T08:30:00Z (UTC)" in header
    assert f"# Script id: {plan.script_id(WHEN)}" in header
    assert "#   smb1_disabled: 1 failing; 1 by script; 0 guidance only -- 'Turn off the SMBv1 server'" in header
    assert "#   firewall_enabled: 3 failing; 1 by script; 0 guidance only" in header
    assert "-File .\\fix-xa-thu.ps1 -Apply" in header and "-Undo" in header and "-WhatIf" in header
    assert "'THU-PC04': 'its report has no machine id" in header
    assert "checked by grammar (PowerShell 5.1)" in header
    assert "\nparam([switch]$Apply, [switch]$Undo, [switch]$WhatIf)\n" in text
    assert text.startswith("#Requires -Version 5.1\n")


def test_only_the_fixes_and_helpers_used_are_written(catalogue, fleet) -> None:  # type: ignore[no-untyped-def]
    reports, res = fleet
    plan = make_plan(res, reports, catalogue, unit=UNIT, controls=["autorun_disabled"])
    text = render(plan, catalogue, version="0.1.0", generated_at=WHEN)
    assert re.findall(r"^\$Fixes\['([a-z0-9-]+)'\] = @\{$", text, flags=re.M) == ["autorun-off"]
    defined = re.findall(r"^function ([A-Za-z-]+)", text, flags=re.M)
    assert "Get-SecPolicy" not in defined and {"Get-RegValue", "Set-RegValue"} <= set(defined)


def test_script_bytes_are_utf8_with_bom_and_crlf() -> None:
    data = script_bytes("a\nb\r\nc\n")
    assert data == b"\xef\xbb\xbfa\r\nb\r\nc\r\n"


# --- the engine, read from its code ----------------------------------------------------------------

ENGINE_CODE = code_only(ENGINE.read_text(encoding="utf-8"))


def test_engine_is_ascii_powershell_5_1() -> None:
    text = ENGINE.read_text(encoding="utf-8")
    assert text.isascii()
    assert problems("param([switch]$Apply, [switch]$Undo, [switch]$WhatIf)\n" + text) == []


def test_the_guard_needs_name_and_machine_id_and_comes_before_anything_is_read() -> None:
    assert GUARD_CODE.search(ENGINE_CODE), "the guard's comparison changed: update tests/remediate/scripts.py"
    refuse = ENGINE_CODE.index("Stop-Run 4")
    for later in ("Invoke-Check", "Initialize-StateDir }", "& $fix.Apply", "Get-CimInstance", "& $fix.Undo"):
        assert ENGINE_CODE.index(later) > refuse, later
    assert "$ignoreCase = [System.StringComparison]::OrdinalIgnoreCase" in ENGINE_CODE
    assert "'HKLM:\\SOFTWARE\\Microsoft\\Cryptography' -Name 'MachineGuid'" in ENGINE_CODE
    entries = allowed(render(make_plan([], [], load_catalogue(), unit=UNIT), load_catalogue(), version="0",
                             generated_at=WHEN))
    assert entries == [] and not guard_admits(entries, "ANY", "guid")


def test_whatif_is_the_default_and_changes_nothing() -> None:
    assert "$Mode = 'WhatIf'\nif ($Apply) { $Mode = 'Apply' }\nif ($Undo) { $Mode = 'Undo' }" in ENGINE_CODE
    whatif = ENGINE_CODE.index("if ($Mode -eq 'WhatIf') {")
    assert ENGINE_CODE.index("continue", whatif) < ENGINE_CODE.index("& $fix.Apply")
    assert ENGINE_CODE.index("if ($Mode -ne 'WhatIf') {\n  try { Initialize-StateDir }") > 0
    assert "Stop-Run 2 '-Apply and -Undo cannot be used together'" in ENGINE_CODE


def test_apply_changes_only_what_fails_and_logs_before_and_after() -> None:
    body = ENGINE_CODE[ENGINE_CODE.index("if ($Mode -ne 'Undo') {"):ENGINE_CODE.index("if ($Mode -eq 'Undo') {")]
    order = [body.index(s) for s in ("$before = Invoke-Check $fix", "if ($before.Skip)", "if ($before.Ok)",
                                     "New-Record 'apply' 'before'", "& $fix.Apply $before.State",
                                     "$after = Invoke-Check $fix", "New-Record 'apply' 'after'")]
    assert order == sorted(order)
    assert "[System.IO.Path]::Combine($StateDir, 'remediation.log')" in ENGINE_CODE
    assert "GetFolderPath('CommonApplicationData'), 'secscan')" in ENGINE_CODE
    assert "$SidSystem = 'S-1-5-18'" in ENGINE_CODE and "$SidAdmins = 'S-1-5-32-544'" in ENGINE_CODE
    assert "SetAccessRuleProtection($true, $false)" in ENGINE_CODE


def test_undo_restores_this_scripts_changes_from_the_log_newest_first() -> None:
    body = ENGINE_CODE[ENGINE_CODE.index("if ($Mode -eq 'Undo') {"):ENGINE_CODE.index("if ($Counts.changed")]
    assert "$_.script -eq $ScriptId -and $_.machine_id -eq $Guid" in body
    assert "[array]::Reverse($started)" in body and "& $fix.Undo $record.before" in body
    assert "-not $undone.ContainsKey([string]$_.entry)" in body


def test_a_fresh_capture_runs_after_a_change_when_the_kit_is_installed() -> None:
    body = ENGINE_CODE[ENGINE_CODE.index("if ($Counts.changed"):]
    assert "[System.IO.Path]::Combine($StateDir, 'collect.ps1')" in ENGINE_CODE
    assert "-File $collect -Config $config" in ENGINE_CODE
    assert body.startswith("if ($Counts.changed -gt 0 -or $Counts.restored -gt 0) {")
    assert body.index("-File $collect -Config $config") < body.index("exit 0")
