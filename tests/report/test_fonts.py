"""The shipped serif covers every Vietnamese letter (Liberation Serif 1.x did not: ộ fell back)."""

from __future__ import annotations

import unicodedata

import pytest

from secscan.runtime import data_dir

FONTS = ["Regular", "Bold", "Italic", "BoldItalic"]


def vietnamese_letters() -> set[str]:
    letters = set()
    for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY":
        for mark in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"):
            letters.add(unicodedata.normalize("NFC", base + mark))
    letters |= set("dđDĐ")
    assert all(len(c) == 1 for c in letters)  # every one has a precomposed form
    return letters


def test_alphabet_is_complete():
    assert len(vietnamese_letters()) == 12 * 6 * 2 + 4


@pytest.mark.parametrize("style", FONTS)
def test_font_covers_every_vietnamese_letter(style):
    from fontTools.ttLib import TTFont

    cmap = TTFont(data_dir("reports") / "fonts" / f"LiberationSerif-{style}.ttf").getBestCmap()
    missing = sorted(c for c in vietnamese_letters() if ord(c) not in cmap)
    assert missing == []


def test_licence_ships_with_the_fonts():
    text = (data_dir("reports") / "fonts" / "LICENSE-OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in text
    assert "2.1.5" in text
