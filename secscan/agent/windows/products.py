"""Recognise products by name in the services, processes and uninstall inventories.

Shared by the anti-malware fallback, the remote-tool finder, the activator finder, the Windows
Update service check and the listening-port owners, which each bring their own table
(windows_av.toml, remote_tools.toml, activators.toml). The inventory is read and lower-cased once
(a real PC has hundreds of each); services and processes are looked up by name, uninstall entries
by substring over one joined text (Lines).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from operator import add
from typing import Any

from secscan.agent.windows.values import as_dict, as_list, text_columns


def _exe(name: str) -> str:
    return name.lower().removesuffix(".exe")


# The three lists are kept as columns (one Python list per field, a row per index), not as an
# object per row: a PC lists hundreds of services, processes and programs, and columns are read
# and lower-cased with builtins over whole lists, without Python code per row.
@dataclass(frozen=True)
class Services:
    names: list[str]
    displays: list[str]
    running: list[bool]
    start_modes: list[Any]  # as the capture wrote them: only wuauserv's is read (windows_update.py)
    keys: list[str] = field(init=False, repr=False)  # the names lower-cased

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", list(map(str.lower, self.names)))


_NO_SERVICES = Services([], [], [], [])


@dataclass(frozen=True)
class Processes:
    names: list[str]
    pids: list[Any]  # as the capture wrote them: read only to name the owners of listening ports (listening.py)
    keys: list[str] = field(init=False, repr=False)  # the names as looked up: lower-cased, without ".exe"

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", list(map(_exe, self.names)))


@dataclass(frozen=True)
class Apps:
    names: list[str]
    publishers: list[str]


class Lines:
    """Many short texts searched for substrings: joined and lower-cased once, scanned with str.find
    (much faster than one regular expression per text, or an alternation over the whole text)."""

    def __init__(self, texts: list[str]) -> None:
        joined = "\n".join(texts)
        if joined.count("\n") > len(texts) - 1:  # a text with line breaks of its own: "\n" only separates
            joined = "\n".join(t.replace("\n", " ") for t in texts)
        self.text = joined.lower()
        # where each text starts: the lengths of the texts before it, and one separator after each
        self.starts = list(map(add, accumulate(map(len, texts), initial=0), range(len(texts))))

    def containing(self, needles: list[str]) -> list[int]:
        """Indexes of the texts that contain any of the needles (case-insensitive), in order."""
        found: set[int] = set()
        for needle in needles:
            needle = needle.lower()
            at = self.text.find(needle) if needle else -1
            while at >= 0:
                found.add(bisect_right(self.starts, at) - 1)
                at = self.text.find(needle, at + 1)
        return sorted(found)


@dataclass
class Inventory:
    """What the capture saw installed or running; None for a list whose section failed. Each list
    is read once here and shared by every parser that needs it."""

    services: Services | None
    processes: Processes | None
    uninstall: Apps | None
    _services_by_name: dict[str, list[int]] = field(default_factory=dict, repr=False)  # name or display -> rows
    _processes_by_key: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _app_names: Lines = field(default_factory=lambda: Lines([]), repr=False)
    _app_publishers: Lines = field(default_factory=lambda: Lines([]), repr=False)

    @staticmethod
    def _rows(section: Any, key: str) -> list[dict[str, Any]]:
        rows = as_list(as_dict(section, key).get(key))
        if set(map(type, rows)) <= {dict}:
            return rows  # the common case, checked at once: as_dict would return each row as it is
        return [as_dict(r, f"{key}[]") for r in rows]

    @classmethod
    def parse_services(cls, section: Any) -> Services:
        rows = cls._rows(section, "services")
        names, displays, states = text_columns(rows, {"name": "service.name", "display_name": "service.display_name",
                                                      "state": "service.state"})
        return Services(names, displays, [state.lower() == "running" for state in states],
                        [row.get("start_mode") for row in rows])

    @classmethod
    def parse_processes(cls, section: Any) -> Processes:
        rows = cls._rows(section, "processes")
        (names,) = text_columns(rows, {"name": "process.name"})
        return Processes(names, [row.get("pid") for row in rows])

    @classmethod
    def parse_uninstall(cls, section: Any) -> Apps:
        names, publishers = text_columns(cls._rows(section, "entries"),
                                         {"name": "uninstall.name", "publisher": "uninstall.publisher"})
        return Apps(names, publishers)

    @classmethod
    def build(cls, services: Services | None, processes: Processes | None, apps: Apps | None) -> Inventory:
        inv = cls(services, processes, apps)
        if services is not None:
            by_name = inv._services_by_name
            for row, (name, display) in enumerate(zip(services.keys, map(str.lower, services.displays), strict=True)):
                by_name.setdefault(name, []).append(row)
                if display != name:
                    by_name.setdefault(display, []).append(row)
        if processes is not None:
            by_key = inv._processes_by_key
            for key, name in zip(processes.keys, processes.names, strict=True):
                by_key.setdefault(key, []).append(name)
        if apps is not None:
            inv._app_names, inv._app_publishers = Lines(apps.names), Lines(apps.publishers)
        return inv

    @property
    def complete(self) -> bool:
        return None not in (self.services, self.processes, self.uninstall)


@dataclass
class Match:
    services: list[str]
    processes: list[str]
    uninstall: list[str]
    running: bool | None

    @property
    def source(self) -> str:
        return "service" if self.services else "process" if self.processes else "uninstall"

    def describe(self) -> str:
        parts = []
        if self.services:
            parts.append("service " + ", ".join(self.services))
        if self.processes:
            parts.append("process " + ", ".join(sorted(set(self.processes))))
        if self.uninstall:
            parts.append("installed " + ", ".join(self.uninstall))
        return "; ".join(parts)


@cache
def _pattern(needles: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None


def pattern(needles: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive "contains any of these" expression per list (cached)."""
    return _pattern(tuple(needles))


def _hit(regex: re.Pattern[str] | None, text: str | None) -> bool:
    return bool(regex and text and regex.search(text))


def name_matches(name: str | None, entry: dict[str, Any]) -> bool:
    """A display name (SecurityCenter2, uninstall) names this table entry."""
    return _hit(pattern(entry.get("display_names", []) + entry.get("uninstall", [])), name) and not _hit(
        pattern(entry.get("exclude", [])), name)


def find(inv: Inventory, entry: dict[str, Any]) -> Match | None:
    services: list[str] = []
    processes: list[str] = []
    uninstall: list[str] = []
    running: bool | None = None
    seen: set[int] = set()  # service rows already listed
    svc = inv.services or _NO_SERVICES
    for wanted in entry.get("services", []):
        for row in inv._services_by_name.get(wanted.lower(), []):
            if row not in seen:
                seen.add(row)
                services.append(svc.names[row])
                running = bool(running) or svc.running[row]
    for prefix in (p.lower() for p in entry.get("service_prefixes", [])):
        for row, key in enumerate(svc.keys):
            if key.startswith(prefix) and row not in seen:
                seen.add(row)
                services.append(svc.names[row])
                running = bool(running) or svc.running[row]
    for wanted in entry.get("processes", []):
        found = inv._processes_by_key.get(_exe(wanted), [])
        processes += found
        if found:
            running = True
    names = entry.get("display_names", []) + entry.get("uninstall", [])
    exclude = pattern(entry.get("exclude", []))
    apps = inv.uninstall.names if inv.uninstall is not None else []
    by_publisher = inv._app_publishers.containing(entry.get("publishers", []))
    for index in sorted(set(inv._app_names.containing(names)) | set(by_publisher)):
        if not _hit(exclude, apps[index]):
            uninstall.append(apps[index] or "?")
    if not (services or processes or uninstall):
        return None
    if running is None and inv.processes is not None and inv.services is not None:
        running = False
    return Match(services, processes, uninstall, running)
