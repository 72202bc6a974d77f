"""The decoder reads large lists a column at a time when they are as the script writes them, and
row by row otherwise. Both ways must read the same values and raise the same error: these tests
hold the two side by side, so a change to either is caught here rather than in a PC's report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from secscan.agent.windows import activators, capture, patches
from secscan.agent.windows.products import Inventory, find
from secscan.agent.windows.values import as_text, text_columns
from tests.agent.windows.conftest import CAPTURES

AT = datetime(2026, 12, 1, tzinfo=UTC)


def _row_by_row(rows: list[dict[str, Any]], fields: dict[str, str], limit: int) -> list[list[str]]:
    read = [[as_text(row.get(key), field, limit) or "" for key, field in fields.items()] for row in rows]
    return [[values[i] for values in read] for i in range(len(fields))]


@pytest.mark.parametrize("rows", [
    [{"a": " x ", "b": None}, {"a": "", "b": "   "}, {"b": "y" * 600}, {"a": "ok", "b": "ok"}],  # text: columns
    [{"a": " x ", "b": 3}, {"a": 2.5, "b": "y"}],  # numbers: as_text's own reading, row by row
    [],
])
def test_text_columns_read_as_as_text_does(rows: list[dict[str, Any]]) -> None:
    fields = {"a": "row.a", "b": "row.b"}
    assert text_columns(rows, fields, 512) == _row_by_row(rows, fields, 512)


def test_text_columns_raise_the_first_bad_value_in_row_order() -> None:
    rows = [{"a": "x", "b": ["a list"]}, {"a": {"an": "object"}, "b": "y"}]
    with pytest.raises(ValueError, match=r"^row\.b: expected text, got list$"):
        text_columns(rows, {"a": "row.a", "b": "row.b"})


@pytest.mark.parametrize("tasks", [
    [{"path": " \\AutoPico Daily Restart ", "actions": [" C:\\KMSpico\\AutoPico.exe ", ""]},
     {"path": None, "actions": []}],
    [{"path": "\\Long", "actions": ["a" * 3000, " b "]}],  # a command line over 2048 characters: row by row
    [{"path": "\\One", "actions": "C:\\x.exe"}],  # PS 5.1: one action as a string, not a list
])
def test_scheduled_tasks_read_both_ways_alike(tasks: list[dict[str, Any]]) -> None:
    read = [activators._task(task) for task in tasks]
    assert activators._tasks({"tasks": tasks}) == ([path for path, _ in read], [action for _, action in read])


def test_hotfix_dates_are_read_once_per_text_and_still_in_row_order() -> None:
    rows = [{"id": "KB1", "installed_on": "3/14/2024", "installed_on_iso": "2024-03-14"},
            {"id": "KB2", "installed_on": "4/9/2024", "installed_on_iso": "2024-04-09"},
            {"id": "KB3", "installed_on": "3/14/2024", "installed_on_iso": "2024-03-14"}]
    by_rows = [patches._hotfix(row, AT) for row in rows]
    assert patches._hotfixes({"hotfixes": rows}, AT) == by_rows
    assert by_rows[0] == ("KB1", (datetime(2024, 3, 14, tzinfo=UTC), None, ""))  # 14/3 is no date

    bad = [{"id": "KB1", "installed_on_iso": "not a date"}, {"id": ["KB2"], "installed_on_iso": "2024-04-09"}]
    with pytest.raises(ValueError, match="installed_on_iso: unrecognised date 'not a date'"):
        patches._hotfixes({"hotfixes": bad}, AT)  # row 0's date, not row 1's id: the rows' order


def test_services_found_by_name_or_display_in_row_order() -> None:
    services = Inventory.parse_services({"services": [
        {"name": "x", "display_name": "Foo", "state": "Stopped"},
        {"name": "foo", "display_name": "Foo Service", "state": "Running"},
        {"name": "FOO", "display_name": "foo", "state": "Stopped"}]})
    inv = Inventory.build(services, Inventory.parse_processes({"processes": []}), None)
    match = find(inv, {"services": ["Foo", "x"]})
    assert match is not None and (match.services, match.running) == (["x", "foo", "FOO"], True)


def test_json_the_fast_parser_refuses_is_still_read() -> None:
    doc = json.loads((CAPTURES / "win10_defender_only.json").read_text(encoding="utf-8"))
    text = json.dumps(doc)[:-1] + ', "deep": ' + "[" * 300 + "]" * 300 + ', "odd": "\\ud800"}'
    assert capture.load(text).hostname == "PC-VANTHU01"
