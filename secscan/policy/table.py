"""The per-unit table printed by ``secscan evaluate`` (rich). Vietnamese by default."""

from __future__ import annotations

from secscan.model.result import OrgSummary, UnitSummary
from secscan.policy.baseline import CompiledBaseline

_LABELS = {
    "vi": {"unit": "Đơn vị", "level": "Cấp độ", "hosts": "Số máy", "score": "Điểm tuân thủ",
           "passed": "Đạt", "failed": "Không đạt", "unknown": "Chưa rõ", "compliant": "Máy đạt đủ",
           "recommended": "Khuyến nghị đạt", "total": "Toàn cơ quan", "unplaced": "Chưa xác định đơn vị/cấp độ",
           "title": "Kết quả đánh giá theo cấp độ", "note": "Điểm = Đạt / (Đạt + Không đạt) trên các yêu cầu "
           "bắt buộc; \"Chưa rõ\" (thiếu dữ liệu) tính riêng, không bao giờ tính là đạt.",
           "unverified": "Ngưỡng chưa được đối chiếu văn bản gốc"},
    "en": {"unit": "Unit", "level": "Level", "hosts": "Hosts", "score": "Score",
           "passed": "Pass", "failed": "Fail", "unknown": "Unknown", "compliant": "Fully compliant",
           "recommended": "Recommended pass", "total": "Whole organisation", "unplaced": "No unit/level",
           "title": "Results by security level", "note": "Score = pass / (pass + fail) over required controls; "
           "unknown (missing facts) is shown apart and never counted as pass.",
           "unverified": "Thresholds not yet checked against the original texts"},
}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _share(unit: UnitSummary, indicator_id: str) -> str:
    ind = next((i for i in unit.indicators if i.indicator_id == indicator_id), None)
    if ind is None or ind.judged == 0:
        return "—" if ind is None or ind.unknown == 0 else f"? ({ind.unknown})"
    text = f"{ind.count}/{ind.judged} {_pct(ind.share)}"
    return text + (f" +{ind.unknown}?" if ind.unknown else "")


def print_summary(summary: OrgSummary, baseline: CompiledBaseline, lang: str = "vi") -> None:
    from rich.console import Console
    from rich.table import Table

    t = _LABELS[lang]
    console = Console()
    table = Table(title=f"{t['title']} — {summary.organisation} ({baseline.baseline.title.get(lang)})",
                  caption=t["note"], show_lines=False)
    for key in ("unit", "level", "hosts", "score", "passed", "failed", "unknown", "compliant", "recommended"):
        table.add_column(t[key], justify="left" if key == "unit" else "right")
    for ind in baseline.baseline.indicators:
        table.add_column(ind.title.get(lang), justify="right", overflow="fold")

    def row(unit: UnitSummary, name: str, bold: bool = False) -> None:
        rec = unit.recommended
        cells = [name, str(unit.level or "—"), str(unit.hosts), _pct(unit.score), str(unit.required.passed),
                 str(unit.required.failed), str(unit.required.unknown), f"{unit.hosts_compliant}/{unit.hosts}",
                 _pct(rec.score())]
        cells += [_share(unit, ind.id) for ind in baseline.baseline.indicators]
        table.add_row(*cells, style="bold" if bold else None)

    for unit in summary.units:
        row(unit, unit.name)
    table.add_section()
    row(summary.total, t["total"], bold=True)
    console.print(table)
    if summary.unplaced:
        console.print(f"[yellow]{t['unplaced']}:[/yellow]")
        for host in summary.unplaced:
            console.print(f"  {host.host} ({host.report_id}): {host.reason}")
    if baseline.baseline.status_note is not None:
        console.print(f"[dim]{t['unverified']}: {baseline.baseline.status_note.get(lang)}[/dim]")
