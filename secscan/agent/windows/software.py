"""Installed programs (HostReport ``software``) from the capture's ``uninstall`` section: the 64-bit,
32-bit (WOW6432Node) and per-user Uninstall keys, each entry with the root it was read from.

``InstallDate`` is what the installer wrote: by convention ``yyyymmdd`` text (a few write a DWORD of
the same digits); anything else (``3/14/2024``, an empty string, a date that does not exist) is
left unknown, never guessed. A capture from before the root was recorded names no root: its
entries say ``registry``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from secscan.agent.windows.products import Apps, Inventory
from secscan.agent.windows.values import text_columns
from secscan.model.limits import SOFTWARE

_ROOTS = {"hklm64": "registry_64", "hklm32": "registry_32", "hkcu": "registry_user"}


def _date(value: Any) -> date | None:
    # A PC's programs share a few dozen dates, and so do a fleet's: decided once per process.
    return _cached_date(value) if type(value) is str else install_date(value)


def install_date(value: Any) -> date | None:
    """``20240314`` (text or number) as a date; None for anything else."""
    if type(value) is int:
        value = str(value)
    if not isinstance(value, str) or len(value) != 8 or not value.isascii() or not value.isdigit():
        return None
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    if not 1980 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


_cached_date = lru_cache(maxsize=4096)(install_date)


def _valid(column: list[str]) -> list[str]:
    """The contract refuses NUL and lone surrogates in text. A broken installer can leave either in
    a REG_SZ (a trailing NUL is common): taken out here, so one odd entry cannot make the section,
    and with it the anti-malware and activator facts read from the same keys, invalid."""
    joined = "".join(column)
    if "\x00" not in joined:
        try:
            joined.encode("utf-8")
            return column  # the common case, one check per column
        except UnicodeEncodeError:
            pass
    return [v.replace("\x00", "").encode("utf-8", "replace").decode("utf-8") if v else v for v in column]


def parse(section: Any, apps: Apps | None = None) -> list[dict[str, Any]]:
    """Every entry with a display name, in the order the keys were read. ``apps``: the names and
    publishers the decoder's Inventory has read from this section already (read here otherwise).
    Read a column at a time (values.text_columns), as the rest of the inventory: a PC lists
    hundreds of programs."""
    rows = Inventory._rows(section, "entries")
    if len(rows) > SOFTWARE.max:
        raise ValueError(f"uninstall.entries: {len(rows):,} programs, more than the contract's {SOFTWARE.max:,}")
    apps = apps or Inventory.parse_uninstall(section)
    names, publishers = _valid(apps.names), _valid(apps.publishers)
    (versions,) = text_columns(rows, {"version": "uninstall.version"})
    versions = _valid(versions)
    dates = [_date(row.get("install_date")) for row in rows]
    # a root the script does not write is not guessed at: "registry" (listed, root unknown)
    sources = [_ROOTS.get(row.get("root"), "registry") for row in rows]
    return [{"name": name, "version": version or None, "publisher": publisher or None, "installed_on": day,
             "source": source}
            for name, version, publisher, day, source in zip(names, versions, publishers, dates, sources, strict=True)
            if name]
