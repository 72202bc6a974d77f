"""Closing the loop on the demo store: `secscan remediate` records the (PC, control) pairs its
script targets; after new reports from some of those PCs — two showing the fix, one unchanged — the
reports' remediation section (HTML and the PDF's annex) says which pairs are resolved, which still
fail on which PCs and which await a report, each checked against a fresh evaluation of the stored
reports, not against the store's own results."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from secscan.cli import cli
from secscan.collector.db import open_engine
from secscan.collector.store import Store
from secscan.model.host import HostReport
from secscan.model.result import Outcome
from secscan.model.signing import sign
from secscan.policy.baseline import default_baseline
from secscan.policy.evaluate import evaluate_reports
from secscan.policy.org import load_org
from secscan.report.inputs import ReportInput
from secscan.report.remediation import RemediationInput
from secscan.wiring.remediation import remediation_input
from secscan.wiring.report import from_store
from tests.remediate.scripts import allowed, fix_controls
from tests.remediate.test_demo import UNIT, shows_the_fix

pytestmark = pytest.mark.slow  # uses the demo store (about 15 s, shared with test_demo.py)


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo store of its own (test_demo.py imports reports into the shared one and
    writes scripts), with no script recorded yet."""
    out = tmp_path_factory.mktemp("loop") / "demo"
    out.mkdir()
    shutil.copy(demo_dir / "org.yaml", out / "org.yaml")
    shutil.copy(demo_dir / "report.yaml", out / "report.yaml")
    with sqlite3.connect(demo_dir / "secscan.db") as src, sqlite3.connect(out / "secscan.db") as dst:
        src.backup(dst)
        dst.execute("DELETE FROM secscan_meta WHERE key LIKE 'remediation:%'")  # scripts test_demo.py wrote
    return out


def env(demo: Path) -> dict[str, str]:
    return {"SECSCAN_DB": str(demo / "secscan.db")}


def load_input(demo: Path) -> ReportInput:
    """The report input as `secscan report …` loads it from the store (the wiring)."""
    return from_store(str(demo / "secscan.db"), "2026-12")


def latest_reports(demo: Path) -> dict[str, HostReport]:
    s = Store(open_engine(str(demo / "secscan.db")))
    out: dict[str, HostReport] = {}
    for h in s.hosts():  # a PC under two host records (a hand-run capture, then a signed report): the newer
        report = HostReport.model_validate(s.report_document(h["last_report_id"]))
        if h["hostname"] not in out or report.collected_at > out[h["hostname"]].collected_at:
            out[h["hostname"]] = report
    return out


def outcomes(demo: Path) -> dict[tuple[str, str], Outcome]:
    """(hostname, control) -> outcome of the unit's PCs (a hand-run capture names no unit: its network
    places it), judged afresh from each PC's latest stored report."""
    reports = latest_reports(demo)
    results, _ = evaluate_reports([r.to_document() for r in reports.values()], load_org(demo / "org.yaml"),
                                  default_baseline())
    return {(r.host, r.control_id): r.outcome for r in results if r.unit == UNIT}


def scripted_pairs(script: str) -> set[tuple[str, str]]:
    """(hostname, control) pairs the script fixes, read from its guard list and fix table."""
    control_of = fix_controls(script)
    return {(e.hostname, control_of[f]) for e in allowed(script) for f in e.fixes}


def new_report(report: HostReport, token: str, fixed: bool) -> dict[str, Any]:
    if fixed:
        doc = shows_the_fix(report)
    else:  # the next capture of a PC where nothing changed
        doc = report.to_document()
        doc.pop("signature", None)
        doc["report_id"] = str(uuid.uuid4())
        doc["collected_at"] = (report.collected_at + timedelta(days=1)).isoformat()
    doc["unit"] = UNIT
    return sign(doc, token)


def section(html: str) -> str:
    start = html.index('id="remediation"')
    end = html.index("</section>", start)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html[start:end])))


@pytest.fixture(scope="module")
def loop(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("loop-run")
    out = folder / "fix.ps1"
    made = CliRunner().invoke(cli, ["remediate", "--unit", UNIT, "--out", str(out)], env=env(demo))
    assert made.exit_code == 0, made.output
    script = out.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    before = outcomes(demo)
    targets = scripted_pairs(script)
    with_fixes = sorted({host for host, _ in targets})
    assert len(with_fixes) >= 4
    fixed, unchanged = with_fixes[:2], with_fixes[2]
    s = Store(open_engine(str(demo / "secscan.db")))
    token = s.create_token(UNIT, label="loop test")[1]
    drop = folder / "after"
    drop.mkdir()
    reports = latest_reports(demo)
    for host in [*fixed, unchanged]:
        (drop / f"{host}.json").write_text(json.dumps(new_report(reports[host], token, host in fixed),
                                                      ensure_ascii=False))
    imported = CliRunner().invoke(cli, ["collector", "import", str(drop)], env=env(demo))
    assert imported.exit_code == 0, imported.output
    return {"script": script, "targets": targets, "fixed": fixed, "unchanged": unchanged,
            "before": before, "after": outcomes(demo), "out": out}


def test_the_store_records_exactly_what_the_script_targets(demo: Path, loop: dict[str, Any]) -> None:
    rem = load_input(demo).remediation
    assert isinstance(rem, RemediationInput)
    (record,) = [r for r in rem.scripts if r.unit == UNIT]
    assert {(t.host, t.control) for t in record.targets} == loop["targets"]
    assert record.file == "fix.ps1" and f"$ScriptId = '{record.script_id}'" in loop["script"]
    # each target failed when the script was written, in a fresh evaluation
    assert all(loop["before"][pair] is Outcome.failed for pair in loop["targets"])


def test_the_section_says_resolved_still_failing_and_waiting_per_pc(demo: Path, loop: dict[str, Any]) -> None:
    inp = load_input(demo)
    (unit,) = [u for u in inp.remediation.view(inp, "en").loops if u.unit_id == UNIT]
    touched = {*loop["fixed"], loop["unchanged"]}
    expected: dict[str, set[tuple[str, str]]] = {"resolved": set(), "failing": set(), "waiting": set(),
                                                 "unknown": set()}
    for host, control in loop["targets"]:
        if host not in touched:
            expected["waiting"].add((host, control))
        elif loop["after"][(host, control)] is Outcome.passed:
            expected["resolved"].add((host, control))
        elif loop["after"][(host, control)] is Outcome.failed:
            expected["failing"].add((host, control))
        else:
            expected["unknown"].add((host, control))
    got = {status: {(h, c.control) for c in unit.controls for h in c.hosts[status]} for status in expected}
    assert got == expected
    assert expected["resolved"] and expected["failing"] and expected["waiting"]
    assert {h for h, _ in expected["resolved"]} == set(loop["fixed"])
    assert {h for h, _ in expected["failing"]} == {loop["unchanged"]}
    assert unit.counts == {k: len(v) for k, v in expected.items()}


def test_html_and_pdf_annex_name_the_pcs(demo: Path, loop: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    done = CliRunner().invoke(cli, ["report", "html", "--lang", "en", "--unit", UNIT, "-o", str(page)], env=env(demo))
    assert done.exit_code == 0, done.output
    html = page.read_text(encoding="utf-8")
    text = section(html)
    assert "After remediation" in text and "fix.ps1" in text
    rows = html[html.index('id="remediation"'):].split("<tr>")
    # one row per control: the unchanged PC is named under "still failing" in each of its controls' rows,
    # the fixed ones nowhere but in the resolved count
    for control in sorted(c for h, c in loop["targets"] if h == loop["unchanged"]):
        (row,) = [r for r in rows if f"({control})</span>" in r]
        cells = [unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert loop["unchanged"] in cells[2], (control, cells)
        assert not any(h in cells[2] + cells[3] for h in loop["fixed"]), (control, cells)
    from secscan.report.config import load
    from secscan.report.pdf import render_html_for_pdf
    from secscan.report.summary import summarise

    inp = load_input(demo).only_unit(UNIT)
    html = render_html_for_pdf(summarise(inp, None, "vi"), load(demo / "report.yaml"), "vi")
    annex = section(html)
    assert "Kết quả sau khi khắc phục" in annex and loop["unchanged"] in annex
    assert html.index('id="remediation"') > html.index('class="annex"')


def test_fixable_counts_agree_with_a_fresh_plan(demo: Path, loop: dict[str, Any]) -> None:
    """The per-unit counts: what a script can fix is what `secscan remediate` would script now."""
    inp = load_input(demo)
    view = inp.remediation.view(inp, "en")
    (row,) = [r for r in view.fix_rows if r.unit_id == UNIT]
    again = loop["out"].with_name("again.ps1")
    made = CliRunner().invoke(cli, ["remediate", "--unit", UNIT, "--out", str(again)], env=env(demo))
    assert made.exit_code == 0, made.output
    now_scripted = scripted_pairs(again.read_bytes().decode("utf-8-sig").replace("\r\n", "\n"))
    assert row.script == len(now_scripted)
    failed_now = {k for k, v in loop["after"].items() if v is Outcome.failed}
    assert row.failing == len(failed_now)
    assert row.script > 0 and row.guidance > 0 and row.script + row.guidance <= row.failing
    # the fixed PCs have nothing left to script; the newer script replaces the older one's targets
    assert not {h for h, _ in now_scripted} & set(loop["fixed"])
    store_view = remediation_input(Store(open_engine(str(demo / "secscan.db"))), inp)
    assert [s.file for s in store_view.scripts if s.unit == UNIT] == ["fix.ps1", "again.ps1"]


def test_a_linux_pc_gets_the_sh_script_and_is_counted(demo: Path, loop: dict[str, Any], tmp_path: Path) -> None:
    """A Debian-family PC of the unit failing automatic updates: `--out fix.sh` writes the POSIX sh
    script for it alone, the PowerShell script leaves it out, and the reports count its pair."""
    from secscan.remediate.quote import sh_literal
    from tests.policy.hosts import linux
    from tests.remediate.test_linux import syntax_problems

    doc = linux(**{"hardening.patches.auto_updates": False})
    doc.pop("signature", None)
    doc.update(report_id=str(uuid.uuid4()), unit=UNIT)
    doc["host"].update(hostname="vanlang-ubuntu", machine_id="5f0e2c1b9a8d4e7f8a6b5c4d3e2f1a0b")
    token = Store(open_engine(str(demo / "secscan.db"))).create_token(UNIT, label="linux test")[1]
    drop = tmp_path / "linux"
    drop.mkdir()
    (drop / "vanlang-ubuntu.json").write_text(json.dumps(sign(doc, token), ensure_ascii=False))
    imported = CliRunner().invoke(cli, ["collector", "import", str(drop)], env=env(demo))
    assert imported.exit_code == 0, imported.output
    assert outcomes(demo)[("vanlang-ubuntu", "updates_automatic")] is Outcome.failed

    out = tmp_path / "fix.sh"
    made = CliRunner().invoke(cli, ["remediate", "--unit", UNIT, "--out", str(out)], env=env(demo))
    assert made.exit_code == 0, made.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n") and syntax_problems(text) == ""
    entries = re.findall(r"^    \d+\) E_HOST=(.*); E_ID=(.*); E_FIXES=(.*) ;;$", text, re.M)
    assert entries == [(sh_literal("vanlang-ubuntu"), sh_literal("5f0e2c1b9a8d4e7f8a6b5c4d3e2f1a0b"),
                        sh_literal("unattended-upgrades"))]
    assert "sh ./fix.sh" in made.output
    ps = tmp_path / "fix.ps1"
    made = CliRunner().invoke(cli, ["remediate", "--unit", UNIT, "--out", str(ps)], env=env(demo))
    assert made.exit_code == 0 and "vanlang-ubuntu" not in ps.read_bytes().decode("utf-8-sig")

    inp = load_input(demo)
    (record,) = [s for s in inp.remediation.scripts if s.file == "fix.sh"]
    assert record.platform == "linux" and [(t.host, t.control) for t in record.targets] == [
        ("vanlang-ubuntu", "updates_automatic")]
    (fixable,) = [f for f in inp.remediation.fixable if f.unit == UNIT]
    assert (str(doc["report_id"]), "updates_automatic") in {(p.report_id, p.control) for p in fixable.script}
