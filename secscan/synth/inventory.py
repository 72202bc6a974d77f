"""A real office PC's inventory for a capture: the fixtures and the synthetic fleet keep only the
few services, processes, programs, tasks and hotfixes their checks need, while a real Windows 10
office PC lists about 250 services, 180 processes, 220 installed programs, 180 scheduled tasks and
150 hotfixes, a capture about 15 times larger. The decode and ingest benchmarks pad to that size."""

from __future__ import annotations

import json
from typing import Any

SERVICES, PROCESSES, PROGRAMS, TASKS, HOTFIXES = 250, 180, 220, 180, 150


def add_office_inventory(capture: dict[str, Any]) -> dict[str, Any]:
    """``capture`` (a ``secscan.windows-capture/1`` document) with a real office PC's inventory
    appended to its services, processes, uninstall entries, scheduled tasks and hotfixes."""
    s = capture["sections"]
    s["services"]["data"]["services"] += [
        {"name": f"Svc{i}", "display_name": f"Some Service {i}", "state": "Running" if i % 2 else "Stopped",
         "start_mode": "Manual", "path": f"C:\\Windows\\System32\\svchost.exe -k netsvcs{i}"} for i in range(SERVICES)]
    s["processes"]["data"]["processes"] += [{"name": f"proc{i}.exe", "path": None} for i in range(PROCESSES)]
    s["uninstall"]["data"]["entries"] += [
        {"name": f"Program {i}", "publisher": f"Vendor {i}", "version": "1.0", "location": None, "key": f"K{i}"}
        for i in range(PROGRAMS)]
    s["scheduled_tasks"]["data"]["tasks"] += [
        {"path": f"\\Microsoft\\Windows\\Area{i}\\Task{i}", "enabled": True, "actions": [f"C:\\x{i}.exe /run"]}
        for i in range(TASKS)]
    s["hotfixes"]["data"]["hotfixes"] += [
        {"id": f"KB50{i:05d}", "description": "Update", "installed_on": "3/14/2024", "installed_on_iso": "2024-03-14"}
        for i in range(HOTFIXES)]
    return capture


def full_size(body: bytes) -> bytes:
    """The capture ``body`` (JSON bytes) with a real office PC's inventory, as JSON bytes."""
    return json.dumps(add_office_inventory(json.loads(body))).encode()
