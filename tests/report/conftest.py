"""Shared inputs for the report tests: a small synthetic district, and one full of hostile strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.model.host import HostReport
from secscan.report.config import ReportConfig, load
from secscan.report.inputs import ReportInput
from secscan.report.sample import sample_input

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


@pytest.fixture(scope="session")
def small() -> ReportInput:
    return sample_input(units=5, hosts_per_unit=8, seed=3)


@pytest.fixture(scope="session")
def district() -> ReportInput:
    return sample_input()


def hostile_input() -> ReportInput:
    names = [HOSTILE_UNIT, RTL_UNIT, LONG, "Phòng Tư pháp"]
    inp = sample_input(units=4, hosts_per_unit=6, seed=11, names=names)
    hosts = []
    renamed = {}
    for i, report in enumerate(inp.hosts):
        doc = report.to_document()
        if i % 6 == 0:
            doc["host"]["hostname"] = HOSTILE_HOST + str(i) if i else HOSTILE_HOST
            renamed[str(report.report_id)] = doc["host"]["hostname"]
        if i % 6 == 1:
            doc["host"]["hostname"] = LONG[:400] + str(i)
            renamed[str(report.report_id)] = doc["host"]["hostname"]
        if doc["antivirus"]["products"]:
            doc["antivirus"]["products"][0]["name"] = HOSTILE_AV
        hosts.append(HostReport.model_validate(doc))
    results = []
    for r in inp.results:
        update = {"host": renamed.get(r.report_id, r.host)}
        if r.control_id == "av_present" and r.evidence.get("products"):
            update["evidence"] = {"products": [HOSTILE_AV]}
        results.append(r.model_copy(update=update))
    return inp.model_copy(update={"hosts": hosts, "results": results})


@pytest.fixture(scope="session")
def hostile_strings() -> dict[str, str]:
    return {"host": HOSTILE_HOST, "unit": HOSTILE_UNIT, "av": HOSTILE_AV, "rtl": RTL_UNIT, "long": LONG}


@pytest.fixture(scope="session")
def hostile() -> ReportInput:
    return hostile_input()
