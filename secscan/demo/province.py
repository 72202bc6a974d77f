"""The demo province after 01/7/2025: tỉnh Phú Thọ with some of its communes, no district between
them. The communes report to the province — the Sở Khoa học và Công nghệ, which took over the
information-security duties, and the provincial SOC — and the levels come from a decision under the
2026 regime (Luật An ninh mạng 116/2025/QH15, NĐ 331/2026/NĐ-CP, TCVN 14423:2026), judged by the
``vn-endpoint-nd331-tcvn14423`` baseline.

Illustrative: the six communes are among the communes the former Hạ Hòa area became in 2025 (their
boundaries unconfirmed; Phú Thọ has 148 commune-level units), and the networks, PC counts, decision,
people and recipients are invented for the demo. The fleet is ``secscan.synth``'s, drawn at the
rates of the 2023 district report (406 commune PCs, about 75 % with anti-virus, about 35 % licensed),
so both eras' demos judge the same kind of fleet. Deterministic for a given seed."""

from __future__ import annotations

import random
from typing import Any

from secscan.demo.fleet import draw_unit
from secscan.synth.draw import COMMUNE, DEPARTMENT, spread
from secscan.synth.pc import Pc

PROVINCE = "Phú Thọ"
ROOT = "tinh-phu-tho"
DESK = "hcc"  # suffix of each commune's public-administration service centre (Trung tâm Phục vụ hành chính công)
BASELINE = "vn-endpoint-nd331-tcvn14423"
SKHCN = "Sở Khoa học và Công nghệ tỉnh Phú Thọ"
SOC = "Trung tâm Giám sát an toàn thông tin (SOC) tỉnh Phú Thọ"

# (id, name, PCs): the provincial departments in the demo, drawn like the 2023 district departments.
DEPARTMENTS = [
    ("so-khcn", "Sở Khoa học và Công nghệ", 14),
    ("van-phong-ubnd-tinh", "Văn phòng UBND tỉnh", 18),
    ("ttphcc-tinh", "Trung tâm Phục vụ hành chính công tỉnh", 8),
]
# (id, name): ids are ASCII so they can travel in URLs and agent configuration.
COMMUNES = [
    ("xa-ha-hoa", "Xã Hạ Hòa"),
    ("xa-dan-thuong", "Xã Đan Thượng"),
    ("xa-hien-luong", "Xã Hiền Lương"),
    ("xa-van-lang", "Xã Văn Lang"),
    ("xa-vinh-chan", "Xã Vĩnh Chân"),
    ("xa-yen-ky", "Xã Yên Kỳ"),
]
COMMUNE_PCS = 406  # with the service centres' PCs, as many as the 2023 district's communes had
DESK_PCS = 4  # a merged commune's service centre serves several former communes
SCAN_UNIT = "xa-van-lang"


BASE = "10.25"  # each unit its own /24 inside 10.25.0.0/16 (25 = Phú Thọ's province code)


def network_of(index: int) -> str:
    return f"{BASE}.{index}.0/24"


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


def scan_subnet() -> str:
    return network_of(100 + [c[0] for c in COMMUNES].index(SCAN_UNIT))


def organisation() -> dict[str, Any]:
    units: list[dict[str, Any]] = [{
        "id": ROOT, "name": "UBND tỉnh Phú Thọ", "name_en": "Phu Tho Provincial People's Committee",
        "kind": "province", "networks": [network_of(1)],
    }]
    for i, (uid, name, _) in enumerate(DEPARTMENTS):
        units.append({"id": uid, "name": name, "kind": "department", "parent": ROOT,
                      "networks": [network_of(10 + i)]})
    units[1]["contacts"] = [{"name": "Phạm Thị Lan Anh", "role": "Chuyên viên an toàn thông tin",
                             "phone": "0210 3846 xxx"}]
    for i, (uid, name) in enumerate(COMMUNES):
        units.append({"id": uid, "name": f"UBND {_lower_first(name)}", "kind": "commune", "parent": ROOT,
                      "networks": [network_of(100 + i)]})
        units.append({"id": f"{uid}-{DESK}", "name": f"Trung tâm Phục vụ hành chính công {_lower_first(name)}",
                      "kind": "service-centre", "parent": uid, "networks": [network_of(200 + i)]})
    centres = [u["id"] for u in units if u["kind"] == "service-centre"] + ["ttphcc-tinh"]
    return {
        "schema": "secscan.org/1",
        "name": SKHCN,
        "name_en": "Phu Tho Department of Science and Technology",
        "province": PROVINCE,
        "reports_to": [SKHCN, SOC],
        "baseline": BASELINE,
        "units": units,
        "decisions": [{
            "number": "2468/QĐ-UBND",
            "date": "2026-09-15",
            "signer": "Lê Quang Huy",
            "signer_title": "Phó Chủ tịch UBND tỉnh",
            "issuer": "UBND tỉnh Phú Thọ",
            "regulation": "Luật An ninh mạng 116/2025/QH15; NĐ 331/2026/NĐ-CP; TCVN 14423:2026",
            "title": "Phê duyệt hồ sơ đề xuất cấp độ an ninh mạng của hệ thống thông tin (minh họa)",
            "systems": [
                {"id": "lan-tinh", "name": "Mạng nội bộ (LAN) các cơ quan cấp tỉnh", "level": 2,
                 "category": "infrastructure", "units": [ROOT] + [d[0] for d in DEPARTMENTS if d[0] != "ttphcc-tinh"]},
                {"id": "lan-xa", "name": "Mạng nội bộ (LAN) UBND các xã, phường", "level": 2,
                 "category": "infrastructure", "units": [c[0] for c in COMMUNES]},
                {"id": "hcc", "name": "Hệ thống thông tin giải quyết thủ tục hành chính (máy trạm tại các "
                 "trung tâm phục vụ hành chính công)", "level": 3, "category": "citizen", "units": centres},
            ],
        }],
    }


def report_config() -> dict[str, Any]:
    """report.yaml for the Sở's consolidated report to the provincial People's Committee."""
    return {
        "issuing_body": {"superior": "UBND TỈNH PHÚ THỌ", "name": ["SỞ KHOA HỌC", "VÀ CÔNG NGHỆ"],
                         "abbreviation": "SKHCN", "place": "Phú Thọ"},
        "number": None,
        "recipient": "Ủy ban nhân dân tỉnh Phú Thọ",
        "basis": ["Luật An ninh mạng số 116/2025/QH15", "Nghị định số 331/2026/NĐ-CP của Chính phủ",
                  "Tiêu chuẩn quốc gia TCVN 14423:2026"],
        "signer": {"authority": ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"], "name": "Nguyễn Minh Tuấn"},
        "recipients": ["Như trên", "Chủ tịch, các PCT UBND tỉnh", SOC, "UBND các xã, phường"],
        "archive": "VT, CNTT",
        "prices": {"windows": 4500000, "office": 6500000},
    }


def draw(seed: int) -> list[Pc]:
    """The communes' PCs (the 2023 report's commune rates) and the provincial departments'."""
    rng = random.Random(seed)
    pcs: list[Pc] = []
    office_counts = spread(rng, COMMUNE_PCS - DESK_PCS * len(COMMUNES), len(COMMUNES))
    for i, ((uid, _), count) in enumerate(zip(COMMUNES, office_counts, strict=True)):
        prefix = uid.split("-", 1)[1].replace("-", "").upper()[:10]
        pcs += draw_unit(rng, seed, uid, prefix, 100 + i, count, COMMUNE, BASE)
        pcs += draw_unit(rng, seed, f"{uid}-{DESK}", prefix + "-HCC", 200 + i, DESK_PCS, COMMUNE, BASE)
    for i, (uid, _, count) in enumerate(DEPARTMENTS):
        prefix = uid.replace("-", "").upper()[:10]
        pcs += draw_unit(rng, seed, uid, prefix, 10 + i, count, DEPARTMENT, BASE)
    return pcs


def commune_unit_ids() -> set[str]:
    """The communes and their service centres: the units the commune figures are about."""
    return {uid for c in COMMUNES for uid in (c[0], f"{c[0]}-{DESK}")}
