"""``secscan report xlsx`` and ``secscan report inventory`` from a collector store: the workbook's
figures are the ones the report stage computed for the PDF from the same store (its snapshot,
``secscan report findings -o``), and the inventory lists the unit's reporting PCs and scanned devices."""

from __future__ import annotations

import json
import random
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from secscan.cli import cli

ROOT = Path(__file__).resolve().parents[2]
UNIT = "van-lang"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    from secscan.synth.samples import fleet, host_report, scan_report

    tmp = tmp_path_factory.mktemp("store")
    db = f"sqlite:///{tmp}/secscan.db"
    col = lambda *a: CliRunner().invoke(cli, ["collector", "--db", db, *a])  # noqa: E731
    assert col("init", "--org", str(ROOT / "examples" / "org.yaml")).exit_code == 0
    token = col("token", "create", "--unit", UNIT).stdout.strip()
    rng = random.Random(7)
    (tmp / "in").mkdir()
    for doc in [host_report(rng, h, token=token) for h in fleet(8, [UNIT])] + [scan_report(rng, UNIT, 4)]:
        name = doc.get("report_id") or doc["scan_id"]
        (tmp / "in" / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    imported = col("import", "-q", str(tmp / "in"))
    assert imported.exit_code == 0, imported.output
    return db


def _report(db: str, monkeypatch: pytest.MonkeyPatch, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SECSCAN_DB", db)
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exit_code == 0, result.output
    return result


def test_xlsx_figures_equal_the_report_stages(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, snap = tmp_path / "ket-qua.xlsx", tmp_path / "snap.json"
    _report(store, monkeypatch, "xlsx", "-o", str(out), "--period", "2026-11")
    _report(store, monkeypatch, "findings", "--no-record", "-o", str(snap), "--period", "2026-11")
    units = json.loads(snap.read_text(encoding="utf-8"))["units"]
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    by_unit = {r[0]: r for r in rows[1:-1]}
    assert set(by_unit) == set(units)
    for unit, figures in units.items():
        r = by_unit[unit]
        got = {"hosts": r[3], "score": r[4], "av_present_pct": r[11], "av_current_pct": r[12],
               "windows_licensed_pct": r[13], "office_licensed_pct": r[14], "activators": r[15],
               "unsupported_os": r[16], "high_hosts": r[17], "unmanaged": r[19]}
        assert got == {k: figures[k] for k in got}, unit
    assert by_unit[UNIT][3] == 8
    assert not out.with_name(out.name + ".part").exists()


def test_inventory_from_the_store(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "danh-muc.xlsx"
    result = _report(store, monkeypatch, "inventory", "--unit", UNIT, "-o", str(out))
    assert f"{out}: 8 devices" in result.output
    devices, software, network = openpyxl.load_workbook(out).worksheets
    assert devices.max_row == 9 and devices["A1"].value == "STT" and devices.freeze_panes == "A2"
    assert network.max_row > 1
    assert software["A3"].value.startswith("8 máy chưa có danh sách phần mềm")  # unknown, not "nothing installed"
    pdf = tmp_path / "danh-muc.pdf"
    _report(store, monkeypatch, "inventory", "--unit", UNIT, "--format", "pdf", "-o", str(pdf), "--lang", "en")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_unknown_unit_one_line(store: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECSCAN_DB", store)
    result = CliRunner().invoke(cli, ["report", "inventory", "--unit", "nope", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0 and "--unit nope" in result.output
    assert len(result.output.strip().splitlines()) == 1
