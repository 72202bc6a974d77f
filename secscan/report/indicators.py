"""The headline indicators table: every row a count over a stated denominator, its share, the
hosts it could not be judged on, and a numbered note that says what is counted (the notes'
words live in ``reports/i18n/<lang>.yaml`` under ``indicator_notes``)."""

from __future__ import annotations

from typing import Any

from secscan.report.numbers import fmt_num, fmt_pct, fmt_share
from secscan.report.summary import Count, Summary
from secscan.report.texts import texts

# the table's rows, in order; each has a note under the table
ROWS = ("hosts", "coverage", "av_present", "av_current", "windows_licensed", "office_licensed", "activators",
        "unsupported_os", "high_hosts")


def indicator_rows(summary: Summary, lang: str) -> list[dict[str, Any]]:
    """``label``, ``note`` (its number), ``value`` ("n/N"), ``pct`` and ``unknown`` per row."""
    t = texts(lang)
    o = summary.org

    def num(v: int | None) -> str:
        return fmt_num(v, lang)

    def counted(c: Count) -> tuple[str, str, str]:
        return f"{num(c.yes)}/{num(c.known)}", fmt_pct(c.pct, lang), num(c.unknown)

    figures: dict[str, tuple[str, str, str]] = {
        "hosts": (num(o.hosts), "", ""),
        "coverage": (f"{num(o.managed)}/{num(o.seen)}", fmt_pct(o.coverage_pct, lang), "")
        if o.scanned_units else (t["na"], "", ""),
        "high_hosts": (f"{num(o.high_hosts)}/{num(o.hosts)}", fmt_share(o.high_hosts, o.hosts, lang), ""),
    }
    for key in ("av_present", "av_current", "windows_licensed", "office_licensed", "activators", "unsupported_os"):
        figures[key] = counted(getattr(o, key))
    rows = []
    for n, key in enumerate(ROWS, 1):
        value, pct, unknown = figures[key]
        rows.append({"label": t["indicators"][key], "note": n, "value": value, "pct": pct, "unknown": unknown})
    return rows


def indicator_notes(summary: Summary, lang: str) -> list[str]:
    """The definition of each row, numbered as the rows are, with the figures it needs."""
    t = texts(lang)
    o = summary.org
    values = {"units": fmt_num(o.scanned_units, lang), "hosts": fmt_num(o.hosts, lang)}
    return [t["indicator_notes"][key].format(**values) for key in ROWS]
