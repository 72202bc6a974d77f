"""Recognise products by name in the services, processes and uninstall inventories.

Shared by the anti-malware fallback, the remote-tool finder and the activator finder, which each
bring their own table (windows_av.toml, remote_tools.toml, activators.toml). The inventory is read
and lower-cased once; services and processes are looked up by name, uninstall entries by one
regular expression per table entry (a real PC has hundreds of each).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from operator import add
from typing import Any

from secscan.agent.windows.values import as_dict, as_list, as_texts


def _texts(values: list[str | None]) -> list[str]:
    return [value or "" for value in values]


def _exe(name: str) -> str:
    return name.lower().removesuffix(".exe")


# Not frozen: a PC lists hundreds of services, processes and programs, and a frozen dataclass
# takes three times as long to make. Nothing changes them once read.
@dataclass(slots=True)
class Service:
    name: str
    display: str
    running: bool
    start_mode: Any  # as the capture wrote it: only wuauserv's is read (windows_update.service_start_mode)


@dataclass(slots=True)
class Process:
    name: str
    pid: Any  # as the capture wrote it: read only to name the owners of listening ports (listening.py)


@dataclass(slots=True)
class App:
    name: str
    publisher: str


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

    services: list[Service] | None
    processes: list[Process] | None
    uninstall: list[App] | None
    _services_by_name: dict[str, list[Service]] = field(default_factory=dict, repr=False)
    _service_keys: list[str] = field(default_factory=list, repr=False)  # the names lower-cased, in order
    _processes_by_key: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _app_names: Lines = field(default_factory=lambda: Lines([]), repr=False)
    _app_publishers: Lines = field(default_factory=lambda: Lines([]), repr=False)

    @staticmethod
    def _rows(section: Any, key: str) -> list[dict[str, Any]]:
        return [as_dict(r, f"{key}[]") for r in as_list(as_dict(section, key).get(key))]

    @classmethod
    def parse_services(cls, section: Any) -> list[Service]:
        rows = cls._rows(section, "services")
        names, displays, states = as_texts(rows, {"name": "service.name", "display_name": "service.display_name",
                                                  "state": "service.state"})
        running = [(state or "").lower() == "running" for state in states]
        return list(map(Service, _texts(names), _texts(displays), running, [row.get("start_mode") for row in rows]))

    @classmethod
    def parse_processes(cls, section: Any) -> list[Process]:
        rows = cls._rows(section, "processes")
        (names,) = as_texts(rows, {"name": "process.name"})
        return list(map(Process, _texts(names), [row.get("pid") for row in rows]))

    @classmethod
    def parse_uninstall(cls, section: Any) -> list[App]:
        names, publishers = as_texts(cls._rows(section, "entries"),
                                     {"name": "uninstall.name", "publisher": "uninstall.publisher"})
        return list(map(App, _texts(names), _texts(publishers)))

    @classmethod
    def build(cls, services: list[Service] | None, processes: list[Process] | None,
              apps: list[App] | None) -> Inventory:
        inv = cls(services, processes, apps)
        for svc in services or []:
            name, display = svc.name.lower(), svc.display.lower()
            inv._service_keys.append(name)
            inv._services_by_name.setdefault(name, []).append(svc)
            if display != name:
                inv._services_by_name.setdefault(display, []).append(svc)
        for proc in processes or []:
            inv._processes_by_key.setdefault(_exe(proc.name), []).append(proc.name)
        inv._app_names = Lines([a.name for a in apps or []])
        inv._app_publishers = Lines([a.publisher for a in apps or []])
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
    seen: set[int] = set()
    for wanted in entry.get("services", []):
        for svc in inv._services_by_name.get(wanted.lower(), []):
            if id(svc) not in seen:
                seen.add(id(svc))
                services.append(svc.name)
                running = bool(running) or svc.running
    for prefix in (p.lower() for p in entry.get("service_prefixes", [])):
        for svc, key in zip(inv.services or [], inv._service_keys, strict=True):
            if key.startswith(prefix) and id(svc) not in seen:
                seen.add(id(svc))
                services.append(svc.name)
                running = bool(running) or svc.running
    for wanted in entry.get("processes", []):
        found = inv._processes_by_key.get(_exe(wanted), [])
        processes += found
        if found:
            running = True
    names = entry.get("display_names", []) + entry.get("uninstall", [])
    exclude = pattern(entry.get("exclude", []))
    apps = inv.uninstall or []
    by_publisher = inv._app_publishers.containing(entry.get("publishers", []))
    for index in sorted(set(inv._app_names.containing(names)) | set(by_publisher)):
        if not _hit(exclude, apps[index].name):
            uninstall.append(apps[index].name or "?")
    if not (services or processes or uninstall):
        return None
    if running is None and inv.processes is not None and inv.services is not None:
        running = False
    return Match(services, processes, uninstall, running)
