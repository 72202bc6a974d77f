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
