"""`secscan collector import`: folders, zips (bombs, hostile names), the CLI summary and exit
status, inputs left untouched, and a kill -9 in the middle of a big import."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.cli import cli
from secscan.collector.importer import run_import, worth_a_worker
from secscan.synth.samples import fleet, host_report, scan_report

ROOT = Path(__file__).resolve().parents[2]


def _write_reports(folder: Path, docs: list[dict]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in docs:
        path = folder / f"{doc.get('report_id') or doc.get('scan_id')}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("parallel", [False, True], ids=["here", "parse-worker"])
def test_folder_and_zip(store, token, rng, tmp_path, parallel):
    docs = [host_report(rng, h, token=token) for h in fleet(6, ["xa-a"])]
    usb = tmp_path / "usb"
    _write_reports(usb / "xa-a", docs[:3])
    _write_reports(usb, [scan_report(rng, unit="xa-a")])
    (usb / "desktop.ini").write_text("[.ShellClassInfo]")
    (usb / "notes.json").write_text('{"todo": "call the commune"}')
    with zipfile.ZipFile(usb / "batch.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in docs[3:]:
            zf.writestr(f"reports/{doc['report_id']}.json", json.dumps(doc))
        zf.writestr("reports/readme.txt", "not a report")
    before = _fingerprint(usb)
    summary = run_import(store, [str(usb)], parallel=parallel, batch=2)
    assert (summary.accepted, summary.duplicate, summary.skipped) == (7, 0, 2)
    assert summary.rejected == [(str(usb / "notes.json"), "not a secscan report: no \"schema\" member")]
    again = run_import(store, [str(usb)], parallel=parallel)
    assert (again.accepted, again.duplicate) == (0, 7)
    assert _fingerprint(usb) == before  # input files never modified
    assert store.counts()["reports"] == 6 and store.counts()["scans"] == 1


def _zip_with(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_zip_bomb_and_hostile_names(store, token, rng, tmp_path):
    good = host_report(rng, fleet(1, ["xa-a"])[0], token=token)
    bomb = _zip_with(tmp_path / "bomb.zip", [
        ("ok.json", json.dumps(good).encode()),
        ("big.json", b"{" + b" " * (60 * 1024 * 1024) + b"}"),  # 60 MB of spaces: ~60 kB compressed
        ("../../etc/cron.d/evil.json", json.dumps(good).encode()),
        ("/abs/evil.json", b"{}"),
        ("C:\\Windows\\evil.json", b"{}"),
        ("inner.zip", b"PK"),
    ])
    summary = run_import(store, [str(bomb)])
    reasons = dict(summary.rejected)
    assert summary.accepted == 1
    assert "over the limit" in reasons[f"{bomb}!big.json"]
    assert reasons[f"{bomb}!../../etc/cron.d/evil.json"] == "unsafe member name in zip ('..' in the path)"
    assert reasons[f"{bomb}!/abs/evil.json"] == "unsafe member name in zip (absolute path)"
    assert reasons[f"{bomb}!C:\\Windows\\evil.json"] == "unsafe member name in zip (absolute path)"
    assert reasons[f"{bomb}!inner.zip"] == "zip inside a zip: unpack the outer archive first"
    assert store.counts()["reports"] == 1


def test_zip_ratio_and_lying_header(store, tmp_path):
    ratio = _zip_with(tmp_path / "ratio.zip", [("r.json", b"{" + b" " * 2_000_000 + b"}")])
    summary = run_import(store, [str(ratio)])
    assert "a zip bomb?" in summary.rejected[0][1]
    # a header that understates the size: the read stops at the limit
    summary = run_import(store, [str(ratio)], max_bytes=3_000_000)
    assert "a zip bomb?" in summary.rejected[0][1]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 definitely not a zip")
    assert run_import(store, [str(broken)]).rejected[0][1].startswith("not a readable zip archive")


def test_cli_import_summary_and_exit_status(store, token, rng, tmp_path, db_url):
    docs = [host_report(rng, h, token=token) for h in fleet(3, ["xa-a"])]
    files = _write_reports(tmp_path / "in", docs)
    bad = tmp_path / "in" / "photo.json"
    bad.write_bytes(b"\xff\xd8\xff\xe0 JFIF")
    runner = CliRunner()
    result = runner.invoke(cli, ["collector", "--db", db_url, "import", "-q", str(tmp_path / "in")])
    assert result.exit_code == 1, result.output
    assert "accepted 3, duplicate 0, rejected 1" in result.stdout
    assert f"rejected: {bad}: not UTF-8 text (byte 0)" in result.stderr
    result = runner.invoke(cli, ["collector", "--db", db_url, "import", "-q", str(files[0])])
    assert result.exit_code == 0 and "accepted 0, duplicate 1, rejected 0" in result.stdout
    result = runner.invoke(cli, ["collector", "--db", db_url, "import", "-q", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no such file or folder" in result.stderr


def test_cli_init_tokens_hosts(tmp_path, rng):
    db = str(tmp_path / "x.db")
    runner = CliRunner()
    assert "store is not initialised" in runner.invoke(cli, ["collector", "--db", db, "hosts"]).output
    assert "schema migrated to version" in runner.invoke(cli, ["collector", "--db", db, "init"]).output
    assert "schema up to date" in runner.invoke(cli, ["collector", "--db", db, "init"]).output
    assert runner.invoke(cli, ["collector", "--db", db, "unit", "add", "xa-a", "--name", "UBND xã A"]).exit_code == 0
    for bad in ("Xa A", "x" * 65, "_xa"):  # ids no report could name are refused at once
        refused = runner.invoke(cli, ["collector", "--db", db, "unit", "add", bad, "--name", "?"])
        assert refused.exit_code == 2 and "Invalid value for UNIT_ID: String should" in refused.output
    created = runner.invoke(cli, ["collector", "--db", db, "token", "create", "--unit", "xa-a"])
    token = created.stdout.strip()
    assert created.exit_code == 0 and token.startswith("sst_")
    assert runner.invoke(cli, ["collector", "--db", db, "token", "create", "--unit", "nope"]).exit_code != 0
    key_id = token[4:].split(".")[0]
    listed = runner.invoke(cli, ["collector", "--db", db, "token", "list"]).stdout
    assert key_id in listed and "active" in listed and token not in listed
    (tmp_path / "r.json").write_text(json.dumps(host_report(rng, fleet(1, ["xa-a"])[0], token=token)))
    assert runner.invoke(cli, ["collector", "--db", db, "import", "-q", str(tmp_path / "r.json")]).exit_code == 0
    hosts = json.loads(runner.invoke(cli, ["collector", "--db", db, "hosts", "--json"]).stdout)
    assert [h["unit_id"] for h in hosts] == ["xa-a"]
    assert runner.invoke(cli, ["collector", "--db", db, "token", "revoke", key_id]).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["collector", "--db", db, "token", "list"]).stdout
    assert runner.invoke(cli, ["collector", "--db", db, "token", "revoke", key_id]).exit_code == 1


@pytest.mark.slow
def test_kill_9_mid_import_then_rerun(tmp_path):
    """10,000 reports; the importer is killed with SIGKILL once some batches are committed; the
    re-run stores the rest: none lost, none twice, the SQLite file intact."""
    import random

    from secscan.collector.db import open_engine
    from secscan.collector.store import Store

    db = tmp_path / "crash.db"
    store = Store(open_engine(str(db)))
    store.migrate()
    store.upsert_units([{"id": "xa-a", "name": "UBND xã A"}])
    token = store.create_token("xa-a")[1]
    store.engine.dispose()
    rng = random.Random(99)
    docs = [host_report(rng, h, token=token) for h in fleet(10_000, ["xa-a"], seed=99)]
    folder = tmp_path / "usb"
    folder.mkdir()
    for i, doc in enumerate(docs):
        (folder / f"{i:05d}.json").write_text(json.dumps(doc))
    cmd = [sys.executable, "-m", "secscan", "collector", "--db", str(db), "import", "-q", "--batch", "250", str(folder)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                stored = conn.execute("select count(*) from reports").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if stored >= 1000:
            break
    assert proc.poll() is None, "the import finished before it could be killed"
    import psutil

    workers = psutil.Process(proc.pid).children(recursive=True)
    if worth_a_worker(10_000):  # 10,000 files on more than one CPU: parsed by a worker
        assert len(workers) == 1, workers  # the parse worker (forked: it has the importer's command line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "the parse worker outlived its killed importer"
    with sqlite3.connect(db) as conn:
        partial = conn.execute("select count(*) from reports").fetchone()[0]
        assert conn.execute("select count(*) from hosts").fetchone()[0] == partial  # no half-stored batch
    assert 1000 <= partial < 10_000
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"accepted {10_000 - partial}, duplicate {partial}, rejected 0" in rerun.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*), count(distinct report_id) from reports").fetchone() == (10_000, 10_000)
        assert conn.execute("select count(*) from hosts").fetchone()[0] == 10_000
        ids = {r[0] for r in conn.execute("select report_id from reports")}
    assert ids == {d["report_id"] for d in docs}


def _explodes(raw: bytes):
    raise SystemExit("a decoder that takes the whole worker down")


def test_a_failing_parse_worker_fails_the_import_and_stores_nothing(store, token, rng, tmp_path):
    docs = [host_report(rng, h, token=token) for h in fleet(4, ["xa-a"])]
    usb = tmp_path / "usb"
    _write_reports(usb, docs)
    (usb / "zz-capture.json").write_text('{"schema": "secscan.windows-capture/1"}')
    with pytest.raises(RuntimeError, match="parse worker failed: SystemExit: a decoder that takes"):
        run_import(store, [str(usb)], decoder=_explodes, parallel=True, batch=2)
    assert store.counts()["reports"] == 0  # the batches stored before it were in the rolled-back transaction
    assert not multiprocessing.active_children()


def test_cli_parse_worker_failure_is_one_line_and_nothing_stored(store, token, rng, tmp_path, db_url, monkeypatch):
    from secscan.collector import importer
    from secscan.wiring import collector as collector_cli

    _write_reports(tmp_path / "usb", [host_report(rng, h, token=token) for h in fleet(3, ["xa-a"])])
    (tmp_path / "usb" / "zz.json").write_text('{"schema": "secscan.windows-capture/1"}')
    monkeypatch.setattr(importer, "PARALLEL_FROM", 1)  # a worker even for 4 files
    monkeypatch.setattr(collector_cli, "decode_capture", _explodes)  # pickled by reference: the worker gets it
    result = CliRunner().invoke(cli, ["collector", "--db", db_url, "import", "-q", str(tmp_path / "usb")])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: the import's parse worker failed: "
                                     "SystemExit: a decoder that takes the whole worker down")
    assert store.counts()["reports"] == 0


def test_parse_worker_with_nothing_to_parse(store, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not a report")
    summary = run_import(store, [str(tmp_path / "empty"), str(tmp_path / "other"), str(tmp_path / "gone")],
                         parallel=True)
    assert (summary.accepted, summary.skipped) == (0, 1)
    assert summary.rejected == [(str(tmp_path / "gone"), "no such file or folder")]
    assert not multiprocessing.active_children()


def test_a_file_that_grows_while_read(tmp_path, monkeypatch):
    from secscan.collector import sources

    path = tmp_path / "r.json"
    path.write_bytes(b"x" * 100)
    real_stat = os.stat

    class Shrunk:  # the size the stat saw, before the file grew
        def __init__(self, st: os.stat_result) -> None:
            self.st_mode, self.st_size = st.st_mode, 10

    def stat(p, **kw):
        return Shrunk(real_stat(p)) if str(p) == str(path) else real_stat(p, **kw)

    monkeypatch.setattr(sources.os, "stat", stat)
    [within] = sources.iter_paths([str(path)], max_bytes=1000)
    assert within.data == b"x" * 100 and within.error is None  # read whole, not cut at the stat's size
    [over] = sources.iter_paths([str(path)], max_bytes=50)
    assert over.data is None and over.error == "file grew over the limit of 50 bytes while read"


def test_windows_capture_decoded_on_import(store, tmp_path, db_url):
    """The agent's decoder, wired by the collector's CLI: a capture made on a PC without secscan."""
    pytest.importorskip("secscan.agent.windows", reason="the Windows capture decoder (issue: windows) is not merged")
    capture = ROOT / "tests" / "fixtures" / "windows" / "win10_defender_only.json"
    if not capture.exists():
        pytest.skip(f"{capture} not present")
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "ketoan.json").write_bytes(capture.read_bytes())
    runner = CliRunner()
    first = runner.invoke(cli, ["collector", "--db", db_url, "import", "-q", "--unit", "xa-a", str(usb)])
    assert first.exit_code == 0 and "accepted 1, duplicate 0, rejected 0" in first.stdout, first.output
    again = runner.invoke(cli, ["collector", "--db", db_url, "import", "-q", "--unit", "xa-a", str(usb)])
    assert "accepted 0, duplicate 1, rejected 0" in again.stdout  # same capture file: same digest
    [host] = store.hosts("xa-a")
    assert host["os_name"] and host["os_name"].startswith("Windows")
    [report] = store.latest_reports("xa-a")
    assert report.agent.source == "capture" and report.agent.platform == "windows"


def _refuse_report_on_insert(store, report_id: str) -> None:
    """A trigger that fails the insert of one report with a constraint error, as a host created
    meanwhile by another collector would (the IntegrityError path of Store.ingest)."""
    from sqlalchemy import text

    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON reports WHEN NEW.report_id = '{report_id}' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
        else:
            conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                              f"IF NEW.report_id = '{report_id}' THEN "
                              "RAISE unique_violation USING MESSAGE = 'refused by the test'; END IF; "
                              "RETURN NEW; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION refuse()"))


def test_a_conflict_rolls_back_only_its_batch_not_the_transaction(store, token, rng, tmp_path):
    # 3 batches of 2 in one transaction: the failing report's batch is rolled back to its
    # savepoint and retried report by report; the batches before and after it are kept.
    docs = [host_report(rng, h, token=token) for h in fleet(6, ["xa-a"])]
    paths = _write_reports(tmp_path / "usb", docs)
    bad = docs[2]["report_id"]
    _refuse_report_on_insert(store, bad)
    summary = run_import(store, [str(p) for p in paths], batch=2, commit_every=100)
    assert summary.accepted == 5 and summary.duplicate == 0
    assert [(name, reason.split(":")[0]) for name, reason in summary.rejected] == [
        (str(tmp_path / "usb" / f"{bad}.json"), "conflict while storing")]
    assert store.counts()["reports"] == 5 and store.counts()["hosts"] == 5
    assert store.report_document(bad) is None


def test_a_conflict_in_a_batch_of_its_own_is_retried_report_by_report(store, token, rng):
    # An HTTP batch is its own transaction, without a savepoint: a conflict rolls it all back,
    # and it runs again with savepoints, so only the conflicting report is refused.
    import json

    from secscan.collector.intake import parse
    from secscan.collector.refusals import Refusal

    docs = [host_report(rng, h, token=token) for h in fleet(3, ["xa-a"])]
    _refuse_report_on_insert(store, docs[1]["report_id"])
    outcomes = store.ingest([(parse(json.dumps(d).encode()), "http") for d in docs])
    assert [o.status for o in outcomes] == ["accepted", "rejected", "accepted"]
    assert outcomes[1].refusal == Refusal.conflict and outcomes[1].reason.startswith("conflict while storing")
    assert store.counts()["reports"] == 2 and store.counts()["hosts"] == 2


def test_a_large_import_refreshes_the_planner_statistics(store, token, rng, tmp_path, db_url, monkeypatch):
    from secscan.collector import importer

    monkeypatch.setattr(importer, "ANALYZE_FROM", 3)
    _write_reports(tmp_path / "in", [host_report(rng, h, token=token) for h in fleet(3, ["xa-a"])])
    result = CliRunner().invoke(cli, ["collector", "--db", db_url, "import", "-q", str(tmp_path / "in")])
    assert result.exit_code == 0, result.output
    if store.engine.dialect.name != "postgresql":
        assert store.analyze() is False  # SQLite plans without statistics
        return
    from sqlalchemy import text

    with store.engine.connect() as conn:
        analyzed = dict(conn.execute(text("SELECT relname, last_analyze FROM pg_stat_user_tables")).all())
    assert all(analyzed[name] is not None for name in ("hosts", "host_macs", "reports", "results")), analyzed


@pytest.mark.slow
def test_an_import_killed_again_and_again_loses_and_doubles_nothing(db_url, tmp_path):
    """The import is killed with SIGKILL at random moments, five times, then run to the end: every
    report is stored exactly once, on SQLite and on PostgreSQL."""
    import random

    from secscan.collector.db import open_engine
    from secscan.collector.store import Store

    store = Store(open_engine(db_url))
    store.migrate()
    store.upsert_units([{"id": "xa-a", "name": "UBND xã A"}])
    token = store.create_token("xa-a")[1]
    rng = random.Random(16)
    docs = [host_report(rng, h, token=token) for h in fleet(4_000, ["xa-a"], seed=16)]
    folder = tmp_path / "usb"
    folder.mkdir()
    for i, doc in enumerate(docs):
        (folder / f"{i:05d}.json").write_text(json.dumps(doc))
    cmd = [sys.executable, "-m", "secscan", "collector", "--db", db_url, "import", "-q", "--batch", "300", str(folder)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seen = [0]
    for _ in range(5):  # each run killed once it has committed one to three more batches
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        goal = min(seen[-1] + 300 * rng.randint(1, 3), 3_900)
        while proc.poll() is None and store.counts()["reports"] < goal:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.append(store.counts()["reports"])
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr
    counts = store.counts()
    assert counts["reports"] == counts["hosts"] == 4_000, (seen, counts)
    assert f"accepted {4_000 - seen[-1]}, duplicate {seen[-1]}, rejected 0" in final.stdout
    assert seen == sorted(seen) and seen[-1] < 4_000, seen  # progress kept between kills, the last mid-import
    store.engine.dispose()
