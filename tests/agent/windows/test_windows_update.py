"""The windows_update decoder: each rule of secscan/agent/data/windows_update.toml, on the values
collect.ps1 writes (Get-RegKey gives null for a value that is not set, null for a missing key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secscan.agent.data import load
from secscan.agent.windows import decode_capture, windows_update
from secscan.agent.windows.products import Inventory
from secscan.model.common import ProbeStatus

from .conftest import CAPTURES

WIN10, WIN7 = 19045, 7601


def section(au: dict[str, Any] | None = None, *, start: int | None = 3, level: int | None = None,
            local: int | None = None, level_error: str | None = None,
            policy: dict[str, Any] | None = None) -> dict[str, Any]:
    names = ("NoAutoUpdate", "AUOptions", "UseWUServer", "ScheduledInstallDay", "ScheduledInstallTime")
    return {"policy": policy, "policy_au": None if au is None else {n: au.get(n) for n in names},
            "local_au": None if local is None else {"AUOptions": local},
            "wuauserv": None if start is None else {"Start": start},
            "notification_level": level, "notification_level_error": level_error}


@pytest.mark.parametrize(("sec", "build", "expected", "basis"), [
    # Windows 10/11 without a policy: the documented default is automatic
    (section(), WIN10, True, "updates automatically by default"),
    (section(), 22631, True, "build 22631"),
    # the policy switch wins over everything
    (section({"NoAutoUpdate": 1, "AUOptions": 4}), WIN10, False, "NoAutoUpdate=1"),
    (section({"NoAutoUpdate": 0, "AUOptions": 2}), WIN10, False, "AUOptions=2"),
    (section({"AUOptions": 3}), WIN10, True, "AUOptions=3"),
    (section({"AUOptions": 4}), WIN7, True, "AUOptions=4"),
    # a DWORD read back as text by an old PowerShell
    (section({"AUOptions": "4"}), WIN10, True, "AUOptions=4"),
    # NoAutoUpdate=0 alone is "enabled" without an option: Windows' own default then
    (section({"NoAutoUpdate": 0}), WIN10, True, "by default"),
    # the service disabled beats an automatic policy
    (section({"AUOptions": 4}, start=4), WIN10, False, "wuauserv"),
    (section(start=4), WIN10, False, "disabled"),
    # AUOptions 5: the local setting decides, or nobody can tell
    (section({"AUOptions": 5}, level=4), WIN10, True, "NotificationLevel=4"),
    (section({"AUOptions": 5}, level=2), WIN10, False, "NotificationLevel=2"),
    (section({"AUOptions": 5}, level_error="Class not registered"), WIN10, None, "Class not registered"),
    # an undocumented option is not guessed
    (section({"AUOptions": 7}), WIN10, None, "not a documented value"),
    # Windows 7/8.1 without a policy: the Update Agent's level, else the local AUOptions, else unknown
    (section(level=1), WIN7, False, "NotificationLevel=1"),
    (section(level=4), WIN7, True, "NotificationLevel=4"),
    (section(level=3), WIN7, True, "NotificationLevel=3"),
    (section(level=0, local=4), WIN7, True, "local AUOptions=4"),
    (section(level_error="0x80040154", local=1), WIN7, False, "local AUOptions=1"),
    (section(level_error="0x80040154"), WIN7, None, "0x80040154"),
    (section(level=0), WIN7, None, "NotificationLevel 0"),
    # the build unknown (system section failed) and no policy: unknown
    (section(), None, None, "build is unknown"),
])
def test_rules(sec: dict[str, Any], build: int | None, expected: bool | None, basis: str) -> None:
    got, why = windows_update.parse(sec, build)
    assert got is expected
    assert basis in why


def test_wsus_is_named_in_the_basis() -> None:
    wsus = "http://wsus.sotttt.example.gov.vn:8530"
    sec = section({"AUOptions": 4, "UseWUServer": 1}, policy={"WUServer": wsus, "WUStatusServer": wsus})
    assert windows_update.parse(sec, WIN10) == (True, f"policy AUOptions=4 (download automatically, install on a "
                                                      f"schedule), updates from WSUS {wsus}")


def test_service_start_mode_from_the_services_section_when_the_registry_had_none() -> None:
    services = {"services": [{"name": "Spooler", "start_mode": "Auto"},
                             {"name": "wuauserv", "start_mode": "Disabled"}]}
    assert windows_update.service_start_mode(Inventory.parse_services(services)) == "Disabled"
    one = {"services": {"name": "wuauserv", "start_mode": "Manual"}}  # PS 5.1: one row as an object
    assert windows_update.service_start_mode(Inventory.parse_services(one)) == "Manual"
    assert windows_update.service_start_mode(Inventory.parse_services({"services": []})) is None
    sec = section(start=None)
    assert windows_update.parse(sec, WIN10, "Disabled")[0] is False
    assert windows_update.parse(sec, WIN10, "Manual")[0] is True
    # the section's own registry read wins over the service list
    assert windows_update.parse(section(start=3), WIN10, "Disabled")[0] is True


@pytest.mark.parametrize("bad", [[1], {"policy_au": "x"}, {"policy_au": {"AUOptions": "four"}},
                                 {"wuauserv": {"Start": 1.5}}])
def test_garbage_raises(bad: Any) -> None:
    with pytest.raises(ValueError):
        windows_update.parse(bad, WIN10)


def test_table_documents_its_sources() -> None:
    table = load("windows_update")
    assert set(table["policy_au_options"]) == {"2", "3", "4", "5"}  # "Range = 2|3|4|5" of the WSUS doc
    assert set(table["notification_level"]) == {"1", "2", "3", "4"}  # AutomaticUpdatesNotificationLevel
    comments = (Path(windows_update.__file__).parents[1] / "data" / "windows_update.toml").read_text(encoding="utf-8")
    assert "dd939844" in comments and "aa385806" in comments and "[R]" in comments


def _decode(name: str, edit: Any = None) -> Any:
    cap = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))
    if edit:
        edit(cap)
    return decode_capture(json.dumps(cap))


def test_unknown_keeps_its_reason_on_the_probe_record() -> None:
    def old_os_without_values(cap: dict[str, Any]) -> None:
        cap["sections"]["windows_update"]["data"].update(notification_level=None, local_au=None,
                                                         notification_level_error="Class not registered")
    report = _decode("windows7", old_os_without_values)
    assert report.hardening.patches and report.hardening.patches.auto_updates is None
    record = next(p for p in report.probes if p.name == "windows.windows_update")
    assert record.status is ProbeStatus.ok
    assert record.error and record.error.startswith("auto_updates unknown:") and "Class not registered" in record.error


def test_a_failed_section_leaves_auto_updates_unknown_but_patch_dates_known() -> None:
    def denied(cap: dict[str, Any]) -> None:
        cap["sections"]["windows_update"] = {"status": "denied", "error": "Requested registry access is not allowed.",
                                             "ms": 3, "data": None}
    report = _decode("win10_defender_only", denied)
    assert report.hardening.patches and report.hardening.patches.auto_updates is None
    assert report.hardening.patches.last_patch_at is not None
    record = next(p for p in report.probes if p.name == "windows.windows_update")
    assert record.status is ProbeStatus.denied and record.sections == ["hardening.patches.auto_updates"]


def test_the_system_section_failing_makes_a_default_undecidable() -> None:
    def no_system(cap: dict[str, Any]) -> None:
        cap["sections"]["system"] = {"status": "error", "error": "WMI repository corrupt", "ms": 3, "data": None}
    assert _decode("win10_defender_only", no_system).hardening.patches.auto_updates is None
    # ... but a policy still decides without the build
    assert _decode("kmspico_artefacts", no_system).hardening.patches.auto_updates is False
