"""Traces of activation cracks on the PC (facts §4): IFEO hooks on the licensing services, files,
scheduled tasks, services and processes of known activators, Defender exclusions naming them,
Defender HackTool detections, and hosts-file lines blocking licensing or anti-virus vendors.

Each parser reads one capture section and returns ActivatorEvidence dicts; the tables live in
activators.toml. KMS host and grace-period evidence belongs to a licence (see licensing.py).
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.defender import activator_threats
from secscan.agent.windows.products import Inventory, Lines, find
from secscan.agent.windows.values import TEXT_OR_NULL, as_dict, as_list, as_text, text_column


def tools() -> list[dict[str, Any]]:
    return load("activators")["tool"]


def targets(tool: str | None) -> set[str]:
    """Which licences a tool activates; unknown tools are assumed to touch both."""
    for entry in tools():
        if entry["name"] == tool:
            return set(entry.get("targets", ["windows", "office"]))
    return {"windows", "office"}


def applies(tool: str | None, family: str, kms_client: bool) -> bool:
    """Can this tool have produced a licence of this family and kind? A KMS emulator cannot have
    made an OEM, MAK or retail activation, so its artefacts do not taint those."""
    for entry in tools():
        if entry["name"] == tool:
            if entry.get("method") == "kms" and not kms_client:
                return False
            break
    return family in targets(tool)


def artefact_paths() -> list[str]:
    return [path for entry in tools() for path in entry.get("files", [])]


def _evidence(kind: str, detail: str, tool: str | None, confidence: str = "high") -> dict[str, Any]:
    return {"kind": kind, "detail": detail[:4000], "tool": tool, "confidence": confidence}


def _tool_for_text(text: str) -> str | None:
    low = text.lower()
    for entry in tools():
        needles = entry.get("keywords", []) + [p.rsplit("\\", 1)[-1] for p in entry.get("files", [])]
        if any(n.lower() in low for n in needles):
            return entry["name"]
    return None


def parse_ifeo(section: Any) -> list[dict[str, Any]]:
    table = load("activators")["ifeo"]
    wanted = {v.lower() for v in table["values"]}
    found = []
    for exe, values in as_dict(as_dict(section, "ifeo").get("keys"), "ifeo.keys").items():
        values = as_dict(values, f"ifeo.{exe}")
        hits = {k: v for k, v in values.items() if k.lower() in wanted}
        if hits:
            shown = ", ".join(f"{k}={v}" for k, v in hits.items())
            found.append(_evidence("ifeo", f"Image File Execution Options\\{exe}: {shown}",
                                   _tool_for_text(shown) or table["tool"]))
    return found


def parse_files(section: Any) -> list[dict[str, Any]]:
    data = as_dict(section, "artefact_files")
    return [_evidence("file", path, _tool_for_text(path) or None)
            for path in (as_text(p, "present[]", 1024) for p in as_list(data.get("present"))) if path]


def _task(task: Any) -> tuple[str, str]:
    """A scheduled task's path and its actions' command lines, joined."""
    task = as_dict(task, "tasks[]")
    path = as_text(task.get("path"), "task.path", 1024) or ""
    return path, " ".join(as_text(a, "task.actions[]", 2048) or "" for a in as_list(task.get("actions")))


def _tasks(section: Any) -> tuple[list[str], list[str]]:
    """Every scheduled task's path, and its actions' command lines joined."""
    tasks = as_list(as_dict(section, "scheduled_tasks").get("tasks"))
    if set(map(type, tasks)) <= {dict}:
        paths = [task.get("path") for task in tasks]
        actions = [task.get("actions") for task in tasks]
        if set(map(type, paths)) <= TEXT_OR_NULL and set(map(type, actions)) <= {list}:
            commands = list(chain.from_iterable(actions))
            if set(map(type, commands)) <= {str} and max(map(len, commands), default=0) <= 2048:
                # As the script writes them (a path, a list of command lines not over 2048
                # characters): read as _task reads them, without its calls per value.
                return text_column(paths, 1024), [" ".join(map(str.strip, commands)) for commands in actions]
    rows = [_task(task) for task in tasks]  # each value checked in order: the first bad one raises
    return [path for path, _ in rows], [action for _, action in rows]


def parse_tasks(section: Any) -> list[dict[str, Any]]:
    task_paths, task_actions = _tasks(section)
    paths, actions = Lines(task_paths), Lines(task_actions)
    tool_of: dict[int, tuple[str, str]] = {}  # task -> (tool, confidence); the first tool listed wins
    for entry in tools():
        by_action = set(actions.containing(entry.get("keywords", [])))
        for index in sorted(set(paths.containing(entry.get("tasks", []))) | by_action):
            confidence = "high" if index in by_action or entry.get("verified") else "medium"
            tool_of.setdefault(index, (entry["name"], confidence))
    found = []
    for index, (tool, confidence) in sorted(tool_of.items()):
        path, action = task_paths[index], task_actions[index]
        found.append(_evidence("task", f"scheduled task {path}" + (f" runs {action}" if action else ""), tool,
                               confidence))
    return found


def parse_inventory(inv: Inventory) -> list[dict[str, Any]]:
    found = []
    for entry in tools():
        match = find(inv, entry)
        if match is not None:
            kind = match.source  # service, process or uninstall
            found.append(_evidence(kind, match.describe(), entry["name"]))
    return found


def parse_exclusions(section: Any) -> list[dict[str, Any]]:
    data = as_dict(section, "defender_exclusions")
    found = []
    for item in as_list(data.get("paths")) + as_list(data.get("processes")):
        text = as_text(item, "exclusion", 1024)
        tool = _tool_for_text(text or "")
        if text and tool:
            found.append(_evidence("defender_exclusion", f"Defender exclusion {text}", tool))
    return found


def parse_threats(names: list[str]) -> list[dict[str, Any]]:
    return [_evidence("defender_detection", f"Defender detected {name}", _tool_for_text(name) or "KMS activator")
            for name in activator_threats(names)]


def parse_hosts(section: Any) -> list[dict[str, Any]]:
    domains = [d.lower() for d in load("activators")["hosts_file"]["domains"]]
    found = []
    for line in as_list(as_dict(section, "hosts_file").get("lines")):
        text = as_text(line, "hosts line", 1024) or ""
        fields = text.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        address, names = fields[0], [n.lower().rstrip(".") for n in fields[1:]]
        if not re.fullmatch(r"0\.0\.0\.0|127\.\d+\.\d+\.\d+|::1?|::", address):
            continue
        blocked = [n for n in names if any(n == d or n.endswith("." + d) for d in domains)]
        if blocked:
            found.append(_evidence("hosts_file", f"hosts file blocks {', '.join(blocked)} ({address})", None, "medium"))
    return found
