"""The Windows script: one PowerShell 5.1 file per unit from a plan made with ``platform="windows"``:
a header for people (unit, findings, secscan version, date, the PCs it may touch and the guidance
no script may apply), the allowed PCs (hostname and MachineGuid) with their fixes, the catalogue's
helpers and snippets, and the engine (``engine.ps1``: guard, -WhatIf default, -Apply, -Undo, log,
fresh capture). Every value that came from a report goes through
:func:`secscan.remediate.quote.ps_literal`. docs/remediate.md.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.policy.remediation import Catalogue, Fix
from secscan.remediate.quote import ps_literal, shown

if TYPE_CHECKING:  # the plan's types only: secscan.remediate imports this module
    from secscan.remediate import GuidanceLine, PcPlan, Plan

ENGINE = Path(__file__).with_name("engine.ps1")

_HOW_TO = """\
#
# CÁCH DÙNG (Windows PowerShell 5.1, "Run as administrator"; docs/remediate.md):
#   1. Đọc toàn bộ script này.
#   2. Thử trên MỘT máy, chỉ đọc, không thay đổi gì (mặc định, -WhatIf):
#        powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{name}
#   3. Áp dụng (chỉ sửa những gì còn sai; ghi trước/sau vào %ProgramData%\\secscan\\remediation.log,
#      rồi chạy collect.ps1 của bộ cài secscan nếu có, để báo cáo sau thấy kết quả):
#        powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{name} -Apply
#      hoặc cho cả đơn vị bằng Group Policy (Computer Startup Script, tham số -Apply).
#   4. Hoàn tác những gì script này đã đổi trên máy (theo nhật ký):  ... -File .\\{name} -Undo
#   Máy không có trong danh sách dưới đây: script không đọc, không đổi gì và báo lại (mã thoát 4).
#
# HOW TO USE (Windows PowerShell 5.1, "Run as administrator"; docs/remediate.md):
#   1. Read this whole script.
#   2. Try it on ONE PC; it reads and prints only (the default, -WhatIf):
#        powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{name}
#   3. Apply (changes only what still fails; logs before/after to %ProgramData%\\secscan\\remediation.log,
#      then runs the secscan kit's collect.ps1 when installed, so the next report shows the result):
#        powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\{name} -Apply
#      or for the whole unit by Group Policy (Computer Startup Script, parameter -Apply).
#   4. Undo what this script changed on the PC (from the log):  ... -File .\\{name} -Undo
#   A PC that is not on the list below: the script reads and changes nothing and says so (exit code 4).
#
# Exit codes: 0 done; 2 wrong parameters; 3 not administrator (-Apply/-Undo); 4 this PC is not on the
# list; 5 the state folder or log cannot be used; 6 a fix could not be checked, applied or undone.
# Nothing in secscan runs Windows: this script was checked by grammar (PowerShell 5.1) and is meant to
# be reviewed by people; try it on one PC of each Windows version before a unit-wide rollout.
"""


def _comment_lit(value: str) -> str:
    return ps_literal(value)


def render(plan: Plan, catalogue: Catalogue, *, version: str, generated_at: datetime,
           file_name: str = "fix.ps1", source: str = "the collector's latest results") -> str:
    """The script's text (LF line ends; :func:`script_bytes` makes the file)."""
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    script_id = plan.script_id(generated_at)
    lines = [
        *_header_lines(plan, catalogue, version=version, stamp=stamp, script_id=script_id,
                       file_name=file_name, source=source),
        *_guidance_comment_lines(plan),
        *_allowed_lines(plan, script_id=script_id, stamp=stamp),
        *_helper_lines(plan, catalogue),
        "# --- the fixes, from the catalogue (policies/remediation/) ---",
        "$Fixes = @{}",
    ]
    chosen = {f.id for f in plan.fixes}
    for fix in catalogue.fixes.values():
        if fix.id in chosen:
            lines += _fix_lines(fix, plan.lang)
    lines.append("")
    lines += ENGINE.read_text(encoding="utf-8").rstrip("\n").splitlines()
    return "\n".join(lines) + "\n"


def _header_lines(plan: Plan, catalogue: Catalogue, *, version: str, stamp: str, script_id: str,
                  file_name: str, source: str) -> list[str]:
    """The comment block for people: what the script is, how to run it, the findings it addresses,
    the PCs it may touch and the failing PCs it leaves out."""
    n_fixes = sum(len(p.fixes) for p in plan.pcs)
    lines = [
        "#Requires -Version 5.1",
        "# secscan remediate: script khắc phục / remediation script",
        f"# Đơn vị / unit: {_comment_lit(plan.unit)}",
        f"# Tạo bởi / written by: secscan {_comment_lit(version)}, {stamp} (UTC), from {source}",
        f"# Danh mục / catalogue: {', '.join(f'{k} {_comment_lit(v)}' for k, v in catalogue.files.items())}"
        + (f"; alternatives chosen: {', '.join(plan.uses)}" if plan.uses else ""),
        f"# Script id: {script_id} (the log and -Undo know this script's changes by it)",
        f"# {len(plan.pcs)} PC(s), {n_fixes} fix(es) to check, "
        f"{sum(len(p.guidance) for p in plan.pcs)} item(s) of guidance that no script may fix",
        *(_HOW_TO.replace("{name}", shown(file_name)).splitlines()),
        "#",
        "# Kết quả kiểm tra được xử lý / findings addressed (control: failing PCs; fixed by script; guidance only):",
    ]
    for f in plan.findings:
        lines.append(f"#   {f.control}: {len(f.failing)} failing; {len(f.scripted)} by script; "
                     f"{len(f.guidance)} guidance only -- {_comment_lit(f.title)}")
    lines += ["#", "# Máy được phép / PCs this script may touch (hostname, machine id: fixes):"]
    for pc in plan.pcs:
        lines.append(f"#   {_comment_lit(pc.hostname)} {_comment_lit(pc.machine_id)}: "
                     f"{', '.join(pc.fixes) or '(guidance only)'}")
    if plan.excluded:
        lines += ["#", "# Không có trong script / failing PCs left out (fix them by hand):"]
        for name, why in plan.excluded:
            lines.append(f"#   {_comment_lit(name)}: {_comment_lit(why)}")
    return lines


def _guidance_comment_lines(plan: Plan) -> list[str]:
    """The guidance no script applies, once per control, with each PC's reason and evidence."""
    guided: dict[str, list[tuple[PcPlan, GuidanceLine]]] = {}
    for pc in plan.pcs:
        for g in pc.guidance:
            guided.setdefault(g.control, []).append((pc, g))
    if not guided:
        return []
    lines = ["#", "# Không sửa bằng script / not scripted, for the IT officer (each PC prints its own lines):"]
    for control, items in guided.items():
        first = items[0][1]
        lines.append(f"#   {control} -- {_comment_lit(first.title)}")
        lines += [f"#       {_comment_lit(chunk)}" for chunk in _chunks(first.text)]
        for pc, g in items:
            detail = "; ".join(f"{label}: {value}" for label, value in g.evidence)
            if g.why:
                detail = f"({g.why}) {detail}".strip()
            lines.append(f"#     {_comment_lit(pc.hostname)} {_comment_lit(detail or '-')}")
    return lines


def _allowed_lines(plan: Plan, *, script_id: str, stamp: str) -> list[str]:
    """The parameters, the script's identity and the PCs it may touch with their fixes and guidance."""
    lines = [
        "",
        "param([switch]$Apply, [switch]$Undo, [switch]$WhatIf)",
        "",
        "$ErrorActionPreference = 'Stop'",
        f"$ScriptId = {ps_literal(script_id, strict=True)}",
        f"$Unit = {ps_literal(plan.unit, strict=True)}",
        f"$Generated = {ps_literal(stamp, strict=True)}",
        "",
        "# The PCs this script may touch: name AND machine id (MachineGuid) must both match.",
        "$Allowed = @(",
    ]
    for pc in plan.pcs:
        fixes = ", ".join(ps_literal(f, strict=True) for f in pc.fixes)
        lines += [
            "  @{",
            f"    Hostname = {ps_literal(pc.hostname, strict=True)}",
            f"    MachineId = {ps_literal(pc.machine_id, strict=True)}",
            f"    Fixes = @({fixes})",
            "    Guidance = @(",
            *(f"      {ps_literal(g.one_line())}" for g in pc.guidance),
            "    )",
            "  }",
        ]
    return [*lines, ")", ""]


def _helper_lines(plan: Plan, catalogue: Catalogue) -> list[str]:
    helpers = catalogue.helper_order(plan.fixes)
    if not helpers:
        return []
    lines = ["# --- helpers from the catalogue ---"]
    for helper in helpers:
        lines += [*helper.code.rstrip("\n").splitlines(), ""]
    return lines


def _fix_lines(fix: Fix, lang: str) -> list[str]:
    """One fix as an entry of ``$Fixes``: its facts for the engine and its three snippets."""
    return [
        f"$Fixes[{ps_literal(fix.id, strict=True)}] = @{{",
        f"  Control = {ps_literal(fix.control, strict=True)}",
        f"  Title = {ps_literal(fix.title.get(lang))}",
        f"  Windows = {ps_literal(fix.windows.label)}",
        f"  MinBuild = {int(fix.windows.min_build)}",
        f"  MaxBuild = {int(fix.windows.max_build or 0)}",
        f"  Gpo = {'$true' if fix.domain == 'gpo' else '$false'}",
        f"  Reboot = {'$true' if fix.reboot else '$false'}",
        *(f"  # source: {ps_literal(s.url)}" for s in fix.sources),
        "  Check = {",
        *_indent(fix.check, 4),
        "  }",
        "  Apply = {",
        "    param($State)",
        *_indent(fix.apply, 4),
        "  }",
        "  Undo = {",
        "    param($Before)",
        *_indent(fix.undo, 4),
        "  }",
        "}",
    ]


def _chunks(text: str, width: int = 96) -> list[str]:
    """``text`` cut at spaces into pieces of about ``width`` characters (each becomes its own
    literal on its own comment line, so nothing a report says can end the comment)."""
    out: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    return out


def _indent(code: str, spaces: int) -> list[str]:
    pad = " " * spaces
    return [(pad + line) if line.strip() else "" for line in code.rstrip("\n").splitlines()]


def script_bytes(text: str) -> bytes:
    """The file: UTF-8 with a byte-order mark (Windows PowerShell 5.1 reads a file without one in
    the ANSI code page, which would garble Vietnamese) and CRLF line ends (Notepad on Windows 7)."""
    return b"\xef\xbb\xbf" + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
