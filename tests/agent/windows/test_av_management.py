"""Centrally managed anti-malware: the vendor's management agent seen, or known absent."""

from __future__ import annotations

import json
from pathlib import Path

from secscan.agent.windows import decode_capture

FIX = Path(__file__).parents[2] / "fixtures" / "windows"


def _products(name: str, drop_agent: bool = False) -> dict[str, bool | None]:
    cap = json.loads((FIX / name).read_text())
    if drop_agent:
        services = cap["sections"]["services"]["data"]["services"]
        cap["sections"]["services"]["data"]["services"] = [s for s in services if s["name"] != "klnagent"]
        processes = cap["sections"]["processes"]["data"]["processes"]
        cap["sections"]["processes"]["data"]["processes"] = [p for p in processes if p["name"] != "klnagent.exe"]
    report = decode_capture(json.dumps(cap).encode())
    return {p.name: p.centrally_managed for p in report.antivirus.products or []}


def test_kaspersky_with_network_agent_is_managed() -> None:
    products = _products("win10_kaspersky_defender_off_mak.json")
    assert products["Kaspersky Endpoint Security for Windows"] is True


def test_kaspersky_without_network_agent_is_not() -> None:
    products = _products("win10_kaspersky_defender_off_mak.json", drop_agent=True)
    assert products["Kaspersky Endpoint Security for Windows"] is False


def test_defender_without_its_sensor_stays_unknown() -> None:
    # Intune, SCCM or Group Policy may manage Defender: no sensor is not proof of anything.
    products = _products("win10_defender_only.json")
    assert set(products.values()) == {None}
