"""R's deparse of formula expressions, as it appears in term labels.

Follows R's ``deparse`` with the options ``terms()`` uses for its labels (no ``keepInteger``):

* binary ``+ - * ~ == != < > <= >= & && | || %op%`` (user ``%op%``, incl. ``%in%``) are written
  with one space on each side; ``/ ^ : %% %/% $ @`` with none; a one-sided formula is ``~x``;
* unary operators are glued to their operand: ``-x``, ``!x``, ``x^-1``;
* parentheses appear exactly where the expression has them (the parser keeps them);
* calls are ``f(a, b, name = value)``; namespaced functions keep ``pkg::f``;
* numbers: 15 significant digits and R's fixed-versus-scientific choice (``formatReal``: fixed
  notation when its width is at most the scientific width), so ``1e6`` → ``1e+06``, ``100000``
  → ``1e+05``, ``123456`` → ``123456``, ``0.001`` → ``0.001``, ``1e-04``; ``2L`` → ``2``;
* strings in double quotes with R's escapes; non-syntactic names in backticks.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .. import _core
from .ast import BinOp, Bool, Call, Dot, Expr, Formula, Name, Null, Num, Paren, Str, UnaryOp
from .lexer import RESERVED, number_is_integer

_SPACED = frozenset(
    {"+", "-", "*", "~", "==", "!=", "<", ">", "<=", ">=", "&", "&&", "|", "||", "<-", "="}
)
_TIGHT = frozenset({"/", "^", ":", "%%", "%/%", "$", "@"})
_SYNTACTIC = re.compile(r"^(?:[^\W\d_]|\.(?![\d]))[\w.]*$|^\.$")


def is_syntactic_name(name: str) -> bool:
    """R's ``make.names`` validity: a name that needs no backticks when deparsed."""
    if name in ("...",) or re.fullmatch(r"\.\.[0-9]+", name):
        return True
    if name in RESERVED:
        return False
    return bool(_SYNTACTIC.match(name))


def deparse_name(name: str) -> str:
    """A symbol as R deparses it: bare if syntactic, otherwise in backticks."""
    if is_syntactic_name(name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def format_number(value: float, text: str = "", keep_integer: bool = False) -> str:
    """Format a numeric constant as R's deparse does (15 significant digits).

    ``text`` is the literal as written; an ``L`` suffix on a whole number makes it an R integer,
    which is printed in full (``100000L`` → ``100000``), with its ``L`` under R's
    ``keepInteger`` deparse option (``100000L``).
    """
    if text in ("NA", "NA_integer_", "NA_real_", "NaN", "Inf"):
        return "NA" if text.startswith("NA") else text
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if number_is_integer(text, value):
        return str(int(value)) + ("L" if keep_integer else "")
    return format_real(value)


def format_real(x: float, digits: int = 15) -> str:
    """R's ``formatReal`` + ``EncodeReal0`` for one finite double with ``digits`` significant
    digits, scipen 0 (deparse's numbers), computed by the core's port of R's C code."""
    v = np.array([x], dtype=np.float64)
    kinds = np.zeros(1, dtype=np.int8)  # finite
    w, d, e = _core.format_real(v, kinds, digits, 0, 2, 0)
    return _core.encode_reals(v, kinds, w, d, e, "NA")[0].lstrip()


def deparse_string(value: str) -> str:
    """A string constant in double quotes with R's escapes (``EncodeString``)."""
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_STRING_ESCAPES = {
    "\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a", "\b": "\\b", "\f": "\\f",
    "\v": "\\v", "\0": "\\0",
}


def _deparse_fun(fun: str) -> str:
    for sep in (":::", "::"):
        if sep in fun:
            pkg, _, name = fun.partition(sep)
            return deparse_name(pkg) + sep + deparse_name(name)
    return deparse_name(fun)


LABEL_CUTOFF = 500  # R's MAX_Cutoff, used by deparse1line for term labels


class _Writer:
    """R's deparse buffer: lines, the current line's length and the indent level.

    As R's ``linebreak()``: after the ``op`` of a spaced binary operator or the ``, `` between
    call arguments, a new line is started when the current one is longer than ``cutoff``
    (continuation lines are indented by 4 spaces per level, 2 beyond the fourth)."""

    def __init__(self, cutoff: int | None, keep_integer: bool = False):
        self.cutoff = cutoff
        self.keep_integer = keep_integer
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.length = 0
        self.indent = 0
        self.startline = True

    def write(self, text: str) -> None:
        if self.startline:
            self.startline = False
            tabs = "".join("    " if i <= 4 else "  " for i in range(1, self.indent + 1))
            self.parts.append(tabs)
            self.length += len(tabs)
        self.parts.append(text)
        self.length += len(text.encode("utf-8"))

    def linebreak(self, broke: bool) -> bool:
        if self.cutoff is not None and self.length > self.cutoff:
            if not broke:
                broke = True
                self.indent += 1
            self.lines.append("".join(self.parts))
            self.parts = []
            self.length = 0
            self.startline = True
        return broke

    def text(self) -> str:
        return "\n".join([*self.lines, "".join(self.parts)])

    def expr(self, e: Expr) -> None:
        if isinstance(e, BinOp):
            # walk the left spine iteratively: `x1 + x2 + ... + x5000` must not recurse 5000 deep
            spine: list[BinOp] = []
            node: Expr = e
            while isinstance(node, BinOp):
                spine.append(node)
                node = node.left
            self.expr(node)
            for b in reversed(spine):
                if b.op in _TIGHT:
                    self.write(b.op)
                    self.expr(b.right)
                    continue
                self.write(f" {b.op} ")
                broke = self.linebreak(False)
                self.expr(b.right)
                if broke:
                    self.indent -= 1
        elif isinstance(e, Call):
            self.write(_deparse_fun(e.fun) + "(")
            items: list[tuple[str | None, Expr]] = e.items()
            broke = False
            for k, (name, value) in enumerate(items):
                if name is not None:
                    self.write(deparse_name(name) + " = ")
                self.expr(value)
                if k < len(items) - 1:
                    self.write(", ")
                    broke = self.linebreak(broke)
            if broke:
                self.indent -= 1
            self.write(")")
        elif isinstance(e, Paren):
            self.write("(")
            self.expr(e.expr)
            self.write(")")
        elif isinstance(e, UnaryOp):
            self.write(e.op)
            self.expr(e.operand)
        else:
            self.write(_atom(e, self.keep_integer))


def _atom(e: Expr, keep_integer: bool = False) -> str:
    if isinstance(e, Name):
        return deparse_name(e.id)
    if isinstance(e, Num):
        return format_number(e.value, e.text, keep_integer)
    if isinstance(e, Str):
        return deparse_string(e.value)
    if isinstance(e, Bool):
        return "TRUE" if e.value else "FALSE"
    if isinstance(e, Null):
        return "NULL"
    if isinstance(e, Dot):
        return "."
    raise TypeError(f"not a formula expression: {e!r}")


def deparse(expr: Expr | Formula, cutoff: int | None = LABEL_CUTOFF,
            keep_integer: bool = False) -> str:
    """R's deparse of an expression (or a formula) as ``terms()`` labels it (``deparse1line``).

    Expressions longer than ``cutoff`` bytes are broken into lines joined by ``"\\n"`` exactly
    where R breaks them; ``cutoff=None`` never breaks. ``keep_integer``: integer constants keep
    their ``L`` (R's ``deparse()`` default, used for model-frame names; term labels drop it).
    """
    w = _Writer(cutoff, keep_integer)
    if isinstance(expr, Formula):
        if expr.lhs is None:
            w.write("~")
        else:
            w.expr(expr.lhs)
            w.write(" ~ ")
            broke = w.linebreak(False)
            w.expr(expr.rhs)
            if broke:
                w.indent -= 1
            return w.text()
        w.expr(expr.rhs)
        return w.text()
    w.expr(expr)
    return w.text()
