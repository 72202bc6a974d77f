"""jmespath's AST turned into Python closures, one builder per node type.

Why not ``jmespath.compile(...).search``: its tree interpreter costs 10–20 µs per expression;
a district re-evaluation is fine with that, a province (10,000 PCs × 25 controls, re-run whenever
a decision or a policy changes) and the 20,000 hosts/s target are not. The closures follow
``jmespath.visitor.TreeInterpreter`` node for node (rules in ``expr_semantics``); functions are
jmespath's own. Nothing is ever passed to Python ``eval``: the only input is jmespath's AST."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secscan.policy.expr_fused import Node, fused_comparator
from secscan.policy.expr_semantics import FUNCTIONS, ORDER, ExpressionRef, Fn, comparable, equals, is_false, is_number


def compile_node(node: Node) -> Fn:
    builder = _BUILDERS.get(node["type"])
    if builder is None:
        raise ValueError(f"unsupported JMESPath node {node['type']!r}")
    return builder(node, node.get("children", []))


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


# --- one builder per node type: (node, children) -> closure ----------------------------------


def _build_field(node: Node, _children: list[Node]) -> Fn:
    return _field(node["value"])


def _build_steps(node: Node, children: list[Node]) -> Fn:
    """subexpression, index_expression, pipe: each step's result feeds the next."""
    if node["type"] == "subexpression" and all(c["type"] == "field" for c in children):
        return _chain([c["value"] for c in children])
    steps = [compile_node(c) for c in children]
    if len(steps) == 2:
        first, second = steps
        return lambda v: second(first(v))

    def run(v: Any) -> Any:
        for step in steps:
            v = step(v)
        return v

    return run


def _build_identity(_node: Node, _children: list[Node]) -> Fn:
    return lambda v: v


def _build_literal(node: Node, _children: list[Node]) -> Fn:
    const = node["value"]
    return lambda v: const


def _build_comparator(node: Node, children: list[Node]) -> Fn:
    fused = fused_comparator(node, compile_node)
    if fused is not None:
        return fused
    left, right = compile_node(children[0]), compile_node(children[1])
    op = node["value"]
    if op == "eq":
        return lambda v: equals(left(v), right(v))
    if op == "ne":
        return lambda v: not equals(left(v), right(v))
    order = ORDER[op]

    def compare(v: Any) -> Any:
        a, b = left(v), right(v)
        if not (comparable(a) and comparable(b)):
            return None
        try:
            return order(a, b)
        except TypeError:  # number vs string: jmespath raises too; we call it unknown
            return None

    return compare


def _build_and(_node: Node, children: list[Node]) -> Fn:
    left, right = compile_node(children[0]), compile_node(children[1])

    def and_(v: Any) -> Any:
        a = left(v)
        if a is True:
            return right(v)
        return a if a is False or a is None or is_false(a) else right(v)

    return and_


def _build_or(_node: Node, children: list[Node]) -> Fn:
    left, right = compile_node(children[0]), compile_node(children[1])

    def or_(v: Any) -> Any:
        a = left(v)
        if a is True:
            return a
        return right(v) if a is False or a is None or is_false(a) else a

    return or_


def _build_not(_node: Node, children: list[Node]) -> Fn:
    inner = compile_node(children[0])

    def not_(v: Any) -> Any:
        a = inner(v)
        if is_number(a) and a == 0:
            return False
        return is_false(a)

    return not_


def _build_index(node: Node, _children: list[Node]) -> Fn:
    i = node["value"]

    def index(v: Any) -> Any:
        if v.__class__ is not list:
            return None
        try:
            return v[i]
        except IndexError:
            return None

    return index


def _build_slice(_node: Node, children: list[Node]) -> Fn:
    s = slice(*children)
    return lambda v: v[s] if v.__class__ is list else None


def _build_projection(_node: Node, children: list[Node]) -> Fn:
    base, each = compile_node(children[0]), compile_node(children[1])
    identity = children[1]["type"] == "identity"

    def project(v: Any) -> Any:
        items = base(v)
        if items.__class__ is not list:
            return None
        if identity:
            return [x for x in items if x is not None]
        return [r for r in map(each, items) if r is not None]

    return project


def _build_value_projection(_node: Node, children: list[Node]) -> Fn:
    base, each = compile_node(children[0]), compile_node(children[1])

    def project_values(v: Any) -> Any:
        obj = base(v)
        if obj.__class__ is not dict:
            return None
        return [r for r in map(each, obj.values()) if r is not None]

    return project_values


def _build_filter_projection(_node: Node, children: list[Node]) -> Fn:
    base, each, cond = compile_node(children[0]), compile_node(children[1]), compile_node(children[2])
    identity = children[1]["type"] == "identity"

    def filter_(v: Any) -> Any:
        items = base(v)
        if items.__class__ is not list:
            return None
        out = []
        for x in items:
            r = cond(x)  # the truthiness test is written out: a helper call per item costs
            if r is True or (r is not False and r is not None and not is_false(r)):
                if identity:
                    if x is not None:
                        out.append(x)
                    continue
                r = each(x)
                if r is not None:
                    out.append(r)
        return out

    return filter_


def _build_flatten(_node: Node, children: list[Node]) -> Fn:
    base = compile_node(children[0])

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


def _build_multi_list(_node: Node, children: list[Node]) -> Fn:
    parts = [compile_node(c) for c in children]
    return lambda v: None if v is None else [p(v) for p in parts]


def _build_multi_dict(_node: Node, children: list[Node]) -> Fn:
    pairs = [(c["value"], compile_node(c["children"][0])) for c in children]
    return lambda v: None if v is None else {k: p(v) for k, p in pairs}


def _build_expref(_node: Node, children: list[Node]) -> Fn:
    ref = ExpressionRef(compile_node(children[0]))
    return lambda v: ref


def _build_function(node: Node, children: list[Node]) -> Fn:
    name = node["value"]
    args = [compile_node(c) for c in children]
    native = _NATIVE.get(name)
    if native is not None and len(args) == native[0]:
        return native[1](name, args)
    return lambda v: FUNCTIONS.call_function(name, [a(v) for a in args])


# --- functions on the hot path, same results as jmespath's (tested) ---------------------------


def _native_length(name: str, args: list[Fn]) -> Fn:
    (arg,) = args

    def length(v: Any) -> Any:
        x = arg(v)
        if x.__class__ in (list, dict, str):
            return len(x)
        return FUNCTIONS.call_function(name, [x])  # raises jmespath's type error

    return length


def _native_contains(name: str, args: list[Fn]) -> Fn:
    subject, search = args

    def contains(v: Any) -> Any:
        s = subject(v)
        if s.__class__ is list:
            x = search(v)
            # jmespath: `in` with its own 0/1-vs-bool rule is not applied here either; match it
            return x in s
        return FUNCTIONS.call_function(name, [s, search(v)])

    return contains


_TYPE_NAMES = {str: "string", bool: "boolean", list: "array", dict: "object", type(None): "null", int: "number",
               float: "number"}


def _native_type(name: str, args: list[Fn]) -> Fn:
    (arg,) = args

    def type_(v: Any) -> Any:
        x = arg(v)
        found = _TYPE_NAMES.get(x.__class__)
        return found if found is not None else FUNCTIONS.call_function(name, [x])

    return type_


# name -> (arity, builder)
_NATIVE: dict[str, tuple[int, Callable[[str, list[Fn]], Fn]]] = {
    "length": (1, _native_length),
    "contains": (2, _native_contains),
    "type": (1, _native_type),
}

_BUILDERS: dict[str, Callable[[Node, list[Node]], Fn]] = {
    "field": _build_field,
    "subexpression": _build_steps,
    "index_expression": _build_steps,
    "pipe": _build_steps,
    "identity": _build_identity,
    "current": _build_identity,
    "literal": _build_literal,
    "comparator": _build_comparator,
    "and_expression": _build_and,
    "or_expression": _build_or,
    "not_expression": _build_not,
    "index": _build_index,
    "slice": _build_slice,
    "projection": _build_projection,
    "value_projection": _build_value_projection,
    "filter_projection": _build_filter_projection,
    "flatten": _build_flatten,
    "multi_select_list": _build_multi_list,
    "multi_select_dict": _build_multi_dict,
    "expref": _build_expref,
    "function_expression": _build_function,
}
