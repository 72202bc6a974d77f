"""JMESPath expressions: parsed by the ``jmespath`` library, then turned into Python closures.

Why not ``jmespath.compile(...).search``: its tree interpreter costs 10–20 µs per expression;
a district re-evaluation is fine with that, a province (10,000 PCs × 25 controls, re-run whenever
a decision or a policy changes) and the 20,000 hosts/s target are not. The closures below follow
``jmespath.visitor.TreeInterpreter`` node for node (same truthiness, the same 0/1-vs-bool
equality rule, ordering only between numbers or strings); functions are jmespath's own. Nothing
is ever passed to Python ``eval``: the only input is jmespath's AST.

The same AST walk checks fact paths against a JSON Schema (lint) and lists the *root paths* an
expression reads (``antivirus.products``, ``hardening.rdp.enabled``): the facts that must be
present for a verdict and that are recorded as evidence.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Number
from typing import Any

import jmespath
from jmespath import functions as jp_functions
from jmespath.exceptions import JMESPathError

Fn = Callable[[Any], Any]
_FUNCTIONS = jp_functions.Functions()


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, Number)


def _equals(x: Any, y: Any) -> bool:
    # jmespath: 0/1 never equal false/true (Python says 1 == True).
    if _is_number(x) and x in (0, 1):
        if isinstance(y, bool):
            return False
    elif _is_number(y) and y in (0, 1) and isinstance(x, bool):
        return False
    return x == y


def _comparable(x: Any) -> bool:
    return _is_number(x) or isinstance(x, str)


def is_false(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


_ORDER = {"lt": operator.lt, "gt": operator.gt, "lte": operator.le, "gte": operator.ge}
_ORDER_EQ = {**_ORDER, "eq": operator.eq, "ne": operator.ne}  # for len(...) vs a number: no bool quirk


class _Expression:  # the class name is what jmespath type-checks as "expref"
    """What jmespath's sort_by/map/min_by/max_by expect: ``.expression`` and ``.visit``."""

    def __init__(self, fn: Fn):
        self.fn = fn
        self.expression = None

    def visit(self, _node: Any, value: Any) -> Any:
        return self.fn(value)


def _field(name: str) -> Fn:
    def get(value: Any) -> Any:
        return value.get(name) if value.__class__ is dict else None

    return get


def _chain(names: list[str]) -> Fn:
    """A run of plain field lookups, the most common shape (``hardening.smb.smb1_server``).
    Indexing inside try is twice as fast as testing each step, and gives the same answer: a
    missing key, or a step that is not an object (null, list, string, number), yields null."""
    if len(names) == 1:
        return _field(names[0])
    if len(names) == 2:
        a, b = names

        def get2(v: Any) -> Any:
            try:
                return v[a][b]
            except (KeyError, TypeError):
                return None

        return get2
    if len(names) == 3:
        a, b, c = names

        def get3(v: Any) -> Any:
            try:
                return v[a][b][c]
            except (KeyError, TypeError):
                return None

        return get3
    keys = tuple(names)

    def getn(v: Any) -> Any:
        for k in keys:
            if v.__class__ is not dict:
                return None
            v = v.get(k)
        return v

    return getn


def _compile(node: dict[str, Any]) -> Fn:  # one branch per JMESPath node type
    kind = node["type"]
    children = node.get("children", [])

    if kind == "field":
        return _field(node["value"])
    if kind in ("subexpression", "index_expression", "pipe"):
        if kind == "subexpression" and all(c["type"] == "field" for c in children):
            return _chain([c["value"] for c in children])
        steps = [_compile(c) for c in children]
        if len(steps) == 2:
            first, second = steps
            return lambda v: second(first(v))

        def run(v: Any) -> Any:
            for step in steps:
                v = step(v)
            return v

        return run
    if kind in ("identity", "current"):
        return lambda v: v
    if kind == "literal":
        const = node["value"]
        return lambda v: const
    if kind == "comparator":
        fused = _fused_comparator(node)
        if fused is not None:
            return fused
        left, right = _compile(children[0]), _compile(children[1])
        op = node["value"]
        if op == "eq":
            return lambda v: _equals(left(v), right(v))
        if op == "ne":
            return lambda v: not _equals(left(v), right(v))
        order = _ORDER[op]

        def compare(v: Any) -> Any:
            a, b = left(v), right(v)
            if not (_comparable(a) and _comparable(b)):
                return None
            try:
                return order(a, b)
            except TypeError:  # number vs string: jmespath raises too; we call it unknown
                return None

        return compare
    if kind == "and_expression":
        left, right = _compile(children[0]), _compile(children[1])

        def and_(v: Any) -> Any:
            a = left(v)
            if a is True:
                return right(v)
            return a if a is False or a is None or is_false(a) else right(v)

        return and_
    if kind == "or_expression":
        left, right = _compile(children[0]), _compile(children[1])

        def or_(v: Any) -> Any:
            a = left(v)
            if a is True:
                return a
            return right(v) if a is False or a is None or is_false(a) else a

        return or_
    if kind == "not_expression":
        inner = _compile(children[0])

        def not_(v: Any) -> Any:
            a = inner(v)
            if _is_number(a) and a == 0:
                return False
            return is_false(a)

        return not_
    if kind == "index":
        i = node["value"]

        def index(v: Any) -> Any:
            if v.__class__ is not list:
                return None
            try:
                return v[i]
            except IndexError:
                return None

        return index
    if kind == "slice":
        s = slice(*children)
        return lambda v: v[s] if v.__class__ is list else None
    if kind == "projection":
        base, each = _compile(children[0]), _compile(children[1])
        identity = children[1]["type"] == "identity"

        def project(v: Any) -> Any:
            items = base(v)
            if items.__class__ is not list:
                return None
            if identity:
                return [x for x in items if x is not None]
            return [r for r in map(each, items) if r is not None]

        return project
    if kind == "value_projection":
        base, each = _compile(children[0]), _compile(children[1])

        def project_values(v: Any) -> Any:
            obj = base(v)
            if obj.__class__ is not dict:
                return None
            return [r for r in map(each, obj.values()) if r is not None]

        return project_values
    if kind == "filter_projection":
        base, each, cond = _compile(children[0]), _compile(children[1]), _compile(children[2])
        identity = children[1]["type"] == "identity"

        def filter_(v: Any) -> Any:
            items = base(v)
            if items.__class__ is not list:
                return None
            if identity:
                out = []
                for x in items:
                    r = cond(x)
                    if (r is True or (r is not False and r is not None and not is_false(r))) and x is not None:
                        out.append(x)
                return out
            out = []
            for x in items:
                r = cond(x)
                if r is True or (r is not False and r is not None and not is_false(r)):
                    r = each(x)
                    if r is not None:
                        out.append(r)
            return out

        return filter_
    if kind == "flatten":
        base = _compile(children[0])

        def flatten(v: Any) -> Any:
            items = base(v)
            if items.__class__ is not list:
                return None
            out: list[Any] = []
            for x in items:
                if isinstance(x, list):
                    out.extend(x)
                else:
                    out.append(x)
            return out

        return flatten
    if kind == "multi_select_list":
        parts = [_compile(c) for c in children]
        return lambda v: None if v is None else [p(v) for p in parts]
    if kind == "multi_select_dict":
        pairs = [(c["value"], _compile(c["children"][0])) for c in children]
        return lambda v: None if v is None else {k: p(v) for k, p in pairs}
    if kind == "expref":
        ref = _Expression(_compile(children[0]))
        return lambda v: ref
    if kind == "function_expression":
        name = node["value"]
        args = [_compile(c) for c in children]
        if name == "length" and len(args) == 1:
            arg = args[0]

            def length(v: Any) -> Any:
                x = arg(v)
                if x.__class__ in (list, dict, str):
                    return len(x)
                return _FUNCTIONS.call_function("length", [x])  # raises jmespath's type error

            return length
        native = _NATIVE.get(name)
        if native is not None and len(args) == native[0]:
            return native[1](name, args)
        return lambda v: _FUNCTIONS.call_function(name, [a(v) for a in args])
    raise ValueError(f"unsupported JMESPath node {kind!r}")


def _chain_names(node: dict[str, Any]) -> list[str] | None:
    if node["type"] == "field":
        return [node["value"]]
    if node["type"] == "subexpression" and all(c["type"] == "field" for c in node["children"]):
        return [c["value"] for c in node["children"]]
    return None


def _fused_comparator(node: dict[str, Any]) -> Fn | None:
    """``a.b.c == `true```, ``a.b <= `30```: the commonest shape, in one closure (no nested calls)."""
    left, right = node["children"]
    if _is_length(left) and right["type"] == "literal" and _is_number(right["value"]) and node["value"] in _ORDER_EQ:
        inner = left["children"][0]
        if (inner["type"] == "filter_projection" and inner["children"][1]["type"] == "identity"
                and right["value"] == 0 and node["value"] in ("gt", "eq")):
            return _any_match(inner, want=node["value"] == "gt")  # length(xs[?c]) > `0` / == `0`
        return _fused_length(_compile(inner), node["value"], right["value"])
    if _is_length(left) and _is_length(right) and node["value"] in _ORDER_EQ:
        return _fused_lengths(_compile(left["children"][0]), node["value"], _compile(right["children"][0]))
    names = _chain_names(left)
    if names is None or right["type"] != "literal":
        return None
    return _path_compare(tuple(names), node["value"], right["value"], null_is_unknown=False)


def _path_compare(keys: tuple[str, ...], op: str, const: Any, null_is_unknown: bool) -> Fn | None:
    """One closure for ``path == `true``` / ``path <= `30```: walk and compare without nested calls.
    With ``null_is_unknown`` a null fact gives None (the caller's "unknown") instead of false."""
    if op in ("eq", "ne") and (const is None or isinstance(const, bool)):
        want = op == "eq"
        missing = None if null_is_unknown else (const is None) is want

        def eq_identity(v: Any) -> Any:  # true, false and null are singletons: `is` is jmespath's ==
            try:
                for k in keys:
                    v = v[k]
            except (KeyError, TypeError):
                return missing
            if v is None:
                return missing
            return (v is const) is want

        return eq_identity
    if op in ("eq", "ne") and isinstance(const, str):
        want = op == "eq"
        missing = None if null_is_unknown else not want

        def eq_string(v: Any) -> Any:
            try:
                for k in keys:
                    v = v[k]
            except (KeyError, TypeError):
                return missing
            if v is None:
                return missing
            return (v.__class__ is str and v == const) is want

        return eq_string
    if op in _ORDER and _is_number(const):
        order = _ORDER[op]

        def compare_number(v: Any) -> Any:
            try:
                for k in keys:
                    v = v[k]
            except (KeyError, TypeError):
                return None
            if v.__class__ is int or v.__class__ is float:
                return order(v, const)
            return None  # null, bool, string, list: not comparable with a number

        return compare_number
    return None


def _is_length(node: dict[str, Any]) -> bool:
    return node["type"] == "function_expression" and node["value"] == "length" and len(node["children"]) == 1


def _sized(x: Any) -> int:
    if x.__class__ is list or x.__class__ is dict or x.__class__ is str:
        return len(x)
    return _FUNCTIONS.call_function("length", [x])  # raises jmespath's type error, as the interpreter would


def _fused_lengths(left: Fn, op: str, right: Fn) -> Fn:
    """``length(xs[?good]) == length(xs)``: the "every item" shape; two counts, no bool quirk."""
    order = _ORDER_EQ[op]

    def lengths_compare(v: Any) -> Any:
        return order(_sized(left(v)), _sized(right(v)))

    return lengths_compare


def _any_match(node: dict[str, Any], want: bool) -> Fn:
    """``length(xs[?c]) > `0``` without building the filtered list: stop at the first match."""
    base, cond = _compile(node["children"][0]), _compile(node["children"][2])

    def any_match(v: Any) -> Any:
        items = base(v)
        if items.__class__ is not list:
            _sized(None)  # length(null): jmespath's type error
        for x in items:
            r = cond(x)  # on null items too, as jmespath does (a type error there is an error here)
            if (r is True or (r is not False and r is not None and not is_false(r))) and x is not None:
                return want
        return not want

    return any_match


def _fused_length(arg: Fn, op: str, const: Any) -> Fn:
    """``length(xs[?...]) > `0```: the list controls' shape."""
    order = _ORDER_EQ[op]

    def length_compare(v: Any) -> Any:
        x = arg(v)
        if x.__class__ is list or x.__class__ is dict or x.__class__ is str:
            return order(len(x), const)
        _FUNCTIONS.call_function("length", [x])  # raises jmespath's type error, as the interpreter would
        return None

    return length_compare


def guarded(text: str) -> tuple[Fn, tuple[str, ...]] | None:
    """For ``path op literal`` (one fact, compared to a constant): a closure that returns None when
    the fact is null (so the caller says unknown) and the comparison otherwise, plus the path.
    Lets the hot loop skip a separate null check for the commonest controls."""
    node = parse(text)
    if node["type"] != "comparator":
        return None
    left, right = node["children"]
    names = _chain_names(left)
    if names is None or right["type"] != "literal":
        return None
    keys = tuple(names)
    fn = _path_compare(keys, node["value"], right["value"], null_is_unknown=True)
    return (fn, keys) if fn is not None else None


def _native_contains(name: str, args: list[Fn]) -> Fn:
    subject, search = args

    def contains(v: Any) -> Any:
        s = subject(v)
        if s.__class__ is list:
            x = search(v)
            # jmespath: `in` with its own 0/1-vs-bool rule is not applied here either; match it
            return x in s
        return _FUNCTIONS.call_function(name, [s, search(v)])

    return contains


_TYPE_NAMES = {str: "string", bool: "boolean", list: "array", dict: "object", type(None): "null", int: "number",
               float: "number"}


def _native_type(name: str, args: list[Fn]) -> Fn:
    (arg,) = args

    def type_(v: Any) -> Any:
        x = arg(v)
        found = _TYPE_NAMES.get(x.__class__)
        return found if found is not None else _FUNCTIONS.call_function(name, [x])

    return type_


# name -> (arity, builder): functions on the hot path, same results as jmespath's (tested)
_NATIVE: dict[str, tuple[int, Callable[[str, list[Fn]], Fn]]] = {
    "contains": (2, _native_contains),
    "type": (1, _native_type),
}


def parse(text: str) -> dict[str, Any]:
    """jmespath's AST for ``text``; raises ``jmespath.exceptions.JMESPathError``."""
    return jmespath.compile(text).parsed


def compile_expression(text: str) -> Fn:
    return _compile(parse(text))


# --- static analysis: fact paths against a JSON Schema ---------------------------------------


@dataclass
class Analysis:
    root_paths: list[tuple[str, ...]] = field(default_factory=list)  # read from the document root
    unknown_paths: list[str] = field(default_factory=list)  # not in the schema


class SchemaView:
    """A JSON Schema with ``$ref``/``anyOf``-null resolved, for walking property paths."""

    def __init__(self, schema: dict[str, Any]):
        self.defs = schema.get("$defs", {})
        self.root = schema

    def resolve(self, node: dict[str, Any] | None) -> dict[str, Any] | None:
        seen = 0
        while node is not None and seen < 20:
            seen += 1
            if "$ref" in node:
                node = self.defs.get(node["$ref"].rsplit("/", 1)[-1])
                continue
            options = node.get("anyOf") or node.get("oneOf")
            if options:
                real = [o for o in options if o.get("type") != "null"]
                if len(real) == 1:
                    node = real[0]
                    continue
                return None  # a genuine union: stop checking below it
            return node
        return node

    def child(self, node: dict[str, Any] | None, name: str) -> tuple[bool, dict[str, Any] | None]:
        """(known?, schema of the child). Unknown schema (None) accepts everything."""
        node = self.resolve(node)
        if node is None:
            return True, None
        props = node.get("properties")
        if node.get("type") == "object" or props is not None:
            if props is not None and name in props:
                return True, props[name]
            extra = node.get("additionalProperties", props is None)
            if extra is False:
                return False, None
            return True, extra if isinstance(extra, dict) else None
        return False, None  # a field of a scalar or a list: always null

    def items(self, node: dict[str, Any] | None) -> dict[str, Any] | None:
        node = self.resolve(node)
        if node is None:
            return None
        return node.get("items") if node.get("type") == "array" else None


def analyse(ast: dict[str, Any], schema: SchemaView | None) -> Analysis:
    """Root paths the expression reads, and (given a schema) the paths the schema lacks."""
    out = Analysis()

    def walk(node: dict[str, Any], ctx: Any, path: tuple[str, ...] | None) -> tuple[Any, tuple[str, ...] | None]:
        """Returns (schema of the result, root path of the result if it is a pure field chain)."""
        kind = node["type"]
        ch = node.get("children", [])
        if kind == "field":
            name = node["value"]
            new_path = (*path, name) if path is not None else None
            if schema is None:
                return None, new_path
            if ctx is _UNCHECKED:
                return _UNCHECKED, new_path
            known, sub = schema.child(ctx, name)
            if not known:
                shown = ".".join(new_path) if new_path else name
                out.unknown_paths.append(shown)
                return _UNCHECKED, new_path
            return (sub if sub is not None else _UNCHECKED), new_path
        if kind in ("subexpression", "index_expression"):
            s, p = ctx, path
            for c in ch:
                chained = c["type"] in ("field", "subexpression", "index_expression")
                if not chained:
                    _note(p)  # a[0].b reads the list a: that is the fact it needs
                s, p = walk(c, s, p if chained else None)
            return s, p
        if kind == "pipe":
            s, p = walk(ch[0], ctx, path)
            _note(p)
            s, _ = walk(ch[1], s, None)
            return s, None
        if kind in ("identity", "current"):
            return ctx, path
        if kind == "index":
            return (_items(ctx), None)
        if kind == "slice":
            return ctx, None
        if kind in ("projection", "filter_projection"):
            s, p = walk(ch[0], ctx, path)
            _note(p)
            item = _items(s)
            if kind == "filter_projection":
                walk(ch[2], item, None)
            r, _ = walk(ch[1], item, None)
            return _array_of(r), None
        if kind == "value_projection":
            s, p = walk(ch[0], ctx, path)
            _note(p)
            r, _ = walk(ch[1], _UNCHECKED, None)
            return _UNCHECKED, None
        if kind == "flatten":
            s, p = walk(ch[0], ctx, path)
            _note(p)
            inner = _items(s)
            resolved = schema.resolve(inner) if schema and inner not in (None, _UNCHECKED) else None
            if resolved is not None and resolved.get("type") == "array":
                return {"type": "array", "items": resolved.get("items")}, None
            return s, None
        if kind == "literal":
            return _UNCHECKED, None
        if kind == "expref":
            walk(ch[0], ctx, path)  # evaluated on array items by the function; best effort
            return _UNCHECKED, None
        if kind == "key_val_pair":
            return walk(ch[0], ctx, path)
        # comparator, and/or/not, functions, multi-selects: children in the same context
        for c in ch:
            _, p = walk(c, ctx, path)
            _note(p)
        return _UNCHECKED, None

    def _items(s: Any) -> Any:
        if schema is None or s is _UNCHECKED or s is None:
            return _UNCHECKED
        item = schema.items(s)
        return item if item is not None else _UNCHECKED

    def _array_of(r: Any) -> Any:
        return _UNCHECKED if r is _UNCHECKED else {"type": "array", "items": r}

    def _note(p: tuple[str, ...] | None) -> None:
        if p and p not in out.root_paths:
            out.root_paths.append(p)

    start = schema.root if schema is not None else None
    _, p = walk(ast, start if start is not None else _UNCHECKED, ())
    _note(p)
    # keep only maximal paths: reading hardening.rdp.enabled implies hardening.rdp
    out.root_paths = [p for p in out.root_paths
                      if not any(len(q) > len(p) and q[: len(p)] == p for q in out.root_paths)]
    return out


_UNCHECKED = object()  # schema position unknown (after a function, a literal, a raw dict)

__all__ = ["Analysis", "JMESPathError", "SchemaView", "analyse", "compile_expression", "is_false", "parse"]
