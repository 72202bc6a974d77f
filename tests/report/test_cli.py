"""The report commands end to end on a bundle, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples" / "report.yaml")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "bundle.json"
    result = CliRunner().invoke(cli, ["report", "sample", "-o", str(path), "--units", "3", "--hosts-per-unit", "5"])
    assert result.exit_code == 0, result.output
    return path


def run(*args: str):
    return CliRunner().invoke(cli, ["report", *args])


def test_feed_csv_findings_and_previous(bundle, tmp_path):
    out = run("feed", "--input", str(bundle))
    assert out.exit_code == 0
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events and all(e["class_uid"] == 2003 for e in events)
    snap = tmp_path / "snap.json"
    assert run("findings", "--input", str(bundle), "-o", str(snap)).exit_code == 0
    again = run("feed", "--input", str(bundle), "--previous", str(snap), "--period", "2026-12")
    assert {json.loads(x)["status"] for x in again.stdout.splitlines()} == {"In Progress"}
    csv_out = tmp_path / "r.csv"
    assert run("csv", "--input", str(bundle), "-o", str(csv_out), "--unit", "u002").exit_code == 0
    rows = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("unit,") and all(r.startswith("u002,") for r in rows[1:])


def test_pdf_and_html(bundle, tmp_path):
    pdf = tmp_path / "r.pdf"
    out = run("pdf", "--input", str(bundle), "--config", CONFIG, "-o", str(pdf), "--lang", "en")
    assert out.exit_code == 0, out.output
    assert pdf.read_bytes()[:5] == b"%PDF-" and not list(tmp_path.glob("*.part"))
    html = tmp_path / "r.html"
    assert run("html", "--input", str(bundle), "-o", str(html)).exit_code == 0
    assert '<table id="findings"' in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feed", "--input", "missing.json"], "missing.json: [Errno 2]"),
        (["feed", "--input", "{bad}"], "bad.json: Expecting"),
        (["feed", "--input", "{wrongfield}"], "wrong.json: units: Field required"),
        (["feed", "--input", "{bundle}", "--period", "11/2026"], "--period 11/2026: expected YYYY-MM"),
        (["feed", "--input", "{bundle}", "--since", "2026-11-01"], "--since 2026-11-01: give a time zone"),
        (["feed", "--input", "{bundle}", "--unit", "nope"], "--unit nope: no such unit"),
        (["pdf", "--input", "{bundle}", "-o", "{out}"], "--config report.yaml is required"),
        (["pdf", "--input", "{bundle}", "-o", "{out}", "--config", "{badcfg}"], "prices: Field required"),
        (["feed"], "no input: pass --input"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(args, message, bundle, tmp_path, monkeypatch):
    monkeypatch.delenv("SECSCAN_DB", raising=False)
    monkeypatch.delenv("SECSCAN_REPORT_CONFIG", raising=False)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"organisation": "x", "period": "2026-11", "generated_at": "2026-11-30T00:00:00Z"}))
    badcfg = tmp_path / "report.yaml"
    badcfg.write_text("issuing_body: {name: [X], place: Y}\nsigner: {name: Z}\n", encoding="utf-8")
    out_pdf = tmp_path / "never.pdf"
    subst = {
        "{bad}": str(bad),
        "{wrongfield}": str(wrong),
        "{bundle}": str(bundle),
        "{out}": str(out_pdf),
        "{badcfg}": str(badcfg),
    }
    result = run(*[subst.get(a, a) for a in args])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0].replace(str(tmp_path) + "/", ""), result.output
    assert not out_pdf.exists()
