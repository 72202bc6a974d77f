"""The demo's two eras: the 2025 province layout lints, sits in its networks and draws the 2023
report's commune rates; org.yaml's reports_to is optional and checked; the report's introduction
names the texts report.yaml gives (the 2026 regime's) and the NĐ 85/2016 regime's when it gives none."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from secscan.demo import eras, fleet, province
from secscan.policy import load_baselines
from secscan.policy.org import check_org_file, place_address
from secscan.report.config import parse

ROOT = Path(__file__).resolve().parents[2]


def _lint(tmp_path: Path, document: dict) -> tuple:
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return check_org_file(path)


@pytest.mark.parametrize("era", sorted(eras.ERAS))
def test_each_era_lays_its_fleet_inside_its_organisation(era: str, tmp_path: Path) -> None:
    layout = eras.ERAS[era]
    org, errors = _lint(tmp_path, layout.organisation())
    assert not errors and org is not None, errors
    assert org.baseline in load_baselines()
    pcs = layout.draw(2023)
    for pc in pcs:
        assert place_address(org, [pc.ip]) == pc.unit, (pc.hostname, pc.ip)
    assert [str(n) for n in org.unit_index[layout.scan_unit].networks] == [layout.scan_subnet]
    assert org.level_of(layout.root) is not None
    truth = fleet.Truth.of(pcs, layout.commune_units())
    assert truth.commune_pcs == 406
    assert 0.70 <= truth.commune_antivirus / truth.commune_pcs <= 0.80  # "about 75 %"
    assert 0.30 <= truth.commune_windows_licensed / truth.commune_pcs <= 0.40  # "about 35 %"
    parse(layout.report_config())


def test_the_2025_province_has_no_district_and_the_2026_regime(tmp_path: Path) -> None:
    org, _ = _lint(tmp_path, province.organisation())
    assert org is not None
    assert org.unit_index[province.ROOT].kind == "province"
    assert {u.kind for u in org.units} == {"province", "department", "commune", "service-centre"}
    assert all(u.parent == province.ROOT for u in org.units if u.kind == "commune")
    assert org.reports_to[0] == province.SKHCN
    assert org.baseline == "vn-endpoint-nd331-tcvn14423"
    assert "NĐ 331/2026/NĐ-CP" in org.decisions[0].regulation
    text = yaml.safe_dump([province.organisation(), province.report_config()], allow_unicode=True).lower()
    assert "huyện" not in text


def test_the_example_org_2025_lints() -> None:
    org, errors = check_org_file(ROOT / "examples" / "org-2025.yaml")
    assert not errors and org is not None, errors
    assert org.baseline == "vn-endpoint-nd331-tcvn14423"
    assert org.reports_to[0] == "Sở Khoa học và Công nghệ tỉnh Phú Thọ"
    assert org.unit_index["tinh-phu-tho"].kind == "province"


def test_reports_to_is_optional_and_checked(tmp_path: Path) -> None:
    old, errors = check_org_file(ROOT / "examples" / "org.yaml")
    assert not errors and old is not None and old.reports_to == []
    document = yaml.safe_load((ROOT / "examples" / "org-2025.yaml").read_text(encoding="utf-8"))
    document["reports_to"] = "Sở Khoa học và Công nghệ"  # a string, not a list
    org, errors = _lint(tmp_path, document)
    assert org is None and errors and "reports_to" in str(errors[0])


def test_the_introduction_names_the_texts_report_yaml_gives() -> None:
    from secscan.demo import bundle
    from secscan.report.config import load
    from secscan.report.render import context
    from secscan.report.summary import summarise

    summary = summarise(bundle.report_input(bundle.district(3, units=["xa-van-lang"])))
    old = load(ROOT / "examples" / "report.yaml")
    assert context(summary, old, "vi")["intro"].startswith(
        "Thực hiện Luật An toàn thông tin mạng, Nghị định số 85/2016/NĐ-CP")
    new = parse(province.report_config())
    intro = context(summary, new, "vi")["intro"]
    assert intro.startswith("Thực hiện Luật An ninh mạng số 116/2025/QH15, Nghị định số 331/2026/NĐ-CP của Chính "
                            "phủ và Tiêu chuẩn quốc gia TCVN 14423:2026, ")
    assert "85/2016" not in intro
    assert " and Tiêu chuẩn quốc gia TCVN 14423:2026, " in context(summary, new, "en")["intro"]
