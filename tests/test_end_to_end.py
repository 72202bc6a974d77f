"""From a fresh install: build the wheel, install it into a new virtual environment, run
`secscan demo` in an empty folder (not the checkout) for both eras — the 2023 district and the
province's communes after 01/7/2025 — and check what a user gets: the PDF's text, the feed against
the real OCSF schema, and the headline numbers against the generator's truth."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with secscan installed from its wheel; returns the venv's bin folder."""
    tmp = tmp_path_factory.mktemp("install")
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=600)
    assert wheel.returncode == 0, wheel.stderr
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    pip = subprocess.run([str(tmp / "venv" / "bin" / "pip"), "install", "-q", *map(str, (tmp / "dist").glob("*.whl"))],
                         capture_output=True, text=True, timeout=900)
    if pip.returncode != 0 and "No matching distribution" in pip.stderr:
        pytest.skip(f"cannot install the dependencies here: {pip.stderr.strip().splitlines()[-1]}")
    assert pip.returncode == 0, pip.stderr
    return tmp / "venv" / "bin"


@pytest.fixture(scope="module", params=["2023", "2025"])
def demo(request: pytest.FixtureRequest, installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    empty = tmp_path_factory.mktemp(f"empty-{request.param}")
    era = ["--era", request.param] if request.param != "2023" else []  # 2023 is the default
    proc = subprocess.run([str(installed / "secscan"), "demo", "--out", "out", "--seed", "2023", *era], cwd=empty,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    out = empty / "out"
    (out / "stdout.txt").write_text(proc.stdout)
    return out


def _this_machine_passes(out: Path, control: str) -> int | None:
    """This machine's own report is in the demo too: 1 if it passes ``control``, 0 if it fails,
    None if the control does not apply to it (e.g. Windows licences on Linux)."""
    from secscan.policy import load_baselines, load_org

    document = json.loads(next((out / "usb" / "this-machine").glob("*.json")).read_text())
    org = load_org(out / "org.yaml")
    level = org.level_of(document["unit"])
    verdict = next(v for v in load_baselines()[org.baseline].judge(document, level) if v.control_id == control)
    return {"pass": 1, "fail": 0}.get(verdict.outcome.value)


def test_headline_numbers_match_the_generators_truth(demo: Path) -> None:
    from secscan.policy import load_baselines, load_org

    assert json.loads((demo / "headline.json").read_text())["baseline"] == load_org(demo / "org.yaml").baseline
    headline = json.loads((demo / "headline.json").read_text())
    truth = headline["truth"]
    expected = {"antivirus": truth["antivirus"], "av_signatures_current": truth["av_current"],
                "windows_licensed": truth["windows_licensed"], "office_licensed": truth["office_licensed"],
                "activator_found": truth["activators"], "os_unsupported": truth["os_unsupported"]}
    controls = {i.id: (i.control, i.counts) for i in load_baselines()[headline["baseline"]].baseline.indicators}
    assert set(headline["indicators"]) == set(expected)
    for indicator, row in headline["indicators"].items():
        control, counts = controls[indicator]
        mine = _this_machine_passes(demo, control)
        extra = 0 if mine is None else (mine if counts == "pass" else 1 - mine)
        assert row["count"] == expected[indicator] + extra, indicator
    assert truth["commune_pcs"] == 406
    assert 0.70 <= truth["commune_antivirus"] / truth["commune_pcs"] <= 0.80  # "about 75 %"
    assert 0.30 <= truth["commune_windows_licensed"] / truth["commune_pcs"] <= 0.40  # "about 35 %"


# What each era's PDF names: its issuing body, addressee and signer, its units, the texts it is made under.
ERA_TEXTS = {
    "2023": ["HUYỆN HẠ HÒA", "Kính gửi: Sở Khoa học và Công nghệ tỉnh Phú Thọ", "Trần Văn Minh",
             "UBND xã Văn Lang", "Nghị định số 85/2016/NĐ-CP"],
    "2025": ["UBND TỈNH PHÚ THỌ", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "Kính gửi: Ủy ban nhân dân tỉnh Phú Thọ",
             "Số: /BC-SKHCN", "Phú Thọ, ngày", "Sở Khoa học và Công nghệ tỉnh Phú Thọ báo cáo",
             "Trung tâm Giám sát an toàn thông tin (SOC) tỉnh Phú Thọ", "UBND tỉnh Phú Thọ", "UBND xã Hạ Hòa",
             "UBND xã Văn Lang", "Trung tâm Phục vụ hành chính công xã Hạ Hòa", "Luật An ninh mạng số 116/2025/QH15",
             "Nghị định số 331/2026/NĐ-CP", "TCVN 14423:2026"],
}


def test_pdf_is_the_vietnamese_administrative_report(demo: Path) -> None:
    from pypdf import PdfReader

    pdf = next((demo / "reports").glob("*.pdf"))
    reader = PdfReader(pdf)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text == unicodedata.normalize("NFC", text)
    flat = re.sub(r"\s+", " ", text)  # table cells and long lines wrap
    era = json.loads((demo / "headline.json").read_text())["era"]
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO", "Nơi nhận:",
                 *ERA_TEXTS[era]):
        assert line in flat, line
    if era == "2025":  # no district since 01/7/2025, and not the NĐ 85/2016 regime
        assert "huyện" not in flat.lower(), flat[flat.lower().index("huyện") - 80:][:160]
        assert "85/2016" not in flat.split("PHỤ LỤC")[0]
    headline = json.loads((demo / "headline.json").read_text())["indicators"]
    for row in headline.values():
        assert f"{row['count']}/{row['judged']}" in text
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)


def test_feed_is_valid_ocsf(demo: Path) -> None:
    import jsonschema
    import ocsf_json_schema as ocsf

    from secscan.report import feed

    schema = ocsf.OcsfJsonSchemaEmbedded(ocsf.get_ocsf_schema(version=feed.OCSF_VERSION)).get_class_schema(
        "compliance_finding")
    validator = jsonschema.Draft202012Validator(schema)
    lines = (demo / "reports" / "feed.ndjson").read_text().splitlines()
    assert len(lines) > 1000
    for line in lines:
        event = json.loads(line)
        errors = list(validator.iter_errors(event))
        assert not errors, (event["finding_info"]["uid"], errors[0].message[:200])


def test_the_demo_says_what_it_did(demo: Path) -> None:
    from secscan.policy import load_org

    stdout = (demo / "stdout.txt").read_text()
    assert "4. LAN scan" in stdout  # done, or skipped with the reason
    if "skipped" not in stdout.split("4. LAN scan", 1)[1].splitlines()[0]:
        scan = json.loads(next(demo.glob("scan-*.json")).read_text())
        lan = load_org(demo / "org.yaml").unit_index[scan["unit"]].networks[0]
        assert {h["ip"] for h in scan["hosts"]} >= {str(lan[200]), str(lan[201]), str(lan[202])}
    assert (demo / "reports" / "ket-qua.csv").stat().st_size > 0
    assert "<table" in (demo / "reports" / "ket-qua.html").read_text()
