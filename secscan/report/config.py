"""The report configuration (``report.yaml``): who issues the report, who signs it, who receives it,
its number, and the licence prices used to estimate the purchase. Names and numbers live here, not
in templates. ``parse(raw)`` validates a loaded document; ``load(path)`` reads the YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from secscan.model.common import Contract, ShortText


class IssuingBody(Contract):
    superior: ShortText | None = None  # line 1, e.g. "ỦY BAN NHÂN DÂN TỈNH PHÚ THỌ" (optional)
    name: list[ShortText] = Field(min_length=1)  # bold lines, e.g. ["ỦY BAN NHÂN DÂN", "HUYỆN HẠ HÒA"]
    abbreviation: ShortText = "UBND"  # the symbol after BC-, e.g. Số: 25/BC-UBND
    place: ShortText  # the place in the date line: "Hạ Hòa"


class Signer(Contract):
    authority: list[ShortText] = Field(default_factory=list)  # ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    name: ShortText


class Prices(Contract):
    """In đồng (VND)."""

    windows: int = Field(ge=0)  # one Windows licence (upgrade of an OEM/unlicensed PC)
    office: int = Field(ge=0)  # one Office licence


class ReportConfig(Contract):
    issuing_body: IssuingBody
    number: ShortText | None = None  # "25"; None leaves the number blank for the clerk: "Số:   /BC-UBND"
    recipient: ShortText | None = None  # "Kính gửi: …" for a report sent upward
    # The texts the report is made under ("Thực hiện …" in the introduction), e.g. the 2026 regime's
    # ["Luật An ninh mạng số 116/2025/QH15", "Nghị định số 331/2026/NĐ-CP của Chính phủ"];
    # empty: the texts of the NĐ 85/2016 regime (reports/i18n).
    basis: list[ShortText] = Field(default_factory=list)
    signer: Signer
    recipients: list[ShortText] = Field(default_factory=list)  # "Nơi nhận:" lines, without "- " and ";"
    archive: ShortText = "VT"  # "- Lưu: VT, <drafting unit>."
    prices: Prices


def parse(raw: Any) -> ReportConfig:
    try:
        return ReportConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        raise ValueError(f"{where}: {err['msg']}") from None


def load(path: Path) -> ReportConfig:
    """Read with the reader of org.yaml and policies (``secscan.policy.source``): size and node
    limits (an alias graph cannot expand while the model walks it), duplicate keys and non-plain
    tags (``!!python/object``…) refused, each error with its line."""
    from secscan.policy.source import read

    src = read(path)
    if src.errors:
        raise ValueError(str(src.errors[0]))
    try:
        return parse(src.data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
