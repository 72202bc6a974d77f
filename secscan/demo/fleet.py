"""The demo district's fleet: UBND huyện Hạ Hòa's units (``hahoa``) drawn at the rates of the 2023
district report — 406 commune PCs of which about 75 % have antivirus and about 35 % run licensed
software, district departments close to fully equipped and better kept. The PCs, their rates and
their renderings are ``secscan.synth``'s; this module only lays them out over the district.
Deterministic for a given seed."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from secscan.demo import hahoa
from secscan.synth import truth
from secscan.synth.draw import COMMUNE, DEPARTMENT, Profile, Where, draw_pc, spread
from secscan.synth.pc import Pc
from secscan.synth.report import render_report

__all__ = ["COMMUNE_PCS", "DESK_PCS", "Pc", "Truth", "draw", "draw_unit", "host_report", "now_for_period"]

COMMUNE_PCS = 406
DESK_PCS = 2  # front-desk PCs in each commune's one-stop-shop
ROOT_DESK_PCS = 3


def draw_unit(rng: random.Random, seed: int, unit: str, prefix: str, net: int, count: int, p: Profile,
              base: str = "10.231") -> list[Pc]:
    """``count`` PCs of one unit, named ``<prefix>-PCnn``, at .21 upwards of ``<base>.<net>.0/24``."""
    return [draw_pc(rng, Where(unit, f"{prefix}-PC{n:02d}", f"{base}.{net}.{20 + n}"), p, seed)
            for n in range(1, count + 1)]


def draw(seed: int) -> list[Pc]:
    rng = random.Random(seed)
    pcs: list[Pc] = []
    office_counts = spread(rng, COMMUNE_PCS - DESK_PCS * len(hahoa.COMMUNES), len(hahoa.COMMUNES))
    for i, ((uid, _, _), count) in enumerate(zip(hahoa.COMMUNES, office_counts, strict=True)):
        prefix = uid.split("-", 1)[1].replace("-", "").upper()[:10]
        pcs += draw_unit(rng, seed, uid, prefix, 100 + i, count, COMMUNE)
        pcs += draw_unit(rng, seed, f"{uid}-{hahoa.DESK}", prefix + "-1C", 200 + i, DESK_PCS, COMMUNE)
    for i, (uid, _, count) in enumerate(hahoa.DEPARTMENTS):
        prefix = uid.replace("phong-", "").replace("-", "").upper()[:10]
        pcs += draw_unit(rng, seed, uid, prefix, 10 + i, count, DEPARTMENT)
    pcs += draw_unit(rng, seed, f"{hahoa.ROOT}-{hahoa.DESK}", "HUYEN-1C", 9, ROOT_DESK_PCS, DEPARTMENT)
    return pcs


def commune_unit_ids() -> set[str]:
    """The communes and their front desks: the units the district report's figures are about."""
    return {uid for c in hahoa.COMMUNES for uid in (c[0], f"{c[0]}-{hahoa.DESK}")}


class Truth(truth.Truth):
    """The headline numbers as drawn; "commune" means the communes and their front desks."""

    @classmethod
    def of(cls, pcs: list[Pc], commune_units: Collection[str] | None = None) -> Truth:
        return super().of(pcs, commune_unit_ids() if commune_units is None else commune_units)  # type: ignore[return-value]


def host_report(pc: Pc, now: datetime, seed: int) -> dict[str, Any]:
    """The HostReport document (to be signed) for one drawn PC."""
    return render_report(pc, now, random.Random(f"{seed}-{pc.hostname}"))


def now_for_period() -> datetime:
    return datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
