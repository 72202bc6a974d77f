"""Progress of the long report commands: each step named with its time when stderr is a terminal
(a real pseudo-terminal here), nothing added when it is a pipe, and stdout untouched either way."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from secscan.cli import cli
from secscan.wiring.progress import TerminalSteps, quiet, terminal_steps

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples" / "report.yaml")
ESC = "\x1b"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "bundle.json"
    done = CliRunner().invoke(cli, ["report", "sample", "-o", str(path), "--seed", "5", "--unit", "xa-van-lang"])
    assert done.exit_code == 0, done.output
    return path


def secscan(*args: str, stderr_tty: bool) -> tuple[int, str, str]:
    """Run the real entry point with stdout to a pipe and stderr to a terminal or a pipe."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    env.pop("SECSCAN_DB", None)
    if not stderr_tty:
        done = subprocess.run([sys.executable, "-m", "secscan", *args], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=180)
        return done.returncode, done.stdout, done.stderr
    with tempfile.TemporaryFile() as stdout:  # not a pipe: the feed would fill it while the terminal is drained
        code, err = _on_a_terminal(args, env, stdout)
        stdout.seek(0)
        return code, stdout.read().decode(), err


def _on_a_terminal(args: tuple[str, ...], env: dict[str, str], stdout: IO[bytes]) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "secscan", *args], stdout=stdout, stderr=slave, cwd=ROOT, env=env)
    os.close(slave)
    err = b""
    while True:  # drain the terminal while the command runs: a full one would stop it
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command closed its end
                break
            if not chunk:
                break
            err += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=180), err.decode("utf-8", "replace")


def test_pdf_on_a_terminal_names_each_step_with_its_time(bundle, tmp_path):
    code, out, err = secscan("report", "pdf", "--input", str(bundle), "--config", CONFIG, "-o", str(tmp_path / "r.pdf"),
                             stderr_tty=True)
    assert code == 0, err
    done = re.findall(r"✓ (.+?)  (\d+\.\d) s", err)
    assert [label for label, _ in done] == ["reading bundle.json", "summary and findings",
                                            "the PDF: layout, drawing, writing"], err
    assert "r.pdf: " in err and out == ""


def test_in_a_pipe_nothing_is_added(bundle, tmp_path):
    code, _, err = secscan("report", "pdf", "--input", str(bundle), "--config", CONFIG, "-o", str(tmp_path / "r.pdf"),
                           stderr_tty=False)
    assert code == 0, err
    assert err.splitlines() == [err.strip()] and err.startswith(str(tmp_path / "r.pdf") + ": ")
    assert ESC not in err and "✓" not in err


def test_feed_to_stdout_stays_whole_beside_the_steps(bundle):
    code, out, err = secscan("report", "feed", "--input", str(bundle), stderr_tty=True)
    assert code == 0, err
    lines = out.splitlines()
    assert lines and all(json.loads(line)["class_uid"] == 2003 for line in lines)
    assert ESC not in out and "✓ writing the events" in err


def test_a_failed_step_is_marked_and_the_error_goes_on(tmp_path):
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "w", encoding="utf-8", closefd=False) as stream:
            steps = terminal_steps(stream)
            assert isinstance(steps, TerminalSteps)
            with pytest.raises(ZeroDivisionError), steps("dividing"):
                1 / 0  # noqa: B018
            stream.flush()
        shown = b""
        while select.select([master], [], [], 0.5)[0]:
            shown += os.read(master, 65536)
    finally:
        os.close(master)
        os.close(slave)
    assert "✗ dividing" in shown.decode() and "✓" not in shown.decode()
    with open(tmp_path / "log", "w", encoding="utf-8") as not_a_terminal:
        assert terminal_steps(not_a_terminal) is quiet


def test_collector_evaluate_shows_a_bar_over_the_hosts_it_rejudges(tmp_path):
    import random

    from secscan.collector.db import open_engine
    from secscan.collector.store import Store
    from secscan.synth.samples import fleet, host_report

    db = f"sqlite:///{tmp_path}/s.db"
    run = lambda *args: CliRunner().invoke(cli, ["collector", "--db", db, *args])  # noqa: E731
    assert run("init", "--org", str(ROOT / "examples" / "org.yaml")).exit_code == 0
    (tmp_path / "in").mkdir()
    rng = random.Random(7)
    for doc in (host_report(rng, h) for h in fleet(3, ["van-lang"])):
        (tmp_path / "in" / f"{doc['report_id']}.json").write_text(json.dumps(doc, ensure_ascii=False))
    assert run("import", "-q", "--unit", "van-lang", str(tmp_path / "in")).exit_code == 0
    store = Store(open_engine(db))
    try:
        assert (store.latest_report_count(), store.latest_report_count("van-lang"),
                store.latest_report_count("hahoa")) == (3, 3, 0)
    finally:
        store.engine.dispose()
    code, out, err = secscan("collector", "--db", db, "evaluate", stderr_tty=True)
    assert code == 0 and out.startswith("evaluated 3 report(s)"), err
    assert re.search(r"evaluate.*3/3", err), err
    code, out, err = secscan("collector", "--db", db, "evaluate", stderr_tty=False)
    assert code == 0 and out.startswith("evaluated 3 report(s)") and err == ""
