"""A PowerShell 5.1 syntax check for the capture script, built on tree-sitter-powershell.

The grammar parses Windows PowerShell 5.1; the newer operators (``??``, ``?.``, the ternary) come
out as ERROR nodes, but ``&&``/``||`` chains and the PS 7 parameters parse fine, so those are
rejected by rule. Returns human-readable problems with line numbers; empty means clean.
"""

from __future__ import annotations

from functools import cache

# Tokens that only PowerShell 7 understands.
NEWER_TOKENS = {"??": "null-coalescing ??", "??=": "null-coalescing assignment ??=", "?.": "null-conditional ?.",
                "?[": "null-conditional ?[", "&&": "pipeline chain &&", "||": "pipeline chain ||"}
NEWER_PARAMETERS = {"-asarray": "ConvertTo-Json -AsArray", "-parallel": "ForEach-Object -Parallel",
                    "-throttlelimit": "ForEach-Object -ThrottleLimit"}


@cache
def _parser():  # type: ignore[no-untyped-def]
    import tree_sitter
    import tree_sitter_powershell

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def problems(source: str) -> list[str]:
    tree = _parser().parse(source.encode("utf-8"))
    found: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        line = node.start_point[0] + 1
        if node.type == "ERROR":
            found.append(f"line {line}: syntax error near {node.text.decode('utf-8', 'replace')[:40]!r}")
        elif node.is_missing:
            found.append(f"line {line}: missing {node.type!r}")
        elif node.child_count == 0:
            text = node.text.decode("utf-8", "replace").strip()
            if node.type in NEWER_TOKENS or text in NEWER_TOKENS:
                found.append(f"line {line}: {NEWER_TOKENS.get(node.type) or NEWER_TOKENS[text]} is newer than PS 5.1")
            if node.type == "command_parameter" and text.lower() in NEWER_PARAMETERS:
                found.append(f"line {line}: {NEWER_PARAMETERS[text.lower()]} is newer than PS 5.1")
            if node.type == "?" :
                found.append(f"line {line}: ternary ? : is newer than PS 5.1")
        stack.extend(reversed(node.children))
    return sorted(set(found), key=lambda p: int(p.split(":")[0].split()[1]))


def _comment_spans(source: bytes) -> list[tuple[int, int]]:
    spans = []
    stack = [_parser().parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            spans.append((node.start_byte, node.end_byte))
        else:
            stack.extend(node.children)
    return spans


def code_only(source: str) -> str:
    """``source`` with every comment (``# ...`` and ``<# ... #>``) replaced by spaces, as the
    parser sees it: for checks that must look at code, not at what the comments say."""
    raw = bytearray(source.encode("utf-8"))
    for start, end in _comment_spans(bytes(raw)):
        raw[start:end] = b"".join(b"\n" if c == 10 else b" " for c in raw[start:end])
    return raw.decode("utf-8")


def functions(source: str) -> dict[str, str]:
    """The code (comments removed) of each ``function Name { ... }`` in ``source``, by name."""
    code = code_only(source)
    found: dict[str, str] = {}
    stack = [_parser().parse(code.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_statement":
            name = next(c for c in node.children if c.type == "function_name").text.decode()
            found[name] = node.text.decode("utf-8")
        stack.extend(node.children)
    return found
