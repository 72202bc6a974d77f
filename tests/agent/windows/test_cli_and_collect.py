"""End to end: `secscan agent decode` / `agent script windows` as a user runs them, and collect()
running a stand-in powershell.exe (PowerShell itself cannot run here) through the real subprocess
path: the script file it is given, a capture, garbage, a hang, no PowerShell at all."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from secscan.agent.windows import collect, script_text
from secscan.model.common import ProbeStatus
from secscan.model.host import HostReport
from tests.agent.windows.conftest import CAPTURES

ROOT = Path(__file__).parents[3]


def secscan(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "secscan", *args], cwd=ROOT, input=stdin, capture_output=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_agent_decode_prints_a_valid_host_report(tmp_path: Path) -> None:
    out = secscan("agent", "decode", str(CAPTURES / "kms38.json"))
    assert out.returncode == 0, out.stderr.decode()
    report = HostReport.model_validate_json(out.stdout)
    assert report.agent.source == "capture"
    assert report.licences.os and report.licences.os.classification == "suspicious"


def test_agent_decode_writes_a_file_and_reads_stdin(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    raw = (CAPTURES / "vietnamese.json").read_bytes()
    out = secscan("agent", "decode", "-", "--out", str(target), stdin=raw.decode("utf-8").encode("utf-16"))
    assert out.returncode == 0, out.stderr.decode()
    text = target.read_text(encoding="utf-8")
    assert "Trần Thị Hương" in text  # UTF-8, not escaped
    assert json.loads(text)["schema"] == "secscan.host-report/1"


def test_agent_decode_kms_allow_option_and_environment() -> None:
    capture = str(CAPTURES / "server2019_no_securitycenter2.json")
    plain = json.loads(secscan("agent", "decode", capture).stdout)
    assert plain["licences"]["os"]["classification"] == "unknown"
    allowed = json.loads(secscan("agent", "decode", capture, "--kms-allow", "kms01.sotttt.example.gov.vn").stdout)
    assert allowed["licences"]["os"]["classification"] == "genuine"
    by_env = json.loads(secscan("agent", "decode", capture, env={"SECSCAN_KMS_ALLOW": "x.vn .sotttt.example.gov.vn"})
                        .stdout)
    assert by_env["licences"]["os"]["classification"] == "genuine"


@pytest.mark.parametrize("name", ["truncated.json", "not_json.txt"])
def test_agent_decode_bad_capture_exits_nonzero_with_one_line(name: str, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    out = secscan("agent", "decode", str(CAPTURES / name), "--out", str(target))
    assert out.returncode == 1
    err = out.stderr.decode().strip()
    assert err.startswith("Error: ") and name in err and "not valid JSON" in err
    assert len(err.splitlines()) == 1
    assert out.stdout == b"" and not target.exists()  # nothing half written


def test_agent_script_windows_exports_the_script(tmp_path: Path) -> None:
    out = secscan("agent", "script", "windows")
    assert out.returncode == 0
    assert out.stdout.decode("utf-8") == script_text()
    assert b"secscan.windows-capture/1" in out.stdout


# --- collect() with a stand-in powershell.exe -------------------------------------------------


def _fake_powershell(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "powershell.exe"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path / "args"


def test_collect_runs_one_powershell_with_the_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = _fake_powershell(tmp_path, f'''
echo "$@" >> "{tmp_path}/args"
# the last argument is the script file: keep a copy to check what PowerShell was given
for last; do :; done
cp "$last" "{tmp_path}/script.ps1"
cat "{CAPTURES}/kmspico_artefacts.json"
''', monkeypatch)
    report = collect(timeout=20, kms_allow=["kms.example.vn"])
    assert report.agent.source == "agent"
    assert report.licences.os and report.licences.os.classification == "suspicious"
    calls = record.read_text().splitlines()
    assert len(calls) == 1  # one PowerShell start for the whole run
    args = calls[0].split()
    assert args[:5] == ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File"] and len(args) == 6
    given = (tmp_path / "script.ps1").read_bytes()
    assert given.startswith(b"\xef\xbb\xbf")  # BOM: PowerShell 5.1 reads it as UTF-8
    assert given[3:].decode("utf-8") == script_text()
    assert not Path(args[5]).exists()  # the temporary script is removed


@pytest.mark.parametrize(("body", "status", "reason"), [
    ("echo 'garbage {'", ProbeStatus.error, "capture unreadable: not valid JSON"),
    ("echo 'cannot be loaded because running scripts is disabled' >&2; exit 1", ProbeStatus.error,
     "PowerShell printed no capture: cannot be loaded"),
    ("sleep 5", ProbeStatus.timeout, "did not finish within 1 s"),
])
def test_collect_failure_is_a_valid_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str,
                                           status: ProbeStatus, reason: str) -> None:
    _fake_powershell(tmp_path, body, monkeypatch)
    report = collect(timeout=1)
    assert [p.name for p in report.probes] == ["windows.capture"]
    assert report.probes[0].status == status and reason in (report.probes[0].error or "")
    assert report.antivirus.products is None and report.licences.os is None
    assert report.host.os.family == "windows"


def test_collect_without_powershell_is_unsupported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    report = collect(timeout=1)
    assert report.probes[0].status == ProbeStatus.unsupported
    assert "powershell.exe not installed" in (report.probes[0].error or "")


def test_agent_decode_reads_a_signed_capture_and_checks_it_with_the_token(tmp_path: Path) -> None:
    from secscan.model.signing import seal

    token = "sst_0123456789ab." + "A" * 43
    other = "sst_0123456789ab." + "B" * 43
    sealed = tmp_path / "PC_20261201T000000Z_x.secscan"
    sealed.write_bytes(seal((CAPTURES / "kms38.json").read_bytes(), token))
    unchecked = secscan("agent", "decode", str(sealed))
    assert unchecked.returncode == 0 and "signature not checked here" in unchecked.stderr.decode()
    assert HostReport.model_validate_json(unchecked.stdout).agent.source == "capture"
    checked = secscan("agent", "decode", str(sealed), "--unit", "xa-a", "--token", token)
    assert checked.returncode == 0, checked.stderr.decode()
    wrong = secscan("agent", "decode", str(sealed), "--unit", "xa-a", "--token", other)
    assert wrong.returncode == 1 and wrong.stdout == b""
    assert wrong.stderr.decode().strip().splitlines()[-1].endswith("(altered after signing, or another unit's token)")
