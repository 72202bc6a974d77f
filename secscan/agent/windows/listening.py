"""Listening sockets from the capture's ``listening_ports`` section, into hardening.listening_ports.

Windows 8/Server 2012 and later: rows of Get-NetTCPConnection (State Listen) and Get-NetUDPEndpoint.
Windows 7: the text of ``netstat -ano``, parsed here. Loopback listeners are kept, as the Linux
agent keeps them: a Telnet server bound to 127.0.0.1 is still a Telnet server on the PC, and the
``insecure_services_off`` control reads every entry. The owning process name comes from the pid
through the ``processes`` section (Win32_Process ProcessId) when it was collected.
"""

from __future__ import annotations

import re
from typing import Any

from secscan.agent.windows.values import as_dict, as_int, as_list, as_text

# "  TCP    0.0.0.0:135    0.0.0.0:0    LISTENING    1044" / "  UDP    [::]:500    *:*    3044"
_ROW = re.compile(r"^\s*(TCP|UDP)\s+(\S+)\s+(\S+)\s+(?:(\S+)\s+)?(\d+)\s*$", re.IGNORECASE)
# English state words other than LISTENING: a row with one of them is a connection, not a listener.
_CONNECTION_STATES = {"ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1",
                      "FIN_WAIT_2", "LAST_ACK", "CLOSING", "CLOSED", "DELETE_TCB", "BOUND"}


def split_endpoint(text: str) -> tuple[str, int]:
    """'0.0.0.0:135' → ('0.0.0.0', 135); '[fe80::1%12]:1900' → ('fe80::1%12', 1900)."""
    address, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"netstat: not an address:port: {text[:60]!r}")
    return address.removeprefix("[").removesuffix("]"), int(port)


def parse_netstat(lines: list[str]) -> list[dict[str, Any]]:
    """Listeners in ``netstat -ano`` output: TCP rows in LISTENING state, and every UDP row (UDP has
    no connections to tell apart). A TCP row whose state word is not an English one (a localized
    netstat) counts as listening when its foreign port is 0, which is how netstat shows a listener."""
    rows: list[dict[str, Any]] = []
    for line in lines:
        match = _ROW.match(line)
        if not match:
            continue  # headings, "Active Connections", blank lines, "[svchost.exe]" lines of -b
        proto, local, foreign, state, pid = match.groups()
        proto = proto.lower()
        if proto == "tcp":
            word = (state or "").upper()
            listening = word == "LISTENING" or (word not in _CONNECTION_STATES and foreign.endswith(":0"))
            if not listening:
                continue
        elif state is not None:
            raise ValueError(f"netstat: a UDP row with a state: {line.strip()[:80]!r}")
        address, port = split_endpoint(local)
        rows.append({"address": address, "port": port, "pid": int(pid), "proto": proto})
    return rows


def process_names(section: Any) -> dict[int, str]:
    """pid → process name from the ``processes`` section (captures before pids were added: empty)."""
    names: dict[int, str] = {}
    for row in as_list(as_dict(section, "processes").get("processes")):
        row = as_dict(row, "processes[]")
        pid, name = as_int(row.get("pid"), "process.pid"), as_text(row.get("name"), "process.name")
        if pid is not None and name:
            names[pid] = name
    return names


def parse(section: Any, names: dict[int, str] | None = None) -> list[dict[str, Any]]:
    data = as_dict(section, "listening_ports")
    source = as_text(data.get("source"), "source")
    if source == "netstat":
        rows = parse_netstat([as_text(x, "netstat[]", 2000) or "" for x in as_list(data.get("netstat"))])
    elif source == "Get-NetTCPConnection":
        rows = [_row(r, "tcp") for r in as_list(data.get("tcp"))] + [_row(r, "udp") for r in as_list(data.get("udp"))]
    else:
        raise ValueError(f"listening_ports.source: unknown source {source!r}")
    ports: dict[tuple[int, str, str], dict[str, Any]] = {}
    for r in rows:
        process = (names or {}).get(r["pid"]) if r["pid"] is not None else None
        ports[(r["port"], r["proto"], r["address"])] = {"port": r["port"], "proto": r["proto"],
                                                         "address": r["address"], "process": process}
    return sorted(ports.values(), key=lambda p: (p["port"], p["proto"], p["address"]))


def _row(row: Any, proto: str) -> dict[str, Any]:
    row = as_dict(row, f"{proto}[]")
    port = as_int(row.get("port"), f"{proto}.port")
    address = as_text(row.get("address"), f"{proto}.address")
    if port is None or not address:
        raise ValueError(f"listening_ports.{proto}: a row without address or port")
    return {"address": address, "port": port, "pid": as_int(row.get("pid"), f"{proto}.pid"), "proto": proto}
