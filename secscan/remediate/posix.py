"""The Linux script: one POSIX sh file per unit from a plan made with ``platform="linux"``, with the
same shape as the PowerShell one — a header for people, the PCs it may touch (hostname and
/etc/machine-id), the catalogue's fixes as shell functions, and the engine (``engine.sh``: guard,
``--dry-run`` default, ``--apply``, ``--undo``, log, fresh report). Every value that came from a
report goes through :func:`secscan.remediate.quote.sh_literal`. docs/remediate.md.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from secscan.policy.remediation import Catalogue
from secscan.remediate.quote import sh_literal, shown

ENGINE = Path(__file__).with_name("engine.sh")

_HOW_TO = """\
#
# CÁCH DÙNG (máy Linux họ Debian/Ubuntu, quyền root; docs/remediate.md):
#   1. Đọc toàn bộ script này.
#   2. Thử trên MỘT máy, chỉ đọc, không thay đổi gì (mặc định, --dry-run):   sh ./{name}
#   3. Áp dụng (chỉ sửa những gì còn sai; ghi trước/sau vào /var/log/secscan/remediation.log,
#      rồi chạy secscan-agent.service nếu có, để báo cáo sau thấy kết quả):   sudo sh ./{name} --apply
#   4. Hoàn tác những gì script này đã đổi trên máy (theo nhật ký):          sudo sh ./{name} --undo
#   Máy không có trong danh sách dưới đây: script không đọc, không đổi gì và báo lại (mã thoát 4).
#
# HOW TO USE (Debian-family Linux, as root; docs/remediate.md):
#   1. Read this whole script.
#   2. Try it on ONE PC; it reads and prints only (the default, --dry-run):  sh ./{name}
#   3. Apply (changes only what still fails; logs before/after to /var/log/secscan/remediation.log,
#      then starts secscan-agent.service when installed, so the next report shows the result):
#        sudo sh ./{name} --apply
#   4. Undo what this script changed on the PC (from the log):                sudo sh ./{name} --undo
#   A PC that is not on the list below: the script reads and changes nothing and says so (exit code 4).
#
# Exit codes: 0 done; 2 wrong arguments; 3 not root (--apply/--undo); 4 this PC is not on the list;
# 5 the log cannot be used; 6 a fix could not be checked, applied or undone.
"""


def _case(name: str, rows: list[tuple[str, str]], fallback: str) -> list[str]:
    lines = [f"{name}() {{", "  case $1 in"]
    lines += [f"    {key}) {body} ;;" for key, body in rows]
    lines += [f"    *) {fallback} ;;", "  esac", "}"]
    return lines


def render_sh(plan, catalogue: Catalogue, *, version: str, generated_at: datetime, file_name: str = "fix.sh",
              source: str = "the collector's latest results") -> str:
    """The script's text (``plan`` from ``make_plan(..., platform="linux")``)."""
    lang = plan.lang
    stamp = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    script_id = plan.script_id(generated_at)
    lines = [
        "#!/bin/sh",
        "# secscan remediate: script khắc phục / remediation script (POSIX sh, Linux)",
        f"# Đơn vị / unit: {sh_literal(plan.unit)}",
        f"# Tạo bởi / written by: secscan {sh_literal(version)}, {stamp} (UTC), from {source}",
        f"# Danh mục / catalogue: {', '.join(f'{k} {sh_literal(v)}' for k, v in catalogue.files.items())}",
        f"# Script id: {script_id} (the log and --undo know this script's changes by it)",
        f"# {len(plan.pcs)} PC(s), {sum(len(p.fixes) for p in plan.pcs)} fix(es) to check",
        *(_HOW_TO.replace("{name}", shown(file_name)).splitlines()),
        "#",
        "# Kết quả kiểm tra được xử lý / findings addressed (control: failing PCs; fixed by script):",
    ]
    for f in plan.findings:
        lines.append(f"#   {f.control}: {len(f.failing)} failing; {len(f.scripted)} by script -- {sh_literal(f.title)}")
    lines += ["#", "# Máy được phép / PCs this script may touch (hostname, machine id: fixes):"]
    for pc in plan.pcs:
        lines.append(f"#   {sh_literal(pc.hostname)} {sh_literal(pc.machine_id)}: {', '.join(pc.fixes) or '-'}")
    if plan.excluded:
        lines += ["#", "# Không có trong script / failing PCs left out (fix them by hand):"]
        lines += [f"#   {sh_literal(name)}: {sh_literal(why)}" for name, why in plan.excluded]
    lines += [
        "",
        "set -u",
        "umask 022",
        f"SCRIPT_ID={sh_literal(script_id, strict=True)}",
        f"UNIT={sh_literal(plan.unit, strict=True)}",
        f"GENERATED={sh_literal(stamp, strict=True)}",
        "",
        "# The PCs this script may touch: name AND machine id (/etc/machine-id) must both match.",
        "# pc_entry N sets E_HOST, E_ID and E_FIXES for the N-th PC, or fails past the last one.",
    ]
    rows = []
    for n, pc in enumerate(plan.pcs, 1):
        fixes = sh_literal(" ".join(pc.fixes), strict=True)
        rows.append((str(n), f"E_HOST={sh_literal(pc.hostname, strict=True)}; "
                             f"E_ID={sh_literal(pc.machine_id, strict=True)}; E_FIXES={fixes}"))
    lines += _case("pc_entry", rows, "return 1")
    lines.append("")
    helpers = catalogue.helper_order(plan.fixes)
    if helpers:
        lines.append("# --- helpers from the catalogue ---")
        for helper in helpers:
            lines += [*helper.code.rstrip("\n").splitlines(), ""]
    lines.append("# --- the fixes, from the catalogue (policies/remediation/) ---")
    lines += _case("fix_title", [(f.id, f"printf '%s' {sh_literal(f.title.get(lang))}") for f in plan.fixes],
                   "return 1")
    lines += _case("fix_control", [(f.id, f"printf '%s' {sh_literal(f.control, strict=True)}") for f in plan.fixes],
                   "return 1")
    for fix in plan.fixes:
        name = fix.id.replace("-", "_")
        lines += [f"# {fix.id}: {sh_literal(fix.title.en or fix.title.vi)} ({sh_literal(fix.label)})"]
        lines += [f"#   source: {sh_literal(s.url)}" for s in fix.sources]
        for kind in ("check", "apply", "undo"):
            lines += [f"fix_{name}_{kind}() {{", *_indent(getattr(fix, kind)), "}"]
        lines.append("")
    lines += ENGINE.read_text(encoding="utf-8").rstrip("\n").splitlines()
    return "\n".join(lines) + "\n"


def _indent(code: str) -> list[str]:
    return [("  " + line) if line.strip() else "" for line in code.rstrip("\n").splitlines()]


def sh_bytes(text: str) -> bytes:
    """The file: UTF-8 without a byte-order mark (it would hide the #! line), LF line ends."""
    return text.replace("\r\n", "\n").encode("utf-8")
