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

from secscan.agent.windows.products import Processes
from secscan.agent.windows.values import as_dict, as_int, as_list, as_text

# "  TCP    0.0.0.0:135    0.0.0.0:0    LISTENING    1044" / "  UDP    [::]:500    *:*    3044"
_ROW = re.compile(r"^\s*(TCP|UDP)\s+(\S+)\s+(\S+)\s+(?:(\S+)\s+)?(\d+)\s*$", re.IGNORECASE)
_ROW_START = re.compile(r"^\s*(TCP|UDP)\s", re.IGNORECASE)
# English states of a socket with a peer: its foreign port cannot be 0.
_PEER_STATES = {"ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "SYN_SENT", "SYN_RECEIVED", "FIN_WAIT_1", "FIN_WAIT_2",
                "LAST_ACK", "CLOSING"}
# English state words other than LISTENING: a row with one of them is a connection, not a listener.
_CONNECTION_STATES = _PEER_STATES | {"CLOSED", "DELETE_TCB", "BOUND"}


def split_endpoint(text: str) -> tuple[str, int]:
    """'0.0.0.0:135' → ('0.0.0.0', 135); '[fe80::1%12]:1900' → ('fe80::1%12', 1900)."""
    address, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not port.isascii() or int(port) > 65535:
        raise ValueError(f"netstat: not an address:port: {text[:60]!r}")
    return address.removeprefix("[").removesuffix("]"), int(port)


def parse_netstat(lines: list[str]) -> list[dict[str, Any]]:
    """Listeners in ``netstat -ano`` output: TCP rows in LISTENING state, and every UDP row (UDP has
    no connections to tell apart).

    Each row is read by two cues that must agree: its columns in their fixed order (proto, local,
    foreign, state for TCP only, pid) and the state word. A listener's foreign port is 0 and its
    local port is not; LISTENING with a foreign port, or a state with a peer (ESTABLISHED …) without
    one, is a contradiction. A state word that is not English (a localized netstat) is taken as
    LISTENING when its foreign port is 0 only if the table has no English LISTENING and every such
    row uses the same word. A row that breaks any of this, or a line after the first row that is not
    a row, raises ValueError: the list would be incomplete, and an incomplete list of listeners
    would pass "no insecure service", so the whole fact stays unknown with the reason."""
    rows: list[dict[str, Any]] = []
    localized: dict[str, list[str]] = {}  # unknown state word at foreign port 0 -> its lines
    english_listening = False
    started = False
    for number, line in enumerate(lines, 1):
        match = _ROW.match(line)
        if not match:
            if _ROW_START.match(line) or (started and line.strip()):
                raise ValueError(f"netstat: line {number} is not a row: {line.strip()[:80]!r}")
            continue  # headings ("Active Connections", the column names, in any language), blank lines
        started = True
        proto, local, foreign, state, pid = match.groups()
        proto = proto.lower()
        address, port = split_endpoint(local)
        if port == 0:
            raise ValueError(f"netstat: line {number} has local port 0: {line.strip()[:80]!r}")
        if proto == "udp":
            if state is not None or foreign != "*:*":
                raise ValueError(f"netstat: line {number}, a UDP row with a state or a peer: {line.strip()[:80]!r}")
        else:
            if state is None:
                raise ValueError(f"netstat: line {number}, a TCP row without a state: {line.strip()[:80]!r}")
            word, peerless = state.upper(), split_endpoint(foreign)[1] == 0
            if (word == "LISTENING") != peerless and (word == "LISTENING" or word in _PEER_STATES):
                raise ValueError(f"netstat: line {number}, state {state!r} and foreign address {foreign!r} "
                                 f"disagree: {line.strip()[:80]!r}")
            if word == "LISTENING":
                english_listening = True
            elif word in _CONNECTION_STATES or not peerless:
                continue
            else:
                localized.setdefault(state, []).append(str(number))
        rows.append({"address": address, "port": port, "pid": int(pid), "proto": proto})
    if localized and (english_listening or len(localized) > 1):
        shown = "; ".join(f"{word!r} (lines {', '.join(n)})" for word, n in localized.items())
        other = "the table also says LISTENING" if english_listening else "more than one word"
        raise ValueError(f"netstat: cannot tell which state word means listening: {shown}, {other}")
    return rows


def process_names(processes: Processes) -> dict[int, str]:
    """pid → process name from the ``processes`` section, as products.Inventory.parse_processes
    read it (captures before pids were added: empty)."""
    names: dict[int, str] = {}
    for name, pid in zip(processes.names, processes.pids, strict=True):
        pid = as_int(pid, "process.pid")
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
