"""Shared inputs for the report tests: the demo district (secscan.demo: Hạ Hòa's org.yaml, its
synthetic fleet and LAN scans) judged by the real policy stage, bent into the special cases the
tests need (facts that could not be collected, hostile strings) before evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.demo import bundle
from secscan.model.limits import HOSTNAME
from secscan.report.config import ReportConfig, load
from secscan.report.inputs import ReportInput

ROOT = Path(__file__).resolve().parents[2]

HOSTILE_HOST = '=HYPERLINK("http://127.0.0.1:9/x","y")<img src="http://127.0.0.1:9/img.png">'
HOSTILE_UNIT = (
    '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><style>body{background:url(http://127.0.0.1:9/bg)}</style>'
)
HOSTILE_AV = "@SUM(1+1)*cmd|' /C calc'!A0 <script>fetch('http://127.0.0.1:9/js')</script>"
RTL_UNIT = "Xã \u202eevil\u202c Văn\u200bLang"
LONG = "Đ" * 500


@pytest.fixture(scope="session")
def report_config() -> ReportConfig:
    return load(ROOT / "examples" / "report.yaml")


def with_unknowns(b: bundle.Bundle) -> bundle.Bundle:
    """Agents that could not read some facts (no administrator rights): the antivirus list on every
    7th PC, the firewall on every 11th; each recorded as a denied probe, as the agent does."""
    for i, doc in enumerate(b.reports):
        if i % 7 == 3:
            doc["antivirus"]["products"] = None
            doc["probes"].append(
                {
                    "name": "antivirus",
                    "status": "denied",
                    "duration_ms": 40.0,
                    "error": "root\\SecurityCenter2: access denied",
                    "sections": ["antivirus"],
                }
            )
        if i % 11 == 5:
            doc["hardening"]["firewall"] = None
            doc["probes"].append(
                {
                    "name": "firewall",
                    "status": "denied",
                    "duration_ms": 12.0,
                    "error": "needs administrator rights",
                    "sections": ["hardening.firewall"],
                }
            )
    return b


# a small district: two departments, the district's one-stop desk, two communes and one commune's desk
SMALL = ["van-phong", "ubnd-ha-hoa-mot-cua", "phong-tp", "xa-van-lang", "xa-van-lang-mot-cua", "xa-am-ha"]


def small_input(seed: int = 3) -> ReportInput:
    return bundle.report_input(with_unknowns(bundle.district(seed, units=SMALL)))


@pytest.fixture(scope="session")
def small() -> ReportInput:
    return small_input()


@pytest.fixture(scope="session")
def district() -> ReportInput:
    return bundle.report_input(bundle.district())


def hostile_input() -> ReportInput:
    """The district with hostile unit names, hostnames and antivirus names, as an agent or an
    org.yaml could carry them, judged like any other."""
    b = bundle.district(11, units=["phong-tp", "xa-van-lang", "xa-am-ha", "xa-yen-ky"])
    names = iter([HOSTILE_UNIT, RTL_UNIT, LONG])
    for unit in b.org["units"]:
        if unit["kind"] == "commune":
            unit["name"] = next(names, unit["name"])
    for i, doc in enumerate(b.reports):
        if i % 6 == 0:
            doc["host"]["hostname"] = HOSTILE_HOST + str(i) if i else HOSTILE_HOST
        if i % 6 == 1:
            doc["host"]["hostname"] = LONG[:HOSTNAME.max - 5] + str(i)  # as long as the contract allows
        for product in doc["antivirus"]["products"]:
            product["name"] = HOSTILE_AV
    return bundle.report_input(b)


@pytest.fixture(scope="session")
def hostile_strings() -> dict[str, str]:
    return {"host": HOSTILE_HOST, "unit": HOSTILE_UNIT, "av": HOSTILE_AV, "rtl": RTL_UNIT, "long": LONG}


@pytest.fixture(scope="session")
def hostile() -> ReportInput:
    return hostile_input()
