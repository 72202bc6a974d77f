"""Pieces shared by every contract: the strict base model and the probe status record.

Every contract forbids unknown fields (a typo in a report is an error, not a silently dropped
fact) and keeps every fact optional: ``None`` means "not observed", which policies evaluate to
unknown, never to pass.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _nfc(value: str) -> str:
    # ASCII is always NFC; most of a report is ASCII and this runs ~40 times per report.
    return value if value.isascii() else unicodedata.normalize("NFC", value)


# Text that came from a machine we do not control: NFC-normalised, bounded in length so a hostile
# report cannot carry megabytes in a "name".
Text = Annotated[str, Field(max_length=4096), AfterValidator(_nfc)]
ShortText = Annotated[str, Field(max_length=512), AfterValidator(_nfc)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone (e.g. 2026-11-26T08:00:00+07:00)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


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
    duration_ms: float = Field(ge=0)
    error: Text | None = None
    sections: list[ShortText] = Field(default_factory=list)
