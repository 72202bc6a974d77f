"""The demo's two organisations (``secscan demo --era``): the 2023 district (UBND huyện Hạ Hòa,
its departments and communes, levels under NĐ 85/2016) and the province after 01/7/2025 (tỉnh Phú
Thọ's communes reporting to the provincial Sở Khoa học và Công nghệ, levels under the 2026 regime).
Each era says what the demo needs to lay its fleet out; the flow is the same for both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secscan.demo import fleet, hahoa, province
from secscan.synth.pc import Pc


@dataclass(frozen=True)
class Era:
    name: str
    org_header: str  # the comment heading the demo's org.yaml
    organisation: Callable[[], dict[str, Any]]  # the org.yaml document
    report_config: Callable[[], dict[str, Any]]  # the report.yaml document
    draw: Callable[[int], list[Pc]]  # the fleet for a seed
    commune_units: Callable[[], set[str]]  # the units the commune figures are about
    root: str  # the unit of the machine the demo runs on
    scan_unit: str  # the unit whose LAN the demo scans, and which gets the Windows kit
    scan_subnet: str
    share: str  # the UNC share the unit's scheduled captures go to


_HAHOA_SCAN = hahoa.COMMUNES[14][0]  # xa-van-lang

ERAS = {
    "2023": Era(
        name="2023", org_header="# UBND huyện Hạ Hòa (2023), quyết định cấp độ 1531/QĐ-UBND — dữ liệu minh họa của "
        "secscan demo\n",
        organisation=hahoa.organisation, report_config=hahoa.report_config, draw=fleet.draw,
        commune_units=fleet.commune_unit_ids, root=hahoa.ROOT, scan_unit=_HAHOA_SCAN,
        scan_subnet=hahoa.network_of(114), share=f"\\\\may-chu-huyen\\secscan$\\{_HAHOA_SCAN}"),
    "2025": Era(
        name="2025", org_header="# Tỉnh Phú Thọ từ 01/7/2025 (một số xã), quyết định cấp độ 2468/QĐ-UBND theo Luật "
        "116/2025/QH15, NĐ 331/2026/NĐ-CP, TCVN 14423:2026 — dữ liệu minh họa của secscan demo\n",
        organisation=province.organisation, report_config=province.report_config, draw=province.draw,
        commune_units=province.commune_unit_ids, root=province.ROOT, scan_unit=province.SCAN_UNIT,
        scan_subnet=province.scan_subnet(), share=f"\\\\may-chu-so-khcn\\secscan$\\{province.SCAN_UNIT}"),
}
