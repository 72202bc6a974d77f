"""Helpers every section parser uses to read what ConvertTo-Json produced.

PowerShell 5.1 writes one item as an object and several as an array; dates in three shapes
(facts/windows-probes.md §0.4); enums sometimes as text, sometimes as numbers; registry DWORDs
above 0x7FFFFFFF as negative numbers. These helpers turn all of that into plain Python values and
raise ValueError (with the field name) on anything else, so a garbage section becomes status
error, never a guessed fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_HEX_FILETIME = re.compile(r"^[0-9a-fA-F]{15,16}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEVER = 4294967295  # uint32 "never" (Defender scan ages, VL intervals of non-KMS products)


@dataclass(frozen=True)
class Unread:
    """What a text parser could not read, and why. ``path`` is the fact left null, relative to the
    parser's own output (``"lockout.duration_minutes"``), or None for an input line that fed no
    reported fact. A parser returns these next to what it did read; the decoder puts them in the
    probe record (decode.py ``_Decoder.partial``)."""

    path: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path} unknown: {self.reason}" if self.path else self.reason


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json writes a single result as an object, not a one-element array."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_dict(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{field}: expected an object, got {type(value).__name__}")
    return value


def as_int(value: Any, field: str = "value") -> int | None:
    if type(value) is int:  # the common case first: this runs for every port, pid and registry value
        return value
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError(f"{field}: not a number: {str(value)[:40]!r}")


def as_dword(value: Any, field: str = "value") -> int | None:
    """A registry DWORD; .NET returns values above 0x7FFFFFFF as negative Int32."""
    number = as_int(value, field)
    if number is not None and number < 0:
        number &= 0xFFFFFFFF
    return number


def as_bool(value: Any, field: str = "value") -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
    raise ValueError(f"{field}: not a boolean: {str(value)[:40]!r}")


def as_text(value: Any, field: str = "value", limit: int = 512) -> str | None:
    if type(value) is str:  # the common case first: this runs for every inventory row
        value = value.strip()
        return value[:limit] if value else None
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected text, got {type(value).__name__}")
    value = value.strip()
    return value[:limit] if value else None


TEXT_OR_NULL = {str, type(None)}  # what as_text only strips and cuts; other types it converts or refuses


def text_columns(rows: list[dict[str, Any]], fields: dict[str, str], limit: int = 512) -> list[list[str]]:
    """``as_text(row.get(key), field, limit) or ""`` for every row (a dict), one list per key of
    ``fields``. A PC lists hundreds of services and programs, so the common case, every value text
    or null (what the script writes), is read a column at a time, mostly with builtins, rather than
    with a call per value. Otherwise row by row: the value that raises is then the first unreadable
    one in row order, as in a loop over the rows."""
    columns = [[row.get(key) for row in rows] for key in fields]
    if all(set(map(type, column)) <= TEXT_OR_NULL for column in columns):
        return [text_column(column, limit) for column in columns]
    read = [[as_text(row.get(key), field, limit) or "" for key, field in fields.items()] for row in rows]
    return [[values[i] for values in read] for i in range(len(fields))]


def text_column(values: list[str | None], limit: int = 512) -> list[str]:
    """``as_text(value, limit=limit) or ""`` for each of values known to be text or null."""
    if None in values:
        values = ["" if value is None else value for value in values]
    texts: list[str] = list(map(str.strip, values))  # type: ignore[arg-type]  # no None left
    if max(map(len, texts), default=0) > limit:
        texts = [text[:limit] for text in texts]
    return texts


def parse_date(value: Any, field: str = "date") -> datetime | None:
    """Every date shape a capture may hold, as an aware UTC datetime (None: no date / "never").

    - ISO 8601 (the script's own form, and PowerShell 7's)
    - ``/Date(1717488387000)/`` (PS 5.1 for a plain DateTime; negative before 1970)
    - ``{"value": "/Date(...)/", "DisplayHint": 2, "DateTime": "..."}`` (PS 5.1 with ETS properties)
    - ``M/d/yyyy`` (Win32_QuickFixEngineering.InstalledOn), a hex FILETIME (old QFE entries),
      and RFC 1123 (SecurityCenter2 ``timestamp``).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        if "value" not in value:
            raise ValueError(f"{field}: date object without 'value'")
        return parse_date(value["value"], field)
    if not isinstance(value, str):
        raise ValueError(f"{field}: not a date: {str(value)[:40]!r}")
    text = value.strip()
    if _ISO_DATE.match(text):  # the script's own form first; the shapes below cannot begin like it
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{field}: bad ISO date {text[:40]!r}") from exc
        if parsed.year <= 1601:
            return None
        # A date without an offset (yyyy-MM-dd) is taken as UTC: the script writes UTC only.
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if match := _MS_DATE.match(text):
        ms = int(match.group(1))
        if ms <= -11644473600000:  # FILETIME zero, 1601-01-01: "never"
            return None
        return _EPOCH + timedelta(milliseconds=ms)
    if match := _US_DATE.match(text):
        month, day, year = (int(g) for g in match.groups())
        return datetime(year, month, day, tzinfo=UTC)
    if _HEX_FILETIME.match(text):
        ticks = int(text, 16)
        return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10) if ticks else None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{field}: unrecognised date {text[:40]!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
