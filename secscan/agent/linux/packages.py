"""Installed software on Linux (HostReport ``software``): the package manager's own list.

``dpkg-query`` (Debian, Ubuntu) where it exists, else ``rpm -qa`` (RHEL, Fedora, SUSE), each with a
tab-separated format string so no field is guessed from column positions. Neither installed: the
probe is unsupported and the fact stays unknown (None), not an empty list. ``parse_dpkg`` and
``parse_rpm`` are pure: the tests feed them recorded output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from secscan.agent._exec import run, which
from secscan.agent.errors import ProbeFailure, ProbeUnsupported
from secscan.agent.runner import Facts
from secscan.model.limits import SHORT_TEXT, SOFTWARE

# db:Status-Abbrev is "ii " for an installed package; "rc " (removed, config files left) is not installed.
DPKG_ARGV = ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\\t${binary:Package}\\t${Version}\\t${Maintainer}\\n"]
RPM_ARGV = ["rpm", "-qa", "--qf", "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{VENDOR}\\t%{INSTALLTIME}\\n"]
_EMAIL = re.compile(r"\s*<[^>]*>\s*$")


def _text(value: str) -> str | None:
    value = value.replace("\x00", "").strip()[: SHORT_TEXT.max]
    return value or None


def _checked(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(entries) > SOFTWARE.max:
        raise ValueError(f"{len(entries):,} packages, more than the contract's {SOFTWARE.max:,}")
    return entries


def _rows(raw: str, tool: str) -> Iterator[list[str]]:
    """The four tab-separated fields of each line; ValueError naming the first line that has not."""
    for number, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            fields = line.split("\t")
            if len(fields) != 4:
                raise ValueError(f"{tool} line {number}: {len(fields)} fields, expected 4")
            yield fields


def parse_dpkg(raw: str) -> list[dict[str, Any]]:
    """``dpkg-query -W -f`` output (DPKG_ARGV) -> installed packages."""
    out = []
    for status, name, version, maintainer in _rows(raw, "dpkg-query"):
        if not status.startswith("ii") or not (name := _text(name) or ""):
            continue
        # "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>": the name, not the address
        out.append({"name": name, "version": _text(version), "publisher": _text(_EMAIL.sub("", maintainer)),
                    "installed_on": None, "source": "dpkg"})
    return _checked(out)


def parse_rpm(raw: str) -> list[dict[str, Any]]:
    """``rpm -qa --qf`` output (RPM_ARGV) -> installed packages, with the install day (UTC)."""
    out = []
    for name, version, vendor, installed in _rows(raw, "rpm"):
        if name == "gpg-pubkey" or not (name := _text(name) or ""):
            continue  # an imported signing key, listed by rpm as a package
        day = None
        if installed.isdigit() and 315532800 <= int(installed) <= 4102444800:  # 1980 .. 2100
            day = datetime.fromtimestamp(int(installed), UTC).date()
        out.append({"name": name, "version": _text(version),
                    "publisher": None if vendor == "(none)" else _text(vendor),
                    "installed_on": day, "source": "rpm"})
    return _checked(out)


def collect() -> Facts:
    if which("dpkg-query"):
        argv, parse = DPKG_ARGV, parse_dpkg
    elif which("rpm"):
        argv, parse = RPM_ARGV, parse_rpm
    else:
        raise ProbeUnsupported("no package manager: neither dpkg-query nor rpm is installed")
    result = run(argv, timeout=10)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no message"])[0]
        raise ProbeFailure(f"{argv[0]} exited {result.returncode}: {first}")
    try:
        return {"software": parse(result.stdout)}
    except ValueError as exc:
        raise ProbeFailure(str(exc)) from None
