"""A finding's evidence as one short line per PC, in the report's language: "Windows Defender, đã
tắt, thời gian thực tắt" rather than the facts' JSON. How each fact path reads (and, where a control
needs its own reading, how that control's facts read) is data: ``reports/i18n/evidence.<lang>.yaml``.
A fact path without a reading there is shown by its last name and value. The raw facts stay in the
SOC feed's result events and the CSV."""

from __future__ import annotations

import re
import string
from functools import cache
from typing import Any

from secscan.model.result import Outcome, Result
from secscan.report.numbers import fmt_num
from secscan.report.texts import data_file

_FIELDS = string.Formatter()
_LABELS = ("name", "product", "tool", "kind", "port")  # what names a list item without a reading


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut after a whole word with "…", never inside one."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:(") + "…"


class EvidenceReader:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        spec = data_file(f"i18n/evidence.{lang}.yaml")
        self.spec = spec
        self.max: int = spec["max"]
        self.facts: dict[str, Any] = spec["facts"]
        self.controls: dict[str, dict[str, Any]] = spec.get("controls") or {}
        self.skip = set(spec.get("skip") or ())

    def line(self, result: Result) -> str:
        """The evidence of one result on one PC, one line; for an unjudged one, why."""
        if result.outcome is Outcome.unknown:
            reason = result.reason or self.spec["none"]
            return cut(self.spec["unknown"].format(reason=reason), self.max)
        own = self.controls.get(result.control_id, {})
        parts = [self.fact(path, value, own.get(path) or self.facts.get(path))
                 for path, value in (result.evidence or {}).items() if path not in self.skip]
        return cut("; ".join(p for p in parts if p), self.max)

    def fact(self, path: str, value: Any, reading: dict[str, Any] | None) -> str:
        if reading is None:
            return f"{path.rsplit('.', 1)[-1]}: {self._plain_value(value)}"
        if "each" in reading:
            if not isinstance(value, list):
                return self.value(value, "value", reading)
            if not value:
                return reading.get("empty", "")
            most = reading.get("most", 3)
            items = [self.item(x, reading) for x in value[:most]]
            text = "; ".join(i for i in items if i)
            if len(value) > most:
                text += " " + self.spec["more"].format(n=fmt_num(len(value) - most, self.lang))
            return text
        return reading.get("say", "{value}").format(value=self.value(value, "value", reading))

    def item(self, item: Any, reading: dict[str, Any]) -> str:
        if not isinstance(item, dict):
            return self.value(item, "value", reading)
        segments = []
        for segment in reading["each"]:
            fields = [f for _, f, _, _ in _FIELDS.parse(segment) if f]
            if any(item.get(f) is None for f in fields):
                continue  # a segment about a field nobody could read is left out
            segments.append(segment.format(**{f: self.value(item[f], f, reading) for f in fields}))
        return ", ".join(segments)

    def value(self, value: Any, field: str, reading: dict[str, Any]) -> str:
        words = (reading.get("words") or {}).get(field) or {}
        if value in words and not isinstance(value, float):
            return words[value]
        if field in (reading.get("plain") or ()):
            return str(value)
        return self._plain_value(value)

    def _plain_value(self, value: Any) -> str:
        if value is None:
            return self.spec["none"]
        if isinstance(value, bool):
            return self.spec["bool"][value]
        if isinstance(value, int):
            return fmt_num(value, self.lang)
        if isinstance(value, float):
            return fmt_num(value, self.lang, 0 if value.is_integer() else 1)
        if isinstance(value, list):
            names = [self._label(x) for x in value[:3]]
            more = f" {self.spec['more'].format(n=fmt_num(len(value) - 3, self.lang))}" if len(value) > 3 else ""
            return ", ".join(names) + more if names else "—"
        if isinstance(value, dict):
            return self._label(value)
        return re.sub(r"\s+", " ", str(value))

    def _label(self, value: Any) -> str:
        if isinstance(value, dict):
            label = next((value[k] for k in _LABELS if value.get(k) is not None), None)
            return str(label) if label is not None else "…"
        return self._plain_value(value)


@cache
def reader(lang: str) -> EvidenceReader:
    return EvidenceReader(lang)
