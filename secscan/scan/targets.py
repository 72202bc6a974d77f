"""Scan targets: parsed strictly (addresses, CIDRs, last-octet ranges) and checked against the
unit's declared networks, so an officer cannot scan a neighbour's LAN by a typo."""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_RANGE = re.compile(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})-(\d{1,3})$")  # 192.168.1.10-50, as nmap writes it


class TargetError(ValueError):
    pass


def parse_target(raw: str) -> list[Network]:
    """One target as networks. Host names are refused: they cannot be checked against a unit's
    networks before nmap resolves them, and a leading '-' would reach nmap as an option."""
    text = raw.strip()
    match = _RANGE.match(text)
    try:
        if match:
            first = ipaddress.IPv4Address(match[1] + match[2])
            last = ipaddress.IPv4Address(match[1] + match[3])
            if last < first:
                raise TargetError(f"target {raw!r}: range ends before it starts")
            return list(ipaddress.summarize_address_range(first, last))
        return [ipaddress.ip_network(text, strict=False)]
    except ValueError as exc:
        if isinstance(exc, TargetError):
            raise
        raise TargetError(f"target {raw!r}: not an IP address, CIDR (10.0.0.0/24) or range (10.0.0.10-50)") from None


def parse_targets(raws: Iterable[str]) -> list[Network]:
    nets: list[Network] = []
    for raw in raws:
        nets += parse_target(raw)
    if not nets:
        raise TargetError("no target given")
    return nets


def outside(targets: Sequence[Network], allowed: Sequence[Network]) -> list[Network]:
    """The targets not wholly inside one of the ``allowed`` networks."""
    return [t for t in targets if not any(t.version == a.version and t.subnet_of(a) for a in allowed)]  # type: ignore[arg-type]


def nmap_spec(net: Network) -> str:
    """How a target is written on nmap's command line: a bare address for a single host."""
    return str(net.network_address) if net.num_addresses == 1 else str(net)


def compact(nets: Iterable[Network]) -> list[Network]:
    """The same addresses in as few networks as possible (duplicates and overlaps merged,
    neighbours joined: 260 single addresses of one /24 become a handful of CIDRs), IPv4 first.
    nmap scans exactly the same hosts; the report records a short list."""
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]  # type: ignore[arg-type]


class TargetSet:
    """Is an address inside one of the targets? A binary search over the targets' merged
    integer ranges, so checking every host of a large scan against thousands of targets stays
    cheap."""

    def __init__(self, nets: Iterable[Network]) -> None:
        self._ranges: dict[int, tuple[list[int], list[int]]] = {}
        for net in compact(nets):  # sorted and disjoint within each version
            starts, ends = self._ranges.setdefault(net.version, ([], []))
            starts.append(int(net.network_address))
            ends.append(int(net.broadcast_address))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        starts, ends = self._ranges.get(address.version, ([], []))
        value = int(address)
        i = bisect.bisect_right(starts, value) - 1
        return i >= 0 and value <= ends[i]
