"""``secscan report html``: one self-contained page for the IT officer (sortable, filterable
tables; every finding with its hosts). Autoescaped; a Content-Security-Policy allows only the one
inline script (by hash), inline styles and data: images, so injected markup can load nothing."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from secscan.model.finding import SEVERITY_RANK
from secscan.report.indicators import indicator_notes, indicator_rows
from secscan.report.render import context, environment
from secscan.report.summary import Summary
from secscan.runtime import data_dir

HOST_LIMIT = 500  # hosts listed per finding; the CSV and the feed carry every one


def render_html(summary: Summary, lang: str) -> str:
    script = (data_dir("reports") / "templates" / "sort.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    ctx = context(summary, None, lang)
    ctx.update(
        script=script,
        script_hash=f"sha256-{digest}",
        host_limit=HOST_LIMIT,
        indicators=indicator_rows(summary, lang),
        indicator_notes=indicator_notes(summary, lang),
        rank={k.value: v for k, v in SEVERITY_RANK.items()},
    )
    # The script is our own file: mark it safe so autoescaping does not mangle it (and its hash).
    from markupsafe import Markup

    ctx["script"] = Markup(script)
    return environment().get_template("it.html.j2").render(**ctx)


def write_html(summary: Summary, lang: str, out: Path) -> None:
    out.write_text(render_html(summary, lang), encoding="utf-8")
