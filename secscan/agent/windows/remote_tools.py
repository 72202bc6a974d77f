"""Remote-access tools (UltraViewer, TeamViewer, AnyDesk, VNC...) installed or running, by the
names in remote_tools.toml, over the services/processes/uninstall inventory."""

from __future__ import annotations

from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.products import Inventory, find


def parse(inv: Inventory) -> dict[str, Any]:
    tools = []
    for entry in load("remote_tools")["tool"]:
        match = find(inv, entry)
        if match is None:
            continue
        tools.append({
            "name": entry["name"],
            "installed": True,
            "running": match.running,
            "source": match.source,
            "detail": match.describe(),
        })
    return {"tools": tools}
