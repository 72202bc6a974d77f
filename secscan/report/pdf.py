"""The leadership PDF: Jinja2 template → WeasyPrint, fetching nothing outside ``reports/``.

WeasyPrint is imported here only, lazily. The URL fetcher serves ``file:`` URLs under the shipped
``reports/`` directory and ``data:`` URIs (the charts); anything else — http(s), file paths
outside reports/, other schemes — is refused and recorded in ``refused``, so a hostile string that
somehow became markup still loads nothing.

A character the shipped fonts have no glyph for (an emoji or a CJK character in a hostname, a
full-width "＝") is printed as its code ("[U+1F4A9]"), as ``render.clean`` does for invisible
ones: WeasyPrint would draw the font's empty .notdef glyph for it, and with that glyph in a font
subset the PDF's text map of the whole font breaks, so none of the document's text in that font
could be copied, searched or read aloud any more.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from secscan.report.charts import band_chart, indicator_chart
from secscan.report.config import ReportConfig
from secscan.report.indicators import indicator_notes, indicator_rows
from secscan.report.render import context, environment
from secscan.report.summary import Summary
from secscan.runtime import cyclic_gc_paused as paused_gc
from secscan.runtime import data_dir


class RefusedURL(ValueError):
    pass


def make_fetcher(root: Path, refused: list[str]):
    """A WeasyPrint URLFetcher confined to ``root`` (and data: URIs)."""
    from weasyprint.urls import URLFetcher

    root = root.resolve()

    class ConfinedFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None):
            scheme = urlparse(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlparse(url).path)).resolve()
                if path.is_relative_to(root) and path.is_file():
                    return super().fetch(url, headers)
            refused.append(url)
            raise RefusedURL(f"refused to fetch {url!r}: outside {root}")

    return ConfinedFetcher(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False)


def render_html_for_pdf(summary: Summary, config: ReportConfig, lang: str) -> str:
    t_ctx = context(summary, config, lang)
    t_ctx.update(indicators=indicator_rows(summary, lang), indicator_notes=indicator_notes(summary, lang))
    t_ctx["charts"] = {"indicators": indicator_chart(summary, lang), "bands": band_chart(summary, lang)}
    return printable(environment().get_template("leadership.html.j2").render(**t_ctx))


@cache
def _without_glyph() -> re.Pattern[str]:
    """A character no shipped font (every one of reports/fonts/*.ttf) has a glyph for."""
    from fontTools.ttLib import TTFont  # WeasyPrint's own font library, loaded with it

    covered: set[int] | None = None
    for path in sorted((data_dir("reports") / "fonts").glob("*.ttf")):
        font = TTFont(path, lazy=True)
        try:
            cmap = set(font.getBestCmap() or {})
        finally:
            font.close()
        covered = cmap if covered is None else covered & cmap
    codes = sorted(covered or set(range(0x20, 0x7F)))
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    # ASCII controls are markup's whitespace (tab, newlines) or already shown by clean()
    allowed = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[^\\x00-\\x7f{allowed}]")


def printable(html: str) -> str:
    """``html`` with every character the shipped fonts cannot draw written as its code."""
    if html.isascii():
        return html
    return _without_glyph().sub(lambda m: f"[U+{ord(m.group()):04X}]", html)


def write_pdf(summary: Summary, config: ReportConfig, lang: str, out: Path, refused: list[str] | None = None) -> int:
    """Render to ``out``; returns the page count. ``refused`` collects URLs the fetcher refused."""
    root = data_dir("reports")
    refused = [] if refused is None else refused
    # GC paused: WeasyPrint's style and box trees are ~10^5 small objects (see
    # runtime.cyclic_gc_paused), and beside a province's findings every collection
    # re-scans millions of live objects (it tripled the time of the first render's imports).
    # The few cycles made here are collected when it resumes.
    with paused_gc():
        from weasyprint import HTML

        html = render_html_for_pdf(summary, config, lang)
        # base_url inside templates/ so "leadership.css" and "../fonts/…" resolve under reports/
        document = HTML(
            string=html, base_url=str(root / "templates") + "/", url_fetcher=make_fetcher(root, refused)
        ).render()
        document.write_pdf(out)
    return len(document.pages)
