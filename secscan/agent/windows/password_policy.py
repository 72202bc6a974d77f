"""Password and lockout policy: ``secedit /export`` (administrator; the .inf is UTF-16LE) and,
as the fallback for a non-administrator run, ``net accounts``, whose labels are localized (English
and Vietnamese in windows_labels.toml) and whose line order is fixed.

Both parsers return ``((password, lockout), unread)``: a fact they could not read for certain is
None and named in ``unread`` with the reason; they never pick one of several candidate values."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections import Counter
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.values import Unread, as_dict, as_list, as_text

# secedit key (case-insensitive, as in any .inf) -> (fact under hardening, smallest valid value)
_SECEDIT_KEYS = {
    "minimumpasswordlength": ("password_policy.min_length", 0),
    "maximumpasswordage": ("password_policy.max_age_days", -1),  # -1: never expires
    "minimumpasswordage": ("password_policy.min_age_days", 0),
    "passwordcomplexity": ("password_policy.complexity", 0),  # 0 or 1, nothing else
    "passwordhistorysize": ("password_policy.history", 0),
    "lockoutbadcount": ("lockout.threshold", 0),
    "lockoutduration": ("lockout.duration_minutes", -1),  # -1: until an administrator unlocks
    "resetlockoutcount": ("lockout.reset_minutes", 0),
}
# Written by every export; the two lockout times only when lockout is on (LockoutBadCount > 0).
_SECEDIT_ALWAYS = ("minimumpasswordlength", "maximumpasswordage", "minimumpasswordage", "passwordcomplexity",
                   "passwordhistorysize", "lockoutbadcount")
_SECEDIT_NAMES = {key.lower(): key for key in ("MinimumPasswordLength", "MaximumPasswordAge", "MinimumPasswordAge",
                                               "PasswordComplexity", "PasswordHistorySize", "LockoutBadCount",
                                               "LockoutDuration", "ResetLockoutCount")}

Policy = tuple[dict[str, Any], dict[str, Any]]


def decode_inf(blob: bytes) -> str:
    if blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return blob.decode("utf-16")
    if len(blob) >= 2 and blob[1] == 0:
        return blob.decode("utf-16-le")
    return blob.decode("utf-8-sig")


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_secedit_text(text: str) -> tuple[Policy, list[Unread]]:
    """The [System Access] keys of a ``secedit /export``. The keys are fixed English names, so the
    cross-check here is on the values: a key given twice with different values, a value that is not
    an integer or is out of its range, or an always-written key that is missing leaves that fact
    null with the reason, never a value picked from the candidates. Without a readable
    MinimumPasswordLength the export as a whole is refused (ValueError), so the decoder falls back
    to ``net accounts``."""
    seen: dict[str, list[tuple[int, str]]] = {}
    unread: list[Unread] = []
    in_section = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith("["):
            in_section = line.lower() == "[system access]"
            continue
        if not in_section or not line or line.startswith(";"):
            continue
        if "=" not in line:
            unread.append(Unread(None, f"secedit line {number} {_quote(line)} in [System Access] is not 'key = value'"))
            continue
        key, _, value = (part.strip() for part in line.partition("="))
        if key.lower() in _SECEDIT_KEYS:
            seen.setdefault(key.lower(), []).append((number, value))
    values: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for key, (path, lowest) in _SECEDIT_KEYS.items():
        name, found = _SECEDIT_NAMES[key], seen.get(key, [])
        if len({v for _, v in found}) > 1:
            shown = ", ".join(f"{v!r} (line {n})" for n, v in found)
            reasons[path] = f"secedit {name} given {len(found)} times with different values: {shown}"
        elif found:
            number, value = found[0]
            if not re.fullmatch(r"-?\d+", value):
                reasons[path] = f"secedit {name} = {_quote(value)} (line {number}) is not an integer"
            elif int(value) < lowest or (key == "passwordcomplexity" and int(value) > 1):
                reasons[path] = f"secedit {name} = {value} (line {number}) is outside its range"
            else:
                values[path] = int(value)
        elif key in _SECEDIT_ALWAYS or values.get("lockout.threshold", 0) > 0:
            reasons[path] = f"secedit {name} is not in the export"
    if "password_policy.min_length" not in values:
        raise ValueError(reasons.get("password_policy.min_length", "secedit: no MinimumPasswordLength"))
    unread = [Unread(path, reason) for path, reason in reasons.items()] + unread
    max_age = values.get("password_policy.max_age_days")
    complexity = values.get("password_policy.complexity")
    password = {
        "min_length": values["password_policy.min_length"],
        # -1 and 0 both mean "never expires" (recorded as 0)
        "max_age_days": 0 if max_age is not None and max_age <= 0 else max_age,
        "min_age_days": values.get("password_policy.min_age_days"),
        "complexity": None if complexity is None else complexity == 1,
        "history": values.get("password_policy.history"),
        "source": "secedit",
    }
    lockout = {
        "threshold": values.get("lockout.threshold"),
        "duration_minutes": values.get("lockout.duration_minutes"),
        "reset_minutes": values.get("lockout.reset_minutes"),
        "source": "secedit",
    }
    return (password, lockout), unread


def parse_secedit(section: Any) -> tuple[Policy, list[Unread]]:
    blob = as_text(as_dict(section, "secedit").get("inf_base64"), "inf_base64", 10_000_000) or ""
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("secedit.inf_base64: not base64") from exc
    try:
        text = decode_inf(raw)
    except UnicodeDecodeError as exc:
        raise ValueError("secedit.inf_base64: not UTF-16LE text") from exc
    return parse_secedit_text(text)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


# net accounts field -> (fact under hardening or None, shape of its value, the fact when the value is
# a word: "Never", "None", "Unlimited", "Không bao giờ" … — the only words these fields print)
_NET_FIELDS: dict[str, tuple[str | None, str, int | None]] = {
    "force_logoff": (None, "number_or_word", None),
    "min_age": ("password_policy.min_age_days", "number", None),
    "max_age": ("password_policy.max_age_days", "number_or_word", 0),  # never expires
    "min_length": ("password_policy.min_length", "number", None),
    "history": ("password_policy.history", "number_or_word", 0),
    "lockout_threshold": ("lockout.threshold", "number_or_word", 0),  # never locks out
    "lockout_duration": ("lockout.duration_minutes", "number_or_word", None),
    "lockout_window": ("lockout.reset_minutes", "number", None),
    "role": (None, "word", None),  # WORKSTATION, SERVER, PRIMARY, BACKUP (or their translation)
}


def _label_fields(label: str, labels: dict[str, list[list[str]]]) -> set[str]:
    """Every field one of whose variants matches: more than one is an ambiguous label, not a choice."""
    low = _norm(label)
    return {field for field, variants in labels.items()
            if any(all(word in low for word in variant) for variant in variants)}


_DIGITS = re.compile(r"[0-9]+")


def _shape_fits(value: str, shape: str) -> bool:
    if _DIGITS.fullmatch(value):
        return shape != "word"
    return shape != "number" and bool(value) and not any(c.isdigit() for c in value)


def _line(number: int, label: str, value: str) -> str:
    return f"line {number} {_quote(f'{label}: {value}')}"


Row = tuple[int, str, str]  # (line number, label, value) of one "label: value" line
Doubt = tuple[set[str], str]  # a line not read: the fields it leaves in doubt (its label's, its place's), and why


def parse_net_accounts(section: Any) -> tuple[Policy, list[Unread]]:
    """``net accounts``: a field is read only when two independent cues agree — its label (English or
    Vietnamese key words, windows_labels.toml) and its place in the fixed line order (``order``).
    A line whose label matches no field, or several, or a field other than the one its place says,
    is not read, and the fields it could have been stay null with the reason in the returned list.
    With exactly the known number of lines every place is known; with a line more or fewer, only the
    lines above the first disagreement (counted from the top) and below the last one (counted from
    the bottom) have a known place. When no line matches any label (another display language) the
    order alone is used, and only when the line count and every value's shape (number, or a word
    such as "Never"; the role a word) fit the known order; otherwise nothing is read (ValueError)."""
    table = load("windows_labels")["net_accounts"]
    order: list[str] = list(table["order"])
    if set(order) != set(_NET_FIELDS) or len(order) != len(_NET_FIELDS):
        raise ValueError("windows_labels.toml: net_accounts.order does not name the nine fields once each")
    rows = _net_rows(section)
    matches = [_label_fields(label, table["labels"]) for _, label, _ in rows]
    doubts: list[Doubt] = []
    if any(matches):
        read, doubts = _read_by_label_and_place(rows, matches, order)
        source = "net_accounts"
    else:
        read = _read_by_order(rows, order)
        source = "net_accounts:order"
    facts, unread = _net_facts(read, doubts, len(rows), len(order))
    if not facts:
        raise ValueError("net accounts: nothing readable: " + "; ".join(str(u) for u in unread))
    password = {
        "min_length": facts.get("password_policy.min_length"),
        "max_age_days": facts.get("password_policy.max_age_days"),
        "min_age_days": facts.get("password_policy.min_age_days"),
        "complexity": None,  # net accounts does not show it
        "history": facts.get("password_policy.history"),
        "source": source,
    }
    lockout = {
        "threshold": facts.get("lockout.threshold"),
        "duration_minutes": facts.get("lockout.duration_minutes"),
        "reset_minutes": facts.get("lockout.reset_minutes"),
        "source": source,
    }
    return (password, lockout), unread


def _net_rows(section: Any) -> list[Row]:
    """The "label: value" lines (the label before the last colon), numbered as captured."""
    rows: list[Row] = []
    for number, line in enumerate(as_list(as_dict(section, "net_accounts").get("lines")), 1):
        text = as_text(line, "net accounts line", 1024) or ""
        if ":" in text:
            label, _, value = text.rpartition(":")
            if label.strip():
                rows.append((number, label.strip(), value.strip()))
    if not rows:
        raise ValueError("net accounts: no 'label: value' line")
    return rows


def _read_by_order(rows: list[Row], order: list[str]) -> dict[str, Row]:
    """No known label: every line by its place, only when the count and every value's shape fit."""
    n, m = len(rows), len(order)
    misfits = [f"{_line(*rows[i])} does not look like {order[i]}" for i in range(min(n, m))
               if not _shape_fits(rows[i][2], _NET_FIELDS[order[i]][1])]
    if n != m or misfits:
        raise ValueError(f"net accounts: no line has a known label and the lines do not fit the known order "
                         f"({n} 'label: value' lines, expected {m}{'; ' if misfits else ''}{'; '.join(misfits)})")
    return {order[i]: rows[i] for i in range(n)}


def _places(matches: list[set[str]], order: list[str]) -> list[str | None]:
    """The field each line's place says, None where a line added or removed leaves it unknown."""
    n, m = len(matches), len(order)
    if n == m:
        return list(order)
    # A line added or removed shifts every place below it: a place is known from the top down
    # to the first line that disagrees, and from the bottom up to the last one.
    top = bottom = 0
    while top < min(n, m) and matches[top] == {order[top]}:
        top += 1
    while bottom < min(n, m) - top and matches[n - 1 - bottom] == {order[m - 1 - bottom]}:
        bottom += 1
    return [order[i] if i < top else order[m - n + i] if i >= n - bottom else None for i in range(n)]


def _read_by_label_and_place(rows: list[Row], matches: list[set[str]],
                             order: list[str]) -> tuple[dict[str, Row], list[Doubt]]:
    """The lines whose label and place name the same field (and no other line carries that label);
    every other line is a doubt."""
    places = _places(matches, order)
    # A label two lines carry is proven unreliable for that field: neither line is read as it.
    claims = Counter(field for found in matches for field in found)
    read: dict[str, Row] = {}
    doubts: list[Doubt] = []
    for row, place, found in zip(rows, places, matches, strict=True):
        if place is not None and found == {place} and claims[place] == 1:
            read[place] = row
            continue
        if not found:
            why = "matches no known label"
        elif len(found) > 1:
            why = f"matches the labels of {', '.join(sorted(found))}"
        else:
            (claimed,) = found
            also = f", as {claims[claimed] - 1} other line(s) do," if claims[claimed] > 1 else ""
            why = f"has the label of {claimed}{also}"
        where = (f"in the place of {place}" if place is not None else
                 f"where no place is known ({len(rows)} 'label: value' lines, expected {len(order)})")
        doubts.append((found | ({place} if place else set()), f"{_line(*row)} {why} {where}"))
    return read, doubts


def _net_facts(read: dict[str, Row], doubts: list[Doubt], n: int, m: int) -> tuple[dict[str, int | None],
                                                                                   list[Unread]]:
    """Each field's value where its line was read and its value has the field's shape; otherwise
    the fact is unread with the reason (the doubts that name it). Doubts naming no fact follow."""
    facts: dict[str, int | None] = {}
    unread: list[Unread] = []
    attached: set[str] = set()
    for field, (path, shape, word) in _NET_FIELDS.items():
        if field in read:
            number, label, value = read[field]
            if _shape_fits(value, shape):
                if path:
                    facts[path] = int(value) if _DIGITS.fullmatch(value) else word
            else:
                expected = "a number" if shape == "number" else "a word" if shape == "word" else "a number or a word"
                unread.append(Unread(path, f"{_line(number, label, value)}: {_quote(value)} is not {expected}"))
        elif path:
            reasons = [why for fields, why in doubts if field in fields]
            attached.update(reasons)
            unread.append(Unread(path, "; ".join(reasons) or f"no line for {field} ({n} 'label: value' lines, "
                                                            f"expected {m})"))
    unread += [Unread(None, why) for _, why in doubts if why not in attached]
    return facts, unread
