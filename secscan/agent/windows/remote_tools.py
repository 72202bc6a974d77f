"""Remote-access tools (UltraViewer, TeamViewer, AnyDesk, VNC...) installed or running, by the
Windows names in remote_tools.toml (shared with the Linux agent: windows_processes,
windows_services, windows_uninstall), over the services/processes/uninstall inventory."""

from __future__ import annotations

from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.products import Inventory, find


def parse(inv: Inventory) -> dict[str, Any]:
    tools = []
    for tool in load("remote_tools")["tool"]:
        entry = {"processes": tool.get("windows_processes", []), "services": tool.get("windows_services", []),
                 "uninstall": tool.get("windows_uninstall", [])}
        match = find(inv, entry)
        if match is None:
            continue
        tools.append({
            "name": tool["name"],
            "installed": True,
            "running": match.running,
            "source": match.source,
            "detail": match.describe(),
        })
    return {"tools": tools}
