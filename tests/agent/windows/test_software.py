"""Installed programs from the capture's uninstall section (HostReport ``software``)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from secscan.agent.windows import decode_capture, software
from secscan.model.common import ProbeStatus
from secscan.model.limits import SOFTWARE
from tests.agent.windows.conftest import CAPTURES, decode


def _capture(entries: object = None, status: str = "ok") -> bytes:
    doc = json.loads((CAPTURES / "win10_defender_only.json").read_bytes())
    section = doc["sections"]["uninstall"]
    if status != "ok":
        section.update(status=status, error="Access is denied", data=None)
    elif entries is not None:
        section["data"]["entries"] = entries
    return json.dumps(doc).encode()


def _probe(report, name: str = "uninstall"):  # type: ignore[no-untyped-def]
    return next(p for p in report.probes if p.name == f"windows.{name}")


def test_each_root_and_install_date() -> None:
    listed = decode("win10_defender_only").software or []
    got = [(s.name, s.version, s.publisher, s.installed_on, s.source) for s in listed]
    assert got == [
        ("Google Chrome", "131.0.6778.86", "Google LLC", date(2026, 10, 2), "registry_64"),
        ("UniKey 4.6 RC2", "4.6", "Pham Kim Long", None, "registry_user"),
        ("Viettel-CA Token Manager", "2.0", "Viettel Group", date(2025, 4, 15), "registry_32"),
    ]


@pytest.mark.parametrize(("raw", "day"), [
    ("20240314", date(2024, 3, 14)), (20240314, date(2024, 3, 14)), ("3/14/2024", None), ("", None),
    ("20240231", None), ("19000101", None), ("2024031", None), ("２０２４０３１４", None), (None, None), (True, None),
])
def test_install_date_is_read_or_unknown(raw: object, day: date | None) -> None:
    assert software.install_date(raw) == day


def test_a_capture_without_roots_says_registry() -> None:
    report = decode_capture(_capture([{"name": "7-Zip 23.01", "publisher": "Igor Pavlov", "version": "23.01",
                                       "location": None, "key": "7-Zip"}]))
    assert [(s.name, s.source, s.installed_on) for s in report.software or []] == [("7-Zip 23.01", "registry", None)]


def test_nul_and_lone_surrogate_do_not_sink_the_section() -> None:
    report = decode_capture(_capture([
        {"name": "Broken\u0000", "publisher": "X\ud800", "version": "1", "key": "a", "root": "hklm64"},
        {"name": "Kaspersky Endpoint Security", "publisher": "AO Kaspersky Lab", "version": "12", "key": "b",
         "root": "hklm32"}]))
    assert _probe(report).status == ProbeStatus.ok
    assert [(s.name, s.publisher) for s in report.software or []] == [
        ("Broken", "X?"), ("Kaspersky Endpoint Security", "AO Kaspersky Lab")]
    assert any(p.source == "uninstall" for p in report.antivirus.products or [])  # the same keys still feed the AV


def test_failed_section_is_unknown_with_the_reason() -> None:
    report = decode_capture(_capture(status="denied"))
    assert report.software is None
    probe = _probe(report)
    assert probe.status == ProbeStatus.denied and "software" in probe.sections and probe.error == "Access is denied"


def test_over_the_limit_is_unknown_and_named_the_other_facts_stay() -> None:
    entries = [{"name": f"P{i}", "publisher": None, "version": None, "key": f"k{i}", "root": "hklm64"}
               for i in range(SOFTWARE.max + 1)]
    report = decode_capture(_capture(entries))
    assert report.software is None
    assert f"more than the contract's {SOFTWARE.max:,}" in (_probe(report).error or "")
    assert report.antivirus.products  # read from the other sections before the list was refused


def test_empty_list_is_checked_nothing_installed() -> None:
    assert decode_capture(_capture([])).software == []
