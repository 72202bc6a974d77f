"""Static analysis of a JMESPath expression (jmespath's AST) for the policy linter: the *root
paths* it reads (``antivirus.products``, ``hardening.rdp.enabled``), which are the facts that must
be present for a verdict and that are recorded as evidence, and (given a JSON Schema) the fact
paths the schema does not have."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Node = dict[str, Any]
Path = tuple[str, ...]
_UNCHECKED = object()  # schema position unknown (after a function, a literal, a raw dict)


@dataclass
class Analysis:
    root_paths: list[Path] = field(default_factory=list)  # read from the document root
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


def analyse(ast: Node, schema: SchemaView | None) -> Analysis:
    """Root paths the expression reads, and (given a schema) the paths the schema lacks."""
    walker = _Walker(schema)
    start = schema.root if schema is not None else None
    _, p = walker.walk(ast, start if start is not None else _UNCHECKED, ())
    walker.note(p)
    out = walker.out
    # keep only maximal paths: reading hardening.rdp.enabled implies hardening.rdp
    out.root_paths = [p for p in out.root_paths
                      if not any(len(q) > len(p) and q[: len(p)] == p for q in out.root_paths)]
    return out


# (schema of the result, root path of the result if it is a pure field chain)
Walked = tuple[Any, Path | None]


class _Walker:
    """One method per node type; each gets (node, children, schema context, root path so far)."""

    def __init__(self, schema: SchemaView | None) -> None:
        self.schema = schema
        self.out = Analysis()

    def walk(self, node: Node, ctx: Any, path: Path | None) -> Walked:
        method = _METHODS.get(node["type"], _Walker.other)
        return method(self, node, node.get("children", []), ctx, path)

    def note(self, p: Path | None) -> None:
        if p and p not in self.out.root_paths:
            self.out.root_paths.append(p)

    def items_of(self, s: Any) -> Any:
        if self.schema is None or s is _UNCHECKED or s is None:
            return _UNCHECKED
        item = self.schema.items(s)
        return item if item is not None else _UNCHECKED

    def field(self, node: Node, _ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        name = node["value"]
        new_path = (*path, name) if path is not None else None
        if self.schema is None:
            return None, new_path
        if ctx is _UNCHECKED:
            return _UNCHECKED, new_path
        known, sub = self.schema.child(ctx, name)
        if not known:
            self.out.unknown_paths.append(".".join(new_path) if new_path else name)
            return _UNCHECKED, new_path
        return (sub if sub is not None else _UNCHECKED), new_path

    def steps(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        s, p = ctx, path
        for c in ch:
            chained = c["type"] in ("field", "subexpression", "index_expression")
            if not chained:
                self.note(p)  # a[0].b reads the list a: that is the fact it needs
            s, p = self.walk(c, s, p if chained else None)
        return s, p

    def pipe(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        s, p = self.walk(ch[0], ctx, path)
        self.note(p)
        s, _ = self.walk(ch[1], s, None)
        return s, None

    def identity(self, _node: Node, _ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        return ctx, path

    def index(self, _node: Node, _ch: list[Node], ctx: Any, _path: Path | None) -> Walked:
        return self.items_of(ctx), None

    def slice(self, _node: Node, _ch: list[Node], ctx: Any, _path: Path | None) -> Walked:
        return ctx, None

    def projection(self, node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        s, p = self.walk(ch[0], ctx, path)
        self.note(p)
        item = self.items_of(s)
        if node["type"] == "filter_projection":
            self.walk(ch[2], item, None)
        r, _ = self.walk(ch[1], item, None)
        return (_UNCHECKED if r is _UNCHECKED else {"type": "array", "items": r}), None

    def value_projection(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        _, p = self.walk(ch[0], ctx, path)
        self.note(p)
        self.walk(ch[1], _UNCHECKED, None)
        return _UNCHECKED, None

    def flatten(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        s, p = self.walk(ch[0], ctx, path)
        self.note(p)
        inner = self.items_of(s)
        schema = self.schema
        resolved = schema.resolve(inner) if schema and inner not in (None, _UNCHECKED) else None
        if resolved is not None and resolved.get("type") == "array":
            return {"type": "array", "items": resolved.get("items")}, None
        return s, None

    def literal(self, _node: Node, _ch: list[Node], _ctx: Any, _path: Path | None) -> Walked:
        return _UNCHECKED, None

    def expref(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        self.walk(ch[0], ctx, path)  # evaluated on array items by the function; best effort
        return _UNCHECKED, None

    def key_val_pair(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        return self.walk(ch[0], ctx, path)

    def other(self, _node: Node, ch: list[Node], ctx: Any, path: Path | None) -> Walked:
        """comparator, and/or/not, functions, multi-selects: children in the same context."""
        for c in ch:
            _, p = self.walk(c, ctx, path)
            self.note(p)
        return _UNCHECKED, None


_METHODS: dict[str, Callable[[_Walker, Node, list[Node], Any, Path | None], Walked]] = {
    "field": _Walker.field,
    "subexpression": _Walker.steps,
    "index_expression": _Walker.steps,
    "pipe": _Walker.pipe,
    "identity": _Walker.identity,
    "current": _Walker.identity,
    "index": _Walker.index,
    "slice": _Walker.slice,
    "projection": _Walker.projection,
    "filter_projection": _Walker.projection,
    "value_projection": _Walker.value_projection,
    "flatten": _Walker.flatten,
    "literal": _Walker.literal,
    "expref": _Walker.expref,
    "key_val_pair": _Walker.key_val_pair,
}
