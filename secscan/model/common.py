"""Pieces shared by every contract: the strict base model, the strict field types, and the probe
status record.

Every contract forbids unknown fields (a typo in a report is an error, not a silently dropped
fact) and keeps every fact optional: ``None`` means "not observed", which policies evaluate to
unknown, never to pass.

The contracts are strict for what a machine writes (issue 16): the collector validates the dict
parsed from the received JSON and the policies judge that same dict, so a value the model would
read one way and a policy another must be refused, not coerced. A bool is a JSON boolean (not 1,
not "yes"); an integer a JSON integer (not "3", not 3.0: every writer of a report, Python's json
and PowerShell's ConvertTo-Json, writes an integer without a fraction, so 3.0 is not one a machine
meant) within ±(2**53 - 1); a number a JSON number (an integer is one); a date and time an ISO
8601 string with a time zone that converts to UTC within datetime's range (not a number, not
"1700000000"); a UUID its canonical lowercase hyphenated string; an IP address a string; an enum
or literal its exact value. Python code that builds a model (the agent, the Windows decoder)
may pass ``datetime``, ``date``, ``UUID`` and ``ipaddress`` objects: they are what those
strings mean. Strictness is per field type (pydantic's ``Strict`` where it means the same in
Python and JSON, a small check before the standard parse where it does not), so a model
validated from a dict is as strict as one validated from JSON text, at about the same speed.

Every string has a maximum length (secscan/model/limits.py, the one table the store's columns and
the tests use too) and holds no NUL character (a PostgreSQL text column cannot hold one) and no
lone surrogate (not UTF-8).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    Strict,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from secscan.model.limits import (
    AGENT_VERSION,
    HOSTNAME,
    KEY_ID,
    MACHINE_ID,
    MAX_INT,
    MAX_IP_TEXT,
    MAX_RAW_DEPTH,
    SHORT_TEXT,
    TEXT,
    UNIT,
)

NUL_MESSAGE = "contains a NUL character (\\x00), which no database text column can hold"


# Validation context for a document as received (collector/intake.py): its text must already be
# NFC, because the policies judge the received document itself, and a text the model would
# normalise reads differently there ("GVL\u212a", with a Kelvin sign, is "GVLK" once normalised).
# Our agents and the Windows decoder build reports through the model, which normalises, so what
# they send is NFC; code that builds a model from what an OS reported gets it normalised.
RECEIVED = {"received": True}


def _text(value: str, info: ValidationInfo) -> str:
    # ASCII is always NFC and always valid UTF-8; most of a report is ASCII and this runs ~40
    # times per report.
    if value.isascii():
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text (a lone surrogate)") from None
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    if unicodedata.is_normalized("NFC", value):
        return value
    if info.context and info.context.get("received"):
        raise ValueError("is not in Unicode normal form C (NFC), as every secscan agent writes it")
    return unicodedata.normalize("NFC", value)


def _hostname(value: str, info: ValidationInfo) -> str:
    # Control characters are not refused here: what prints a hostname escapes it (a hostile name
    # is shown as what it is, and rows stored before this contract may hold one).
    value = _text(value, info)
    if not value.strip():
        raise ValueError("is empty")
    # The store matches hostnames casefolded in a String(255) column (identity.py); casefolding
    # can lengthen a name ("ß" → "ss"), so the casefolded form is held to the limit as well.
    if len(value) > HOSTNAME.max or len(value.casefold()) > HOSTNAME.max:
        raise ValueError(f"is longer than {HOSTNAME.max} characters (casefolded, as the store matches it)")
    return value


# Text that came from a machine we do not control: NFC-normalised, bounded in length so a hostile
# report cannot carry megabytes in a "name".
Text = Annotated[str, Strict(), Field(max_length=TEXT.max), AfterValidator(_text)]
ShortText = Annotated[str, Strict(), Field(max_length=SHORT_TEXT.max), AfterValidator(_text)]


def bounded_text(max_length: int) -> Any:
    """Text held to a shorter limit than ShortText's (the bound is part of the type, so the JSON
    Schema shows it too)."""
    return Annotated[str, Strict(), Field(max_length=max_length), AfterValidator(_text)]


# The identity of a PC and of the sender: each is stored in a column of its own (limits.py).
Hostname = Annotated[str, Strict(), Field(min_length=HOSTNAME.min, max_length=HOSTNAME.max), AfterValidator(_hostname)]
MachineId = Annotated[str, Strict(), Field(min_length=MACHINE_ID.min, max_length=MACHINE_ID.max, pattern=r"^[!-~]+$")]
UNIT_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"  # org.yaml's unit ids (model/org.py)
UnitId = Annotated[str, Strict(), Field(min_length=UNIT.min, max_length=UNIT.max, pattern=UNIT_ID_PATTERN)]
KeyId = Annotated[str, Strict(), Field(min_length=KEY_ID.min, max_length=KEY_ID.max, pattern=r"^[A-Za-z0-9]+$")]
# A MAC address as the agents write it (lowercase, colons); ASCII, so no normalisation to do.
Mac = Annotated[str, Strict(), Field(pattern=r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]
# no control characters (a pattern, so the JSON Schema says so too)
AgentVersion = Annotated[str, Strict(), Field(min_length=AGENT_VERSION.min, max_length=AGENT_VERSION.max,
                                              pattern=r"^[^\x00-\x1f\x7f-\x9f]+$"), AfterValidator(_text)]

# Numbers and booleans: JSON's own types, nothing coerced. ``Int`` carries the I-JSON range; a
# field with bounds of its own uses ``StrictInt`` with them (pydantic keeps only one set of
# bounds on a non-optional field).
Bool = Annotated[bool, Strict()]
StrictInt = Annotated[int, Strict()]
Int = Annotated[int, Strict(), Field(ge=-MAX_INT, le=MAX_INT)]
Float = Annotated[float, Strict()]  # a JSON integer is a number too; finite (Contract's allow_inf_nan)

_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)


def _datetime_text(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATETIME.fullmatch(value)):
        return value
    raise PydanticCustomError("datetime_type", "Input should be an ISO 8601 date and time with a time zone, as a "
                              "string (e.g. 2026-11-26T08:00:00+07:00)")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (e.g. 2026-11-26T08:00:00+07:00)")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the range of dates when converted to UTC") from None
    return value


AwareDatetime = Annotated[datetime, BeforeValidator(_datetime_text), AfterValidator(_aware)]


def _date_text(value: Any) -> Any:
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
            isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be an ISO 8601 date, as a string (e.g. 2026-11-26)")


Date = Annotated[date, BeforeValidator(_date_text)]


def _uuid_text(value: Any) -> Any:
    if isinstance(value, UUID) or (isinstance(value, str) and _UUID.fullmatch(value)):
        return value
    raise PydanticCustomError("uuid_type", "Input should be a valid UUID, as a string in its canonical form "
                              "(lowercase, hyphenated)")


Uuid = Annotated[UUID, BeforeValidator(_uuid_text)]


def _ip_text(value: Any) -> Any:
    if isinstance(value, (IPv4Address, IPv6Address)):
        return value
    if isinstance(value, str) and len(value) <= MAX_IP_TEXT and value.isascii() and value.isprintable():
        return value
    raise PydanticCustomError("ip_any_address", "Input should be an IP address, as a string of at most "
                              "{limit} printable characters", {"limit": MAX_IP_TEXT})


IPAddress = Annotated[IPvAnyAddress, BeforeValidator(_ip_text)]


def _raw(value: dict[str, Any]) -> dict[str, Any]:
    """A free-form member (what a decoder kept as the OS reported it): any JSON, but its strings
    are held to the same rules as every other (length, no NUL), and its nesting is bounded."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_RAW_DEPTH:
            raise ValueError(f"is nested deeper than {MAX_RAW_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                _raw_string(key)
                if isinstance(item, str):
                    _raw_string(item)
                elif isinstance(item, (dict, list)):
                    stack.append((item, depth + 1))
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, str):
                    _raw_string(item)
                elif isinstance(item, (dict, list)):
                    stack.append((item, depth + 1))
    return value


def _raw_string(value: Any) -> None:
    if not isinstance(value, str):
        return
    if len(value) > TEXT.max:
        raise ValueError(f"holds a string longer than {TEXT.max} characters")
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("holds a string that is not valid Unicode (a lone surrogate)") from None


Raw = Annotated[dict[str, Any], AfterValidator(_raw)]


class Contract(BaseModel):
    # allow_inf_nan=False: JSON has no inf or NaN; a number like 1e400 parses to inf and is refused
    # by the field that holds it, as the signed canonical JSON could not carry it either.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True, allow_inf_nan=False)


class ProbeStatus(StrEnum):
    ok = "ok"
    error = "error"  # the probe ran and failed, or its input was garbage
    timeout = "timeout"
    unsupported = "unsupported"  # not this OS, or the tool it needs is missing
    denied = "denied"  # needs privileges the agent did not have


class ProbeRecord(Contract):
    """How one probe went. ``sections`` names the HostReport paths it fills, so a control whose
    fact is missing can say *why* (e.g. "hardening.firewall: denied: nft needs root")."""

    name: ShortText
    status: ProbeStatus
    duration_ms: Float = Field(ge=0)
    error: Text | None = None
    sections: list[ShortText] = Field(default_factory=list)
