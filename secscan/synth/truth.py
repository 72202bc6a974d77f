"""The headline numbers of a drawn fleet, counted from the draws: what the pipeline must find."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from secscan.synth.pc import Pc


@dataclass
class Truth:
    """The headline numbers as drawn, for the commune PCs and for everything."""

    pcs: int
    commune_pcs: int
    antivirus: int
    av_current: int
    windows_licensed: int
    office_installed: int
    office_licensed: int
    activators: int
    os_unsupported: int
    commune_antivirus: int
    commune_windows_licensed: int

    @classmethod
    def of(cls, pcs: list[Pc], commune_units: Collection[str]) -> Truth:
        commune = [p for p in pcs if p.unit in commune_units]
        return cls(
            pcs=len(pcs), commune_pcs=len(commune),
            antivirus=sum(p.has_av for p in pcs), av_current=sum(p.av_current for p in pcs),
            windows_licensed=sum(p.windows_licensed for p in pcs),
            office_installed=sum(p.office is not None for p in pcs),
            office_licensed=sum(bool(p.office_licensed) for p in pcs),
            activators=sum(p.activator for p in pcs), os_unsupported=sum(not p.os_supported for p in pcs),
            commune_antivirus=sum(p.has_av for p in commune),
            commune_windows_licensed=sum(p.windows_licensed for p in commune),
        )
