"""`secscan remediate` on the demo store (`secscan demo --no-scan`): the script for a unit
addresses exactly the PCs and controls that fail there — compared with a fresh evaluation of the
stored reports, not with the store's own results — its guard admits exactly the demo's PCs of
that unit and no other PC of the district, and after reports that show the fixes, a new script
has nothing left to do on those PCs."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from secscan.cli import cli
from secscan.collector.db import open_engine
from secscan.collector.store import Store
from secscan.demo import fleet
from secscan.model.host import HostReport
from secscan.model.result import Outcome
from secscan.model.signing import sign
from secscan.policy.baseline import default_baseline
from secscan.policy.evaluate import evaluate_reports
from secscan.policy.org import load_org
from secscan.policy.remediation import load_catalogue
from tests.agent.windows.ps51 import problems
from tests.policy.hosts import set_path
from tests.remediate.scripts import Allowed, allowed, fix_controls, guard_admits

pytestmark = pytest.mark.slow  # builds the demo store (about 15 s)

UNIT = "xa-van-lang"
SEED = 2023  # the demo's default


def run(demo: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["remediate", *args], env={"SECSCAN_DB": str(demo / "secscan.db")},
                                catch_exceptions=False)
    return result


def store(demo: Path) -> Store:
    return Store(open_engine(str(demo / "secscan.db")))


def all_reports(demo: Path) -> list[HostReport]:
    s = store(demo)
    return [HostReport.model_validate(s.report_document(h["last_report_id"])) for h in s.hosts()]


def failing_now(demo: Path, unit: str) -> dict[tuple[str, str], set[str]]:
    """(hostname, machine id) -> catalogue controls it fails, judged afresh from the stored reports."""
    org = load_org(demo / "org.yaml")
    known = set(load_catalogue().controls())
    results, _ = evaluate_reports([r.to_document() for r in all_reports(demo)], org, default_baseline())
    ids = {str(r.report_id): r for r in all_reports(demo)}
    out: dict[tuple[str, str], set[str]] = {}
    for res in results:
        if res.unit == unit and res.outcome == Outcome.failed and res.control_id in known:
            rep = ids[res.report_id]
            out.setdefault((rep.host.hostname, rep.host.machine_id or ""), set()).add(res.control_id)
    return out


def addressed(script: str) -> dict[tuple[str, str], set[str]]:
    """(hostname, machine id) -> controls the script addresses there: its fixes' controls (read from
    the script's own fix table) and the controls of its guidance lines."""
    control_of = fix_controls(script)
    return {(e.hostname, e.machine_id): {control_of[f] for f in e.fixes} | {g.split(":")[0] for g in e.guidance}
            for e in allowed(script)}


@pytest.fixture(scope="module")
def script(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("fix") / "fix-xa-van-lang.ps1"
    result = run(demo_dir, "--unit", UNIT, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"{out}: unit {UNIT}, " in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    return data.decode("utf-8-sig").replace("\r\n", "\n")


def test_the_script_parses_as_powershell_5_1(script: str) -> None:
    assert problems(script) == []


def test_it_addresses_exactly_what_fails_per_pc(demo_dir: Path, script: str) -> None:
    expected = failing_now(demo_dir, UNIT)
    assert expected, "the demo unit should fail something"
    assert addressed(script) == expected


def test_the_guard_admits_exactly_the_demos_pcs_of_the_unit(demo_dir: Path, script: str) -> None:
    entries = allowed(script)
    pcs = fleet.draw(SEED)
    mine = {(p.hostname, p.machine_id) for p in pcs if p.unit == UNIT}
    assert {(e.hostname, e.machine_id) for e in entries} == mine
    for pc in pcs:
        assert guard_admits(entries, pc.hostname, pc.machine_id) == (pc.unit == UNIT), pc.hostname
        assert guard_admits(entries, pc.hostname.lower(), pc.machine_id.upper()) == (pc.unit == UNIT)
    # a listed name on another PC (another machine id), or a listed machine id under another name
    other = next(p for p in pcs if p.unit != UNIT)
    first = entries[0]
    assert not guard_admits(entries, first.hostname, other.machine_id)
    assert not guard_admits(entries, other.hostname, first.machine_id)
    assert not guard_admits(entries, first.hostname, "")
    # the PC this demo ran on reported too, in another unit: not on the list either
    assert all(r.host.hostname not in {e.hostname for e in entries} for r in all_reports(demo_dir)
               if r.unit not in (UNIT, None))


def test_header_and_cli_messages(demo_dir: Path, script: str, tmp_path: Path) -> None:
    assert f"# Đơn vị / unit: '{UNIT}'" in script and "secscan '0.1.0'" in script
    target = tmp_path / "fix.ps1"
    target.write_text("old")
    result = run(demo_dir, "--unit", UNIT, "--out", str(target))
    assert result.exit_code != 0 and "exists; pass --force" in result.output and target.read_text() == "old"
    for args, message in ((["--unit", "xa-khong-co"], "--unit xa-khong-co: not a unit of the store"),
                          (["--unit", UNIT, "--host", "KHONG-CO"], "--host KHONG-CO: no PC of that name"),
                          (["--unit", UNIT, "--control", "guest_disabled"], "--control guest_disabled: the catalogue"),
                          (["--unit", UNIT, "--use", "rdp-nla"], "--use rdp-nla: not an alternative fix")):
        result = run(demo_dir, *args, "--out", str(tmp_path / "x.ps1"))
        assert result.exit_code == 1 and message in result.output, result.output
        assert not (tmp_path / "x.ps1").exists()
    missing = CliRunner().invoke(cli, ["remediate", "--unit", UNIT, "--out", str(tmp_path / "y.ps1")],
                                 env={"SECSCAN_DB": str(tmp_path / "none.db")})
    assert missing.exit_code == 1 and "no store at" in missing.output and not (tmp_path / "none.db").exists()


def test_narrowed_to_one_host_and_one_control(demo_dir: Path, tmp_path: Path) -> None:
    expected = failing_now(demo_dir, UNIT)
    name, mid = next(k for k, v in sorted(expected.items()) if "autorun_disabled" in v)
    out = tmp_path / "one.ps1"
    result = run(demo_dir, "--unit", UNIT, "--host", name.lower(), "--control", "autorun_disabled", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert allowed(text) == [Allowed(name, mid, ("autorun-off",), ())]
    assert problems(text) == []


# --- after the fix: reports that show it, then a new script ----------------------------------------

FIXED: dict[str, Any] = {
    "hardening.smb": {"smb1_server": False, "smb1_client": False},
    "hardening.autorun": {"disabled_all_drives": True, "no_drive_type_autorun": 255},
    "hardening.rdp.nla_required": True,
    "hardening.screen_lock": {"enabled": True, "timeout_seconds": 900},
    "hardening.password_policy.min_length": 8,
    "hardening.password_policy.complexity": True,
    "hardening.lockout.threshold": 5,
    "hardening.patches.auto_updates": True,
}


def shows_the_fix(report: HostReport) -> dict[str, Any]:
    """The PC's next report after -Apply: what the scripted fixes set (each fix's control passes)."""
    doc = report.to_document()
    doc.pop("signature", None)
    doc["report_id"] = str(uuid.uuid4())
    doc["collected_at"] = (report.collected_at + timedelta(days=1)).isoformat()
    for path, value in FIXED.items():
        set_path(doc, path, value)
    firewall = doc["hardening"]["firewall"] or {}
    firewall["enabled"] = True
    for profile in firewall.get("profiles") or []:
        profile.update(enabled=True, default_inbound="Block")
    doc["hardening"]["firewall"] = firewall
    for product in (doc["antivirus"]["products"] or []):
        if product.get("source") == "defender" or product.get("microsoft"):
            product.update(state="on", enabled=True, real_time=True, up_to_date=True, signature_age_days=0.2)
    return HostReport.model_validate(doc).to_document()


def test_after_reports_that_show_the_fix_there_is_nothing_left_to_do(demo_dir: Path, script: str,
                                                                    tmp_path: Path) -> None:
    before = allowed(script)
    with_fixes = [e for e in before if e.fixes][:3]
    assert len(with_fixes) == 3
    names = {e.hostname for e in with_fixes}
    s = store(demo_dir)
    token = s.create_token(UNIT, label="remediation test")[1]
    drop = tmp_path / "after"
    drop.mkdir()
    for report in all_reports(demo_dir):
        if report.host.hostname in names:
            fixed = shows_the_fix(report)
            fixed["unit"] = UNIT
            (drop / f"{report.host.hostname}.json").write_text(json.dumps(sign(fixed, token), ensure_ascii=False))
    imported = CliRunner().invoke(cli, ["collector", "import", str(drop)],
                                  env={"SECSCAN_DB": str(demo_dir / "secscan.db")})
    assert imported.exit_code == 0, imported.output
    # the evaluation agrees: those PCs now fail none of the scripted controls
    now = failing_now(demo_dir, UNIT)
    scripted = {f.control for f in load_catalogue().fixes.values()}
    for entry in with_fixes:
        assert not now.get((entry.hostname, entry.machine_id), set()) & scripted, entry.hostname
    out = tmp_path / "again.ps1"
    result = run(demo_dir, "--unit", UNIT, "--out", str(out))
    assert result.exit_code == 0, result.output
    again = {e.hostname: e for e in allowed(out.read_bytes().decode("utf-8-sig"))}
    for entry in with_fixes:
        later = again.get(entry.hostname)
        assert later is None or later.fixes == (), (entry.hostname, later)
        if later is not None:  # still listed only for what no script may fix
            assert {g.split(":")[0] for g in later.guidance} <= {g.split(":")[0] for g in entry.guidance}
    untouched = [e for e in before if e.hostname not in names and e.fixes]
    assert all(again[e.hostname].fixes == e.fixes for e in untouched)
    assert addressed(out.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")) == now
