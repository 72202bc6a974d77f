"""The one way a number is written in every document and chart: Vietnamese groups thousands with a
dot and writes the decimal comma (1.234,5; 78,8%), English the other way round (1,234.5; 78.8%).
Tables, sentences, chart values and chart axes all call these, so a figure reads the same wherever
it appears."""

from __future__ import annotations

_SWAP = str.maketrans({",": ".", ".": ","})


def fmt_num(value: float | int | None, lang: str, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals; "—" for a figure that is not known."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.translate(_SWAP) if lang == "vi" else text


def fmt_pct(value: float | None, lang: str) -> str:
    """A share in per cent: one decimal when it has one (78,8%), none when whole (100%)."""
    if value is None:
        return "—"
    return fmt_num(value, lang, 1 if value % 1 else 0) + "%"


def fmt_share(part: int, whole: int, lang: str) -> str:
    """``part`` of ``whole`` as a per-cent share with one decimal, "—" when ``whole`` is 0."""
    return fmt_pct(round(100.0 * part / whole, 1), lang) if whole else "—"
