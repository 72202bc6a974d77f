"""JSON for lines that people and programs read: compact UTF-8 with every character that could act
on a reader escaped, and templates that write many like documents fast.

A template is one typed document (a pydantic model) encoded once, with *holes* at the paths that
change from one document to the next; filling it is one %-format of the encoded values. The bytes
are those of encoding the whole document (the tests check it on every event of the feed)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode_basestring = json.encoder.encode_basestring  # what _ENCODER writes a str with (ensure_ascii=False)
# Characters JSON may carry raw but that act on whoever reads a line (a terminal running `tail`, a
# reader splitting lines as Python's str.splitlines does): C1 controls (0x9b is a CSI), DEL, the
# line and paragraph separators, and invisible format characters (bidi overrides, zero-width,
# tag characters). Written as \uXXXX escapes: the same JSON value, inert bytes. (C0 controls
# are always escaped by the encoder.)
_ESCAPE = re.compile(
    "[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _json_escape(match: re.Match[str]) -> str:
    return "".join(f"\\u{unit:04x}" for unit in _utf16(match.group()))


def _utf16(char: str) -> tuple[int, ...]:
    code = ord(char)
    if code < 0x10000:
        return (code,)
    code -= 0x10000
    return (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))  # a surrogate pair, as JSON writes it


def encode(obj: Any) -> str:
    """Compact JSON with the characters above escaped."""
    text = _ENCODER.encode(obj)
    return text if text.isascii() else _ESCAPE.sub(_json_escape, text)


def encode_str(text: str) -> str:
    """``encode`` for a string, without the encoder's type dispatch (once per event in the feed)."""
    out = _encode_basestring(text)
    return out if out.isascii() else _ESCAPE.sub(_json_escape, out)


def encode_model(model: BaseModel) -> str:
    """A model as JSON, unset optional attributes left out (``None`` inside free-form dicts is kept)."""
    return encode(model.model_dump(mode="json", exclude_none=True))


Path = tuple[str | int, ...]


# A hole is marked by a string no data holds (random per process), encoded with the document and
# then cut out: one pass of the C encoder instead of a Python walk over every member.
_MARK = f"\x00hole-{secrets.token_hex(16)}\x00"
_MARK_JSON = _ENCODER.encode(_MARK)


class Template:
    """``model`` encoded with holes at ``holes`` (paths into its JSON form). ``fill(values)`` takes
    the values already encoded as JSON text (``encode``), in the order of ``holes``, and returns
    the JSON followed by ``suffix``."""

    __slots__ = ("_parts", "holes")

    def __init__(self, model: BaseModel, holes: Sequence[Path], suffix: str = "") -> None:
        doc = model.model_dump(mode="json", exclude_none=True)
        for path in holes:
            _put(doc, path)
        self.holes = tuple(holes)
        pieces = encode(doc).split(_MARK_JSON)
        if len(pieces) != len(self.holes) + 1:
            raise ValueError(f"template: {len(pieces) - 1} holes found, {len(self.holes)} made")
        pieces[-1] += suffix
        # the literal pieces at the even places; fill() puts the values at the odd ones (a slice
        # assignment and a join: about 5x faster than a %-format over the whole text)
        self._parts = [piece for literal in pieces for piece in (literal, "")][:-1]

    def fill(self, values: Sequence[str]) -> str:
        parts = self._parts[:]
        parts[1::2] = values
        return "".join(parts)


def _put(doc: Any, path: Path) -> None:
    """Replace the value at ``path`` (which must exist) with the hole marker."""
    *parents, last = path
    for step in parents:
        doc = doc[step]
    if isinstance(doc, dict) and last not in doc:  # a hole only where the model has a value
        raise KeyError(f"template hole {path}: the model has no value there")
    doc[last] = _MARK
