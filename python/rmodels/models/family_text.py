"""models, family_text: a GLM family written as R text — ``'Gamma(link = "log")'``,
``"binomial(link = 'probit')"``, ``'quasi(link = "log", variance = "mu")'``,
``"poisson(link = log)"`` — read by the formula
engine's parser (never Python's ``eval``); :func:`~rmodels.models.families.as_family` builds
the family from the :class:`FamilyCall` read here.

As R's family functions do (they ``substitute`` their arguments), a link or a quasi variance may
be written unquoted: ``poisson(link = log)``, ``quasi(variance = mu^2)``; an unquoted link must
be one of the family's okLinks (R's error otherwise), a quoted one any link R's ``make.link``
knows. ``power(<number>)`` gives R's power link. Arguments match by position, by name and by a
unique prefix of a name (R's argument matching). The printed call shows the family as written
(R deparses the call it was given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import FitError, FormulaError
from ..formula.ast import BinOp, Call, Name, Num, Paren, Str, UnaryOp
from ..formula.deparse import deparse
from ..formula.parser import parse_expression

__all__ = ["FamilyCall", "parse_family"]

# R's family functions and their formal arguments, in order.
FAMILY_FORMALS: dict[str, tuple[str, ...]] = {
    "gaussian": ("link",), "binomial": ("link",), "quasibinomial": ("link",),
    "poisson": ("link",), "quasipoisson": ("link",), "Gamma": ("link",),
    "inverse.gaussian": ("link",), "quasi": ("link", "variance"),
    "negative.binomial": ("theta", "link"),
}
_NAMESPACES = ("stats::", "MASS::")


@dataclass(frozen=True)
class FamilyCall:
    """A family call as written: the family function's name, its arguments (a link is a
    string, or a float ``lambda`` for ``power(lambda)``; a variance a string; theta a float),
    whether the link was written unquoted (it must then be one of the family's okLinks), and
    the call deparsed as R prints it (None for a bare name)."""

    name: str
    args: dict = field(default_factory=dict)
    unquoted_link: bool = False
    call_text: Optional[str] = None


def parse_family(text: str) -> FamilyCall:
    """The family call an R expression such as ``'binomial(link = "probit")'`` writes; a bare
    name (``"Gamma"``) has no arguments. Syntax errors and unknown arguments are
    :class:`FormulaError`, an unknown family a :class:`FitError`."""
    expr = parse_expression(text)
    if isinstance(expr, Name):
        return FamilyCall(_family_name(expr.id, text))
    if not isinstance(expr, Call):
        raise FitError(f"'family' not recognized: {text!r} (write e.g. 'binomial(link = "
                       "\"probit\")')")
    name = _family_name(expr.fun, text)
    args = _match_arguments(expr, FAMILY_FORMALS[name], text)
    values = {arg: _argument_value(arg, value) for arg, value in args.items()}
    link = args.get("link")
    unquoted = link is not None and not isinstance(link, Str) and not _is_power(link)
    return FamilyCall(name, values, unquoted, deparse(expr, cutoff=None))


def _family_name(name: str, text: str) -> str:
    for ns in _NAMESPACES:
        if name.startswith(ns):
            name = name[len(ns):]
    if name not in FAMILY_FORMALS:
        raise FitError(f"could not find family function \"{name}\" in {text!r}")
    return name

def _match_arguments(call: Call, formals: tuple[str, ...], text: str) -> dict[str, Any]:
    """R's argument matching: exact names, then unique partial names, then positions."""
    matched: dict[str, Any] = {}
    for given, value in call.kwargs:
        name = given if given in formals else _partial_match(given, formals, text, call.pos)
        if name in matched:
            raise FormulaError(f"formal argument \"{name}\" matched by multiple actual arguments",
                               text, call.pos)
        matched[name] = value
    free = [f for f in formals if f not in matched]
    if len(call.args) > len(free):
        raise FormulaError(f"unused argument ({deparse(call.args[len(free)], cutoff=None)})",
                           text, call.args[len(free)].pos)
    matched.update(zip(free, call.args))
    return matched


def _partial_match(given: str, formals: tuple[str, ...], text: str, pos: int) -> str:
    hits = [f for f in formals if f.startswith(given)]
    if len(hits) != 1:
        raise FormulaError(f"unused argument ({given} = ...)", text, pos)
    return hits[0]


def _argument_value(name: str, expr: Any) -> Any:
    """theta: a number; variance and link: a string as written or deparsed (R's
    ``substitute``); a ``power(lambda)`` link: the number lambda."""
    if name == "theta":
        return _number(expr)
    if name == "link" and _is_power(expr):
        if len(expr.args) + len(expr.kwargs) != 1:
            raise FitError("power() takes one argument, 'lambda'")
        return _number(expr.args[0] if expr.args else expr.kwargs[0][1])
    return expr.value if isinstance(expr, Str) else deparse(expr, cutoff=None)


def _is_power(expr: Any) -> bool:
    return isinstance(expr, Call) and expr.fun in ("power", "stats::power")


def _number(expr: Any) -> float:
    """The value of a numeric constant expression (``2``, ``-1``, ``1/3``, ``2^-1``)."""
    if isinstance(expr, Num):
        return float(expr.value)
    if isinstance(expr, Paren):
        return _number(expr.expr)
    if isinstance(expr, UnaryOp) and expr.op in ("-", "+"):
        v = _number(expr.operand)
        return -v if expr.op == "-" else v
    if isinstance(expr, BinOp) and expr.op in _ARITHMETIC:
        return _ARITHMETIC[expr.op](_number(expr.left), _number(expr.right))
    raise FitError(f"a number was expected, not {deparse(expr, cutoff=None)}")


def _divide(a: float, b: float) -> float:
    if b == 0:
        return math.copysign(math.inf, a) if a != 0 else math.nan
    return a / b


def _power(a: float, b: float) -> float:
    """R's ``^`` on doubles: NaN for a negative base and a fractional power, Inf on overflow."""
    try:
        return math.pow(a, b)
    except ValueError:
        return math.nan
    except OverflowError:
        return math.inf


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": _divide, "^": _power,
}
