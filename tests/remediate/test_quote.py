"""The one quoting function every report value goes through: fuzzed with hypothesis, checked with
tree-sitter-powershell (a quoted hostile string parses as exactly one string literal, in code and
in a comment line) and with PowerShell's own rule for single-quoted strings, which tree-sitter does
not know: U+2018, U+2019, U+201A and U+201B end a single-quoted string too."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secscan.remediate.quote import REPLACEMENT, SINGLE_QUOTES, UnsafeValue, ps_literal, shown, unsafe_char
from tests.agent.windows.ps51 import _parser, problems

# What an attacker would put in a hostname or a product name.
HOSTILE = ["'", "\u2018", "\u2019", "\u201a", "\u201b", '"', "\u201c", "\u201d", "\u201e", "`", "$", "$(", "${",
           "@(", "(", ")", "{", "}", ";", "|", "&", "&&", "#", "<#", "#>", "\n", "\r", "\r\n", "\x00", "\x1b",
           "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff", "\ue000", "\\",
           "Invoke-Pwned", " ", "\t", "é", "Ế", "\U0001f4a9", "@'", "'@", "-", "\u2013", "\u2014"]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=4)), max_size=12).map("".join)


def powershell_read(source: str, start: int = 0) -> tuple[str, int]:
    """PowerShell's tokenizer on a single-quoted string starting at ``start``: any of the five
    single quotes opens and closes it; two of them in a row stand for the second. Returns
    (value, index after the closing quote)."""
    assert source[start] in SINGLE_QUOTES
    out, i = [], start + 1
    while i < len(source):
        ch = source[i]
        if ch in SINGLE_QUOTES:
            if i + 1 < len(source) and source[i + 1] in SINGLE_QUOTES:
                out.append(source[i + 1])
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise AssertionError("unterminated string")


def neutralised(value: str) -> str:
    return "".join(REPLACEMENT if unsafe_char(c) else c for c in value)


def string_literals(source: str) -> list[str]:
    tree = _parser().parse(source.encode("utf-8"))
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in ("string_literal", "expandable_string_literal", "verbatim_here_string_characters",
                         "expandable_here_string_literal"):
            found.append(node.text.decode("utf-8"))
            continue
        stack.extend(node.children)
    return found


def command_names(source: str) -> list[str]:
    tree = _parser().parse(source.encode("utf-8"))
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "command_name":
            found.append(node.text.decode("utf-8"))
        stack.extend(node.children)
    return found


@given(hostile_text)
@settings(max_examples=600)
def test_powershell_reads_back_exactly_the_value(value: str) -> None:
    literal = ps_literal(value)
    read, end = powershell_read(literal)
    assert end == len(literal), "the literal ended early: the rest would be code"
    assert read == neutralised(value)
    if not any(unsafe_char(c) for c in value):
        assert ps_literal(value, strict=True) == literal
        assert read == value


@given(hostile_text)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_tree_sitter_sees_one_string_literal_in_code_and_in_a_comment(value: str) -> None:
    literal = ps_literal(value)
    code = f"$x = {literal}\n$y = 1\n"
    assert problems(code) == []
    assert string_literals(code) == [literal]
    assert command_names(code) == []
    commented = f"# host {literal} {literal}\n$y = 1\n"
    assert problems(commented) == []
    tree = _parser().parse(commented.encode("utf-8"))
    kinds = [child.type for child in tree.root_node.children]
    assert kinds[0] == "comment" and tree.root_node.children[0].end_point[0] == 0, kinds
    assert string_literals(commented) == [] and command_names(commented) == []


@given(st.text())
def test_any_text(value: str) -> None:
    literal = ps_literal(value)
    assert powershell_read(literal) == (neutralised(value), len(literal))
    assert "\n" not in literal and "\r" not in literal


@pytest.mark.parametrize("value", ["PC\nInvoke-Pwned", "PC\r", "PC\x00", "PC\u2028x", "PC\u202eexe.cod", "PC\u200b",
                                   "PC\ud800", "PC\x85", "\ue000"])
def test_strict_refuses_what_cannot_be_written_and_names_it(value: str) -> None:
    with pytest.raises(UnsafeValue) as caught:
        ps_literal(value, strict=True)
    message = str(caught.value)
    assert message.startswith("U+") and "cannot be written into a script" in message and "\n" not in message
    assert "\n" not in ps_literal(value) and REPLACEMENT in ps_literal(value)


@pytest.mark.parametrize(("value", "literal"), [
    ("VANLANG-PC01", "'VANLANG-PC01'"),
    ("O'Brien", "'O''Brien'"),
    ("a\u2019b", "'a\u2019\u2019b'"),
    ("\u2018\u201a\u201b", "'\u2018\u2018\u201a\u201a\u201b\u201b'"),
    ("$env:TEMP `n $(Invoke-Pwned)", "'$env:TEMP `n $(Invoke-Pwned)'"),
    ("MÁY-KẾ-TOÁN-01", "'MÁY-KẾ-TOÁN-01'"),
    ("", "''"),
])
def test_examples(value: str, literal: str) -> None:
    assert ps_literal(value, strict=True) == literal


def test_every_quote_look_alike_is_a_single_quote_in_unicode_terms() -> None:
    for ch in SINGLE_QUOTES - {"'"}:
        assert "SINGLE" in unicodedata.name(ch) and "QUOTATION MARK" in unicodedata.name(ch)


def test_shown_and_type_errors() -> None:
    assert shown("a\nb") == f"a{REPLACEMENT}b"
    with pytest.raises(TypeError):
        ps_literal(5)  # type: ignore[arg-type]


def test_the_checks_would_catch_naive_quoting() -> None:
    value = "x'\nInvoke-Pwned\n'"
    naive = f"$x = '{value}'\n"
    assert "Invoke-Pwned" in command_names(naive)
    commented = "# host 'PC\nInvoke-Pwned -Now'\n"
    assert "Invoke-Pwned" in command_names(commented)
    # tree-sitter does not know the look-alikes, PowerShell does: only the reference reader notices
    sneaky = "'a\u2019; Invoke-Pwned; \u2019b'"
    assert powershell_read(sneaky)[1] < len(sneaky)
