"""The collector with the real policy stage: org.yaml loaded by `init --org`, results stored at
import, re-judged by `evaluate` after org.yaml changes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from secscan.cli import cli
from secscan.collector.db import open_engine
from secscan.collector.store import Store
from secscan.model.result import Outcome
from secscan.synth.samples import fleet, host_report

ORG = Path(__file__).resolve().parents[2] / "examples" / "org.yaml"


def test_init_org_import_evaluate(db_url, rng, tmp_path):
    runner = CliRunner()
    run = lambda *args: runner.invoke(cli, ["collector", "--db", db_url, *args])  # noqa: E731
    result = run("init", "--org", str(ORG))
    assert result.exit_code == 0, result.output
    assert "units: 5 loaded from" in result.stdout
    store = Store(open_engine(db_url))
    try:
        units = {u["id"]: u for u in store.units()}
        assert units["van-lang"]["parent_id"] == "hahoa" and units["van-lang"]["name"].startswith("UBND xã")
        assert units["van-lang"]["level"] == 3  # its one-stop-shop system is level 3 in the decision
        token = run("token", "create", "--unit", "van-lang").stdout.strip()
        docs = [host_report(rng, h, token=token) for h in fleet(4, ["van-lang"])]
        (tmp_path / "in").mkdir()
        for doc in docs:
            (tmp_path / "in" / f"{doc['report_id']}.json").write_text(json.dumps(doc, ensure_ascii=False))
        assert run("import", "-q", str(tmp_path / "in")).exit_code == 0
        results = store.latest_results("van-lang")
        assert {r.report_id for r in results} == {d["report_id"] for d in docs}
        assert {r.level for r in results} == {3}
        assert {r.outcome for r in results} >= {Outcome.passed, Outcome.failed}
        summary = store.unit_summary("van-lang")
        assert sum(summary["results"].values()) == len(results)
        # org.yaml now sets the commune's level by override: re-judge without re-importing anything
        changed = ORG.read_text(encoding="utf-8").replace("id: van-lang", "id: van-lang\n    level: 1", 1)
        (tmp_path / "org1.yaml").write_text(changed, encoding="utf-8")
        assert run("init", "--org", str(tmp_path / "org1.yaml")).exit_code == 0
        evaluated = run("evaluate", "--unit", "van-lang")
        assert evaluated.exit_code == 0 and evaluated.stdout.startswith("evaluated 4 report(s)")
        assert {r.level for r in store.latest_results("van-lang")} == {1}
    finally:
        store.engine.dispose()


def test_bad_org_is_refused_whole(tmp_path):
    db = str(tmp_path / "s.db")
    bad = tmp_path / "org.yaml"
    bad.write_text("schema: secscan.org/1\nname: X\nunits:\n  - id: a\n    name: A\n    kind: commune\n"
                   "    level: 9\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["collector", "--db", db, "init", "--org", str(bad)])
    assert result.exit_code == 1 and "not loaded" in result.output and "level" in result.output
    store = Store(open_engine(db))
    assert store.units() == [] and store.get_meta("org") is None
