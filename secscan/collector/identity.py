"""Which stored host a report belongs to (pure: works on an in-memory index the store fills).

The machine id (``/etc/machine-id``, Windows ``MachineGuid``) is the strongest key, but images
cloned without sysprep share it. So a report joins the host with its machine id only when it
also shares a MAC or the hostname with it; the same machine id with other MACs *and* another
name is a clone: a new host row, ``clone_of`` the first one, both flagged ``clone_suspect`` for
the IT officer, never merged silently. Without a machine id, a shared MAC identifies the host,
then the hostname within the unit. A rename keeps the MACs; a new NIC keeps the name; an IP
change touches neither.

A report only ever matches hosts of its own unit: a unit's token must not be able to change
anything about another unit's PCs by claiming their machine id, MACs or name. A report whose
identity matches a host of another unit gets a host of its own, in its own unit, with
``moved_from`` naming the other one: a PC that really moved is a conflict for an administrator
to approve (``secscan collector approve-move``), and until then both rows stay as they are.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from secscan.collector.intake import HostFiling


def usable_mac(mac: str | None) -> bool:
    """Globally administered, non-zero MACs only: locally administered ones are random per boot,
    per VPN or per container and would glue unrelated PCs together."""
    if not mac or mac == "00:00:00:00:00:00" or mac == "ff:ff:ff:ff:ff:ff":
        return False
    return not int(mac[:2], 16) & 0x02


@dataclass
class Facts:
    machine_id: str | None
    macs: set[str]
    hostname: str
    unit: str | None

    @property
    def hostname_key(self) -> str:
        return self.hostname.casefold()


def facts_of(report: HostFiling, unit: str | None) -> Facts:
    macs = {mac for mac in report.macs if usable_mac(mac)}
    mid = (report.machine_id or "").strip().lower() or None
    return Facts(mid, macs, report.hostname, unit)


@dataclass
class HostRow:
    id: str
    machine_id: str | None
    identity_key: str | None
    hostname_key: str
    unit_id: str | None
    macs: set[str] = field(default_factory=set)
    clone_of: str | None = None
    clone_suspect: bool = False
    moved_from: str | None = None  # the host of another unit whose identity this one matches
    new: bool = False


@dataclass
class Index:
    rows: dict[str, HostRow] = field(default_factory=dict)
    by_mid: dict[str, list[str]] = field(default_factory=dict)
    by_mac: dict[str, set[str]] = field(default_factory=dict)
    by_name: dict[tuple[str | None, str], list[str]] = field(default_factory=dict)

    def add(self, row: HostRow) -> None:
        self.rows[row.id] = row
        if row.machine_id:
            ids = self.by_mid.setdefault(row.machine_id, [])
            if row.id not in ids:
                ids.append(row.id)
        for mac in row.macs:
            self.by_mac.setdefault(mac, set()).add(row.id)
        ids = self.by_name.setdefault((row.unit_id, row.hostname_key), [])
        if row.id not in ids:
            ids.append(row.id)


def resolve(index: Index, facts: Facts) -> HostRow:
    """Pick or create the host for ``facts`` and update ``index`` so that later reports of the
    same batch see the outcome (clone flags and adopted machine ids are set on the rows)."""
    host = _pick(index, facts)
    host.hostname_key = facts.hostname_key  # a rename then a new NIC in one batch is still this PC
    new_macs = facts.macs - host.macs
    host.macs |= facts.macs
    for mac in new_macs:
        index.by_mac.setdefault(mac, set()).add(host.id)
    index.add(host)
    return host


def _pick(index: Index, facts: Facts) -> HostRow:
    own = _pick_in_unit(index, facts)
    if own is not None:
        return own
    other = _other_unit_match(index, facts)
    # identity_key is unique: the first host with a machine id holds it, whatever its unit
    taken = bool(facts.machine_id and index.by_mid.get(facts.machine_id))
    return _new(index, facts, identity_key=None if taken else facts.machine_id,
                moved_from=other.id if other else None)


def _other_unit_match(index: Index, facts: Facts) -> HostRow | None:
    """A host of another unit with this report's machine id (and a MAC or the name) or a MAC."""
    rows = index.rows
    for host_id in index.by_mid.get(facts.machine_id or "", []):
        row = rows[host_id]
        if row.unit_id != facts.unit and (row.macs & facts.macs or row.hostname_key == facts.hostname_key):
            return row
    for mac in sorted(facts.macs):
        for host_id in sorted(index.by_mac.get(mac, ())):
            if rows[host_id].unit_id != facts.unit:
                return rows[host_id]
    return None


def _pick_in_unit(index: Index, facts: Facts) -> HostRow | None:
    """The host of the report's own unit it belongs to; a new one (clone) when the machine id is
    taken by another PC of the unit; None when the unit has no such host yet."""
    rows = {i: r for i, r in index.rows.items() if r.unit_id == facts.unit}
    if facts.machine_id:
        same_mid = [rows[i] for i in index.by_mid.get(facts.machine_id, []) if i in rows]
        if same_mid:
            for row in same_mid:
                if row.macs & facts.macs:
                    return row
            for row in same_mid:
                if row.hostname_key == facts.hostname_key:
                    return row
            for row in same_mid:
                if not facts.macs or not row.macs:
                    return row  # nothing to tell them apart: the same PC, renamed
            original = next((r for r in same_mid if r.clone_of is None), same_mid[0])
            for row in same_mid:
                row.clone_suspect = True
            return _new(index, facts, identity_key=None, clone_of=original.id)
        # A host known before it reported a machine id (e.g. an older agent): match by MAC.
        for mac in sorted(facts.macs):
            for host_id in sorted(index.by_mac.get(mac, ())):
                row = rows.get(host_id)
                if row is not None and row.machine_id is None:
                    row.machine_id = row.identity_key = facts.machine_id
                    return row
        return None
    for mac in sorted(facts.macs):
        ids = sorted(i for i in index.by_mac.get(mac, ()) if i in rows)
        if ids:
            return rows[ids[0]]
    for host_id in index.by_name.get((facts.unit, facts.hostname_key), []):
        row = rows[host_id]
        if not (row.macs and facts.macs):
            return row
    return None


def new_host_id() -> str:
    """A UUIDv7 (RFC 9562) as 32 hex digits: milliseconds since 1970, then 74 random bits.
    New hosts get ids in time order, so a new host's rows go at the end of the indexes keyed by
    host id (hosts, host_macs, reports by host) instead of at a random page of each: an HTTP
    commit of 24 new hosts' reports wrote 8.1 pages per report instead of 12.2, and storing
    took ~15 % less CPU (measured). Unique across collectors all the same (the random bits)."""
    value = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | int.from_bytes(os.urandom(10)) & ((1 << 76) - 1)
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC 4122 variant bits
    return f"{value:032x}"


def _new(index: Index, facts: Facts, *, identity_key: str | None, clone_of: str | None = None,
         moved_from: str | None = None) -> HostRow:
    row = HostRow(id=new_host_id(), machine_id=facts.machine_id, identity_key=identity_key,
                  hostname_key=facts.hostname_key, unit_id=facts.unit, clone_of=clone_of,
                  clone_suspect=clone_of is not None, moved_from=moved_from, new=True)
    index.add(row)
    return row


def row_from_db(r: Any, macs: set[str]) -> HostRow:
    return HostRow(id=r["id"], machine_id=r["machine_id"], identity_key=r["identity_key"],
                   hostname_key=r["hostname_key"], unit_id=r["unit_id"], macs=set(macs), clone_of=r["clone_of"],
                   clone_suspect=bool(r["clone_suspect"]), moved_from=r["moved_from"])
