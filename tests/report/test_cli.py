"""The report commands end to end on a bundle, and their one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.cli import cli

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples" / "report.yaml")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "bundle.json"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "sample",
            "-o",
            str(path),
            "--seed",
            "5",
            "--unit",
            "xa-van-lang",
            "--unit",
            "xa-am-ha",
            "--unit",
            "phong-tp",
        ],
    )
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
    assert run("csv", "--input", str(bundle), "-o", str(csv_out), "--unit", "xa-van-lang").exit_code == 0
    rows = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("unit,") and rows[1:] and all(r.startswith("xa-van-lang,") for r in rows[1:])


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
        (["sample", "-o", "{out}", "--unit", "nope"], "units ['nope']: not in the organisation"),
        # an output that cannot be written is refused before the input is read
        (["pdf", "--input", "missing.json", "--config", "{cfg}", "-o", "{nodir}"], "nodir/x.pdf: no such folder"),
        (["html", "--input", "missing.json", "-o", "{nodir}"], "nodir/x.pdf: no such folder"),
        (["csv", "--input", "missing.json", "-o", "{nodir}"], "nodir/x.pdf: no such folder"),
        (["feed", "--input", "missing.json", "-o", "{nodir}"], "nodir/x.pdf: no such folder"),
        (["findings", "--input", "missing.json", "-o", "{nodir}"], "nodir/x.pdf: no such folder"),
        (["sample", "-o", "{nodir}"], "nodir/x.pdf: no such folder"),
        (["csv", "--input", "missing.json", "-o", "{folder}"], ": is a folder"),
        (["csv", "--input", "{bundle}", "-o", "/dev/full"], "/dev/full: "),
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
        "{cfg}": CONFIG,
        "{nodir}": str(tmp_path / "nodir" / "x.pdf"),
        "{folder}": str(tmp_path),
    }
    result = run(*[subst.get(a, a) for a in args])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0].replace(str(tmp_path) + "/", ""), result.output
    assert not out_pdf.exists()


@pytest.mark.parametrize("out", ["-", "/dev/full"])
def test_process_ends_without_teardown_output_whole_and_exit_code_kept(bundle, out):
    """The real entry point ends the process once a report's input is loaded (secscan.cli.main,
    os._exit): everything written must still arrive, and a failure must still exit non-zero."""
    done = subprocess.run(
        [sys.executable, "-m", "secscan", "report", "feed", "--input", str(bundle), "-o", out],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    if out == "-":
        expected = run("feed", "--input", str(bundle)).stdout.splitlines()
        assert done.returncode == 0, done.stderr
        got = done.stdout.splitlines()
        assert len(got) == len(expected) > 100 and all(json.loads(x)["class_uid"] == 2003 for x in got)
    else:
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.strip().splitlines() == [done.stderr.strip()] and "/dev/full" in done.stderr
