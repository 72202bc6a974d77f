"""The leadership PDF: Decree 30/2020 header lines, NFC Vietnamese, per-unit figures equal to the
evaluation, A4, only the shipped fonts, and a renderer that fetches nothing outside reports/."""

from __future__ import annotations

import re
import threading
import unicodedata
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from secscan.report.numbers import fmt_num, fmt_pct
from secscan.report.pdf import make_fetcher, write_pdf
from secscan.report.summary import summarise
from secscan.runtime import data_dir

pytest.importorskip("weasyprint")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def district_pdf(district, report_config, tmp_path_factory):
    from pypdf import PdfReader

    out = tmp_path_factory.mktemp("pdf") / "district.pdf"
    refused: list[str] = []
    summary = summarise(district, report_config.prices)
    pages = write_pdf(summary, report_config, "vi", out, refused)
    return summary, PdfReader(out), pages, refused, out


def test_header_lines_and_title(district_pdf, district):
    _, reader, _, _, _ = district_pdf
    day = district.generated_at.day
    lines = [line.strip() for line in reader.pages[0].extract_text().splitlines()]
    assert lines[:4] == [
        "ỦY BAN NHÂN DÂN",
        "HUYỆN HẠ HÒA",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert re.fullmatch(rf"Số:\s+/BC-UBND Hạ Hòa, ngày {day} tháng 11 năm 2026", lines[4])
    assert lines[5] == "BÁO CÁO"
    assert lines[6] == "Kết quả kiểm tra an toàn thông tin máy trạm tháng 11 năm 2026"


def test_text_is_nfc_with_every_diacritic(district_pdf):
    _, reader, _, _, _ = district_pdf
    text = "".join(p.extract_text() for p in reader.pages)
    assert text == unicodedata.normalize("NFC", text)
    for word in (
        "Độc lập",
        "Hạnh phúc",
        "Nơi nhận:",
        "Ấm Hạ",
        "Đại Phạm",
        "Hương Xạ",
        "Yên Kỳ",
        "Nguyễn Văn An",
        "phòng chống mã độc",
        "Xuân Áng",
        "Tứ Hiệp",
    ):
        assert word in text


def test_ending_signature_and_recipients(district_pdf):
    _, reader, pages, _, _ = district_pdf
    text = _flat("".join(p.extract_text() for p in reader.pages))
    assert "Nơi nhận: - Như trên; - Thường trực Huyện ủy;" in text
    assert "- Lưu: VT, VHTT." in text
    assert "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH" in text
    # the report itself ends with the signature and "Nơi nhận:"; the SOC annex follows it
    signed = next(n for n, p in enumerate(reader.pages, 1) if "Nơi nhận:" in p.extract_text())
    annex = next(n for n, p in enumerate(reader.pages, 1) if "PHỤ LỤC" in p.extract_text())
    assert 3 <= signed <= 6, "a district's report fits 3-6 pages before its annex"
    assert signed < annex <= pages == len(reader.pages)


def test_per_unit_figures_match_the_evaluation(district_pdf, district):
    summary, reader, _, _, _ = district_pdf
    text = _flat(" ".join(p.extract_text() for p in reader.pages))
    for i, row in enumerate(summary.units, 1):
        results = [
            r
            for r in district.results
            if r.unit == row.unit.id and r.requirement.value == "required" and r.report_id not in district.scan_ids
        ]
        passed = sum(r.outcome.value == "pass" for r in results)
        failed = sum(r.outcome.value == "fail" for r in results)
        score = round(100 * passed / (passed + failed), 1)
        hosts = sum(h.unit == row.unit.id for h in district.hosts)
        expected = f"{i} {row.unit.name} {row.unit.level} {hosts} {row.ind.seen} "
        expected += f"{fmt_pct(row.ind.av_present.pct, 'vi')} {fmt_pct(row.ind.windows_licensed.pct, 'vi')} "
        expected += f"{row.ind.activators.yes} {fmt_pct(score, 'vi')}"
        assert expected in text


def test_key_indicators_and_licence_cost(district_pdf):
    summary, reader, _, _, _ = district_pdf
    text = _flat(" ".join(p.extract_text() for p in reader.pages))
    assert f"Máy tính gửi báo cáo (1) {summary.org.hosts}" in text
    lic = summary.licences
    assert lic.windows and lic.office and lic.cost == lic.windows * 4_500_000 + lic.office * 6_500_000
    assert f"Mua bổ sung {lic.windows} bản quyền Windows và {lic.office} bản quyền Microsoft Office" in text
    assert f"{fmt_num(lic.cost, 'vi')} đồng" in text


def test_a4_and_page_numbers_from_page_two(district_pdf):
    _, reader, pages, _, _ = district_pdf
    for page in reader.pages:
        assert (round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)) == (
            210,
            297,
        )
    assert _top_margin_text(reader.pages[0]) == []  # no number on page 1
    for n in range(2, pages + 1):
        [(text, x)] = _top_margin_text(reader.pages[n - 1])
        assert text == str(n)
        assert abs(x - (30 + (210 - 15)) / 2 / 25.4 * 72) < 15  # centred over the text block


def _top_margin_text(page) -> list[tuple[str, float]]:
    """Text drawn in the top 20 mm of the page, with its x (points from the left)."""
    found = []
    height = float(page.mediabox.height)

    def visit(text, cm, tm, font_dict, font_size):
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
        if text.strip() and y > height - 20 / 25.4 * 72:
            found.append((text.strip(), x))

    page.extract_text(visitor_text=visit)
    return found


def _fonts(obj, seen=None) -> set[str]:
    """Every font name in a page's resources, descending into form XObjects (the SVG charts)."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    res = obj.get("/Resources")
    if res is None:
        return names
    res = res.get_object()
    for font in (res.get("/Font") or {}).values():
        names.add(str(font.get_object()["/BaseFont"]))
    for xobj in (res.get("/XObject") or {}).values():
        xobj = xobj.get_object()
        if id(xobj) not in seen and xobj.get("/Subtype") == "/Form":
            seen.add(id(xobj))
            names |= _fonts(xobj, seen)
    return names


def _shipped_font_names() -> set[str]:
    from fontTools.ttLib import TTFont

    return {TTFont(p)["name"].getDebugName(6).replace("-", "") for p in (data_dir("reports") / "fonts").glob("*.ttf")}


def test_only_the_shipped_fonts_are_embedded(district_pdf):
    _, reader, _, _, _ = district_pdf
    used = set().union(*(_fonts(p) for p in reader.pages))
    assert used
    base = {name.lstrip("/").split("+", 1)[-1].replace("-", "") for name in used}
    assert base <= _shipped_font_names(), f"fallback font embedded: {base - _shipped_font_names()}"


def test_the_district_render_fetched_nothing_outside(district_pdf):
    assert district_pdf[3] == []


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback():
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_url_fetcher_refuses_everything_outside_reports(loopback, tmp_path):
    from weasyprint import HTML

    root = data_dir("reports")
    outside = Path(__file__).resolve()
    html = f"""<html><head><link rel="stylesheet" href="{loopback}/x.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <style>@import url("{loopback}/imp.css"); body {{ background: url({loopback}/bg.png); }}</style></head>
      <body><img src="{loopback}/a.png"><img src="file://{outside}"><img src="../../pyproject.toml">
      <img src="../fonts/LiberationSerif-Regular.ttf"><p>x</p></body></html>"""
    refused: list[str] = []
    HTML(string=html, base_url=str(root / "templates") + "/", url_fetcher=make_fetcher(root, refused)).write_pdf(
        tmp_path / "x.pdf"
    )
    assert _Recorder.hits == []  # nothing reached the server
    assert {f"{loopback}/x.css", f"{loopback}/imp.css", f"{loopback}/bg.png", f"{loopback}/a.png"} <= set(refused)
    assert "file:///etc/passwd" in refused
    assert any(u.endswith(str(outside)) for u in refused)
    assert any(u.endswith("/pyproject.toml") for u in refused)
    assert not any("fonts/LiberationSerif-Regular.ttf" in u for u in refused)  # inside reports/: allowed


def test_hostile_strings_are_inert_in_the_pdf(hostile, hostile_strings, report_config, tmp_path, loopback):
    from pypdf import PdfReader

    refused: list[str] = []
    out = tmp_path / "hostile.pdf"
    write_pdf(summarise(hostile, report_config.prices), report_config, "vi", out, refused)
    assert refused == [] and _Recorder.hits == []  # markup stayed text: nothing was even attempted
    reader = PdfReader(out)
    text = "".join(p.extract_text() for p in reader.pages)
    flat = _flat(text).replace(" ", "")
    assert "<linkrel=" in flat and "<style>body{background:url(" in flat  # the unit name, printed as text
    assert hostile_strings["host"][:20].replace(" ", "") in flat
    assert "\u202e" not in text and "\u200b" not in text
    assert "[U+202E]" in flat and "[U+200B]" in flat
    assert hostile_strings["av"] not in text  # AV names are not in the leadership PDF at all
    used = set().union(*(_fonts(p) for p in reader.pages))
    assert {n.lstrip("/").split("+", 1)[-1].replace("-", "") for n in used} <= _shipped_font_names()


def test_leadership_css_margins_follow_decree_30():
    css = (data_dir("reports") / "templates" / "leadership.css").read_text(encoding="utf-8")
    top, right, bottom, left = (int(v) for v in re.search(r"margin: (\d+)mm (\d+)mm (\d+)mm (\d+)mm;", css).groups())
    assert 20 <= top <= 25 and 20 <= bottom <= 25 and 30 <= left <= 35 and 15 <= right <= 20
    assert "size: A4 portrait" in css


def test_english_option(small, report_config, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "en.pdf"
    write_pdf(summarise(small, report_config.prices, "en"), report_config, "en", out)
    text = PdfReader(out).pages[0].extract_text()
    assert "SOCIALIST REPUBLIC OF VIETNAM" in text and "REPORT" in text
