"""The demo district's leadership PDF read as its reader reads it (pypdf's text of every page,
charts included): shortcomings are named as problems, a list that is cut says how many it leaves
out, and Vietnamese numbers use the decimal comma. The pages are also written as PNG under
``test-artifacts/pdf-pages/`` (git-ignored) for a reviewer to look at."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from secscan.policy import load_baselines
from secscan.report.pdf import render_html_for_pdf, write_pdf
from secscan.report.summary import summarise

pytest.importorskip("weasyprint")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf-pages"
_NUMBER = r"\d{1,3}(?:\.\d{3})+|\d+"  # a count as Vietnamese writes it: 1.143, 485
# "N đơn vị …:" / "N máy …:" opens a list (up to the colon, within the sentence)
_ANNOUNCE = re.compile(rf"\b({_NUMBER}) (đơn vị|máy)\b[^:.;•]{{0,60}}:")


@pytest.fixture(scope="module")
def demo_pdf(district, report_config, tmp_path_factory):
    from pypdf import PdfReader

    out = tmp_path_factory.mktemp("reads") / "bao-cao.pdf"
    summary = summarise(district, report_config.prices)
    write_pdf(summary, report_config, "vi", out)
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    return summary, out, text


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _count(number: str) -> int:
    return int(number.replace(".", ""))


def test_no_shortcoming_is_named_by_its_requirement(demo_pdf) -> None:
    summary, _, text = demo_pdf
    flat = _flat(text)
    requirements = {c.title.vi for b in load_baselines().values() for c in b.baseline.controls}
    problems = {c.problem.vi for b in load_baselines().values() for c in b.baseline.controls}
    section = flat.split("III. CÁC TỒN TẠI CHỦ YẾU", 1)[1].split("IV. THAY ĐỔI", 1)[0]
    annex = flat.split("PHỤ LỤC:", 1)[1]
    for part in (section, annex):
        # a requirement's words may only appear inside its own problem's words ("… đang hoạt động")
        for title in requirements:
            hidden = part
            for problem in problems:
                hidden = hidden.replace(problem, "")
            assert title not in hidden, title
    named = [p for p in problems if p in section]
    assert len(named) >= 5, named  # the table lists the main shortcomings by their problem
    assert any(f.title in annex for f in summary.active_brief[:3])


def test_every_cut_list_says_how_many_more(demo_pdf) -> None:
    _, _, text = demo_pdf
    flat = _flat(text)
    seen = 0
    for m in _ANNOUNCE.finditer(flat):
        n, noun = _count(m.group(1)), m.group(2)
        rest = flat[m.end():]
        if rest.lstrip().startswith("•"):  # a list of one bullet per item
            end = re.search(r"(?<!•)\s(?:F-|\(và|PHỤ LỤC|\d+ máy \()|$", rest[1:])
            items = rest[: end.start() + 1 if end else len(rest)]
            names = items.count("•")
        else:  # names separated by ";" up to the sentence's end
            items = rest.split(".", 1)[0]
            names = len([x for x in re.split(r";| và \d", items) if x.strip()]) - (1 if " khác" in items else 0)
        more = re.search(rf"và ({_NUMBER}) (?:{noun}|mục) khác", items)
        shown = names + (_count(more.group(1)) if more else 0)
        assert shown == n, (m.group(0), names, more and more.group(0), items[:300])
        seen += 1
    assert seen >= 5  # the recommendation on weak units and the annex's host lists


def test_the_weak_units_recommendation_names_five_and_counts_the_rest(demo_pdf) -> None:
    summary, _, text = demo_pdf
    below = summary.units_below
    assert len(below) > 5  # the demo district has more weak units than the advice names
    flat = _flat(text)
    assert f"{len(below)} đơn vị có mức đáp ứng dưới 50%" in flat
    assert f"và {len(below) - 5} đơn vị khác" in flat


def _decimal_points(text: str) -> list[str]:
    """Numbers written with a decimal point: "78.8" (not an IP address, not a clause number "mục
    3.10", not a thousands group "2.986.500", not an ISO date)."""
    bad = []
    for m in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)+)(?![\w.]|,\d)", text):
        token, before = m.group(1), text[max(0, m.start() - 6): m.start()]
        groups = token.split(".")
        if len(groups) == 4 and all(int(g) < 256 for g in groups):
            continue  # an IPv4 address
        if re.fullmatch(r"\d{1,3}(\.\d{3})+", token):
            continue  # thousands, Vietnamese style
        if "mục" in before or "Điều" in before:
            continue  # a clause of a legal text
        bad.append(f"…{text[max(0, m.start() - 30): m.end() + 10]}…")
    return bad


def test_no_number_uses_a_decimal_point_in_vietnamese(demo_pdf, district, report_config) -> None:
    summary, _, text = demo_pdf
    assert "90,5" in text and "42,7%" in text
    assert _decimal_points(_flat(text)) == []
    # the charts are SVG images: their own text (values, axis labels) too
    html = render_html_for_pdf(summary, report_config, "vi")
    charts = [base64.b64decode(m).decode("utf-8")
              for m in re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)]
    assert len(charts) == 2
    words = " ".join(re.sub(r"<[^>]+>", " ", t) for svg in charts for t in re.findall(r"<text[^>]*>.*?</text>", svg))
    assert "90,5" in words and "90.5" not in words
    assert _decimal_points(_flat(words)) == []


def test_the_decimal_point_check_catches_one() -> None:
    assert _decimal_points("Tỷ lệ 78.8 và 10.231.101.20, 2.986.500.000 đồng, mục 3.10") == ["…Tỷ lệ 78.8 và 10.231…"]


def test_every_indicator_has_a_denominator_and_a_definition(demo_pdf) -> None:
    summary, _, text = demo_pdf
    flat = _flat(text)
    o = summary.org
    assert f"Máy có tồn tại mức Cao hoặc Nghiêm trọng (9) {o.high_hosts}/{o.hosts}" in flat
    for n in range(1, 10):
        assert re.search(rf"\({n}\) [\d.]+(/[\d.]+)?", flat), n  # every row: its note, its figure
        assert re.search(rf"\({n}\) Số máy", flat), n  # and the note that defines it


def test_pages_as_png_for_review(demo_pdf) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: scripts/system-deps.sh installs it")
    _, pdf, _ = demo_pdf
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / "page")], check=True, timeout=120)
    pages = sorted(ARTIFACTS.glob("page-*.png"))
    assert len(pages) >= 5 and all(p.stat().st_size > 5_000 for p in pages)
