from __future__ import annotations

import base64
import csv
import hashlib
import io
import re

from secscan.report.csvout import safe_cell, write_csv
from secscan.report.html import render_html
from secscan.report.summary import summarise


def test_safe_cell_neutralises_formulas():
    for bad in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "＝1"):
        assert safe_cell(bad).startswith("'")
    assert safe_cell("\r=1") == "[U+000D]=1"  # control characters are shown, not kept
    assert safe_cell("Xã Văn Lang") == "Xã Văn Lang"
    assert safe_cell(-3) == -3  # our own numbers stay numbers
    assert safe_cell("a\u202eb") == "a[U+202E]b"


def test_safe_cell_looks_past_leading_whitespace():
    """Issue 16: spreadsheets skip leading blanks, so " =1+1" is a formula too (OWASP: neutralise
    whatever starts like one once the whitespace is stripped)."""
    for blank in (" ", "   ", "\t", "\n", " \t\n ", "\u00a0", "\u2003", "\u3000"):
        for start in ("=", "+", "-", "@", "\uff1d"):
            cell = safe_cell(f"{blank}{start}cmd|' /C calc'!A0")
            assert cell.startswith("'"), repr(cell)
    assert safe_cell(" \r=1") == " [U+000D]=1"  # a CR is shown, so nothing hides behind it
    assert safe_cell("   ") == "   " and safe_cell(" PC-01") == " PC-01" and safe_cell("a =1") == "a =1"


def test_csv_rows_per_host_and_control_and_nothing_starts_like_a_formula(hostile):
    s = summarise(hostile)
    buf = io.StringIO()
    n = write_csv(s, "vi", buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0][:5] == ["unit", "unit_name", "host", "ips", "control_id"]
    assert n == len(rows) - 1 >= len(hostile.results)
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert any(c.startswith("'=HYPERLINK(") for c in cells)
    assert any("@SUM(1+1)" in c for c in cells)  # the AV name is kept (inside the evidence), as text
    assert not any("\u202e" in c or "\u200b" in c for c in cells)


def test_html_is_escaped_and_locked_down(hostile, hostile_strings):
    page = render_html(summarise(hostile), "vi")
    assert '<img src="http' not in page and '<link rel="stylesheet" href="http' not in page
    assert "<script>fetch" not in page
    assert "&lt;img src=&#34;http://127.0.0.1:9/img.png&#34;&gt;" in page
    assert "\u202e" not in page and "[U+202E]" in page
    # the only script is ours, allowed by its hash; nothing can be loaded from anywhere
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)[1]
    assert "default-src 'none'" in csp
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_html_lists_every_finding_with_sortable_tables(small):
    s = summarise(small)
    page = render_html(s, "en")
    assert page.count('class="sortable"') == 2
    for f in s.findings:
        assert f.id in page
