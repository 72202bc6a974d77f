"""The shared layout helpers: the Jinja2 environment over ``reports/templates`` (autoescaped, UTF-8),
the display filters that make hostile strings inert, and the view that turns a Summary into the
words and rows the templates print. No figure is computed here, only formatted."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import Any

from secscan.model.finding import SEVERITY_RANK, Finding, FindingStatus
from secscan.report.config import ReportConfig
from secscan.report.numbers import fmt_num, fmt_pct
from secscan.report.summary import Count, Summary
from secscan.report.texts import texts
from secscan.runtime import data_dir

# Format (Cf: bidi overrides, zero-width, tag characters) and control (Cc) characters, and the
# line/paragraph separators, can reorder, hide or break what a reader sees; in a hostname or AV
# name they are shown by their code instead ("[U+202E]"), in ASCII so the shipped font always has
# the glyphs.
_INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
TOP_CONTROLS = 10  # rows of the "main findings" table
ANNEX_MAX = 12  # high/critical findings in the PDF annex; the HTML, CSV and feed carry all of them
ANNEX_HOSTS = 6  # hosts listed per finding in the PDF annex


def clean(value: Any, limit: int | None = None) -> str:
    """Text safe to lay out: NFC, invisible/bidi characters made visible, clipped to ``limit``."""
    text = "" if value is None else unicodedata.normalize("NFC", str(value))
    text = _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


@cache
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("reports") / "templates"), encoding="utf-8"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clean"] = clean
    return env


@dataclass
class ControlRow:
    """One control across all units (the leadership "main findings" table)."""

    title: str
    severity: str
    units: int
    hosts: int
    unknown: int
    new: int


def period_text(period: str, t: dict) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if match:
        return t["period_month"].format(year=int(match[1]), month=int(match[2]))
    if re.fullmatch(r"\d{4}", period):
        return t["period_year"].format(year=int(period))
    return period


def top_controls(findings: list[Finding]) -> list[ControlRow]:
    rows: dict[str, ControlRow] = {}
    for f in findings:
        row = rows.setdefault(f.control_id, ControlRow(f.title, f.severity.value, 0, 0, 0, 0))
        row.units += 1
        row.hosts += f.failed
        row.unknown += f.unknown
        row.new += f.status is FindingStatus.new
    return sorted(rows.values(), key=lambda r: (-SEVERITY_RANK[r.severity], -r.hosts, -r.unknown, r.title))


def _basis(texts_: list[str], t: dict[str, Any]) -> str:
    """report.yaml's basis as "A, B và C"; the NĐ 85/2016 regime's texts when it names none."""
    names = [clean(x, 200) for x in texts_]
    if not names:
        return t["basis"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {t['basis_and']} {names[-1]}"


class _Format:
    """The numbers and percentages of one language, as the templates call them (``num``, ``pct``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def num(self, v: float | int | None, digits: int = 0) -> str:
        return fmt_num(v, self.lang, digits)

    def pct(self, v: float | None) -> str:
        return fmt_pct(v, self.lang)


def _indicators(summary: Summary, t: dict, f: _Format) -> list[dict[str, str]]:
    org = summary.org

    def count_row(key: str, c: Count) -> dict[str, str]:
        return {"label": t["indicators"][key], "value": f"{f.num(c.yes)}/{f.num(c.known)}", "pct": f.pct(c.pct),
                "unknown": f.num(c.unknown)}

    coverage = f"{f.num(org.managed)}/{f.num(org.seen)}" if org.scanned_units else t["na"]
    return [
        {"label": t["indicators"]["hosts"], "value": f.num(org.hosts), "pct": "", "unknown": ""},
        {"label": t["indicators"]["coverage"], "value": coverage, "pct": f.pct(org.coverage_pct), "unknown": ""},
        *(count_row(key, getattr(org, key)) for key in ("av_present", "av_current", "windows_licensed",
                                                        "office_licensed", "activators", "unsupported_os")),
        {"label": t["indicators"]["high_hosts"], "value": f.num(org.high_hosts), "pct": "", "unknown": ""},
    ]


def _figures(summary: Summary, config: ReportConfig | None, t: dict, period: str, f: _Format) -> dict[str, str]:
    """The figures (and the texts the report is made under) the intro and the summary paragraph quote."""
    org, lic = summary.org, summary.licences
    return {
        "basis": _basis(config.basis if config else [], t),
        "org": clean(summary.inp.organisation, 200),
        "units": f.num(len(summary.units)),
        "period": period,
        "period_cap": period[:1].upper() + period[1:],
        "hosts": f.num(org.hosts),
        "av_present": f.num(org.av_present.yes),
        "av_present_pct": f.pct(org.av_present.pct),
        "av_current": f.num(org.av_current.yes),
        "windows_licensed": f.num(org.windows_licensed.yes),
        "windows": f.num(org.windows),
        "activators": f.num(org.activators.yes),
        "unsupported": f.num(org.unsupported_os.yes),
        "score": f.pct(org.score),
        "lic_windows": f.num(lic.windows),
        "lic_office": f.num(lic.office),
        "cost": f.num(lic.cost),
    }


def _recommendations(summary: Summary, t: dict, f: _Format) -> list[str]:
    out = []
    for key, values in summary.recommendations:
        shown = {k: (f.num(v) if isinstance(v, int | float) else clean(v, 300)) for k, v in values.items()}
        out.append(t["recommendations"][key].format(**shown))
    return out


def _changes(summary: Summary, t: dict, f: _Format) -> list[dict[str, str]]:
    def digits(v: float | int | None) -> int:
        return 1 if isinstance(v, float) else 0

    return [
        {
            "label": t["change_keys"][c.key],
            "before": f.num(c.before, digits(c.before)),
            "now": f.num(c.now, digits(c.now)),
            "delta": "" if c.delta is None else ("+" if c.delta > 0 else "") + f.num(c.delta, 1 if c.delta % 1 else 0),
        }
        for c in summary.changes
    ]


def _letterhead(summary: Summary, config: ReportConfig | None, t: dict, period: str) -> dict[str, Any]:
    """The PDF's number, date and scope lines (from report.yaml when given)."""
    inp = summary.inp
    when = inp.generated_at
    number = (config.number if config else None) or "\u00a0" * 6
    abbreviation = config.issuing_body.abbreviation if config else ""
    place = config.issuing_body.place if config else ""
    single_unit = len(inp.units) == 1
    return {
        "number_line": f"{t['number_label']} {number}/BC-{abbreviation}",
        "date_line": t["date_line"].format(place=place, day=when.day, month=when.month, year=when.year),
        "summary_line": t["summary_line"].format(period=period),
        "scope_line": t["unit_scope"].format(name=clean(inp.units[0].name, 200)) if single_unit else None,
    }


def context(summary: Summary, config: ReportConfig | None, lang: str) -> dict[str, Any]:
    """What the templates print. ``config`` (report.yaml) is needed for the PDF's header and ending only."""
    t = texts(lang)
    f = _Format(lang)
    period = period_text(summary.inp.period, t)
    figures = _figures(summary, config, t, period, f)
    annex = (x for x in summary.active_brief if SEVERITY_RANK[x.severity] >= 3)  # detailed: the first ANNEX_MAX only
    return {
        "t": t,
        "lang": lang,
        "cfg": config,
        "s": summary,
        "num": f.num,
        "pct": f.pct,
        **_letterhead(summary, config, t, period),
        "intro": t["intro"].format(**figures),
        "paragraph": t["paragraph"].format(**figures),
        "indicators": _indicators(summary, t, f),
        "controls": top_controls(summary.active_brief),
        "top_n": TOP_CONTROLS,
        "annex": [summary.detailed(x) for x in islice(annex, ANNEX_MAX)],
        "annex_total": len(summary.active_brief),
        "annex_hosts": ANNEX_HOSTS,
        "changes": _changes(summary, t, f),
        "change_findings": t["change_findings"].format(
            new=summary.count_status(FindingStatus.new),
            open=summary.count_status(FindingStatus.open),
            resolved=summary.count_status(FindingStatus.resolved),
        ),
        "recommendations": _recommendations(summary, t, f),
        "unit_names": {u.id: u.name for u in summary.inp.units},
    }
