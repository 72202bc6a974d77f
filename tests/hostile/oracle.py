"""An independent re-check of an accepted document: the contract read from its JSON Schema (the
published form of secscan/model, walked here by hand, not by pydantic) with the strict rules of
secscan/model/common.py and the table of limits; the signature with its unit's key; the unit
scope; and the verdicts of the policies on the stored document against those on the model's
dump of it.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from secscan.model import limits
from secscan.model.host import HostReport
from secscan.model.scan import ScanReport

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org.yaml"

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)


@cache
def schema_of(kind: str) -> dict[str, Any]:
    model = HostReport if kind == "host" else ScanReport
    return model.model_json_schema(by_alias=True)


def problems(doc: Any, kind: str = "host") -> list[str]:
    """What is wrong with ``doc`` under the strict contract; [] when nothing is."""
    schema = schema_of(kind)
    out: list[str] = []
    _check(schema, schema, doc, "", out)
    if kind == "host" and not out:
        host = doc["host"]
        name = host["hostname"]
        if not name.strip():
            out.append("host.hostname: blank")
        if len(name.casefold()) > limits.HOSTNAME.max:
            out.append("host.hostname: longer than the limit once casefolded")
    return out


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _check(root: dict[str, Any], node: dict[str, Any], value: Any, path: str, out: list[str]) -> None:
    node = _resolve(root, node)
    if "anyOf" in node:
        for option in node["anyOf"]:
            trial: list[str] = []
            _check(root, option, value, path, trial)
            if not trial:
                return
        out.append(f"{path}: matches none of {len(node['anyOf'])} alternatives ({value!r:.60})")
        return
    if "const" in node and not (type(value) is type(node["const"]) and value == node["const"]):
        out.append(f"{path}: not the constant {node['const']!r}")
        return
    if "enum" in node and not any(type(value) is type(e) and value == e for e in node["enum"]):
        out.append(f"{path}: not one of {node['enum']}")
        return
    kind = node.get("type")
    if kind == "null":
        if value is not None:
            out.append(f"{path}: not null")
    elif kind == "boolean":
        if type(value) is not bool:
            out.append(f"{path}: not a JSON boolean")
    elif kind == "integer":
        if type(value) is not int:
            out.append(f"{path}: not a JSON integer")
        else:
            _bounds(node, value, path, out)
            if abs(value) > limits.MAX_INT:
                out.append(f"{path}: integer beyond ±2**53-1")
    elif kind == "number":
        if type(value) not in (int, float) or (type(value) is float and not math.isfinite(value)):
            out.append(f"{path}: not a finite JSON number")
        else:
            _bounds(node, value, path, out)
    elif kind == "string":
        _string(node, value, path, out)
    elif kind == "array":
        if type(value) is not list:
            out.append(f"{path}: not an array")
            return
        if len(value) > node.get("maxItems", math.inf) or len(value) < node.get("minItems", 0):
            out.append(f"{path}: {len(value)} items, outside the bounds")
        for i, item in enumerate(value):
            _check(root, node.get("items", {}), item, f"{path}.{i}", out)
    elif kind == "object" or "properties" in node:
        if type(value) is not dict:
            out.append(f"{path}: not an object")
            return
        props = node.get("properties", {})
        for name in node.get("required", []):
            if name not in value:
                out.append(f"{path}.{name}: missing")
        extra = node.get("additionalProperties", True)
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key in props:
                _check(root, props[key], item, sub, out)
            elif extra is False:
                out.append(f"{sub}: not a member of the contract")
            else:
                _free_form(item, sub, out, 1)
    elif kind is None and not node:
        _free_form(value, path, out, 1)


def _bounds(node: dict[str, Any], value: float, path: str, out: list[str]) -> None:
    if "minimum" in node and value < node["minimum"]:
        out.append(f"{path}: below {node['minimum']}")
    if "maximum" in node and value > node["maximum"]:
        out.append(f"{path}: above {node['maximum']}")
    if "exclusiveMinimum" in node and value <= node["exclusiveMinimum"]:
        out.append(f"{path}: not above {node['exclusiveMinimum']}")
    if "exclusiveMaximum" in node and value >= node["exclusiveMaximum"]:
        out.append(f"{path}: not below {node['exclusiveMaximum']}")


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "holds a NUL"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not UTF-8 (a lone surrogate)"
    if not unicodedata.is_normalized("NFC", value):
        return "not NFC"
    return None


def _string(node: dict[str, Any], value: Any, path: str, out: list[str]) -> None:
    if type(value) is not str:
        out.append(f"{path}: not a JSON string")
        return
    bad = _text_problem(value)
    if bad:
        out.append(f"{path}: {bad}")
    if len(value) > node.get("maxLength", limits.TEXT.max) or len(value) < node.get("minLength", 0):
        out.append(f"{path}: length {len(value)} outside the bounds")
    if "pattern" in node and not re.search(node["pattern"], value):
        out.append(f"{path}: does not match {node['pattern']}")
    fmt = node.get("format")
    if fmt == "date-time":
        if not _DATETIME.fullmatch(value):
            out.append(f"{path}: not ISO 8601 with a time zone")
            return
        try:
            datetime.fromisoformat(value).astimezone(UTC)
        except (ValueError, OverflowError):
            out.append(f"{path}: not a date and time that converts to UTC")
    elif fmt == "date":
        try:
            ok = bool(_DATE.fullmatch(value)) and date.fromisoformat(value) is not None
        except ValueError:
            ok = False
        if not ok:
            out.append(f"{path}: not an ISO 8601 date")
    elif fmt == "uuid":
        if not _UUID.fullmatch(value):
            out.append(f"{path}: not a canonical UUID")
    elif fmt == "ipvanyaddress":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            out.append(f"{path}: not an IP address")


def _free_form(value: Any, path: str, out: list[str], depth: int) -> None:
    if depth > limits.MAX_RAW_DEPTH + 1:
        out.append(f"{path}: nested too deep")
        return
    if isinstance(value, str):
        bad = _text_problem(value)
        if bad and bad != "not NFC":  # free-form members keep what the OS reported
            out.append(f"{path}: {bad}")
        if len(value) > limits.TEXT.max:
            out.append(f"{path}: longer than {limits.TEXT.max}")
    elif isinstance(value, dict):
        for key, item in value.items():
            _free_form(key, path, out, depth)
            _free_form(item, f"{path}.{key}", out, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _free_form(item, f"{path}.{i}", out, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        out.append(f"{path}: not finite")


# --- the policies on the stored document and on the model's dump of it ------------------------


@cache
def judge() -> tuple[Any, Any]:
    from secscan.policy import default_baseline, load_org

    return load_org(ORG), default_baseline()


def verdicts(doc: dict[str, Any], unit: str | None) -> list[tuple[str, str]]:
    from secscan.policy import evaluate_host

    org, baseline = judge()
    if unit is not None:
        doc = {**doc, "unit": unit}  # as the collector judges it (collector/cli.py policy_evaluator)
    return [(r.control_id, str(r.outcome)) for r in evaluate_host(doc, org, baseline)]


def verdict_mismatch(doc: dict[str, Any], unit: str | None) -> str | None:
    """None when the policies judge the stored document as they judge the model's reading of it."""
    as_stored = verdicts(doc, unit)
    as_model = verdicts(HostReport.model_validate(doc).to_document(), unit)
    if as_stored == as_model:
        return None
    diff = sorted(set(as_stored) ^ set(as_model))
    return f"verdicts differ: {diff[:6]}"
