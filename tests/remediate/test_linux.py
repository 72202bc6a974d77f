"""The Linux scripts: the quoting function fuzzed against dash itself, the catalogue's snippets and
a generated script parsed by `sh -n` (and shellcheck where installed), the lint's shell rules, and
the script run for real — dry run, apply, again, undo, a PC not on the list — inside a private
mount and UTS namespace whose /etc/machine-id, /etc/apt/apt.conf.d, dpkg status and /var/log are
the test's own, so nothing of this machine is read or changed."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings

from secscan.model.host import HostReport
from secscan.policy.baseline import load_baselines
from secscan.policy.remediation import check_catalogue, default_catalogue_files, load_catalogue
from secscan.remediate import make_plan
from secscan.remediate.posix import ENGINE, render_sh, sh_bytes
from secscan.remediate.quote import UnsafeValue, sh_literal
from tests.policy.hosts import linux, windows
from tests.remediate.test_quote import hostile_text, neutralised
from tests.remediate.test_script import results

UNIT = "xa-thu"
WHEN = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
DASH = shutil.which("dash") or "/bin/sh"
SHELLCHECK = shutil.which("shellcheck")


def dash(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DASH, "-c", code, "sh", *args], capture_output=True, text=True, timeout=30)


def syntax_problems(code: str) -> str:
    proc = subprocess.run([DASH, "-n"], input=code, capture_output=True, text=True, timeout=30)
    return proc.stderr if proc.returncode else ""


def shellcheck(code: str, *also: str) -> str:
    """shellcheck's findings (POSIX sh), "" when clean or not installed. SC2317 (unreachable) is
    left out: the engine calls each fix's functions by a name it builds (fix_<id>_check)."""
    if not SHELLCHECK:
        return ""
    proc = subprocess.run([SHELLCHECK, "-s", "sh", "-e", ",".join(("SC2317", *also)), "-"], input=code,
                          capture_output=True, text=True, timeout=60)
    return proc.stdout if proc.returncode else ""


# --- the quoting function --------------------------------------------------------------------------

@given(hostile_text)
@settings(max_examples=300, deadline=None)
def test_dash_reads_back_exactly_the_value(value: str) -> None:
    literal = sh_literal(value)
    got = dash(f"printf '%s' {literal}; printf '|'; printf '%s' x")
    assert got.returncode == 0, got.stderr
    assert got.stdout == neutralised(value) + "|x"
    # in a comment line it stays a comment: only the next line runs
    assert dash(f"# {literal}\nprintf ok").stdout == "ok"
    if neutralised(value) == value:
        assert sh_literal(value, strict=True) == literal


def test_strict_refuses_a_line_break_and_naive_quoting_would_fail() -> None:
    with pytest.raises(UnsafeValue, match=r"U\+000A"):
        sh_literal("pc\nrm -rf /", strict=True)
    hostile = "x'; printf PWNED; '"
    assert dash(f"printf '%s' {sh_literal(hostile)}").stdout == hostile
    assert "PWNED" in dash(f"printf '%s' '{hostile}'").stdout.replace(hostile, "")  # what the function prevents


# --- the catalogue ---------------------------------------------------------------------------------

LINUX_FILE = next(p for p in default_catalogue_files() if p.name == "linux.yaml")


def test_every_linux_snippet_parses_as_posix_sh() -> None:
    cat = load_catalogue(baselines=load_baselines().values())
    fixes = [f for f in cat.fixes.values() if f.platform == "linux"]
    assert [f.control for f in fixes] == ["updates_automatic"]
    code = "\n".join(f"f_{f.id.replace('-', '_')}_{kind}() {{\n{getattr(f, kind)}}}"
                     for f in fixes for kind in ("check", "apply", "undo"))
    assert syntax_problems(code) == ""
    assert shellcheck(code, "SC2034") == ""  # alone, ok= and state= look unused: the engine reads them


@pytest.mark.parametrize("field, snippet, message", [
    ("check", "rm -f /etc/x\nok=yes\nstate='a=1'", "a check only reads, but this one changes something: 'rm'"),
    ("check", "printf x > /etc/x\nok=yes\nstate='a=1'", "changes something"),
    ("check", "sed -i s/a/b/ /etc/x\nok=yes\nstate='a=1'", "changes something"),
    ("check", "apt-get install foo\nok=yes\nstate='a=1'", "changes something"),
    ("check", "systemctl enable foo\nok=yes\nstate='a=1'", "changes something"),
    ("check", "x=1", "a check sets ok=yes|no and state="),
    ("apply", "exit 1", "calls exit"),
    ("apply", "cat <<EOF\nx\nEOF", "here-document"),
    ("undo", "printf '\u00e9'", "printable ASCII"),
])
def test_the_lint_holds_shell_snippets_to_the_rules(tmp_path: Path, field: str, snippet: str, message: str) -> None:
    import yaml

    doc = yaml.safe_load(LINUX_FILE.read_text(encoding="utf-8"))
    doc["fixes"][0][field] = snippet
    broken = tmp_path / "linux.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    cat, errors = check_catalogue([broken])
    where = f"fixes[unattended-upgrades].{field}"
    assert cat is None and any(message in e.reason and e.field == where for e in errors), errors
    assert check_catalogue([LINUX_FILE])[1] == []  # the shipped file, unbroken, is clean


def test_the_lint_keeps_the_platforms_apart(tmp_path: Path) -> None:
    import yaml

    doc = yaml.safe_load(LINUX_FILE.read_text(encoding="utf-8"))
    doc["fixes"][0]["windows"] = {"label": "x"}
    doc["guidance"] = [{"control": "firewall_enabled", "title": {"vi": "a", "en": "a"}, "text": {"vi": "b", "en": "b"}}]
    broken = tmp_path / "linux.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _, errors = check_catalogue([broken])
    text = "\n".join(str(e) for e in errors)
    assert "a fix of a linux file has linux: and not windows:" in text
    assert "guidance is written for Windows PCs only" in text
    # a Linux fix for a control the baselines judge on Windows only
    doc = yaml.safe_load(LINUX_FILE.read_text(encoding="utf-8"))
    doc["fixes"][0]["control"] = "smb1_disabled"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _, errors = check_catalogue([broken], load_baselines().values())
    assert any("is not judged on Linux" in e.reason for e in errors), errors


# --- the script ------------------------------------------------------------------------------------

HOSTILE = "pc'$(printf PWNED)`printf PWNED`;\u2019\\"


def pc(n: int, hostname: str, machine_id: str, auto_updates: bool = False) -> HostReport:
    doc = linux(**{"hardening.patches.auto_updates": auto_updates})
    doc["report_id"] = f"00000000-0000-4000-8000-{n:012d}"
    doc["unit"] = UNIT
    doc["host"].update(hostname=hostname, machine_id=machine_id)
    return HostReport.model_validate(doc)


@pytest.fixture(scope="module")
def fleet() -> tuple[list[HostReport], list]:
    pcs = [pc(1, "thu-ubuntu", "0123456789abcdef0123456789abcdef"), pc(2, HOSTILE, "m-2"),
           pc(3, "thu-debian", "m-3", auto_updates=True), pc(4, "thu\nbad", "m-4")]
    win = windows()
    win.update(report_id="00000000-0000-4000-8000-000000000005", unit=UNIT)
    win["host"].update(hostname="THU-PC05", machine_id="m-5")
    pcs.append(HostReport.model_validate(win))
    res = (results(pcs[0], ["updates_automatic", "firewall_enabled"]) + results(pcs[1], ["updates_automatic"])
           + results(pcs[2], [], ["updates_automatic"]) + results(pcs[3], ["updates_automatic"])
           + results(pcs[4], ["updates_automatic", "smb1_disabled"]))
    return pcs, res


def script_for(fleet, **kw) -> str:  # type: ignore[no-untyped-def]
    cat = load_catalogue()
    plan = make_plan(fleet[1], fleet[0], cat, unit=UNIT, platform="linux", **kw)
    return render_sh(plan, cat, version="0.1.0", generated_at=WHEN, file_name="fix.sh")


def test_the_plan_takes_linux_pcs_and_linux_fixes_only(fleet) -> None:  # type: ignore[no-untyped-def]
    cat = load_catalogue()
    plan = make_plan(fleet[1], fleet[0], cat, unit=UNIT, platform="linux")
    assert [(p.hostname, p.fixes) for p in plan.pcs] == [("thu-ubuntu", ["unattended-upgrades"]),
                                                          (HOSTILE, ["unattended-upgrades"])]
    assert plan.pcs[0].guidance == [] and [f.control for f in plan.findings] == ["updates_automatic"]
    ((name, why),) = plan.excluded
    assert name == "thu\ufffdbad" and why.startswith("its name or machine id cannot be written into a script: U+000A")
    windows_plan = make_plan(fleet[1], fleet[0], cat, unit=UNIT)
    assert [p.hostname for p in windows_plan.pcs] == ["THU-PC05"]
    assert windows_plan.pcs[0].fixes == ["smb1-server", "smb1-client", "windows-update-service"]


def test_the_script_parses_and_no_value_escapes_its_literal(fleet) -> None:  # type: ignore[no-untyped-def]
    text = script_for(fleet)
    assert text.startswith("#!/bin/sh\n") and sh_bytes(text) == text.encode("utf-8")
    assert syntax_problems(text) == ""
    assert sh_literal(HOSTILE, strict=True) in text
    # every line where the hostile name appears keeps it inside its literal: printing the script's
    # own data through the shell shows the name, never PWNED run
    probe = text.split("# --- helpers")[0].split("# --- the fixes")[0]
    probe = probe[probe.index("set -u"):]
    got = dash(probe + '\ni=1\nwhile pc_entry "$i"; do printf "%s|" "$E_HOST"; i=$((i + 1)); done')
    assert got.stdout == f"thu-ubuntu|{HOSTILE}|" and "PWNED" not in got.stdout.replace(HOSTILE, "")
    # the hostile name is meant to look like quotes: shellcheck's hints about that are the point
    assert shellcheck(text, "SC1112", "SC1003", "SC2016") == ""
    clean = (fleet[0][:1], [r for r in fleet[1] if r.host == "thu-ubuntu"])
    assert shellcheck(script_for(clean)) == ""


def test_engine_is_ascii_posix_sh() -> None:
    code = ENGINE.read_text(encoding="utf-8")
    assert code.isascii()
    assert syntax_problems("pc_entry() { return 1; }\n" + code) == ""
    statements = "\n".join(re.sub(r"(^|\s)#\s.*$", "", line) for line in code.splitlines())
    for bashism in ("[[", "local ", "function ", "$'", "<<<", "${!"):
        assert bashism not in statements, bashism


# --- run for real, in namespaces of its own --------------------------------------------------------

def _can_sandbox() -> bool:
    if not shutil.which("unshare") or not shutil.which("apt-config"):
        return False
    proc = subprocess.run(["unshare", "-m", "-u", "--propagation", "private", "true"], capture_output=True)
    return proc.returncode == 0


SANDBOX = """
set -e
mount --bind "$T/machine-id" /etc/machine-id
mount --bind "$T/apt.conf.d" /etc/apt/apt.conf.d
mount --bind "$T/status" /var/lib/dpkg/status
mount --bind "$T/log" /var/log
hostname "$PCNAME"
set +e
sh "$T/fix.sh" "$@"
echo "exit=$?"
ls /etc/apt/apt.conf.d
apt-config dump | grep '^APT::Periodic::' || true
cat /var/log/secscan/remediation.log 2>/dev/null | cut -f6,7,10,12,13,14 || true
"""


@pytest.mark.root
@pytest.mark.skipif(not _can_sandbox(), reason="needs unshare (mount and UTS namespaces, as root) and apt-config")
def test_the_script_runs_dry_run_apply_again_undo_and_refuses_another_pc(fleet, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "fix.sh").write_bytes(sh_bytes(script_for(fleet)))
    (tmp_path / "machine-id").write_text("0123456789ABCDEF0123456789ABCDEF\n")  # case is ignored
    conf = tmp_path / "apt.conf.d"
    conf.mkdir()
    (tmp_path / "log").mkdir()
    (conf / "20auto-upgrades").write_text('APT::Periodic::Update-Package-Lists "0";\n')
    status = Path("/var/lib/dpkg/status").read_text(encoding="utf-8", errors="replace")
    (tmp_path / "status").write_text(status.rstrip("\n") + "\n\nPackage: unattended-upgrades\nStatus: install ok "
                                     "installed\nPriority: optional\nSection: admin\nArchitecture: all\n"
                                     "Version: 2.9.1+nmu3\nDescription: automatic installation of security upgrades\n",
                                     encoding="utf-8")

    def run(name: str, *args: str) -> str:
        proc = subprocess.run(["unshare", "-m", "-u", "--propagation", "private", "sh", "-c", SANDBOX, "sandbox",
                               *args], capture_output=True, text=True, timeout=60,
                              env={"T": str(tmp_path), "PCNAME": name, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        assert "mount" not in proc.stderr, proc.stderr
        return proc.stdout + proc.stderr

    out = run("THU-UBUNTU")
    assert "WOULD CHANGE: " in out and "[unattended-upgrades] now lists=0 upgrade=unset file=no" in out
    assert "exit=0" in out and "99secscan-auto-upgrades" not in out

    out = run("thu-ubuntu", "--apply")
    assert "CHANGED: " in out and "exit=0" in out, out
    assert 'APT::Periodic::Update-Package-Lists "1";' in out and 'APT::Periodic::Unattended-Upgrade "1";' in out
    assert (conf / "99secscan-auto-upgrades").is_file()
    log = (tmp_path / "log" / "secscan" / "remediation.log").read_text().splitlines()
    fields = [line.split("\t") for line in log]
    assert [f[5:7] for f in fields] == [["apply", "before"], ["apply", "after"]] and fields[0][7] == fields[1][7]
    assert fields[0][4] == "0123456789ABCDEF0123456789ABCDEF" and fields[0][9:11] == ["unattended-upgrades",
                                                                                      "updates_automatic"]
    assert fields[1][11:14] == ["changed", "lists=0 upgrade=unset file=no", "lists=1 upgrade=1 file=yes"]

    out = run("thu-ubuntu", "--apply")
    assert "already compliant: " in out and "CHANGED" not in out and "exit=0" in out

    out = run("thu-ubuntu", "--undo")
    assert "RESTORED: " in out and "exit=0" in out, out
    assert not (conf / "99secscan-auto-upgrades").exists()
    assert (conf / "20auto-upgrades").read_text() == 'APT::Periodic::Update-Package-Lists "0";\n'

    out = run("thu-debian", "--apply")
    assert "exit=4" in out and "is not on the list of PCs this script was written for" in out
    assert not (conf / "99secscan-auto-upgrades").exists()
    out = run("thu-ubuntu", "--apply", "--undo")
    assert "exit=2" in out
