"""JMESPath's value rules, shared by the compiled closures (``expr_compile``, ``expr_fused``):
truthiness, equality (0/1 never equal false/true), ordering only between numbers or strings, and
``length``. They follow ``jmespath.visitor.TreeInterpreter``; the tests compare the two."""

from __future__ import annotations

import operator
from collections.abc import Callable
from numbers import Number
from typing import Any

from jmespath import functions as jp_functions

Fn = Callable[[Any], Any]
FUNCTIONS = jp_functions.Functions()

ORDER = {"lt": operator.lt, "gt": operator.gt, "lte": operator.le, "gte": operator.ge}
ORDER_EQ = {**ORDER, "eq": operator.eq, "ne": operator.ne}  # for len(...) vs a number: no bool quirk


def is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, Number)


def equals(x: Any, y: Any) -> bool:
    # jmespath: 0/1 never equal false/true (Python says 1 == True).
    if is_number(x) and x in (0, 1):
        if isinstance(y, bool):
            return False
    elif is_number(y) and y in (0, 1) and isinstance(x, bool):
        return False
    return x == y


def comparable(x: Any) -> bool:
    return is_number(x) or isinstance(x, str)


def is_false(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def sized(x: Any) -> int:
    if x.__class__ is list or x.__class__ is dict or x.__class__ is str:
        return len(x)
    return FUNCTIONS.call_function("length", [x])  # raises jmespath's type error, as the interpreter would


class _Expression:  # the class name is what jmespath type-checks as "expref"
    """What jmespath's sort_by/map/min_by/max_by expect: ``.expression`` and ``.visit``."""

    def __init__(self, fn: Fn):
        self.fn = fn
        self.expression = None

    def visit(self, _node: Any, value: Any) -> Any:
        return self.fn(value)


ExpressionRef = _Expression
