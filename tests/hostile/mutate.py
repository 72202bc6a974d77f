"""Mutations of valid signed HostReports, as an attacker (or a broken agent) would send them.

``mutate(base, tokens, rnd)`` takes a valid document of one unit and a ``random.Random`` (from
hypothesis's ``st.randoms()`` in the tests, seeded in bench/hostile.py) and returns the bytes to
send: one to three changes anywhere in the document (a path of the contract, present or not,
or an unknown member), each a value of the wrong type, at or past a limit, or hostile text; then
signed again with the unit's token (most often, so that the contract itself is tested), or sent
with the old signature, another unit's, a forged key id, or none; sometimes changed again after
signing, in the JSON text itself.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from secscan.model import limits
from secscan.model.host import HostReport
from secscan.model.signing import parse_token, sign

Path = tuple[str | int, ...]


@dataclass
class Mutation:
    body: bytes
    unit: str  # the unit whose token pushes it (HTTP) and whose documents it started from
    report_id: str | None  # the report_id it carries, when a string
    ops: list[str] = field(default_factory=list)  # what was done, for a failure message
    # the paths changed; where a change created containers on its way, the first one created
    paths: list[Path] = field(default_factory=list)
    signing: str = "resign"  # resign | stale | other | unsigned | keyid
    text_level: bool = False  # changed after signing, in the JSON text

    def describe(self) -> str:
        return f"[{self.signing}{', text' if self.text_level else ''}] " + "; ".join(self.ops)


@cache
def contract_paths() -> tuple[tuple[Path, str], ...]:
    """Every member path of the HostReport contract (list items as index 0) with the kind of
    value it holds: bool, int, number, datetime, date, uuid, ip, enum, string, object, array."""
    schema = HostReport.model_json_schema(by_alias=True)
    out: list[tuple[Path, str]] = []

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in node:
                node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
            elif "anyOf" in node:
                real = [o for o in node["anyOf"] if o.get("type") != "null"]
                node = real[0] if real else node["anyOf"][0]
            else:
                return node

    def walk(node: dict[str, Any], path: Path, depth: int) -> None:
        node = resolve(node)
        kind = node.get("type")
        fmt = node.get("format")
        label = {"boolean": "bool", "integer": "int", "number": "number", "object": "object",
                 "array": "array"}.get(kind or "", "string")
        if "enum" in node or "const" in node:
            label = "enum"
        elif fmt in ("date-time", "date", "uuid"):
            label = {"date-time": "datetime", "date": "date", "uuid": "uuid"}[fmt]
        elif fmt == "ipvanyaddress":
            label = "ip"
        if path:
            out.append((path, label))
        if depth > 6:
            return
        if kind == "object" and "properties" in node:
            for name, sub in node["properties"].items():
                walk(sub, (*path, name), depth + 1)
        elif kind == "array":
            walk(node.get("items", {}), (*path, 0), depth + 1)

    walk(schema, (), 0)
    return tuple(out)


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


# --- hostile values ------------------------------------------------------------------------

def _future(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


HOSTILE_TEXT = [
    "", " ", "\t", "a\x00b", "\x00", "\x1b[31mred\x1b[0m", "[/bold]", "[link=http://127.0.0.1:9/]x[/link]",
    "\u202eevil\u202c", "e\u0301", "Windows \u212a", "GVL\u212a", "ß" * 128, "ﬁ" * 200, "İ" * 100, "\U0001f600" * 3,
    "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "a\nb", "line\r\nbreak", "\\u0000", "%s%n", "../../etc/passwd",
    "Xã Văn Lang", "Xa\u0303 Va\u0306n Lang",
]


def _text_at(rnd: random.Random, n: int) -> str:
    char = rnd.choice(["a", "Đ", "ß", "\U0001f600", "x"])
    return (char * n)[:n] if len(char) == 1 else char * n


def hostile_value(rnd: random.Random, kind: str, current: Any, path: Path) -> Any:
    name = str(path[-1]) if path else ""
    common: list[Any] = [None, True, False, 0, -1, 1.5, "", "x", [], {}, [None], {"x": 1}]
    if kind == "bool":
        pool = [1, 0, "true", "false", "yes", "no", "True", 1.0, None, [True]]
    elif kind == "int":
        v = current if type(current) is int else 3
        pool = [str(v), float(v), v + 0.5, True, False, limits.MAX_INT, limits.MAX_INT + 1, -limits.MAX_INT - 1,
                2**63, 2**64, -(2**63) - 1, 10**30, -1, "0x10", " 3", "3 ", "1e3", 1e3, None, 65535, 65536]
    elif kind == "number":
        v = current if type(current) in (int, float) else 3.5
        pool = [str(v), True, int(v) if v == v else 0, 1e308, -1e308, -0.0, -1.0, 0.1, 2**64, 10**400,
                "NaN", "Infinity", None, "1e3"]
    elif kind == "datetime":
        pool = ["1700000000", 1700000000, 1.7e9, "2026-11-20", "2026-11-20T08:00:00", "2026-11-20 08:00:00+07:00",
                "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59+14:00",
                "2099-01-01T00:00:00Z", _future(23), _future(25), "2026-11-20T08:00:00.1234567Z",
                "2026-11-20T08:00:00+07", "2026-02-30T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T08:00:00-00:00",
                "+02026-11-20T08:00:00Z", "2026-11-20T08:00:00+24:00", "2026-11-20t08:00:00z", "20261120T080000Z",
                "2026-11-20T08:00:00Z\n", "0000-01-01T00:00:00Z", "2026-11-20T08:00:00+07:00"]
    elif kind == "date":
        pool = ["2026-11-20T00:00:00Z", "20261120", 1700000000, "2026-13-01", "2026-11-20", "9999-12-31", "0000-01-01"]
    elif kind == "uuid":
        u = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        pool = [u.upper(), "urn:uuid:" + u, "{" + u + "}", u.replace("-", ""), uuid.UUID(u).int, u + " ", u[:-1],
                "00000000-0000-0000-0000-000000000000", u]
    elif kind == "ip":
        pool = [167772161, "010.0.0.1", "10.0.0.256", "fe80::1%eth0", "fe80::1%" + "x" * 100, "::ffff:10.0.0.1",
                "10.0.0.0/24", "", "10.0.0.1\x00", "FE80::ABCD", " 10.0.0.1", "10.1", "0x0a000001", "::",
                "255.255.255.255"]
    elif kind == "enum":
        s = current if isinstance(current, str) else "on"
        pool = [s.upper(), s.title(), f" {s}", f"{s} ", s + "\x00", "unknown", 1, True, None, "secscan.host-report/2"]
    elif kind == "object":
        pool = [[], "x", None, 1, {}, {"unknown_member": 1}, [current] if current is not None else [{}]]
    elif kind == "array":
        items = current if isinstance(current, list) else []
        pool = [{}, "x", None, [None], [1], ["x"], [[]], items[:1] * (limits.INTERFACES.max + 1) if items else [{}]]
    else:  # string
        pool = [
            *HOSTILE_TEXT, _text_at(rnd, limits.SHORT_TEXT.max), _text_at(rnd, limits.SHORT_TEXT.max + 1),
            _text_at(rnd, limits.TEXT.max), _text_at(rnd, limits.TEXT.max + 1), "x" * 100_000, 7, 3.5, True,
        ]
        if name == "hostname":
            pool += ["a" * limits.HOSTNAME.max, "a" * (limits.HOSTNAME.max + 1), "ß" * 128, "ß" * 127 + "a",
                     "Đ" * limits.HOSTNAME.max, " " * 3, "PC\x00"]
        elif name == "machine_id":
            pool += ["m" * limits.MACHINE_ID.max, "m" * (limits.MACHINE_ID.max + 1), "a b", "é" * 10, "\x7f"]
        elif name == "key_id":
            pool += ["k" * 32, "k" * 33, "short", "abc\x00defgh", "ABCDEFGH"]
        elif name == "version":
            pool += ["v" * limits.AGENT_VERSION.max, "v" * (limits.AGENT_VERSION.max + 1), "1.0\x1b[2J"]
        elif name == "unit":
            pool += ["vinh-chan", "van-lang", "hahoa", "u" * 64, "u" * 65, "VAN-LANG", "no-such-unit", None]
        elif name == "mac":
            pool += ["AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:f", "00:00:00:00:00:00",
                     "02:00:00:00:00:01"]
    return rnd.choice(pool if rnd.random() < 0.85 else common)


UNKNOWN_KEYS = ["x", "surprise", "surprise\nline", "\x1b[31m", "a" * 1000, "__proto__", "", "Host", "host ",
                "unit\x00", "schema.", "$ref"]


# --- applying changes ----------------------------------------------------------------------

def _parent(doc: Any, path: Path, create: bool) -> tuple[Any, str | int, Path] | None:
    """(the container of ``path``'s last member, that member, the path changed: ``path``, or
    the first container created on the way to it)."""
    node = doc
    anchor: Path | None = None
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, dict):
            if part not in node or not isinstance(node[part], (dict, list)):
                if not create:
                    return None
                node[part] = [] if isinstance(nxt, int) else {}
                anchor = anchor or path[: i + 1]
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            if not node:
                if not create:
                    return None
                node.append([] if isinstance(nxt, int) else {})
                anchor = anchor or path[: i + 1]
            node = node[min(part, len(node) - 1)]
            if not isinstance(node, (dict, list)):
                return None
        else:
            return None
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int):
            return None
        if not node:
            if not create:
                return None
            node.append(None)
            anchor = anchor or path
        return node, min(last, len(node) - 1), anchor or path
    if isinstance(node, dict) and isinstance(last, str):
        return node, last, anchor or path
    return None


def _existing_paths(doc: Any, path: Path = ()) -> list[Path]:
    out = [path] if path else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _existing_paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            out += _existing_paths(v, (*path, i))
    return out


def _kind_of(path: Path) -> str:
    generic = tuple(0 if isinstance(p, int) else p for p in path)
    for known, kind in contract_paths():
        if known == generic:
            return kind
    return "string"


def change(doc: dict[str, Any], rnd: random.Random) -> tuple[str, Path]:
    """One change to ``doc`` in place: (description, the path changed)."""
    roll = rnd.random()
    if roll < 0.55:  # a value, at a path of the contract or one the document has
        if rnd.random() < 0.5:
            path, kind = rnd.choice(contract_paths())
        else:
            paths = _existing_paths(doc)
            path = rnd.choice(paths)
            kind = _kind_of(path)
        spot = _parent(doc, path, create=True)
        if spot is None:
            return "no-op", path
        parent, key, anchor = spot
        current = parent[key] if (isinstance(parent, dict) and key in parent) or isinstance(parent, list) else None
        value = hostile_value(rnd, kind, current, path)
        parent[key] = value
        return f"set {dotted(path)} ({kind}) = {value!r:.80}", anchor
    if roll < 0.7:  # a member removed
        paths = [p for p in _existing_paths(doc) if isinstance(p[-1], str)]
        path = rnd.choice(paths)
        spot = _parent(doc, path, create=False)
        if spot is not None:
            parent, key, _ = spot
            parent.pop(key, None)
        return f"del {dotted(path)}", path
    if roll < 0.8:  # an unknown member
        containers = [p for p in _existing_paths(doc) if isinstance(_get(doc, p), dict)] + [()]
        path = rnd.choice(containers)
        node = _get(doc, path) if path else doc
        key = rnd.choice(UNKNOWN_KEYS)
        node[key] = rnd.choice([1, "x", None, {"y": [1]}])
        return f"add {dotted((*path, key))!r:.80}", (*path, key)
    if roll < 0.9:  # a list grown past its limit, or emptied
        path = ("host", "interfaces")
        interfaces = doc.get("host", {}).get("interfaces") if isinstance(doc.get("host"), dict) else None
        if isinstance(interfaces, list) and interfaces:
            n = rnd.choice([0, limits.INTERFACES.max, limits.INTERFACES.max + 1, 50])
            proto = interfaces[0]
            grown = []
            for i in range(n):
                item = dict(proto) if isinstance(proto, dict) else {}
                item["mac"] = f"00:1a:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}:{rnd.randrange(256):02x}"
                grown.append(item)
            doc["host"]["interfaces"] = grown
            return f"host.interfaces has {n} items", path
        return "no-op", path
    # one of the identity fields the store files by
    path, kind = rnd.choice([(("host", "hostname"), "string"), (("host", "machine_id"), "string"),
                             (("unit",), "string"), (("collected_at",), "datetime"),
                             (("agent", "version"), "string"), (("report_id",), "uuid")])
    spot = _parent(doc, path, create=True)
    if spot is None:
        return "no-op", path
    parent, key, anchor = spot
    parent[key] = hostile_value(rnd, kind, parent.get(key) if isinstance(parent, dict) else None, path)
    return f"set {dotted(path)} = {parent[key]!r:.80}", anchor


def _get(doc: Any, path: Path) -> Any:
    node = doc
    for part in path:
        node = node[part]
    return node


TEXT_CHANGES = ["1e400", "surrogate", "bom", "truncate", "garbage", "duplicate-unit", "nan", "nul-byte", "latin1"]


def _text_change(body: bytes, rnd: random.Random) -> tuple[bytes, str]:
    what = rnd.choice(TEXT_CHANGES)
    if what == "1e400":
        return body.replace(b'"duration_ms": ', b'"duration_ms": 1e400, "x": ', 1), what
    if what == "surrogate":
        return body.replace(b'"hostname": "', b'"hostname": "\\ud800', 1), what
    if what == "bom":
        return b"\xef\xbb\xbf" + body, what
    if what == "truncate":
        return body[: rnd.randrange(len(body))], what
    if what == "garbage":
        return body + rnd.choice([b"x", b"{}", b"\x00", b"\n\n"]), what
    if what == "duplicate-unit":
        return body.replace(b"{", b'{"unit": "vinh-chan", ', 1), what
    if what == "nan":
        return body.replace(b'"duration_ms": ', b'"duration_ms": NaN, "y": ', 1), what
    if what == "nul-byte":
        return body.replace(b'"hostname": "', b'"hostname": "\x00', 1), what
    return body.decode("utf-8").encode("latin-1", "replace"), what


def mutate(base: dict[str, Any], unit: str, tokens: dict[str, str], rnd: random.Random) -> Mutation:
    """A mutation of ``base`` (a valid document of ``unit``, unsigned); ``tokens``: unit → token."""
    doc = copy.deepcopy(base)
    doc["report_id"] = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    signing = rnd.choices(["resign", "stale", "other", "unsigned", "keyid"], [70, 10, 10, 5, 5])[0]
    token = tokens[unit]
    if signing == "stale":
        doc = sign(doc, token)
    ops, paths = [], []
    for _ in range(rnd.choices([1, 2, 3], [60, 25, 15])[0]):
        op, path = change(doc, rnd)
        ops.append(op)
        paths.append(path)
    if signing in ("resign", "keyid", "other"):  # a changed signature member is replaced: signed anew
        signer = token if signing != "other" else tokens[rnd.choice([u for u in tokens if u != unit])]
        try:
            doc = sign({k: v for k, v in doc.items() if k != "signature"}, signer)
        except (TypeError, ValueError):  # a value json cannot write (nan, inf): sent unsigned
            signing = "unsigned"
        if signing == "keyid" and isinstance(doc.get("signature"), dict):
            doc["signature"]["key_id"] = rnd.choice([parse_token(tokens[u])[0] for u in tokens if u != unit]
                                                    + ["0123456789ab", "k" * 33])
    elif signing == "unsigned":
        doc.pop("signature", None)
    try:
        body = json.dumps(doc, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError) as exc:
        body = repr(exc).encode()
    text_level = rnd.random() < 0.08
    if text_level:
        body, what = _text_change(body, rnd)
        ops.append(f"text: {what}")
    rid = doc.get("report_id") if isinstance(doc.get("report_id"), str) else None
    return Mutation(body, unit, rid, ops, paths, signing, text_level)
