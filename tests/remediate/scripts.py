"""Reading a generated script back, for the tests: the PCs of its guard, the fixes of each, and a
Python rendering of the guard's rule (name and machine id both equal, ignoring case), which
tests/remediate/test_script.py checks against the engine's own code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.remediate.test_quote import powershell_read


@dataclass(frozen=True)
class Allowed:
    hostname: str
    machine_id: str
    fixes: tuple[str, ...]
    guidance: tuple[str, ...]


def _literal(line: str, key: str) -> str:
    prefix = f"    {key} = "
    assert line.startswith(prefix), line
    value, end = powershell_read(line, len(prefix))
    assert end == len(line), f"more after the literal: {line!r}"
    return value


def _literals(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        if text[i] == "'":
            value, i = powershell_read(text, i)
            out.append(value)
        else:
            i += 1
    return out


def allowed(script: str) -> list[Allowed]:
    """The entries of ``$Allowed``, read as PowerShell would read the literals."""
    lines = script.replace("\r\n", "\n").split("\n")
    start = lines.index("$Allowed = @(")
    out = []
    i = start + 1
    while lines[i] != ")":
        assert lines[i] == "  @{", lines[i]
        hostname = _literal(lines[i + 1], "Hostname")
        machine_id = _literal(lines[i + 2], "MachineId")
        fixes_line = lines[i + 3]
        assert fixes_line.startswith("    Fixes = @(") and fixes_line.endswith(")")
        fixes = tuple(_literals(fixes_line[len("    Fixes = @("):-1]))
        assert lines[i + 4] == "    Guidance = @("
        j = i + 5
        guidance = []
        while lines[j] != "    )":
            guidance.append(_literal(lines[j].replace("      ", "    Guidance = ", 1), "Guidance"))
            j += 1
        assert lines[j + 1] == "  }"
        out.append(Allowed(hostname, machine_id, fixes, tuple(guidance)))
        i = j + 2
    return out


def guard_admits(entries: list[Allowed], name: str, machine_guid: str) -> bool:
    """The engine's rule: the PC's name (MachineName, or its DNS host name) and its MachineGuid
    both equal one entry's, ignoring case; no MachineGuid admits nothing."""
    return bool(machine_guid) and any(
        e.hostname.lower() == name.lower() and e.machine_id.lower() == machine_guid.lower() for e in entries)


GUARD_CODE = re.compile(
    r"\$sameName = \[string\]::Equals\(\$candidate\.Hostname, \$Name, \$ignoreCase\) -or "
    r"\[string\]::Equals\(\$candidate\.Hostname, \$DnsName, \$ignoreCase\)\n"
    r"\s*\$sameId = \$Guid -and \[string\]::Equals\(\$candidate\.MachineId, \$Guid, \$ignoreCase\)\n"
    r"\s*if \(\$sameName -and \$sameId\) \{ \$Entry = \$candidate; break \}")


def fix_controls(script: str) -> dict[str, str]:
    """Fix id -> control, read from the script's own fix table ($Fixes['id'] = @{ Control = ... })."""
    control_of: dict[str, str] = {}
    current = None
    for line in script.splitlines():
        if line.startswith("$Fixes['"):
            current = line.split("'")[1]
        elif current and line.startswith("  Control = '"):
            control_of[current] = line.split("'")[1]
            current = None
    return control_of
