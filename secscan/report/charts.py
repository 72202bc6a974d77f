"""Charts as SVG, drawn by pygal. No script, no external stylesheet, the report's own font: the SVG
is embedded as a data: URI and renders with nothing fetched. Values and axis labels are written by
the documents' number formatter (``secscan.report.numbers``): 78,8 in Vietnamese, as in the tables."""

from __future__ import annotations

import base64

from secscan.report.numbers import fmt_num
from secscan.report.summary import Summary
from secscan.report.texts import texts

FONT = "Liberation Serif"
_BAND_COLOURS = {"good": "#2e7d32", "fair": "#f9a825", "poor": "#c62828", "none": "#9e9e9e"}


def _style(colours: tuple[str, ...]):
    from pygal.style import Style

    return Style(
        font_family=FONT,
        background="white",
        plot_background="white",
        foreground="#000000",
        foreground_strong="#000000",
        foreground_subtle="#555555",
        colors=colours,
        value_colors=("#ffffff",),
        title_font_size=20,
        label_font_size=15,
        major_label_font_size=15,
        value_font_size=16,
        value_label_font_size=16,
        legend_font_size=15,
        tooltip_font_size=12,
    )


def _number(lang: str):
    def write(value: float | int | None) -> str:
        if value is None:
            return ""
        return fmt_num(value, lang, 0 if float(value).is_integer() else 1)

    return write


def _common(lang: str) -> dict:
    # js=[]: pygal otherwise links a script from the internet; the PDF must fetch nothing.
    return {
        "formatter": _number(lang),  # the printed values
        "value_formatter": _number(lang),  # the y axis
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "print_values": True,
        "width": 640,
        "truncate_label": -1,
        "margin": 4,
        "x_label_rotation": 12,
    }


def _data_uri(svg: bytes | str) -> str:
    raw = svg.encode("utf-8") if isinstance(svg, str) else svg
    return "data:image/svg+xml;base64," + base64.b64encode(raw).decode("ascii")


def indicator_chart(summary: Summary, lang: str) -> str:
    import pygal

    t = texts(lang)
    o = summary.org
    rows = [
        ("coverage", o.coverage_pct),
        ("av_present", o.av_present.pct),
        ("av_current", o.av_current.pct),
        ("windows_licensed", o.windows_licensed.pct),
        ("office_licensed", o.office_licensed.pct),
    ]
    chart = pygal.Bar(
        title=t["chart_indicators"], style=_style(("#1f4e79",)), height=300, range=(0, 100), **_common(lang)
    )
    chart.x_labels = [t["chart_short"][k] for k, _ in rows]
    chart.add("%", [v for _, v in rows])
    return _data_uri(chart.render())


def band_chart(summary: Summary, lang: str) -> str:
    import pygal

    t = texts(lang)
    counts = {band: 0 for band in _BAND_COLOURS}
    for row in summary.units:
        counts[row.band] += 1
    bands = [b for b in _BAND_COLOURS if counts[b]] or ["none"]
    chart = pygal.Bar(
        title=t["chart_bands"], style=_style(tuple(_BAND_COLOURS[b] for b in bands)), height=260, **_common(lang)
    )
    chart.x_labels = [t["bands"][b] for b in bands]
    top = max(counts.values()) or 1
    step = max(1, -(-top // 5))
    chart.y_labels = list(range(0, top + step, step))  # unit counts: whole numbers only
    # one series per band so each bar takes its band's colour
    for i, band in enumerate(bands):
        chart.add(t["bands"][band], [counts[band] if j == i else None for j in range(len(bands))])
    return _data_uri(chart.render())
