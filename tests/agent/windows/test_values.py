"""The value readers: PowerShell 5.1 date shapes, single objects, registry DWORDs, productState."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from secscan.agent.windows.antivirus import decode_product_state
from secscan.agent.windows.values import as_bool, as_dword, as_int, as_list, parse_date


@pytest.mark.parametrize(("value", "expected"), [
    ("/Date(1717488387000)/", datetime(2024, 6, 4, 8, 6, 27, tzinfo=UTC)),
    ("\\/Date(1717488387000)\\/".replace("\\", ""), datetime(2024, 6, 4, 8, 6, 27, tzinfo=UTC)),
    ("/Date(1717488387000+0700)/", datetime(2024, 6, 4, 8, 6, 27, tzinfo=UTC)),
    ({"value": "/Date(1720919582928)/", "DisplayHint": 2, "DateTime": "Sunday 14 July 2024 02:13:02"},
     datetime(2024, 7, 14, 1, 13, 2, 928000, tzinfo=UTC)),
    ("2019-11-19T22:32:50Z", datetime(2019, 11, 19, 22, 32, 50, tzinfo=UTC)),
    ("2024-05-27T01:06:27.0000000Z", datetime(2024, 5, 27, 1, 6, 27, tzinfo=UTC)),
    ("2024-06-04T08:06:27.123+07:00", datetime(2024, 6, 4, 1, 6, 27, 123000, tzinfo=UTC)),
    ("2024-06-11", datetime(2024, 6, 11, tzinfo=UTC)),
    ("6/11/2024", datetime(2024, 6, 11, tzinfo=UTC)),
    ("Thu, 23 May 2024 12:29:05 GMT", datetime(2024, 5, 23, 12, 29, 5, tzinfo=UTC)),
    ("01cbd22372afc000", datetime(2011, 2, 22, tzinfo=UTC)),  # hex FILETIME (old QFE rows)
])
def test_date_shapes(value: object, expected: datetime) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("never", [None, "", "/Date(-11644473600000)/", "1601-01-01T00:00:00Z",
                                   {"value": "/Date(-11644473600000)/"}])
def test_never_dates_are_none(never: object) -> None:
    assert parse_date(never) is None


@pytest.mark.parametrize("garbage", ["yesterday", "/Date(abc)/", "13/45/2024x", 12345, ["2024-01-01"], {"x": 1}])
def test_garbage_dates_raise(garbage: object) -> None:
    with pytest.raises(ValueError):
        parse_date(garbage)


def test_single_object_is_a_list_of_one() -> None:
    assert as_list({"a": 1}) == [{"a": 1}]
    assert as_list([{"a": 1}]) == [{"a": 1}]
    assert as_list(None) == []


def test_numbers_and_booleans() -> None:
    assert as_int("5131") == 5131 and as_int(3.0) == 3 and as_int(None) is None
    assert as_dword(-2147483393) == 0x800000FF
    assert as_bool("True") is True and as_bool(0) is False and as_bool(None) is None
    with pytest.raises(ValueError):
        as_int("12a")
    with pytest.raises(ValueError):
        as_bool("maybe")


# facts/windows-probes.md §1.3: every row of the worked-examples table.
@pytest.mark.parametrize(("value", "state", "microsoft", "up_to_date"), [
    (397568, "on", True, True),
    (397584, "on", True, False),
    (393472, "off", True, True),
    (401664, "snoozed", True, True),
    (262144, "off", False, True),
    (266240, "on", False, True),
    (266256, "on", False, False),
    (393216, "off", False, True),
    (393232, "off", False, False),
    (397312, "on", False, True),
    (0x063100, "expired", True, True),
])
def test_product_state_table(value: int, state: str, microsoft: bool, up_to_date: bool) -> None:
    decoded = decode_product_state(value)
    assert (decoded["state"], decoded["microsoft"], decoded["up_to_date"]) == (state, microsoft, up_to_date)


def test_undocumented_nibbles_decode_to_unknown() -> None:
    decoded = decode_product_state(0x064100)  # state nibble 4 ("CustomState"), undocumented
    assert decoded["state"] == "unknown" and decoded["enabled"] is None
    odd = decode_product_state(0x061220)  # owner nibble 2, signature nibble 2
    assert odd["microsoft"] is None and odd["up_to_date"] is None and odd["state"] == "on"
