"""``secscan report csv``: one row per host × control (and per host × network finding), safe to
open in a spreadsheet: a text cell that starts like a formula (= + - @, tab, CR, or any of them
after leading whitespace: spreadsheets skip the blanks, so `` =1+1`` is a formula too) gets a
leading apostrophe (OWASP CSV injection advice), and invisible/bidi characters are made visible."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from secscan.model.finding import FindingKind, FindingStatus
from secscan.report.findings import evidence_line
from secscan.report.render import clean
from secscan.report.summary import Summary
from secscan.report.texts import texts

# = + - @ and their full-width forms (which some spreadsheets fold to ASCII), tab, CR, LF.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = clean(value)
    # str.isspace() blanks (space, tab, LF, NBSP, U+2000-U+200A, U+3000 ...) before a formula
    # character start a formula as well: look past them (clean() has made CR and other
    # controls visible already, so they cannot hide one).
    return "'" + text if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START) else text


def rows(summary: Summary, lang: str) -> Iterator[list[object]]:
    inp = summary.inp
    names = {u.id: u.name for u in inp.units}
    titles = {c.id: c.title.get(lang) for c in inp.controls}
    ips = {str(h.report_id): " ".join(str(ip) for i in h.host.interfaces for ip in i.ipv4) for h in inp.hosts}
    for r in inp.results:
        unit = r.unit or ""
        yield [
            unit,
            names.get(unit, unit),
            r.host,
            ips.get(r.report_id, ""),
            r.control_id,
            titles.get(r.control_id, r.control_id),
            r.requirement.value,
            r.level,
            r.outcome.value,
            r.severity,
            evidence_line(r) if r.evidence else "",
            r.reason or "",
        ]
    for f in summary.findings:
        if f.kind is not FindingKind.unmanaged or f.status is FindingStatus.resolved:
            continue
        for h in f.hosts:
            yield [
                f.unit,
                names.get(f.unit, f.unit),
                h.host,
                " ".join(h.ips),
                f.control_id,
                f.title,
                "",
                "",
                "fail",
                f.severity.value,
                h.detail or "",
                "",
            ]


def write_csv(summary: Summary, lang: str, out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(texts(lang)["csv_head"])
    n = 0
    for row in rows(summary, lang):
        writer.writerow([safe_cell(v) for v in row])
        n += 1
    return n
