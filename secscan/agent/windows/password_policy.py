"""Password and lockout policy: ``secedit /export`` (administrator; the .inf is UTF-16LE) and,
as the fallback for a non-administrator run, ``net accounts``, whose labels are localized (English
and Vietnamese in windows_labels.toml; otherwise the fixed line order)."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from typing import Any

from secscan.agent.data import load
from secscan.agent.windows.values import as_dict, as_list, as_text

_SECEDIT_KEYS = {
    "MinimumPasswordLength": "min_length", "MaximumPasswordAge": "max_age_days", "MinimumPasswordAge": "min_age_days",
    "PasswordComplexity": "complexity", "PasswordHistorySize": "history", "LockoutBadCount": "threshold",
    "LockoutDuration": "duration_minutes", "ResetLockoutCount": "reset_minutes",
}


def decode_inf(blob: bytes) -> str:
    if blob.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return blob.decode("utf-16")
    if len(blob) >= 2 and blob[1] == 0:
        return blob.decode("utf-16-le")
    return blob.decode("utf-8-sig")


def parse_secedit_text(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    values: dict[str, int] = {}
    in_section = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_section = line.lower() == "[system access]"
            continue
        if in_section and "=" in line:
            key, _, value = (part.strip() for part in line.partition("="))
            if key in _SECEDIT_KEYS and re.fullmatch(r"-?\d+", value):
                values[_SECEDIT_KEYS[key]] = int(value)
    if "min_length" not in values:
        raise ValueError("secedit: no [System Access] MinimumPasswordLength in the export")
    max_age = values.get("max_age_days")
    password = {
        "min_length": values.get("min_length"),
        # -1 and 0 both mean "never expires" (recorded as 0)
        "max_age_days": 0 if max_age is not None and max_age <= 0 else max_age,
        "min_age_days": values.get("min_age_days"),
        "complexity": None if "complexity" not in values else values["complexity"] == 1,
        "history": values.get("history"),
        "source": "secedit",
    }
    lockout = {
        "threshold": values.get("threshold"),
        "duration_minutes": values.get("duration_minutes"),
        "reset_minutes": values.get("reset_minutes"),
        "source": "secedit",
    }
    return password, lockout


def parse_secedit(section: Any) -> tuple[dict[str, Any], dict[str, Any]]:
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


def _label_field(label: str, labels: dict[str, list[list[str]]]) -> str | None:
    low = _norm(label)
    # Most specific first: "lockout observation window" also contains "lockout".
    for field in ("role", "lockout_window", "lockout_threshold", "lockout_duration", "history", "min_length",
                  "max_age", "min_age", "force_logoff"):
        if any(all(word in low for word in variant) for variant in labels[field]):
            return field
    return None


def _number(value: str) -> int | None:
    match = re.search(r"-?\d+", value)
    return int(match.group()) if match else None


def parse_net_accounts(section: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    table = load("windows_labels")["net_accounts"]
    rows = []
    for line in as_list(as_dict(section, "net_accounts").get("lines")):
        text = as_text(line, "net accounts line", 1024) or ""
        if ":" in text:
            label, _, value = text.rpartition(":")
            if label.strip():
                rows.append((label.strip(), value.strip()))
    fields = [_label_field(label, table["labels"]) for label, _ in rows]
    named = [f for f in fields if f]
    source = "net_accounts"
    if len(set(named)) != len(named) or not {"min_length", "max_age", "lockout_threshold"} <= set(named):
        # Unknown language: net accounts prints its lines in a fixed order.
        if len(rows) < len(table["order"]):
            raise ValueError(f"net accounts: {len(rows)} 'label: value' lines, expected {len(table['order'])}")
        fields = list(table["order"]) + [None] * (len(rows) - len(table["order"]))
        source = "net_accounts:order"
    values = {f: v for f, (_, v) in zip(fields, rows, strict=True) if f}

    def numeric(field: str, never: int | None) -> int | None:
        raw = values.get(field)
        if raw is None:
            return None
        number = _number(raw)
        # "Never"/"None" (or their translation): the only words these fields print.
        return number if number is not None else never

    password = {
        "min_length": numeric("min_length", None),
        "max_age_days": numeric("max_age", 0),
        "min_age_days": numeric("min_age", None),
        "complexity": None,  # net accounts does not show it
        "history": numeric("history", 0),
        "source": source,
    }
    lockout = {
        "threshold": numeric("lockout_threshold", 0),
        "duration_minutes": numeric("lockout_duration", None),
        "reset_minutes": numeric("lockout_window", None),
        "source": source,
    }
    if password["min_length"] is None:
        raise ValueError("net accounts: no minimum password length")
    return password, lockout
