"""`secscan agent package windows`: the zero-install kit (files, configuration, refusals) and the
static safety checks on its PowerShell scripts (nothing here can run them)."""

from __future__ import annotations

import json
import re
import stat
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from secscan.agent.cli import agent
from secscan.agent.windows import kit, script_text
from secscan.model.capture import SCRIPT_VERSION
from secscan.model.signing import new_token
from tests.agent.windows.ps51 import code_only, functions, problems

pytest.importorskip("tree_sitter_powershell", reason="tree-sitter-powershell (dev extra) not installed")

ROOT = Path(__file__).parents[3]
TOKEN = "sst_0123456789ab." + "A" * 43
COLLECTOR = "https://secscan.hahoa.example.gov.vn/api/v1/reports"
SHARE = r"\\srv-hahoa\secscan$\xa-an-binh"


def package(tmp_path: Path, *args: str, token: str = TOKEN) -> tuple[int, str, Path]:
    token_file = tmp_path / "unit.token"
    token_file.write_text(token + "\n")
    out = tmp_path / "kit"
    result = CliRunner().invoke(agent, ["package", "windows", "--unit", "xa-an-binh", "--token-file",
                                        str(token_file), "--out", str(out), *args])
    return result.exit_code, result.output, out


def test_the_kit_holds_every_file(tmp_path: Path) -> None:
    code, output, out = package(tmp_path, "--collector", "https://secscan.hahoa.example.gov.vn")
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == sorted(kit.FILES)
    assert (out / "collect.ps1").read_text(encoding="ascii") == script_text()
    assert (out / "token.txt").read_bytes() == TOKEN.encode() + b"\r\n"
    assert stat.S_IMODE((out / "token.txt").stat().st_mode) == 0o600
    for name in kit.STATIC_FILES:
        assert (out / name).read_bytes() == resources.files("secscan.agent.windows").joinpath(
            kit.TEMPLATES, name).read_bytes()


def test_the_configuration_round_trips(tmp_path: Path) -> None:
    code, output, out = package(tmp_path, "--collector", "https://secscan.hahoa.example.gov.vn/",
                                "--share", SHARE, "--proxy", "http://proxy.hahoa.example.gov.vn:3128",
                                "--spool-max-files", "30", "--spool-max-mb", "16")
    assert code == 0, output
    raw = (out / "secscan.json").read_bytes()
    assert raw.isascii()
    cfg = json.loads(raw)
    assert cfg == kit.config("xa-an-binh", COLLECTOR, SHARE, proxy="http://proxy.hahoa.example.gov.vn:3128",
                             max_files=30, max_mb=16)
    assert cfg["format"] == "secscan.windows-kit/1" and cfg["script_version"] == SCRIPT_VERSION
    assert cfg["collector"] == COLLECTOR  # the reports path completed
    assert cfg["token_file"] == "token.txt" and cfg["spool"] is None


def test_the_script_reads_exactly_the_configuration_keys() -> None:
    read = set(re.findall(r"\$cfg\.([a-z_]+)", functions(script_text())["Read-KitConfig"]))
    assert read == set(kit.config("u", COLLECTOR, None))


def test_share_only_kit(tmp_path: Path) -> None:
    code, output, out = package(tmp_path, "--share", "//srv-hahoa/secscan$/xa-an-binh/")
    assert code == 0, output
    cfg = json.loads((out / "secscan.json").read_text())
    assert cfg["collector"] is None and cfg["share"] == SHARE


def test_the_guide_is_vietnamese_for_notepad(tmp_path: Path) -> None:
    code, output, out = package(tmp_path, "--collector", COLLECTOR, "--share", SHARE)
    assert code == 0, output
    raw = (out / "HUONG-DAN.txt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Notepad on Windows 7 needs the BOM to read UTF-8
    assert b"\n" not in raw.replace(b"\r\n", b"")  # and CRLF to see lines
    text = raw[3:].decode("utf-8")
    assert text == unicodedata.normalize("NFC", text)
    for phrase in ("HƯỚNG DẪN", "Chạy với quyền quản trị", "Gỡ BỎ".upper(), "chứng chỉ", "Trusted Root Certification",
                   "Startup", "xa-an-binh", "0123456789ab", COLLECTOR, SHARE, "install.ps1", "uninstall.ps1",
                   "-SelfTest", "Domain Computers", "SYSVOL"):
        assert phrase in text, phrase
    assert "{{" not in text and "}}" not in text
    assert TOKEN not in text and TOKEN.split(".")[1] not in text  # the secret never leaves token.txt


def test_a_bad_token_is_refused_in_one_line(tmp_path: Path) -> None:
    code, output, out = package(tmp_path, "--collector", COLLECTOR, token="sst_short.secret")
    assert code == 2
    assert output.strip().count("\n") == 0 and "token" in output
    assert not out.exists()


@pytest.mark.parametrize("url", ["http://secscan.hahoa.example.gov.vn/api/v1/reports", "ftp://x/y", "secscan.example",
                                 "https://user:pw@host/api/v1/reports"])
def test_a_collector_url_that_is_not_https_is_refused(tmp_path: Path, url: str) -> None:
    code, output, out = package(tmp_path, "--collector", url)
    assert code == 2
    assert output.strip().count("\n") == 0 and "--collector" in output
    assert not out.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000/api/v1/reports", "http://[::1]:8000"])
def test_plain_http_is_allowed_on_this_machine(tmp_path: Path, url: str) -> None:
    code, output, out = package(tmp_path, "--collector", url)
    assert code == 0, output
    assert json.loads((out / "secscan.json").read_text())["collector"].endswith("/api/v1/reports")


@pytest.mark.parametrize(("args", "expected"), [
    ([], "--collector URL, --share PATH, or both"),
    (["--share", r"Z:\secscan"], "UNC"),
    (["--collector", COLLECTOR, "--proxy", "proxy:3128"], "--proxy"),
    (["--collector", COLLECTOR, "--spool-max-files", "0"], "spool"),
])
def test_other_refusals(tmp_path: Path, args: list[str], expected: str) -> None:
    code, output, out = package(tmp_path, *args)
    assert code == 2 and expected in output, output
    assert not out.exists()


def test_missing_out_or_unit_is_a_usage_error(tmp_path: Path) -> None:
    token_file = tmp_path / "t"
    token_file.write_text(TOKEN)
    runner = CliRunner()
    result = runner.invoke(agent, ["package", "windows", "--unit", "u", "--token-file", str(token_file),
                                   "--collector", COLLECTOR])
    assert result.exit_code == 2 and "--out" in result.output
    result = runner.invoke(agent, ["package", "windows", "--unit", "Xã An Bình", "--token-file", str(token_file),
                                   "--collector", COLLECTOR, "--out", str(tmp_path / "k")])
    assert result.exit_code == 2 and "unit id" in result.output


def test_an_old_kit_is_not_overwritten_without_force(tmp_path: Path) -> None:
    assert package(tmp_path, "--collector", COLLECTOR)[0] == 0
    _, fresh = new_token()
    code, output, out = package(tmp_path, "--collector", COLLECTOR, token=fresh)
    assert code == 2 and "--force" in output
    assert (out / "token.txt").read_text().strip() == TOKEN
    code, output, out = package(tmp_path, "--collector", COLLECTOR, "--force", token=fresh)
    assert code == 0 and (out / "token.txt").read_text().strip() == fresh


def test_unit_ids_follow_the_organisation_model() -> None:
    from secscan.model.org import Unit

    pattern = Unit.model_json_schema()["properties"]["id"]["pattern"]
    assert kit.UNIT_ID.pattern == pattern


# --- the scripts the kit ships: grammar and safety (validated by reading, not by running) ---------

def shipped() -> dict[str, str]:
    scripts = {name: kit.template(name) for name in ("install.ps1", "uninstall.ps1")}
    scripts["collect.ps1"] = script_text()
    return scripts


@pytest.mark.parametrize("name", ["collect.ps1", "install.ps1", "uninstall.ps1"])
def test_every_shipped_script_is_clean_powershell_5_1(name: str) -> None:
    source = shipped()[name]
    assert problems(source) == []
    source.encode("ascii")
    code = code_only(source).lower()
    for newer in ("register-scheduledtask", "get-scheduledtask", "new-scheduledtask", "get-nettcpconnection -state",
                  "invoke-webrequest", "invoke-restmethod", "-skipcertificatecheck"):
        assert newer not in code, (name, newer)


@pytest.mark.parametrize("name", ["collect.ps1", "install.ps1", "uninstall.ps1"])
def test_certificates_are_never_waved_through(name: str) -> None:
    text = shipped()[name]
    assert "ServerCertificateValidationCallback" not in text
    assert "CertificatePolicy" not in text
    assert "ServerCertificateCustomValidationCallback" not in text


def test_install_checks_administrator_rights_before_anything_else() -> None:
    code = code_only(kit.template("install.ps1"))
    check = code.index("IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)")
    for write in ("CreateDirectory", "SetAccessControl", "File]::Copy", "RegisterTask", "schtasks.exe"):
        assert check < code.index(write), write
    assert "Stop-Install 1 'needs administrator rights" in code


def test_install_makes_the_folder_private_by_sid() -> None:
    source = kit.template("install.ps1")
    body = functions(source)["New-StateSecurity"]
    assert "SetAccessRuleProtection($true, $false)" in body
    assert "@($SidSystem, $SidAdmins)" in body and "SetOwner" in body
    assert "$SidSystem = 'S-1-5-18'" in source and "$SidAdmins = 'S-1-5-32-544'" in source
    assert "NTAccount" not in code_only(source)


def test_install_registers_the_task_as_system_without_the_scheduledtasks_module() -> None:
    code = code_only(kit.template("install.ps1"))
    assert "New-Object -ComObject 'Schedule.Service'" in code
    assert ".RegisterTask($TaskName, $definition, 6, $SidSystem, $null, 5, $null)" in code
    assert "schtasks.exe /Create /TN $TaskName /XML $file /RU SYSTEM /F" in code
    assert "& $collect -Config $config -SelfTest" in code
    assert ("'-NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"' + $collect + '\" -Config \"' + $config"
            in code)


def test_uninstall_checks_rights_and_removes_task_and_folder() -> None:
    code = code_only(kit.template("uninstall.ps1"))
    assert code.index("IsInRole(") < code.index("DeleteTask(") < code.index("Directory]::Delete(")
    assert "exit 1" in code


def test_deploy_task_is_the_kit_task() -> None:
    deployed = (ROOT / "deploy" / "windows" / "secscan-agent-task.xml").read_bytes()
    assert deployed == kit.template("secscan-task.xml").encode("ascii")
