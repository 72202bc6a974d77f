"""JMESPath expressions for policies: parsed by the ``jmespath`` library, then either compiled into
Python closures that judge plain report dictionaries (``expr_compile``, with the commonest shapes
fused in ``expr_fused``) or analysed against a JSON Schema for the linter (``expr_schema``).
This module is the front door: callers import ``parse``, ``compile_expression``, ``guarded`` and
``analyse`` from here."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from secscan.policy.expr_compile import compile_node
from secscan.policy.expr_fused import guarded_comparator
from secscan.policy.expr_schema import Analysis, SchemaView, analyse
from secscan.policy.expr_semantics import Fn, is_false


def parse(text: str) -> dict[str, Any]:
    """jmespath's AST for ``text``; raises ``jmespath.exceptions.JMESPathError``."""
    return jmespath.compile(text).parsed


def compile_expression(text: str) -> Fn:
    return compile_node(parse(text))


def guarded(text: str) -> tuple[Fn, tuple[str, ...]] | None:
    """For ``path op literal`` (one fact, compared to a constant): a closure that returns None when
    the fact is null (so the caller says unknown) and the comparison otherwise, plus the path.
    Lets the hot loop skip a separate null check for the commonest controls."""
    return guarded_comparator(parse(text))


__all__ = ["Analysis", "Fn", "JMESPathError", "SchemaView", "analyse", "compile_expression", "guarded", "is_false",
           "parse"]
