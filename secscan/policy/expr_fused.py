"""The commonest control shapes compiled into one closure each instead of a tree of nested calls:
``path == `true```, ``path <= `30```, ``length(xs[?c]) > `0```, ``length(xs[?good]) == length(xs)``.
Same answers as the general closures in ``expr_compile`` (the tests compare both with jmespath)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secscan.policy.expr_semantics import FUNCTIONS, ORDER, ORDER_EQ, Fn, is_false, is_number, sized

Node = dict[str, Any]
CompileNode = Callable[[Node], Fn]


def chain_names(node: Node) -> list[str] | None:
    """The field names of a plain lookup chain (``a.b.c``), or None for any other shape."""
    if node["type"] == "field":
        return [node["value"]]
    if node["type"] == "subexpression" and all(c["type"] == "field" for c in node["children"]):
        return [c["value"] for c in node["children"]]
    return None


def fused_comparator(node: Node, compile_node: CompileNode) -> Fn | None:
    """One closure for a comparator of a known shape, or None (the caller compiles it generally)."""
    left, right = node["children"]
    op = node["value"]
    if _is_length(left) and right["type"] == "literal" and is_number(right["value"]) and op in ORDER_EQ:
        inner = left["children"][0]
        if (inner["type"] == "filter_projection" and inner["children"][1]["type"] == "identity"
                and right["value"] == 0 and op in ("gt", "eq")):
            return _any_match(inner, op == "gt", compile_node)  # length(xs[?c]) > `0` / == `0`
        return _fused_length(compile_node(inner), op, right["value"])
    if _is_length(left) and _is_length(right) and op in ORDER_EQ:
        return _fused_lengths(compile_node(left["children"][0]), op, compile_node(right["children"][0]))
    names = chain_names(left)
    if names is None or right["type"] != "literal":
        return None
    return path_compare(tuple(names), op, right["value"], null_is_unknown=False)


def guarded_comparator(node: Node) -> tuple[Fn, tuple[str, ...]] | None:
    """For ``path op literal``: a closure giving None when the fact is null, plus the path."""
    if node["type"] != "comparator":
        return None
    left, right = node["children"]
    names = chain_names(left)
    if names is None or right["type"] != "literal":
        return None
    keys = tuple(names)
    fn = path_compare(keys, node["value"], right["value"], null_is_unknown=True)
    return (fn, keys) if fn is not None else None


def path_compare(keys: tuple[str, ...], op: str, const: Any, null_is_unknown: bool) -> Fn | None:
    """One closure for ``path == `true``` / ``path <= `30```: walk and compare without nested calls.
    With ``null_is_unknown`` a null fact gives None (the caller's "unknown") instead of false.
    Each closure below writes the walk out: a shared walk helper would cost a call per fact read."""
    if op in ("eq", "ne") and (const is None or isinstance(const, bool)):
        return _eq_identity(keys, const, op == "eq", null_is_unknown)
    if op in ("eq", "ne") and isinstance(const, str):
        return _eq_string(keys, const, op == "eq", null_is_unknown)
    if op in ORDER and is_number(const):
        return _compare_number(keys, ORDER[op], const)
    return None


def _eq_identity(keys: tuple[str, ...], const: Any, want: bool, null_is_unknown: bool) -> Fn:
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


def _eq_string(keys: tuple[str, ...], const: str, want: bool, null_is_unknown: bool) -> Fn:
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


def _compare_number(keys: tuple[str, ...], order: Callable[[Any, Any], bool], const: Any) -> Fn:
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


def _is_length(node: Node) -> bool:
    return node["type"] == "function_expression" and node["value"] == "length" and len(node["children"]) == 1


def _fused_lengths(left: Fn, op: str, right: Fn) -> Fn:
    """``length(xs[?good]) == length(xs)``: the "every item" shape; two counts, no bool quirk."""
    order = ORDER_EQ[op]

    def lengths_compare(v: Any) -> Any:
        return order(sized(left(v)), sized(right(v)))

    return lengths_compare


def _any_match(node: Node, want: bool, compile_node: CompileNode) -> Fn:
    """``length(xs[?c]) > `0``` without building the filtered list: stop at the first match."""
    base, cond = compile_node(node["children"][0]), compile_node(node["children"][2])

    def any_match(v: Any) -> Any:
        items = base(v)
        if items.__class__ is not list:
            sized(None)  # length(null): jmespath's type error
        for x in items:
            r = cond(x)  # on null items too, as jmespath does (a type error there is an error here)
            if (r is True or (r is not False and r is not None and not is_false(r))) and x is not None:
                return want
        return not want

    return any_match


def _fused_length(arg: Fn, op: str, const: Any) -> Fn:
    """``length(xs[?...]) > `0```: the list controls' shape."""
    order = ORDER_EQ[op]

    def length_compare(v: Any) -> Any:
        x = arg(v)
        if x.__class__ is list or x.__class__ is dict or x.__class__ is str:
            return order(len(x), const)
        FUNCTIONS.call_function("length", [x])  # raises jmespath's type error, as the interpreter would
        return None

    return length_compare
