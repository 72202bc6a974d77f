"""``secscan report xlsx``: the results workbook holds the figures the PDF is laid out from (the
report stage's Summary), and no cell a spreadsheet could take for a formula."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import openpyxl
import pytest

from secscan.report.inputs import ReportInput
from secscan.report.summary import summarise
from secscan.report.workbook import (
    FIGURE_KEYS,
    Sheet,
    Table,
    sheet_titles,
    unit_figures,
    words,
    write_results,
    write_workbook,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
HOSTILE_CELLS = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1", "\u3000=1", "＝1+1",
                 '=HYPERLINK("http://127.0.0.1:9/","x")', "-", "=", "ordinary"]


def _book(summary, lang: str = "vi") -> openpyxl.Workbook:  # type: ignore[no-untyped-def]
    buf = BytesIO()
    write_results(summary, lang, buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def _rows(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    return list(ws.iter_rows(values_only=True))


def test_figures_equal_the_pdfs(district: ReportInput) -> None:
    summary = summarise(district, None, "vi")  # what the PDF lays out (pdf.write_pdf takes this Summary)
    wb = _book(summary)
    assert len(wb.sheetnames) == 1 + len(summary.units)
    rows = _rows(wb.worksheets[0])
    assert rows[0] == tuple(words("vi")["results"]["summary_head"])
    assert len(rows) == 1 + len(summary.units) + 1
    for row, unit in zip(rows[1:], summary.units, strict=False):
        assert row[:3] == (unit.unit.id, unit.unit.name, unit.unit.level)
        assert list(row[3:]) == unit_figures(unit.ind)
    assert list(rows[-1][3:]) == unit_figures(summary.org)
    assert rows[-1][3] == summary.org.hosts == sum(u.ind.hosts for u in summary.units)
    assert rows[-1][4] == summary.org.score
    # each unit's sheet: its six headline figures, and its open findings with their PC counts
    for unit, ws in zip(summary.units, wb.worksheets[1:], strict=True):
        got = _rows(ws)
        for key, row in zip(FIGURE_KEYS, got[1:7], strict=True):
            count = getattr(unit.ind, key)
            assert row[1:5] == (count.yes, count.no, count.unknown, count.pct)
        findings = [f for f in summary.active_brief if f.unit == unit.unit.id]
        assert [r[1] for r in got[9:]] == [f.control_id for f in findings]
        assert [r[4] for r in got[9:]] == [len(summary.detailed(f).hosts) for f in findings]


def test_layout_frozen_header_filter_widths(small: ReportInput) -> None:
    wb = _book(summarise(small, None, "en"), "en")
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:T{ws.max_row}"
    assert ws["A1"].value == "Unit id" and ws["A1"].font.b
    assert ws.column_dimensions["B"].width >= max(len(str(c.value or "")) for c in ws["B"]) + 2 or \
        ws.column_dimensions["B"].width == 60
    unit = wb.worksheets[1]
    assert unit.freeze_panes == "A10" and unit.auto_filter.ref.startswith("A9:F")
    assert unit["E2"].number_format == "0.0"


def _strings(wb: openpyxl.Workbook) -> list[str]:
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_no_formula_from_hostile_names(hostile: ReportInput, hostile_strings: dict[str, str]) -> None:
    wb = _book(summarise(hostile, None, "vi"))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = _strings(wb)
    assert not [t for t in texts if t.startswith(FORMULA_START) or t.lstrip().startswith(FORMULA_START)]
    assert any(hostile_strings["host"] in t and t.startswith("'") for t in texts)  # shown, made inert


@pytest.mark.parametrize("value", HOSTILE_CELLS)
def test_every_formula_start_is_neutralised(value: str, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    write_workbook([Sheet(value, [Table([value, "n"], [[value, 1], ["x", value]])], notes=[value])], out, value)
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    got = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in got)
    shown = [c.value for c in got if isinstance(c.value, str) and c.value not in ("x", "n")]
    assert len(shown) == 4  # header, two cells, the note: each kept, none a formula
    for text in shown:
        assert not (text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START)), text
        # the text itself is kept: behind one apostrophe, or with a control character shown by its code
        assert text.removeprefix("'") == value.replace("\r", "[U+000D]"), (value, text)
    assert ws.title and len(ws.title) <= 31


def test_sheet_titles_excel_accepts() -> None:
    long = "xa-" + "a" * 40
    got = sheet_titles(["a/b", "A/B", "[x]:*?", "'quoted'", long, long, ""])
    assert got[:4] == ["a_b", "A_B~2", "_x____", "quoted"]
    assert got[4] == long[:31] and got[5].endswith("~2") and len(got[5]) <= 31
    assert got[6] == "_"
    assert len({t.casefold() for t in got}) == len(got)
