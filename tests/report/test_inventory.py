"""``secscan report inventory``: the devices, software and network tables of a unit's
level-proposal dossier, as a workbook and as a PDF annex, from the report input."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from secscan.model.host import InstalledSoftware, Licence, LicenceClass
from secscan.report import inventory
from secscan.report.inputs import ReportInput
from secscan.report.workbook import words

UNIT = "xa-van-lang"


def _programs(*names: str, version: str = "1.0") -> list[InstalledSoftware]:
    return [InstalledSoftware(name=n, version=version, publisher="Microsoft Corporation" if "Microsoft" in n else None,
                              installed_on=date(2026, 1, 2), source="registry_64") for n in names]


@pytest.fixture(scope="module")
def with_software(district: ReportInput) -> ReportInput:
    """The demo district with software lists on three of the commune's PCs (the demo fleet's
    reports carry none): two with Office (one licensed, one not), one listing Chrome twice."""
    hosts = list(district.hosts)
    mine = [i for i, h in enumerate(hosts) if h.unit == UNIT]
    office = Licence(product="Office 16, Office16ProPlusVL_KMS_Client", classification=LicenceClass.genuine)
    pirate = office.model_copy(update={"classification": LicenceClass.unlicensed})
    lists = [
        (_programs("Microsoft Office Professional Plus 2016", "Google Chrome"), [office]),
        (_programs("Microsoft Office Professional Plus 2016", version="16.0.4266") + _programs("UniKey 4.6"), [pirate]),
        (_programs("Google Chrome", "Google Chrome", version="131.0"), []),
    ]
    for i, (software, lic) in zip(mine, lists, strict=False):
        h = hosts[i]
        hosts[i] = h.model_copy(update={"software": software,
                                        "licences": h.licences.model_copy(update={"office": lic})})
    return district.model_copy(update={"hosts": hosts})


def test_devices_one_row_per_reporting_pc(with_software: ReportInput) -> None:
    inv = inventory.build(with_software, UNIT, "vi")
    pcs = sorted((h for h in with_software.hosts if h.unit == UNIT), key=lambda h: h.host.hostname.casefold())
    assert [r[1] for r in inv.devices.rows] == [h.host.hostname for h in pcs]
    first, pc = inv.devices.rows[0], pcs[0]
    assert first[2] == ", ".join(str(a) for i in pc.host.interfaces for a in i.ipv4)
    assert first[10] == pc.collected_at
    assert first[9] in words("vi")["inventory"]["licence"].values()
    assert first[6] == "Không rõ"  # no CPU in the report: unknown, not blank


def test_software_counts_versions_and_office_licence(with_software: ReportInput) -> None:
    inv = inventory.build(with_software, UNIT, "en")
    rows = {r[1]: r for r in inv.software.rows}
    office = rows["Microsoft Office Professional Plus 2016"]
    assert office[2:] == ["Microsoft Corporation", "1.0, 16.0.4266", 2, "Genuine: 1; Unlicensed: 1"]
    assert rows["Google Chrome"][3:5] == ["1.0, 131.0", 2]  # listed twice on one PC: counted once
    assert rows["UniKey 4.6"][2:] == ["Unknown", "1.0", 1, "—"]
    assert inv.software_unknown == sum(1 for h in with_software.hosts if h.unit == UNIT) - 3


def test_network_declared_ranges_and_managed_or_not(with_software: ReportInput) -> None:
    inv = inventory.build(with_software, UNIT, "vi")
    unit = next(u for u in with_software.units if u.id == UNIT)
    rows = inv.network.rows
    assert {r[1] for r in rows} <= set(unit.networks) | {"Ngoài các dải đã khai báo"}
    assert any(r[7].startswith("Không (") for r in rows) and any(r[7] == "Có (có báo cáo)" for r in rows)
    scanned = {str(h.ip) for s in with_software.scans if s.unit == UNIT for h in s.hosts
               if h.status_reason != "localhost-response"}
    assert {r[2] for r in rows if r[2]} == scanned


def test_unknown_unit_is_one_line() -> None:
    with pytest.raises(ValueError, match="--unit nope: no such unit"):
        inventory.build(ReportInput.model_validate({"organisation": "x", "period": "2026-11",
                                                    "generated_at": "2026-11-26T00:00:00+07:00", "units": []}),
                        "nope", "vi")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_workbook_headers_frozen_filtered(with_software: ReportInput, lang: str) -> None:
    buf = BytesIO()
    inventory.write_xlsx(inventory.build(with_software, UNIT, lang), lang, buf)
    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    iw = words(lang)["inventory"]
    assert wb.sheetnames == [iw["sheets"][k] for k in ("devices", "software", "network")]
    for ws, key in zip(wb.worksheets, ("devices_head", "software_head", "network_head"), strict=True):
        assert [c.value for c in ws[1]] == iw[key]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
        assert all(ws.column_dimensions[c.column_letter].width >= 6 for c in ws[1])
    assert wb.worksheets[0]["K2"].is_date and wb.worksheets[0]["K2"].number_format == "dd/mm/yyyy hh:mm"


def test_hostile_hostnames_stay_text(hostile: ReportInput, hostile_strings: dict[str, str], tmp_path: Path) -> None:
    unit = next(h.unit for h in hostile.hosts if h.host.hostname.startswith(hostile_strings["host"]))
    inv = inventory.build(hostile, unit or "", "vi")
    out = tmp_path / "inv.xlsx"
    inventory.write_xlsx(inv, "vi", out)
    cells = [c for ws in openpyxl.load_workbook(out).worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert any(isinstance(c.value, str) and c.value.startswith("'" + hostile_strings["host"]) for c in cells)


def test_pdf_annex_has_the_same_tables(with_software: ReportInput, tmp_path: Path) -> None:
    inv = inventory.build(with_software, UNIT, "vi")
    out = tmp_path / "inv.pdf"
    pages = inventory.write_pdf(inv, "vi", out)
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert pages == len(PdfReader(out).pages) >= 1
    assert "Danh mục thiết bị" in text and "Microsoft Office Professional Plus 2016" in text
    assert all(r[1] in text for r in inv.devices.rows)
    assert "máy chưa có danh sách phần mềm" in text
