"""Listening sockets (psutil; without root the owning process of others' sockets is unknown)
and remote-access tools installed or running."""

from __future__ import annotations

import os
import socket
from typing import Any

import psutil

from secscan.agent.data import load
from secscan.agent.linux.processes import running_names
from secscan.agent.runner import Facts


def listening_ports() -> list[dict[str, Any]]:
    names: dict[int, str] = {}
    ports: dict[tuple[int, str, str], dict[str, Any]] = {}
    for conn in psutil.net_connections(kind="inet"):
        proto = "tcp" if conn.type == socket.SOCK_STREAM else "udp"
        if proto == "tcp" and conn.status != psutil.CONN_LISTEN:
            continue
        if proto == "udp" and conn.raddr:
            continue
        if not conn.laddr:
            continue
        process = None
        if conn.pid:
            if conn.pid not in names:
                try:
                    names[conn.pid] = psutil.Process(conn.pid).name()
                except psutil.Error:
                    names[conn.pid] = ""
            process = names[conn.pid] or None
        key = (conn.laddr.port, proto, conn.laddr.ip)
        ports[key] = {"port": conn.laddr.port, "proto": proto, "address": conn.laddr.ip, "process": process}
    return sorted(ports.values(), key=lambda p: (p["port"], p["proto"], p["address"]))


def remote_tools(running: set[str], exists=os.path.exists) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    found = []
    for row in load("remote_tools")["tool"]:
        procs = sorted(set(row["linux_processes"]) & running)
        paths = [p for p in row["linux_paths"] if exists(p)]
        if procs or paths:
            found.append({"name": row["name"], "running": bool(procs), "installed": bool(paths) or None,
                          "source": "process" if procs else "path",
                          "detail": ", ".join(procs + paths)[:500]})
    return found


def collect_ports() -> Facts:
    return {"hardening.listening_ports": listening_ports()}


def collect_remote() -> Facts:
    return {"hardening.remote_access": {"tools": remote_tools(running_names())}}
