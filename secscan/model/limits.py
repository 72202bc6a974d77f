"""The contract's limits, in one table: what the model enforces, which store column must hold the
value (``secscan/collector/schema.py``; PostgreSQL enforces a ``String(n)`` length, SQLite does
not), and what ``tests/hostile/test_limits.py`` checks on both databases: a value at the limit is
stored, one past it is a one-line rejection naming the field.

Standard library only: the model imports this, and so do the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal


@dataclass(frozen=True)
class Limit:
    name: str
    max: int
    # Where the limit applies in a HostReport document (dotted; the tests set a value there).
    path: str | None
    # The store column (table.column) that holds the value, or None when it lives only inside the
    # stored document (reports.document, a Text column).
    column: str | None = None
    # "chars": code points (what PostgreSQL's varchar(n) counts); "items": list members
    kind: Literal["chars", "items"] = "chars"
    min: int = 0
    why: str = ""
    # what the column holds before the value (its length counts against the column's too)
    prefix: str = ""


# Free text (details, error messages) and short text (names, versions): only in the document.
TEXT = Limit("text", 4096, "probes.0.error",
             why="free text from a machine we do not control: no megabytes in one field")
SHORT_TEXT = Limit("short text", 512, "host.os.name", why="names, versions, paths")
# hosts.hostname_key is String(255) and holds the hostname casefolded (identity.py), which can be
# longer than the hostname itself ("ß" casefolds to "ss"): the casefolded form is held to it too.
HOSTNAME = Limit("hostname", 255, "host.hostname", "hosts.hostname_key", min=1,
                 why="DNS names are at most 253 characters; casefolded for matching")
# hosts.machine_id String(128): /etc/machine-id is 32 hex digits, a Windows MachineGuid 36-38.
MACHINE_ID = Limit("machine id", 128, "host.machine_id", "hosts.machine_id", min=1,
                   why="printable ASCII without spaces (it is lowered for matching, which keeps its length)")
# units.id String(64), the pattern of org.yaml's unit ids (model/org.py).
UNIT = Limit("unit id", 64, "unit", "units.id", min=1, why="a unit of org.yaml")
# tokens.key_id String(32), the key id of a unit token (model/signing.py TOKEN_RE: 8-32 alphanumerics)
KEY_ID = Limit("key id", 32, "signature.key_id", "tokens.key_id", min=8, why="the id of a unit token")
# hosts.agent String(64) holds "<source>/<version>" (collector/intake.py agent_of); the longest
# source is "synthetic", so a version may take 64 - len("synthetic/") characters.
AGENT_VERSION = Limit("agent version", 64 - len("synthetic/"), "agent.version", "hosts.agent", min=1,
                      why="stored as '<source>/<version>'", prefix="synthetic/")
# Every interface's MAC becomes a host_macs row: bounded per report (a batch is the store's business).
INTERFACES = Limit("interfaces", 1024, "host.interfaces", "host_macs.mac", kind="items",
                   why="a PC with many virtual adapters has a few hundred at most")

# Installed programs (the Uninstall keys, the package manager): lives only inside the document.
SOFTWARE = Limit("installed software", 4000, "software", kind="items",
                 why="an office PC lists 100-300 programs, a Linux desktop 1,500-3,000 packages; a longer list "
                     "leaves the section unknown, never cut (a cut list would claim programs absent)")

LIMITS: tuple[Limit, ...] = (TEXT, SHORT_TEXT, HOSTNAME, MACHINE_ID, UNIT, KEY_ID, AGENT_VERSION, INTERFACES,
                             SOFTWARE)

# Integers: JSON integers within what every JSON reader holds exactly (I-JSON, RFC 7493), which
# both databases' bigint hold too.
MAX_INT = 2**53 - 1
# The longest text form of an IP address (IPv6 with an embedded IPv4 is 45; a scope id may follow).
MAX_IP_TEXT = 64
# A report dated further ahead of the collector's clock than this is refused (collector/intake.py):
# it would stay a PC's latest report for ever.
FUTURE_TOLERANCE = timedelta(hours=24)
# Free-form ``raw`` members (what a decoder kept as the OS reported it): nesting depth.
MAX_RAW_DEPTH = 16

__all__ = ["AGENT_VERSION", "FUTURE_TOLERANCE", "HOSTNAME", "INTERFACES", "KEY_ID", "LIMITS", "MACHINE_ID",
           "MAX_INT", "MAX_IP_TEXT", "MAX_RAW_DEPTH", "SHORT_TEXT", "SOFTWARE", "TEXT", "UNIT", "Limit"]
