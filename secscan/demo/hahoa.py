"""The demo organisation: UBND huyện Hạ Hòa (Phú Thọ) as in 2023 — its departments, its 20
commune-level units (facts/vn-regulation.md §7) and a security-level decision 1531/QĐ-UBND of
08/8/2022. The systems, levels, networks and people are illustrative, not the real decision's."""

from __future__ import annotations

from typing import Any

DEPARTMENTS = [
    ("van-phong", "Văn phòng HĐND và UBND huyện", 14),
    ("phong-tckh", "Phòng Tài chính - Kế hoạch", 9),
    ("phong-tnmt", "Phòng Tài nguyên và Môi trường", 8),
    ("phong-gddt", "Phòng Giáo dục và Đào tạo", 10),
    ("phong-ldtbxh", "Phòng Lao động - Thương binh và Xã hội", 6),
    ("phong-tp", "Phòng Tư pháp", 4),
    ("phong-vhtt", "Phòng Văn hóa và Thông tin", 5),
    ("phong-nv", "Phòng Nội vụ", 6),
    ("phong-nnptnt", "Phòng Nông nghiệp và Phát triển nông thôn", 7),
    ("phong-ktht", "Phòng Kinh tế và Hạ tầng", 7),
]

# (id, name, kind); id is ASCII so it can travel in URLs and agent configuration.
COMMUNES = [
    ("tt-ha-hoa", "Thị trấn Hạ Hòa", "town"),
    ("xa-am-ha", "Xã Ấm Hạ", "commune"),
    ("xa-bang-gia", "Xã Bằng Giã", "commune"),
    ("xa-dai-pham", "Xã Đại Phạm", "commune"),
    ("xa-dan-thuong", "Xã Đan Thượng", "commune"),
    ("xa-gia-dien", "Xã Gia Điền", "commune"),
    ("xa-ha-luong", "Xã Hà Lương", "commune"),
    ("xa-hien-luong", "Xã Hiền Lương", "commune"),
    ("xa-huong-xa", "Xã Hương Xạ", "commune"),
    ("xa-lang-son", "Xã Lang Sơn", "commune"),
    ("xa-minh-coi", "Xã Minh Côi", "commune"),
    ("xa-minh-hac", "Xã Minh Hạc", "commune"),
    ("xa-phuong-vien", "Xã Phương Viên", "commune"),
    ("xa-tu-hiep", "Xã Tứ Hiệp", "commune"),
    ("xa-van-lang", "Xã Văn Lang", "commune"),
    ("xa-vinh-chan", "Xã Vĩnh Chân", "commune"),
    ("xa-vo-tranh", "Xã Vô Tranh", "commune"),
    ("xa-xuan-ang", "Xã Xuân Áng", "commune"),
    ("xa-yen-ky", "Xã Yên Kỳ", "commune"),
    ("xa-yen-luat", "Xã Yên Luật", "commune"),
]

ROOT = "ubnd-ha-hoa"
DESK = "mot-cua"  # suffix of each unit's one-stop-shop front desk (bộ phận một cửa)


def network_of(index: int) -> str:
    """Each unit its own /24 inside 10.231.0.0/16 (231 = Hạ Hòa's administrative code)."""
    return f"10.231.{index}.0/24"


def organisation() -> dict[str, Any]:
    units: list[dict[str, Any]] = [{
        "id": ROOT, "name": "UBND huyện Hạ Hòa", "name_en": "Ha Hoa District People's Committee",
        "kind": "district", "networks": [network_of(1)],
        "contacts": [{"name": "Nguyễn Thị Minh Hằng", "role": "Chuyên viên CNTT, Văn phòng HĐND và UBND",
                      "phone": "0210 3883 xxx"}],
    }]
    for i, (uid, name, _) in enumerate(DEPARTMENTS):
        units.append({"id": uid, "name": name, "kind": "department", "parent": ROOT,
                      "networks": [network_of(10 + i)]})
    units.append({"id": f"{ROOT}-{DESK}", "name": "Bộ phận Tiếp nhận và Trả kết quả huyện",
                  "kind": "one-stop-desk", "parent": "van-phong", "networks": [network_of(9)]})
    for i, (uid, name, kind) in enumerate(COMMUNES):
        units.append({"id": uid, "name": f"UBND {name[0].lower()}{name[1:]}", "kind": kind, "parent": ROOT,
                      "networks": [network_of(100 + i)]})
        units.append({"id": f"{uid}-{DESK}", "name": f"Bộ phận Một cửa {name[0].lower()}{name[1:]}",
                      "kind": "one-stop-desk", "parent": uid, "networks": [network_of(200 + i)]})
    desks = [u["id"] for u in units if u["kind"] == "one-stop-desk"]
    return {
        "schema": "secscan.org/1",
        "name": "UBND huyện Hạ Hòa",
        "name_en": "Ha Hoa District People's Committee",
        "province": "Phú Thọ",
        "baseline": "vn-endpoint-nd85-tt12",
        "units": units,
        "decisions": [{
            "number": "1531/QĐ-UBND",
            "date": "2022-08-08",
            "signer": "Trần Văn Minh",
            "signer_title": "Phó Chủ tịch UBND huyện",
            "issuer": "UBND huyện Hạ Hòa",
            "regulation": "NĐ 85/2016/NĐ-CP; TT 03/2017/TT-BTTTT",
            "title": "Phê duyệt hồ sơ đề xuất cấp độ an toàn hệ thống thông tin (minh họa)",
            "systems": [
                {"id": "lan-huyen", "name": "Mạng nội bộ (LAN) UBND huyện", "level": 2,
                 "category": "infrastructure", "criterion": "NĐ 85 Điều 8 khoản 3",
                 "units": [ROOT] + [d[0] for d in DEPARTMENTS]},
                {"id": "lan-xa", "name": "Mạng nội bộ (LAN) UBND các xã, thị trấn", "level": 2,
                 "category": "infrastructure", "criterion": "NĐ 85 Điều 8 khoản 3",
                 "units": [c[0] for c in COMMUNES]},
                {"id": "mot-cua", "name": "Hệ thống một cửa điện tử (máy trạm tại bộ phận một cửa)",
                 "level": 3, "category": "citizen", "criterion": "NĐ 85 Điều 9 khoản 2",
                 "units": desks},
            ],
        }],
    }


def report_config() -> dict[str, Any]:
    """The report's names and numbers (report.yaml): issuing body, signer, recipients, prices."""
    return {
        "issuing_body": {"superior": None, "name": ["ỦY BAN NHÂN DÂN", "HUYỆN HẠ HÒA"], "abbreviation": "UBND",
                         "place": "Hạ Hòa"},
        "number": None,
        "recipient": "Sở Khoa học và Công nghệ tỉnh Phú Thọ",
        "signer": {"authority": ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"], "name": "Trần Văn Minh"},
        "recipients": ["Như trên", "Thường trực Huyện ủy", "Chủ tịch, các PCT UBND huyện",
                       "Phòng Văn hóa và Thông tin huyện", "UBND các xã, thị trấn"],
        "archive": "VT, VHTT",
        "prices": {"windows": 4500000, "office": 6500000},
    }
