"""Windows captures kept raw: signed envelopes over real HTTP, from a share and a USB stick, the
same capture stored once, a tampered byte refused, `redecode` after a decoder change, the drop
folder watched through kill -9, retention, and the inventory's view of how each PC reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from secscan.cli import cli
from secscan.collector import captures as kept
from secscan.collector import schema as t
from secscan.collector.db import open_engine
from secscan.collector.store import Store, now
from secscan.demo import captures as demo_captures
from secscan.demo import fleet as demo_fleet
from secscan.model.signing import seal
from secscan.testing import _free_port
from secscan.wiring.collector import decode_capture, policy_evaluator

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org.yaml"
UNIT = "van-lang"


def _pcs(n: int, offset: int = 0) -> list[Any]:
    return demo_fleet.draw(2023)[offset:offset + n]


def _capture(pc: Any, **changes: Any) -> bytes:
    doc = demo_captures.render(pc, demo_fleet.now_for_period(), 2023)
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def collector(db_url: str):
    """(run the CLI, a Store with the org's evaluator, a token of van-lang)."""
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["collector", "--db", db_url, *args], env={"COLUMNS": "400"})

    assert run("init", "--org", str(ORG)).exit_code == 0
    token = run("token", "create", "--unit", UNIT).stdout.strip()
    store = Store(open_engine(db_url))
    store.evaluator = policy_evaluator(store)
    try:
        yield run, store, token
    finally:
        store.engine.dispose()


def _capture_rows(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(select(t.captures)).all()


@pytest.mark.slow
def test_a_signed_capture_pushed_over_http_is_stored_raw_and_decoded(collector, db_url):
    _, store, token = collector
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "secscan", "collector", "--db", db_url, "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("collector did not start")
        pc = _pcs(1)[0]
        body = _capture(pc)
        envelope = seal(body, token)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.secscan.signed"}
        first = httpx.post(f"{base}/api/v1/reports", content=envelope, headers=headers)
        assert first.status_code == 200 and first.json()["status"] == "accepted", first.text
        again = httpx.post(f"{base}/api/v1/reports", content=envelope, headers=headers)
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        tampered = bytearray(envelope)
        tampered[-20] ^= 0x01
        refused = httpx.post(f"{base}/api/v1/reports", content=bytes(tampered), headers=headers)
        assert refused.status_code == 401 and "signature" in refused.json()["detail"]
        unsigned = httpx.post(f"{base}/api/v1/reports", content=_capture(_pcs(1, 1)[0]), headers=headers)
        assert unsigned.status_code == 401 and "not signed" in unsigned.json()["detail"]
    finally:
        server.terminate()
        server.wait(10)
    rows = _capture_rows(store)
    assert len(rows) == 1 and zlib.decompress(rows[0].compressed) == body  # the exact bytes sent
    assert rows[0].unit_id == UNIT and rows[0].script_version == 1
    doc = store.report_document(rows[0].report_id)
    assert doc["host"]["hostname"] == pc.hostname and doc["agent"]["source"] == "capture"
    assert doc["agent"]["script_version"] == 1
    assert store.counts()["reports"] == 1 and store.counts()["results"] == 1


def test_the_same_capture_from_a_share_and_a_usb_stick_is_one_report(collector, tmp_path):
    run, store, token = collector
    body = _capture(_pcs(1)[0])
    share, usb = tmp_path / "share" / UNIT, tmp_path / "usb"
    share.mkdir(parents=True)
    usb.mkdir()
    (share / "PC_20261201T010203Z_x.secscan").write_bytes(seal(body, token))
    (usb / "copy.secscan").write_bytes(seal(body, token))
    (usb / "plain.json").write_bytes(body)  # the unsigned USB flow of old: the same capture
    first = run("import", "-q", str(share))
    assert first.exit_code == 0 and "accepted 1, duplicate 0" in first.stdout
    second = run("import", "-q", "--unit", UNIT, str(usb))
    assert second.exit_code == 0 and "accepted 0, duplicate 2, rejected 0" in second.stdout
    assert store.counts()["reports"] == 1 and len(_capture_rows(store)) == 1


def test_a_tampered_or_malformed_envelope_is_refused_in_one_line(collector, tmp_path):
    run, store, token = collector
    envelope = seal(_capture(_pcs(1)[0]), token)
    cases = {
        "tampered.secscan": envelope.replace(b'"elevated": true', b'"elevated": false', 1),
        "other-key.secscan": seal(_capture(_pcs(1)[0]), "sst_0123456789ab." + "A" * 43),
        "bad-header.secscan": b"secscan-signed/1 HMAC-MD5 0123456789ab abc\n{}",
        "host-report.secscan": seal(b'{"schema": "secscan.host-report/1"}', token),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    assert cases["tampered.secscan"] != envelope
    result = run("import", "-q", *(str(tmp_path / n) for n in cases))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("rejected:")]
    assert len(lines) == 4, result.stderr
    why = {Path(line.split(": ", 2)[1]).name: line.split(": ", 2)[2] for line in lines}
    assert why["tampered.secscan"].startswith("signature: does not match")
    assert "is not a token of this collector" in why["other-key.secscan"]
    assert why["bad-header.secscan"].startswith("envelope header: expected")
    assert "schema: expected 'secscan.windows-capture/1'" in why["host-report.secscan"]
    assert store.counts()["reports"] == 0 and _capture_rows(store) == []


def _smb1_everywhere(raw: bytes) -> Any:
    """A 'new decoder' that reads SMBv1 as on for every PC: only smb1_disabled may change."""
    doc = json.loads(raw)
    doc["sections"]["smb"]["data"]["server_configuration"]["EnableSMB1Protocol"] = True
    return decode_capture(json.dumps(doc).encode())


def test_redecode_after_a_decoder_change_changes_exactly_the_affected_results(collector, tmp_path):
    run, store, token = collector
    pcs = [pc for pc in _pcs(60) if pc.unit == UNIT] or _pcs(8)
    for i, pc in enumerate(pcs):
        (tmp_path / f"{i}.secscan").write_bytes(seal(_capture(pc), token))
    assert run("import", "-q", str(tmp_path)).exit_code == 0
    before = {r.host: r.outcome.value for r in store.latest_results(UNIT) if r.control_id == "smb1_disabled"}
    same = kept.redecode(store, decode_capture)
    assert (same.captures, same.reports_changed, same.failed, sum(same.results_changed.values())) == \
        (len(pcs), 0, [], 0)
    changed = kept.redecode(store, _smb1_everywhere)
    flipped = sum(1 for outcome in before.values() if outcome != "fail")
    assert flipped > 0
    assert changed.reports_changed == sum(1 for pc in pcs if not pc.smb1)
    assert dict(changed.results_changed) == {"smb1_disabled": flipped}
    after = {r.host: r.outcome.value for r in store.latest_results(UNIT) if r.control_id == "smb1_disabled"}
    assert set(after.values()) == {"fail"} and after.keys() == before.keys()
    # the CLI says the same, per control
    out = run("redecode", "-q", "--unit", UNIT)
    assert out.exit_code == 0 and f"redecoded {len(pcs)} capture(s)" in out.stdout
    assert f"smb1_disabled: {flipped} result(s) changed" in out.stdout  # back to the shipped decoder


def test_retention_keeps_the_last_n_and_the_recent_days(collector, tmp_path):
    run, store, token = collector
    pc = _pcs(1)[0]
    stamp = now()
    for days in range(0, 600, 30):  # 20 captures of one PC, a month apart
        at = stamp.replace(microsecond=0) - timedelta(days=days)
        iso = at.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
        body = _capture(pc, capture_id=f"00000000-0000-4000-8000-{days:012d}", started_at=iso, finished_at=iso)
        (tmp_path / f"{days}.secscan").write_bytes(seal(body, token))
    assert run("import", "-q", str(tmp_path)).exit_code == 0
    assert len(_capture_rows(store)) == 20
    # kept: the newest 5 (0..120 days) and all within 200 days (0..180): 7
    assert kept.prune(store, keep_last=5, keep_days=200, now=stamp) == 13
    assert len(_capture_rows(store)) == 7 and store.counts()["reports"] == 20
    out = run("captures", "prune", "--keep-last", "2", "--keep-days", "0")
    assert out.exit_code == 0 and out.stdout.startswith("pruned 5 capture(s)")
    assert "2 capture(s) of 1 PC(s)" in run("captures", "stats").stdout


def test_the_inventory_says_how_each_pc_reports_and_flags_an_old_script(collector, tmp_path):
    run, store, token = collector
    old, new = _pcs(2)
    (tmp_path / "old.secscan").write_bytes(seal(_capture(old), token))  # the demo writes script_version "1"
    (tmp_path / "new.secscan").write_bytes(seal(_capture(new, script_version=2), token))
    assert run("import", "-q", str(tmp_path)).exit_code == 0
    by_name = {h["hostname"]: h for h in store.hosts()}
    assert by_name[old.hostname]["agent"] == "script/1" and by_name[new.hostname]["agent"] == "script/2"
    assert "older than v2" in by_name[old.hostname]["agent_note"] and by_name[new.hostname]["agent_note"] is None
    listing = run("hosts")
    assert listing.exit_code == 0 and "PowerShell script v1" in listing.stdout
    assert "deploy the new kit" in listing.stdout


def test_hostile_hostnames_are_printed_not_obeyed(collector, tmp_path):
    run, _, token = collector
    pc = _pcs(1)[0]
    doc = json.loads(_capture(pc))
    doc["sections"]["system"]["data"]["hostname"] = "[/bold][link=http://x]PC\x1b[31m"
    (tmp_path / "x.secscan").write_bytes(seal(json.dumps(doc).encode(), token))
    assert run("import", "-q", str(tmp_path)).exit_code == 0
    listing = run("hosts")
    assert listing.exit_code == 0, listing.output
    assert "[/bold][link=http://x]PC\\x1b[31m" in listing.stdout and "\x1b" not in listing.stdout


def _wait(predicate: Any, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.mark.slow
def test_the_watched_drop_folder_survives_kill_9_without_losing_or_doubling(collector, db_url, tmp_path):
    _, store, token = collector
    drop = tmp_path / "drop"
    (drop / UNIT).mkdir(parents=True)
    pcs = _pcs(600)
    for i, pc in enumerate(pcs):
        (drop / UNIT / f"{i:04d}.secscan").write_bytes(seal(_capture(pc), token))
    (drop / UNIT / "broken.secscan").write_bytes(b"secscan-signed/1 nonsense\n")
    (drop / UNIT / "partial.secscan.tmp").write_bytes(b"being written")  # a temporary name: left alone
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "secscan", "collector", "--db", db_url, "import", "--watch", str(drop),
           "--interval", "0.2", "--settle", "0"]
    inbox = lambda: sorted(p.name for p in (drop / UNIT).iterdir())  # noqa: E731
    # First kill: the moment the first file reaches done/ (the pass has committed and is moving
    # files); second: while a pass is reading and parsing (nothing committed yet).
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait(lambda: (drop / "done").exists(), 60, step=0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = len(inbox())
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.9)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert left > 1, "the first kill came after the pass had moved every file: nothing was tested"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait(lambda: inbox() == ["partial.secscan.tmp"], 120), inbox()[:5]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    done = sorted(p.name for p in (drop / "done" / UNIT).iterdir())
    assert done == [f"{i:04d}.secscan" for i in range(len(pcs))]  # each once: no ".1" second copies
    rejected = sorted(p.name for p in (drop / "rejected" / UNIT).iterdir())
    assert rejected == ["broken.secscan", "broken.secscan.reason.txt"]
    assert "envelope header" in (drop / "rejected" / UNIT / "broken.secscan.reason.txt").read_text()
    assert store.counts()["reports"] == len(pcs) and len(_capture_rows(store)) == len(pcs)


def test_a_pass_that_dies_between_commit_and_moves_is_finished_by_the_next(collector, tmp_path, monkeypatch):
    """Deterministic companion of the kill -9 test: the crash lands after the commit, mid-moves."""
    from secscan.collector import watch

    _, store, token = collector
    drop = tmp_path / "drop"
    drop.mkdir()
    for i, pc in enumerate(_pcs(5)):
        (drop / f"{i}.secscan").write_bytes(seal(_capture(pc), token))
    real_move, moved = watch._move, []

    def dying_move(*args: Any, **kw: Any) -> None:
        if len(moved) == 2:
            raise SystemExit("power cut")
        moved.append(args[1])
        real_move(*args, **kw)

    monkeypatch.setattr(watch, "_move", dying_move)
    with pytest.raises(SystemExit):
        watch.watch_once(store, drop, decoder=decode_capture, min_age=0)
    assert store.counts()["reports"] == 5 and len(list(drop.glob("*.secscan"))) == 3
    monkeypatch.setattr(watch, "_move", real_move)
    again = watch.watch_once(store, drop, decoder=decode_capture, min_age=0)
    assert (again.done, again.duplicate, again.rejected) == (3, 3, [])
    assert sorted(p.name for p in (drop / "done").iterdir()) == [f"{i}.secscan" for i in range(5)]
    assert store.counts()["reports"] == 5


def test_a_deployment_kit_on_the_usb_stick_is_skipped_not_rejected(collector, tmp_path):
    run, _, token = collector
    (tmp_path / "token.txt").write_text(token)
    kit = CliRunner().invoke(cli, ["agent", "package", "windows", "--unit", UNIT, "--token-file",
                                   str(tmp_path / "token.txt"), "--share", r"\\server\secscan$\van-lang",
                                   "--out", str(tmp_path / "usb" / "kit")])
    assert kit.exit_code == 0, kit.output
    (tmp_path / "usb" / "PC.secscan").write_bytes(seal(_capture(_pcs(1)[0]), token))
    result = run("import", "-q", str(tmp_path / "usb"))
    assert result.exit_code == 0 and result.stdout.startswith("accepted 1, duplicate 0, rejected 0, 7 skipped")


def test_redecode_in_worker_processes_gives_the_same_answer(collector, tmp_path):
    run, store, token = collector
    for i, pc in enumerate(_pcs(12)):
        (tmp_path / f"{i}.secscan").write_bytes(seal(_capture(pc), token))
    assert run("import", "-q", str(tmp_path)).exit_code == 0
    kept.CHUNK, chunk = 5, kept.CHUNK  # three chunks, so that two workers share them
    try:
        alone = kept.redecode(store, decode_capture, workers=0)
        pooled = kept.redecode(store, decode_capture, workers=2)
    finally:
        kept.CHUNK = chunk
    assert (pooled.captures, pooled.reports_changed, pooled.rejudged, pooled.failed) == \
        (alone.captures, alone.reports_changed, alone.rejudged, alone.failed) == (12, 0, 12, [])
