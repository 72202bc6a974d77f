"""YAML with line numbers: org.yaml and policies are hand-written, so every error must say where.

PyYAML's safe composer gives nodes with marks; we build plain Python values from them and keep
a map from each value's path (tuple of keys / list indices) to its 1-based line. Duplicate keys,
which ``yaml.safe_load`` silently resolves to the last one, are errors here; so is any explicit
tag outside plain YAML (``!!python/object``, ``!!binary``, ``!!set``, ``!custom``), which a safe
loader would refuse on a scalar but silently ignore on a mapping or a list. Aliases count once per
use (``MAX_NODES``), so an alias graph cannot expand into gigabytes in whoever walks the data.

Every reader of org.yaml and policies goes through ``read`` (``secscan scan --org`` too).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LintError:
    file: str
    line: int | None
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line if self.line is not None else '?'}: {self.field}: {self.reason}"


class PolicyError(Exception):
    """A baseline or org.yaml that failed lint; ``errors`` holds every problem found."""

    def __init__(self, errors: list[LintError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Source:
    file: str
    data: Any = None
    lines: dict[Loc, int] = field(default_factory=dict)
    errors: list[LintError] = field(default_factory=list)
    duplicates: list[tuple[Loc, int]] = field(default_factory=list)  # (key path, line of the repeat)
    nodes: int = 0  # values built so far (bounded: MAX_NODES)

    def line(self, loc: Loc) -> int | None:
        """Line of ``loc``, or of its nearest ancestor that has one."""
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())

    def error(self, loc: Loc, reason: str, name: str | None = None) -> None:
        self.errors.append(LintError(self.file, self.line(loc), name or self.field_name(loc), reason))

    def field_name(self, loc: Loc) -> str:
        """``controls[av_installed].levels.2`` rather than ``controls.3.levels.2``: list items are
        named by their ``id`` when they have one."""
        out = ""
        node = self.data
        for part in loc:
            if isinstance(part, int) and isinstance(node, list):
                item = node[part] if isinstance(node, list) and part < len(node) else None
                label = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else part
                out += f"[{label}]"
                node = item
            else:
                out += f".{part}" if out else str(part)  # also int keys of a mapping: levels.3
                node = node.get(part) if isinstance(node, dict) else None
        return out or "(document)"


# Hand-written files are small; these bounds stop a hostile file (a "billion laughs" of nested
# aliases, a multi-megabyte blob) before it costs memory or time.
MAX_BYTES = 4 * 1024 * 1024
# libyaml's parser when PyYAML has it (same nodes, same marks, same constructor): reading the
# shipped policies took ~1 s with the Python parser, paid by every report and collector command.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 200_000


# The tags a plain YAML document resolves to (YAML 1.1 as PyYAML's safe resolver reads it). Written
# explicitly (``!!str 10``) they are harmless; anything else is refused with its line.
_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge"))
_VALUE_TAG = _CORE + "value"  # a bare "=" resolves to it and no safe constructor takes it: it is the string "="
MAX_TAG_ERRORS = 20


class _TooBig(Exception):
    pass


def _shown(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _refused_tags(root: yaml.Node, src: Source) -> bool:
    """Record one error per node (each node once, however many aliases name it) whose tag is not
    plain YAML; True if there was any. Walks the composed nodes before anything is built."""
    found: list[tuple[int, str, str]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS and not (node.tag == _VALUE_TAG and isinstance(node, yaml.ScalarNode)):
            found.append((node.start_mark.line + 1, where or "(document)", node.tag))
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                label = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack += [(value, f"{where}.{label}" if where else str(label)), (key, where)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, f"{where}[{i}]") for i, item in reversed(list(enumerate(node.value)))]
    for line, where, tag in sorted(found)[:MAX_TAG_ERRORS]:
        src.errors.append(LintError(src.file, line, where, f"tag {_shown(tag)} is not allowed: only plain YAML "
                                    "(mappings, lists, strings, numbers, booleans, dates, null)"))
    if len(found) > MAX_TAG_ERRORS:
        src.errors.append(LintError(src.file, None, "(yaml)", f"{len(found) - MAX_TAG_ERRORS} more refused tags"))
    return bool(found)


def read(path: str | Path) -> Source:
    """Parse one YAML file into a Source; problems go to ``Source.errors`` (never raised)."""
    name = str(path)
    src = Source(name)
    try:
        raw = Path(path).read_bytes()
        if len(raw) > MAX_BYTES:
            src.errors.append(LintError(name, None, "(file)", f"{len(raw):,} bytes: larger than {MAX_BYTES:,}"))
            return src
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        src.errors.append(LintError(name, None, "(file)", f"cannot read: {exc}"))
        return src
    return parse(text, name)


def parse(text: str, name: str = "<string>") -> Source:
    src = Source(name)
    loader = _LOADER(unicodedata.normalize("NFC", text))
    try:
        node = loader.get_single_node()
        if node is None:
            src.errors.append(LintError(name, 1, "(document)", "empty file"))
            return src
        if _refused_tags(node, src):
            return src  # refused whole: nothing is built from a document that asks for objects
        src.data = _build(node, (), loader, src)
        for loc, line in src.duplicates:
            src.errors.append(LintError(name, line, src.field_name(loc), "duplicate key (YAML keeps only the last)"))
    except _TooBig:
        src.errors.append(LintError(name, None, "(yaml)", f"more than {MAX_NODES:,} values (alias expansion?)"))
        src.data = None
    except RecursionError:
        src.errors.append(LintError(name, None, "(yaml)", "nested too deeply"))
        src.data = None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark is not mark:
            problem += f" ({context} started at line {context_mark.line + 1})"
        src.errors.append(LintError(name, mark.line + 1 if mark else None, "(yaml)", f"broken YAML: {problem}"))
        src.data = None
    finally:
        loader.dispose()
    return src


def _build(node: yaml.Node, loc: Loc, loader: yaml.SafeLoader, src: Source) -> Any:
    src.nodes += 1
    if src.nodes > MAX_NODES:
        raise _TooBig
    src.lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # merge keys (<<)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                src.errors.append(LintError(src.file, key_node.start_mark.line + 1, src.field_name(loc) if loc
                                            else "(document)", f"key {key!r} must be a string or an integer"))
                continue
            if key in out:
                src.duplicates.append(((*loc, key), key_node.start_mark.line + 1))
            out[key] = _build(value_node, (*loc, key), loader, src)
            src.lines[(*loc, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), loader, src) for i, item in enumerate(node.value)]
    if node.tag == _VALUE_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


def pydantic_errors(src: Source, exc: Any, prefix: Loc = ()) -> None:
    """Map a pydantic ValidationError onto lines: one LintError per error, naming the field."""
    already = {(e.line, e.field) for e in src.errors}
    unions: dict[Loc, list[str]] = {}
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        last = loc[-1] if loc else None
        # a union reports one error per member type (".value.bool", ".value.int", ...): fold them
        if isinstance(last, str) and (last in _TYPE_TAGS or "[" in last):
            unions.setdefault(loc[:-1], []).append(last)
            continue
        # "value_error" messages start "Value error, ..."; keep the reason only.
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "required field missing"
        if (src.line(loc), src.field_name(loc)) in already or (src.line(loc[:-1]), src.field_name(loc[:-1])) in already:
            continue  # the raw-YAML checks already said it, with a better reason
        src.error(tuple(loc), message)
    for loc, tags in unions.items():
        src.error(loc, f"invalid value: expected {' or '.join(dict.fromkeys(tags))}")


_TYPE_TAGS = {"bool", "int", "float", "str", "list", "dict", "none", "date", "datetime"}
