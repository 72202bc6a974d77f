"""The per-unit tables printed by ``secscan evaluate`` (rich). Vietnamese by default."""

from __future__ import annotations

from secscan.model.result import OrgSummary, UnitSummary
from secscan.policy.baseline import CompiledBaseline

_LABELS = {
    "vi": {"unit": "Đơn vị", "level": "Cấp độ", "hosts": "Số máy", "score": "Điểm",
           "passed": "Đạt", "failed": "Không đạt", "unknown": "Chưa rõ", "compliant": "Máy đạt đủ",
           "recommended": "Khuyến nghị", "assessment": "Đánh giá định kỳ",
           "total": "Toàn cơ quan", "unplaced": "Chưa xác định đơn vị/cấp độ",
           "title": "Tuân thủ yêu cầu bắt buộc theo cấp độ", "indicators": "Chỉ tiêu (số máy / số máy xác định được)",
           "note": "Điểm = Đạt / (Đạt + Không đạt) trên các yêu cầu bắt buộc; Chưa rõ (thiếu dữ liệu) tính riêng, "
           "không bao giờ tính là đạt. \"+n?\": n máy chưa xác định được.",
           "unverified": "Lưu ý"},
    "en": {"unit": "Unit", "level": "Level", "hosts": "Hosts", "score": "Score",
           "passed": "Pass", "failed": "Fail", "unknown": "Unknown", "compliant": "Compliant hosts",
           "recommended": "Recommended", "assessment": "Periodic assessment",
           "total": "Whole organisation", "unplaced": "No unit/level",
           "title": "Required controls by security level", "indicators": "Indicators (hosts / hosts judged)",
           "note": "Score = pass / (pass + fail) over required controls; unknown (missing facts) is shown apart and "
           "never counted as pass. \"+n?\": n hosts could not be judged.",
           "unverified": "Note"},
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _assessment(unit: UnitSummary, lang: str) -> str:
    if unit.last_assessment is None:
        return "chưa có hồ sơ" if lang == "vi" else "no record"
    if unit.assessment_due is None:
        return unit.last_assessment.strftime("%d/%m/%Y")
    due = unit.assessment_due.strftime("%d/%m/%Y")
    if unit.assessment_overdue:
        return f"[red]{'quá hạn' if lang == 'vi' else 'overdue'} {due}[/red]"
    return f"{'đến' if lang == 'vi' else 'due'} {due}"


def _share(unit: UnitSummary, indicator_id: str) -> str:
    ind = next((i for i in unit.indicators if i.indicator_id == indicator_id), None)
    if ind is None:
        return "—"
    text = f"{_pct(ind.share)} ({ind.count}/{ind.judged})" if ind.judged else "—"
    return text + (f" +{ind.unknown}?" if ind.unknown else "")


def print_summary(summary: OrgSummary, baseline: CompiledBaseline, lang: str = "vi") -> None:
    from rich.console import Console
    from rich.table import Table

    t = _LABELS[lang]
    console = Console()
    rows = [(u, u.name, False) for u in summary.units] + [(summary.total, t["total"], True)]

    table = Table(title=f"{t['title']} — {summary.organisation}", caption=t["note"])
    for key in ("unit", "level", "hosts", "score", "passed", "failed", "unknown", "compliant", "recommended",
                "assessment"):
        table.add_column(t[key], justify="left" if key == "unit" else "right")
    for unit, name, bold in rows:
        if bold:
            table.add_section()
        table.add_row(name, str(unit.level or "—"), str(unit.hosts), _pct(unit.score), str(unit.required.passed),
                      str(unit.required.failed), str(unit.required.unknown), f"{unit.hosts_compliant}/{unit.hosts}",
                      _pct(unit.recommended.score()), "" if bold else _assessment(unit, lang),
                      style="bold" if bold else None)
    console.print(table)

    indicators = baseline.baseline.indicators
    if indicators:
        table = Table(title=t["indicators"])
        table.add_column(t["unit"])
        for ind in indicators:
            table.add_column((ind.short or ind.title).get(lang), justify="right")
        for unit, name, bold in rows:
            if bold:
                table.add_section()
            table.add_row(name, *[_share(unit, ind.id) for ind in indicators], style="bold" if bold else None)
        console.print(table)

    if summary.unplaced:
        console.print(f"[yellow]{t['unplaced']}:[/yellow]")
        for host in summary.unplaced:
            console.print(f"  {host.host} ({host.report_id}): {host.reason}")
    note = baseline.baseline.status_note
    console.print(f"[dim]{baseline.baseline.title.get(lang)} {baseline.baseline.version}"
                  + (f" — {t['unverified']}: {note.get(lang)}" if note else "") + "[/dim]")


def print_network(summary: OrgSummary, lang: str = "vi") -> None:
    """Scan-host controls (``subject: scan_host``) per unit: one row per unit × control."""
    from rich.console import Console
    from rich.table import Table

    t = _LABELS[lang]
    table = Table(title="Kiểm tra qua quét mạng" if lang == "vi" else "Network scan checks")
    for key in ("unit", "level", "hosts"):
        table.add_column(t[key], justify="left" if key == "unit" else "right")
    table.add_column("control")
    for key in ("passed", "failed", "unknown"):
        table.add_column(t[key], justify="right")
    for unit in summary.units:
        for rate in unit.controls:
            table.add_row(unit.name, str(unit.level or "—"), str(unit.hosts), rate.control_id,
                          str(rate.counts.passed), str(rate.counts.failed), str(rate.counts.unknown))
    Console().print(table)


def print_controls(summary: OrgSummary, baseline: CompiledBaseline, lang: str = "vi") -> None:
    """Controls × units: pass rate (passed / judged), "!" where the control is required at the
    unit's level, and the number of unknown hosts; then the failing hosts of each required control."""
    from rich.console import Console
    from rich.table import Table

    t = _LABELS[lang]
    console = Console()
    table = Table(title="Tỷ lệ đạt theo từng yêu cầu" if lang == "vi" else "Pass rate per control",
                  caption="! = bắt buộc ở cấp độ của đơn vị; +n? = n máy chưa rõ" if lang == "vi"
                  else "! = required at the unit's level; +n? = n hosts unknown")
    table.add_column("control")
    for unit in summary.units:
        table.add_column(unit.name, justify="right")
    rates = {(u.unit, r.control_id): r for u in summary.units for r in u.controls}
    for compiled in baseline.controls:
        cells = []
        for unit in summary.units:
            rate = rates.get((unit.unit, compiled.id))
            if rate is None or (rate.counts.judged == 0 and rate.counts.unknown == 0):
                cells.append("—")
                continue
            mark = "!" if rate.requirement.value == "required" else ""
            cells.append(f"{mark}{_pct(rate.rate)}" + (f" +{rate.counts.unknown}?" if rate.counts.unknown else ""))
        table.add_row(compiled.control.title.get(lang), *cells)
    console.print(table)
    for unit in summary.units:
        failing = [r for r in unit.controls if r.requirement.value == "required" and r.failing_hosts]
        if failing:
            console.print(f"[bold]{unit.name}[/bold] — {t['failed']}:")
            for r in failing:
                hosts = ", ".join(r.failing_hosts[:10]) + (" …" if len(r.failing_hosts) > 10 else "")
                console.print(f"  {r.control_id}: {hosts}")
