"""Recognise products by name in the services, processes and uninstall inventories.

Shared by the anti-malware fallback, the remote-tool finder and the activator finder, which each
bring their own table (windows_av.toml, remote_tools.toml, activators.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secscan.agent.windows.values import as_dict, as_list, as_text


def _exe(name: str) -> str:
    name = name.lower()
    return name[:-4] if name.endswith(".exe") else name


@dataclass(frozen=True)
class Inventory:
    """What the capture saw installed or running; None for a list whose section failed."""

    services: list[dict[str, Any]] | None
    processes: list[dict[str, Any]] | None
    uninstall: list[dict[str, Any]] | None

    @classmethod
    def parse(cls, services: Any, processes: Any, uninstall: Any) -> Inventory:
        def rows(section: Any, key: str) -> list[dict[str, Any]] | None:
            if section is None:
                return None
            return [as_dict(r, f"{key}[]") for r in as_list(as_dict(section, key).get(key))]

        return cls(rows(services, "services"), rows(processes, "processes"), rows(uninstall, "entries"))

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


def _contains(text: str | None, needles: list[str]) -> bool:
    low = (text or "").lower()
    return any(n.lower() in low for n in needles)


def name_matches(name: str | None, entry: dict[str, Any]) -> bool:
    """A display name (SecurityCenter2, uninstall) names this table entry."""
    names = entry.get("display_names", []) + entry.get("uninstall", [])
    return _contains(name, names) and not _contains(name, entry.get("exclude", []))


def find(inv: Inventory, entry: dict[str, Any]) -> Match | None:
    wanted_services = {s.lower() for s in entry.get("services", [])}
    prefixes = [p.lower() for p in entry.get("service_prefixes", [])]
    wanted_processes = {_exe(p) for p in entry.get("processes", [])}
    services, processes, uninstall = [], [], []
    running: bool | None = None
    for svc in inv.services or []:
        name = (as_text(svc.get("name"), "service.name") or "").lower()
        display = (as_text(svc.get("display_name"), "service.display_name") or "").lower()
        if name in wanted_services or display in wanted_services or any(name.startswith(p) for p in prefixes):
            services.append(as_text(svc.get("name"), "service.name") or name)
            state = (as_text(svc.get("state"), "service.state") or "").lower()
            running = bool(running) or state == "running"
    for proc in inv.processes or []:
        name = as_text(proc.get("name"), "process.name") or ""
        if _exe(name) in wanted_processes:
            processes.append(name)
            running = True
    for app in inv.uninstall or []:
        display = as_text(app.get("name"), "uninstall.name")
        publisher = as_text(app.get("publisher"), "uninstall.publisher")
        by_publisher = _contains(publisher, entry.get("publishers", []))
        if (name_matches(display, entry) or by_publisher) and not _contains(display, entry.get("exclude", [])):
            uninstall.append(display or "?")
    if not (services or processes or uninstall):
        return None
    if running is None and inv.processes is not None and inv.services is not None:
        running = False
    return Match(services, processes, uninstall, running)
