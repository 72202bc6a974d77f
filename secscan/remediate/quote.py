"""The one way a value from a report (a hostname, a machine id, a product name, a KMS host …)
goes into a generated script: a single-quoted PowerShell literal (:func:`ps_literal`), or a
single-quoted POSIX shell word (:func:`sh_literal`) for the Linux scripts.

Inside ``'...'`` PowerShell expands nothing (no ``$variable``, no ``$(...)``, no backtick escape);
the only way out of the literal is a single quote. PowerShell's tokenizer treats four Unicode
look-alikes as single quotes too — U+2018 ‘, U+2019 ’, U+201A ‚ and U+201B ‛ — and inside the
literal any of the five, written twice, stands for itself once (the second of the pair is kept).
So each of them is doubled, as ``'`` is, and the value survives unchanged.

What has no place in a script line is never written: C0/C1 control characters (CR and LF would
end a ``#`` comment line and start code), U+2028/U+2029 line and paragraph separators, format
characters (the bidirectional overrides and isolates of "Trojan Source", zero-width characters),
surrogates, private-use and unassigned code points. ``strict=True`` refuses such a value
(:class:`UnsafeValue`, one line naming the code point): for identities the script compares, where a
changed value would be a different PC. Otherwise each one is replaced by U+FFFD: for text shown to
people (evidence, titles), which must stay readable and inert.

In a POSIX shell, nothing inside ``'...'`` is special and nothing ends it but ``'``, which cannot
be escaped inside: :func:`sh_literal` closes the quote, writes an escaped ``\'`` and opens it again
(``'it'\''s'``). The same characters are refused or replaced, by the same rule.

Standard library only; tested by hypothesis, tree-sitter-powershell and dash (tests/remediate).
"""

from __future__ import annotations

import unicodedata

# ' and the four look-alikes PowerShell's tokenizer accepts as a single quote.
SINGLE_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
REPLACEMENT = "\ufffd"


class UnsafeValue(ValueError):
    """A value holding a character that cannot be written into a script line."""


def unsafe_char(ch: str) -> bool:
    return unicodedata.category(ch) in _REFUSED_CATEGORIES


def ps_literal(value: str, *, strict: bool = False) -> str:
    """``value`` as a single-quoted PowerShell literal that evaluates to exactly ``value`` (to
    ``value`` with each refused character replaced by U+FFFD when ``strict`` is false)."""
    if not isinstance(value, str):
        raise TypeError(f"ps_literal takes a str, not {type(value).__name__}")
    out = []
    for ch in value:
        if ch in SINGLE_QUOTES:
            out.append(ch + ch)
        elif unsafe_char(ch):
            if strict:
                name = unicodedata.name(ch, "a control or unassigned character")
                raise UnsafeValue(f"U+{ord(ch):04X} ({name}) cannot be written into a script")
            out.append(REPLACEMENT)
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def shown(value: str) -> str:
    """``value`` with every refused character replaced, for messages about a refused value."""
    return "".join(REPLACEMENT if unsafe_char(ch) else ch for ch in value)


def _checked(value: str, strict: bool) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a script literal takes a str, not {type(value).__name__}")
    if not any(unsafe_char(ch) for ch in value):
        return value
    if strict:
        ch = next(ch for ch in value if unsafe_char(ch))
        name = unicodedata.name(ch, "a control or unassigned character")
        raise UnsafeValue(f"U+{ord(ch):04X} ({name}) cannot be written into a script")
    return shown(value)


def sh_literal(value: str, *, strict: bool = False) -> str:
    """``value`` as one single-quoted POSIX shell word that expands to exactly ``value`` (to
    ``value`` with each refused character replaced by U+FFFD when ``strict`` is false)."""
    return "'" + _checked(value, strict).replace("'", "'\\''") + "'"
