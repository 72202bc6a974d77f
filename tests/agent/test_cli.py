"""`secscan agent run` and `secscan schema` from the command line, as a user runs them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from secscan.model.host import HostReport
from secscan.model.signing import new_token, signing_key, verify

ROOT = Path(__file__).parents[2]


def secscan(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "secscan", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                                  "HOME": "/tmp"})


def test_help_lists_the_stages() -> None:
    proc = secscan("--help")
    assert proc.returncode == 0
    for stage in ("agent", "schema"):
        assert stage in proc.stdout


def test_run_to_stdout_validates_against_the_exported_schema() -> None:
    proc = secscan("agent", "run")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    schema = json.loads(secscan("schema", "host-report").stdout)
    jsonschema.validate(document, schema)
    assert HostReport.model_validate(document).agent.platform == "linux"


def test_schema_is_generated_from_the_model() -> None:
    schema = json.loads(secscan("schema", "host-report").stdout)
    assert schema == {**HostReport.model_json_schema(by_alias=True), "$schema": schema["$schema"],
                      "$id": schema["$id"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "secscan.host-report/2"}, schema)


def test_out_file_and_out_dir(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    assert secscan("agent", "run", "--out", str(target)).returncode == 0
    HostReport.model_validate_json(target.read_text())
    folder = tmp_path / "reports"
    assert secscan("agent", "run", "--out", f"{folder}/").returncode == 0
    assert secscan("agent", "run", "--out", f"{folder}/").returncode == 0
    files = sorted(folder.glob("*.json"))
    assert len(files) == 2  # one per run, even within the same second
    assert all(f.name.startswith(socket.gethostname()[:20].replace(".", "_")) for f in files)


def test_signed_report_verifies(tmp_path: Path) -> None:
    key_id, token = new_token()
    proc = secscan("agent", "run", "--unit", "xa-vinh-chan", "--token", token)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["unit"] == "xa-vinh-chan"
    assert document["signature"]["key_id"] == key_id
    assert verify(document, signing_key(token))
    document["unit"] = "xa-khac"
    assert not verify(document, signing_key(token))


def test_token_file(tmp_path: Path) -> None:
    _, token = new_token()
    (tmp_path / "token").write_text(token + "\n")
    proc = secscan("agent", "run", "--unit", "u1", "--token-file", str(tmp_path / "token"))
    assert proc.returncode == 0, proc.stderr
    assert verify(json.loads(proc.stdout), signing_key(token))
    (tmp_path / "bad").write_text("")
    proc = secscan("agent", "run", "--unit", "u1", "--token-file", str(tmp_path / "bad"))
    assert proc.returncode == 2 and "--token-file" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "sst_abcdefgh." + "a" * 40], "--token needs --unit"),
        (["--unit", "u1", "--token", "not-a-token"], "not a secscan unit token"),
        (["--push", "https://127.0.0.1:9/api/v1/reports"], "--push needs --token"),
    ],
)
def test_bad_token_is_a_one_line_error(args: list[str], message: str) -> None:
    proc = secscan("agent", "run", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
