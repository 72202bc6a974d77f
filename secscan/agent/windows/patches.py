"""Patch level (newest hotfix date, build/UBR) and OS end of support from windows_eol.toml."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.values import TEXT_OR_NULL, Unread, as_dict, as_list, as_text, parse_date

_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# InstalledOn is the PC's local date and collected_at is UTC: a day's slack before "in the future".
_SLACK = timedelta(days=1)


def _readings(raw: Any, collected_at: datetime) -> tuple[datetime | None, datetime | None, str]:
    """One raw InstalledOn as (its month-first reading, its day-first reading, why it cannot be
    read: "" when it can). A reading must be a calendar date not after the capture. '5/11/2026' has
    two, '13/11/2026' only the day-first one; a shape without that doubt (ISO, /Date()/, a hex
    FILETIME) gives the same date twice; (None, None, "") is "no date" (a FILETIME zero)."""
    text = raw.strip() if isinstance(raw, str) else raw
    latest = collected_at + _SLACK
    if isinstance(text, str) and (match := _SLASHED.match(text)):
        first, second, year = map(int, match.groups())
        fits: list[datetime | None] = []
        for month, day in ((first, second), (second, first)):
            try:
                when: datetime | None = datetime(year, month, day, tzinfo=UTC)
            except ValueError:
                when = None
            fits.append(when if when and when <= latest else None)
        return fits[0], fits[1], "" if fits[0] or fits[1] else f"{_shown(text)} is no date before the capture"
    try:
        when = parse_date(text, "installed_on")
    except ValueError:
        return None, None, f"{_shown(text)} is not a date shape secscan knows"
    if when and when > latest:
        return None, None, f"{_shown(text)} is after the capture"
    return when, when, ""


def _shown(text: Any) -> str:
    return repr(text) if isinstance(text, str) else repr(str(text)[:60])


Dates = tuple[datetime | None, datetime | None, str]  # (M/d reading, d/M reading, why unreadable: "" if not)


def _dates(raw: Any, iso_raw: Any, collected_at: datetime) -> Dates:
    """One hotfix's readings from its raw InstalledOn and the script's ISO reading of it; raises
    ValueError when the ISO text is no date."""
    iso = parse_date(iso_raw, "installed_on_iso")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return iso, iso, ""  # no raw text: the script's date, or an undated row
    month_first, day_first, why = _readings(raw, collected_at)
    readings = {d.date() for d in (month_first, day_first) if d}
    if iso and readings and iso.date() not in readings:
        return None, None, f"{raw!r} and the script's reading {iso.date()} disagree"
    return month_first, day_first, why


def _hotfix(item: Any, collected_at: datetime) -> tuple[str | None, Dates]:
    item = as_dict(item, "hotfixes[]")
    hotfix = as_text(item.get("id"), "hotfix.id")
    return hotfix, _dates(item.get("installed_on"), item.get("installed_on_iso"), collected_at)


def _hotfixes(section: Any, collected_at: datetime) -> list[tuple[str | None, Dates]]:
    """Every row's hotfix id and dates, in order."""
    items = as_list(as_dict(section, "hotfixes").get("hotfixes"))
    if set(map(type, items)) <= {dict}:
        ids = [item.get("id") for item in items]
        texts = [(item.get("installed_on"), item.get("installed_on_iso")) for item in items]
        if set(map(type, ids)) <= TEXT_OR_NULL and set(map(type, chain.from_iterable(texts))) <= TEXT_OR_NULL:
            # Texts, as the script writes them: nothing but a date can be unreadable, and hotfixes
            # installed together carry the same date texts (a real PC has ~150 rows on a few dozen
            # days), so each pair is read once, in row order (the first bad row raises, as below).
            dates = {pair: _dates(*pair, collected_at) for pair in dict.fromkeys(texts)}
            return [((hotfix or "").strip()[:512] or None, dates[pair])
                    for hotfix, pair in zip(ids, texts, strict=True)]
    return [_hotfix(item, collected_at) for item in items]  # each value checked in order: the first bad one raises


def parse(section: Any, collected_at: datetime) -> tuple[dict[str, Any], list[Unread]]:
    """Hotfix ids and the newest install date. ``InstalledOn`` is documented as M/d/yyyy; the only
    cross-check a bare '5/11/2026' has is the other rows: a row that can only be day-first
    ('13/11/2026', or an M/d reading after the capture) shows this PC writes the day first, and then
    a row that reads both ways is not read. The script's ``installed_on_iso`` is its own M/d reading
    of the same text, not a second cue: it is used when the raw text is empty and must otherwise
    agree with a reading of it. A date that cannot be read is never replaced by a plausible one: if
    it could be newer than the newest date read, ``last_patch_at`` is None with the reason."""
    hotfixes = _hotfixes(section, collected_at)
    ids = [hotfix for hotfix, _ in hotfixes if hotfix]
    rows = [(hotfix or "a hotfix without an id", month_first, day_first, why)  # the rows with a date or a doubt
            for hotfix, (month_first, day_first, why) in hotfixes if month_first or day_first or why]

    # A row that can only be read day first shows this PC writes the day first (or mixes orders).
    day_first_seen = any(md is None and dm is not None for _, md, dm, _ in rows)
    known: list[datetime] = []
    ambiguous: list[tuple[str, datetime, datetime]] = []
    for name, md, dm, _ in rows:
        if md and dm and md != dm and day_first_seen:
            ambiguous.append((name, md, dm))
        elif when := md or dm:
            known.append(when)
    newest = max(known) if known else None
    doubts = [f"InstalledOn of {name} {why}" for name, _, _, why in rows if why]
    doubts += [f"InstalledOn of {name} reads as {md.date()} (M/d) or {dm.date()} (d/M) and another row is "
               "day-first" for name, md, dm in ambiguous if newest is None or max(md, dm) > newest]
    unread: list[Unread] = []
    if doubts:
        reason = "; ".join(doubts) + " (that hotfix may be the newest)"
        unread = [Unread("last_patch_at", reason), Unread("days_since_last_patch", "as last_patch_at")]
        newest = None
    days = max((collected_at - newest).total_seconds() / 86400, 0) if newest else None
    return {
        "last_patch_at": newest,
        "days_since_last_patch": round(days, 1) if days is not None else None,
        "hotfixes": ids,
    }, unread


def _edition_group(edition: str | None) -> str | None:
    groups = load("windows_eol")["editions"]
    for group, editions in groups.items():
        if edition and edition.lower() in (e.lower() for e in editions):
            return group
    return None


def end_of_life(os_: dict[str, Any], collected_at: datetime) -> dict[str, Any] | None:
    """The end-of-support row for this build and edition; None when the build is not in the table."""
    build, installation = os_.get("build"), os_.get("installation_type") or "client"
    if build is None:
        return None
    group = _edition_group(os_.get("edition"))
    rows = [r for r in load("windows_eol")["release"] if r["build"] == build and r["installation"] == installation]
    row = next((r for r in rows if group and r.get("editions") == group), None) or next(
        (r for r in rows if "editions" not in r), None)
    if row is None:
        return None
    end: date = row["end"]
    days_left = (end - collected_at.date()).days
    basis = row["product"] + ("" if row.get("verified") else " (date not verified against Microsoft Lifecycle)")
    return {"end_of_support": end, "supported": days_left > 0, "days_left": days_left, "basis": basis}
