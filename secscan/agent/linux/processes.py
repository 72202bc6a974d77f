"""Names of running processes (comm and the basename of argv[0]); readable without root."""

from __future__ import annotations

import os

import psutil


def running_names() -> set[str]:
    names: set[str] = set()
    for proc in psutil.process_iter(["name", "cmdline"]):
        info = proc.info
        if info.get("name"):
            names.add(info["name"])
        cmdline = info.get("cmdline") or []
        if cmdline:
            names.add(os.path.basename(cmdline[0]))
    return names
