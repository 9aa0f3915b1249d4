"""The printed call of a fit: R's ``deparse(fit$call)`` with its line breaks.

R deparses a call into lines of at most ``width.cutoff = 60`` characters, breaking after the
operator of a spaced binary operator (``~``, ``+``, ...) and after the comma between arguments,
and indenting continuation lines by four spaces a level. :class:`DeparseBuffer` is R's line
buffer (deparse.c: ``writeline``/``linebreak``); :func:`deparse_call` writes
``fun(formula = <formula>, <name> = <value>, ...)`` into it.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

from . import ast as A
from .deparse import deparse
from .parser import parse_expression, parse_formula

DEPARSE_CUTOFF = 60  # R's deparse(width.cutoff = 60)

_SPACED_OPS = {"~", "+", "-", "*", "==", "!=", "<", ">", "<=", ">=", "&", "&&", "|", "||",
               "<-", "%in%", "%o%"}


class DeparseBuffer:
    """R's deparse line buffer: ``linebreak()`` starts a new line (indented by four spaces per
    level) once the current line is longer than the cut-off (60 characters)."""

    def __init__(self, cutoff: int = DEPARSE_CUTOFF):
        self.cutoff = cutoff
        self.lines: list[str] = []
        self.cur = ""
        self.indent = 0
        self.startline = True

    def put(self, s: str) -> None:
        if self.startline:
            self.startline = False
            self.cur += "".join("    " if i <= 4 else "  " for i in range(1, self.indent + 1))
        self.cur += s

    def linebreak(self, state: list) -> None:
        if len(self.cur) > self.cutoff:
            if not state[0]:
                state[0] = True
                self.indent += 1
            self.lines.append(self.cur)
            self.cur = ""
            self.startline = True

    def text(self) -> list[str]:
        return self.lines + [self.cur]


def deparse_expr(expr: Any, buf: DeparseBuffer) -> None:
    """Deparse a formula AST node into ``buf`` with R's break points (after the operator of a
    spaced binary operator and after the comma between call arguments)."""
    if isinstance(expr, A.BinOp):
        # the left spine iteratively: a sum of thousands of terms must not recurse as deep
        leftmost, spine = A.left_spine(expr)
        deparse_expr(leftmost, buf)
        for node in spine:
            deparse_right(node, buf)
    elif isinstance(expr, A.Paren):
        buf.put("(")
        deparse_expr(expr.expr, buf)
        buf.put(")")
    elif isinstance(expr, A.Call):
        buf.put(expr.fun + "(")
        deparse_args(expr.items(), buf)
        buf.put(")")
    elif isinstance(expr, A.UnaryOp) and expr.op == "~":
        buf.put("~")
        deparse_expr(expr.operand, buf)
    else:  # R's deparse() of the call: integer constants keep their L
        buf.put(deparse(expr, keep_integer=True))


def deparse_right(expr: Any, buf: DeparseBuffer) -> None:
    """The operator and right operand of a binary node whose left operand is already in
    ``buf`` (a possible line break after a spaced operator, indented until the operand ends)."""
    if expr.op in _SPACED_OPS:
        buf.put(f" {expr.op} ")
        state = [False]
        buf.linebreak(state)
        deparse_expr(expr.right, buf)
        if state[0]:
            buf.indent -= 1
    else:
        buf.put(expr.op)
        deparse_expr(expr.right, buf)


def deparse_args(args: Sequence[tuple], buf: DeparseBuffer) -> None:
    """The arguments ``name = value, ...`` of a call (a value is AST or already-deparsed text),
    with a possible line break after each comma."""
    state = [False]
    for i, (name, value) in enumerate(args):
        if name is not None:
            buf.put(f"{name} = ")
        if isinstance(value, str):
            buf.put(value)
        else:
            deparse_expr(value, buf)
        if i < len(args) - 1:
            buf.put(", ")
            buf.linebreak(state)
    if state[0]:
        buf.indent -= 1


def formula_node(formula: A.Formula) -> Any:
    """The formula as an AST node ``lhs ~ rhs`` (or ``~ rhs``) for deparsing."""
    if formula.lhs is None:
        return A.UnaryOp("~", formula.rhs)
    return A.BinOp("~", formula.lhs, formula.rhs)


def deparse_formula_lines(formula: A.Formula) -> list[str]:
    """``deparse(formula(fit))``: the formula's lines as R gives them."""
    buf = DeparseBuffer()
    deparse_expr(formula_node(formula), buf)
    return buf.text()


def call_lines(fun: str, args: Sequence[tuple]) -> list[str]:
    """``deparse()`` of ``fun(name = value, ...)``: values are AST nodes or deparsed text."""
    buf = DeparseBuffer()
    buf.put(fun + "(")
    deparse_args(list(args), buf)
    buf.put(")")
    return buf.text()


def deparse_call(fun: str, formula_text: str, extra: Sequence[tuple]) -> list[str]:
    """``deparse(fit$call)`` for ``fun(formula = <formula>, <name> = <value>, ...)``; the
    formula as written (``.`` not expanded), the other values as given."""
    extra = tuple(extra)
    if _all_text(extra):
        return list(_deparse_call_cached(fun, formula_text, extra))
    return _deparse_call(fun, formula_text, extra)


def _deparse_call(fun: str, formula_text: str, extra: tuple) -> list[str]:
    return call_lines(fun, [("formula", formula_node(parse_formula(formula_text)))]
                      + list(extra))


@functools.lru_cache(maxsize=256)
def _deparse_call_cached(fun: str, formula_text: str, extra: tuple) -> tuple[str, ...]:
    """Deparsed calls by (function, formula text, arguments), which is all the text depends on
    (the loops of small fits deparse the same call again and again); lines kept as a tuple and
    copied out by the caller."""
    return tuple(_deparse_call(fun, formula_text, extra))


def _all_text(args: tuple) -> bool:
    """Whether every (name, value) of ``args`` is text (None for no name): such arguments are
    cache keys (equal keys, equal text)."""
    return all(len(a) == 2 and isinstance(a[1], str) and (a[0] is None or isinstance(a[0], str))
               for a in args)


def deparse_call_text(fun: str, args: Sequence[tuple[str, str]]) -> str:
    """``deparse()`` of a call ``fun(name = value, ...)`` whose values are all text (lines
    joined by newlines): the formula and call-valued arguments are re-parsed so that R's line
    breaks fall inside them too."""
    key = tuple(args)
    return _deparse_call_text_cached(fun, key) if _all_text(key) else \
        _deparse_call_text(fun, key)


def _deparse_call_text(fun: str, args: tuple) -> str:
    nodes: list[tuple[str, Any]] = []
    for name, val in args:
        if name == "formula":
            nodes.append((name, formula_node(parse_formula(val))))
        elif "(" in val:
            nodes.append((name, parse_expression(val)))
        else:
            nodes.append((name, val))
    return "\n".join(call_lines(fun, nodes))


#: the text of a call by (function, arguments), which depends on nothing else
_deparse_call_text_cached = functools.lru_cache(maxsize=256)(_deparse_call_text)
