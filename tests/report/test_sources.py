"""Report input from the real policy stage and from the collector store."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.cli import cli
from secscan.model.host import HostReport
from secscan.model.org import Organisation
from secscan.report.evaluated import build_input
from secscan.report.summary import summarise

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo():
    from secscan.demo import fleet, hahoa
    from secscan.policy import default_baseline

    org = Organisation.model_validate(hahoa.organisation())
    base = default_baseline()
    now = fleet.now_for_period()
    reports = [HostReport.model_validate(fleet.host_report(pc, now, 1)) for pc in fleet.draw(1)]
    return org, base, build_input(org, base, reports, period="2026-11", generated_at=now)


def test_per_unit_figures_equal_the_policy_summary(demo):
    from secscan.policy import summarise as policy_summary

    org, base, inp = demo
    ours = summarise(inp)
    theirs = policy_summary(inp.results, org, base)
    rows = {r.unit.id: r for r in ours.units}
    assert theirs.units
    for unit in theirs.units:
        row = rows[unit.unit]
        assert row.unit.level == unit.level
        assert row.ind.hosts == unit.hosts
        assert (row.ind.passed, row.ind.failed, row.ind.unknown) == (
            unit.required.passed,
            unit.required.failed,
            unit.required.unknown,
        )
        assert row.ind.score == round(100 * unit.score, 1)
    keys = {
        "antivirus": "av_present",
        "av_signatures_current": "av_current",
        "windows_licensed": "windows_licensed",
        "office_licensed": "office_licensed",
        "activator_found": "activators",
        "os_unsupported": "unsupported_os",
    }
    for value in theirs.total.indicators:
        count = getattr(ours.org, keys[value.indicator_id])
        assert (count.yes, count.known, count.unknown) == (value.count, value.judged, value.unknown)


def test_controls_and_references_come_from_the_baseline(demo):
    _, base, inp = demo
    from secscan.policy import load_baselines

    network = load_baselines()["vn-network"]
    assert {c.id for c in inp.controls} == {c.id for c in base.baseline.controls + network.baseline.controls}
    activator = next(c for c in inp.controls if c.id == "no_activator")
    assert activator.heuristic and activator.title.vi.startswith("Không có công cụ bẻ khóa")
    assert any(not r.verified for c in inp.controls for r in c.references)
    assert {i.key for i in inp.indicators} == {
        "av_present",
        "av_current",
        "windows_licensed",
        "office_licensed",
        "activators",
        "unsupported_os",
    }


def test_report_from_the_collector_store(tmp_path, monkeypatch):
    from secscan.synth.samples import fleet, host_report, scan_report

    db = f"sqlite:///{tmp_path}/secscan.db"
    runner = CliRunner()
    col = lambda *a: runner.invoke(cli, ["collector", "--db", db, *a])  # noqa: E731
    assert col("init", "--org", str(ROOT / "examples" / "org.yaml")).exit_code == 0
    token = col("token", "create", "--unit", "van-lang").stdout.strip()
    rng = random.Random(5)
    (tmp_path / "in").mkdir()
    for doc in [host_report(rng, h, token=token) for h in fleet(6, ["van-lang"])] + [scan_report(rng, "van-lang", 3)]:
        name = doc.get("report_id") or doc["scan_id"]
        (tmp_path / "in" / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    imported = col("import", "-q", str(tmp_path / "in"))
    assert imported.exit_code == 0, imported.output

    monkeypatch.setenv("SECSCAN_DB", db)
    rep = lambda *a: runner.invoke(cli, ["report", *a])  # noqa: E731
    first = rep("feed", "--period", "2026-11")
    assert first.exit_code == 0, first.output
    events = [json.loads(x) for x in first.stdout.splitlines()]
    assert events and {e["status"] for e in events} == {"New"}
    assert {e["device"]["org"]["uid"] for e in events} == {"van-lang"}
    assert any(e["finding_info"]["types"] == ["exposure"] for e in events)  # 445/tcp from the scan

    recorded = rep("findings")
    assert recorded.exit_code == 0 and "findings recorded:" in recorded.output
    second = rep("feed")
    assert {json.loads(x)["status"] for x in second.stdout.splitlines()} == {"In Progress"}

    pdf = tmp_path / "r.pdf"
    out = rep("pdf", "--config", str(ROOT / "examples" / "report.yaml"), "-o", str(pdf))
    assert out.exit_code == 0, out.output
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "UBND xã Văn Lang" in text


def test_store_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SECSCAN_DB", f"sqlite:///{tmp_path}/empty.db")
    result = CliRunner().invoke(cli, ["report", "feed"])
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
