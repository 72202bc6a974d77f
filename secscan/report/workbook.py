"""Spreadsheets (openpyxl): ``secscan report xlsx``, the officer's results workbook (a summary sheet
and a sheet per unit, the figures of the PDF read off the same Summary), and the writer that
``secscan report inventory`` shares.

Every sheet: a bold header row that stays in view (frozen) with a filter on it, columns as wide as
their text (within bounds), numbers as numbers. Every text cell goes through ``csvout.safe_cell``,
the one neutralisation of the report stage: text that a spreadsheet would read as a formula (=, +,
-, @, tab, CR, full-width forms, after blanks too) gets a leading apostrophe, invisible and bidi
characters are shown by their code. Words: ``reports/i18n/workbook.<lang>.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import IO, Any

from secscan.report.csvout import safe_cell
from secscan.report.summary import Count, Indicators, Summary
from secscan.report.texts import LANGS, _yaml, texts

# Dates and times as the officer's clock shows them (Vietnam, UTC+7, no daylight saving): a
# spreadsheet cell holds no time zone.
LOCAL = timezone(timedelta(hours=7))
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
DATE_FORMAT = "dd/mm/yyyy"
PCT_FORMAT = "0.0"
MIN_WIDTH, MAX_WIDTH = 6, 60
MAX_NAMES = 50  # host names listed in one cell; the rest are counted
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


@cache
def words(lang: str) -> dict[str, Any]:
    if lang not in LANGS:
        raise ValueError(f"--lang {lang}: unsupported (use one of {', '.join(LANGS)})")
    return _yaml(f"i18n/workbook.{lang}.yaml")


@dataclass
class Table:
    head: list[str]
    rows: list[list[Any]]
    formats: dict[int, str] = field(default_factory=dict)  # column index -> number format


@dataclass
class Sheet:
    """One tab: its tables one below the other (a blank row between); the last one has the filter
    and its header row stays in view."""

    title: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)  # lines below the last table


def sheet_titles(names: list[str]) -> list[str]:
    """Tab names Excel accepts: at most 31 characters, none of []:*?/\\, no leading or trailing
    apostrophe, unique regardless of case."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = _SHEET_FORBIDDEN.sub("_", name).strip("'").strip() or "_"
        title, n = base[:31], 1
        while title.casefold() in seen:
            n += 1
            title = f"{base[:31 - len(str(n)) - 1]}~{n}"
        seen.add(title.casefold())
        out.append(title)
    return out


def cell(value: Any) -> Any:
    """A value as a cell holds it: numbers and dates as such (a date-time in Vietnam's time),
    everything else as neutralised text."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value
    return safe_cell(value)


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:.1f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def write_workbook(sheets: list[Sheet], out: Path | IO[bytes], title: str | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    if title:
        wb.properties.title = str(cell(title))
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for sheet, name in zip(sheets, sheet_titles([s.title for s in sheets]), strict=True):
        ws = wb.create_sheet(name)
        widths: dict[int, int] = {}
        row_no, head_row = 0, 1
        for index, table in enumerate(sheet.tables):
            row_no += 2 if index else 1  # a blank row between tables
            head_row = row_no
            for col, value in enumerate(table.head, 1):
                ws.cell(row=row_no, column=col, value=cell(value)).font = bold
            for values in table.rows:
                row_no += 1
                for col, value in enumerate(values, 1):
                    c = ws.cell(row=row_no, column=col, value=cell(value))
                    if col - 1 in table.formats:
                        c.number_format = table.formats[col - 1]
                    elif isinstance(value, datetime):
                        c.number_format = DATETIME_FORMAT
                    elif isinstance(value, date):
                        c.number_format = DATE_FORMAT
            for col, values in enumerate(zip(table.head, *table.rows, strict=True)):
                widths[col] = max(widths.get(col, 0), *(_width(v) for v in values if v is not None))
        last = sheet.tables[-1]
        if last.head:
            ws.freeze_panes = ws.cell(row=head_row + 1, column=1)
            ws.auto_filter.ref = f"A{head_row}:{get_column_letter(len(last.head))}{row_no}"
        for note in sheet.notes:
            row_no += 2
            ws.cell(row=row_no, column=1, value=cell(note))
        for col, width in widths.items():
            letter = get_column_letter(col + 1)
            ws.column_dimensions[letter].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
            if width + 2 > MAX_WIDTH:
                for c in ws[letter]:
                    c.alignment = wrap
    wb.save(out)


# --- the results workbook --------------------------------------------------------------------


def _pct(count: Count) -> float | None:
    return count.pct


def unit_figures(ind: Indicators) -> list[Any]:
    """A unit's (or the whole organisation's) figures in the summary sheet's column order."""
    return [ind.hosts, ind.score, ind.passed, ind.failed, ind.unknown,
            ind.av_present.yes, ind.av_present.no, ind.av_present.unknown, _pct(ind.av_present), _pct(ind.av_current),
            _pct(ind.windows_licensed), _pct(ind.office_licensed), ind.activators.yes, ind.unsupported_os.yes,
            ind.high_hosts, ind.seen, ind.unmanaged]


# columns of the summary sheet holding a per-cent (after the unit id, name and level)
_SUMMARY_PCT = (4, 11, 12, 13, 14)
FIGURE_KEYS = ("av_present", "av_current", "windows_licensed", "office_licensed", "activators", "unsupported_os")


def names_cell(names: list[str], lang: str) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    more = len(names) - MAX_NAMES
    if more > 0:
        shown += f" … (+{more})" if lang == "en" else f" … (và {more} máy khác)"
    return shown


def results_sheets(summary: Summary, lang: str) -> list[Sheet]:
    w, t = words(lang)["results"], texts(lang)
    rows = [[r.unit.id, r.unit.name, r.unit.level, *unit_figures(r.ind)] for r in summary.units]
    rows.append(["", w["total"], None, *unit_figures(summary.org)])
    sheets = [Sheet(w["sheets"]["summary"],
                    [Table(w["summary_head"], rows, {c: PCT_FORMAT for c in _SUMMARY_PCT})])]
    active: dict[str, list] = {}
    for f in summary.active_brief:
        active.setdefault(f.unit, []).append(f)
    for r in summary.units:
        figures = [[w["figures"][k], c.yes, c.no, c.unknown, c.pct]
                   for k in FIGURE_KEYS for c in [getattr(r.ind, k)]]
        findings = []
        for f in active.get(r.unit.id, []):
            hosts = summary.detailed(f).hosts
            findings.append([t["severity"][f.severity.value], f.control_id, f.title, t["status"][f.status.value],
                             len(hosts), names_cell([h.host for h in hosts], lang)])
        sheets.append(Sheet(r.unit.id, [Table(w["figures_head"], figures, {4: PCT_FORMAT}),
                                        Table(w["findings_head"], findings)]))
    return sheets


def write_results(summary: Summary, lang: str, out: Path | IO[bytes]) -> int:
    """The results workbook; returns the number of sheets."""
    sheets = results_sheets(summary, lang)
    title = words(lang)["results"]["summary_title"].format(organisation=summary.inp.organisation,
                                                           period=summary.inp.period)
    write_workbook(sheets, out, title)
    return len(sheets)
