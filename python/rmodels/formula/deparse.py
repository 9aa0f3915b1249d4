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


def format_number(value: float, text: str = "") -> str:
    """Format a numeric constant as R's deparse does (15 significant digits).

    ``text`` is the literal as written; an ``L`` suffix on a whole number makes it an R integer,
    which is printed in full (``100000L`` → ``100000``).
    """
    if text in ("NA", "NA_integer_", "NA_real_", "NaN", "Inf"):
        return "NA" if text.startswith("NA") else text
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if number_is_integer(text, value):
        return str(int(value))
    return format_real(value)


def format_real(x: float, digits: int = 15) -> str:
    """R's ``formatReal`` for one finite double with ``digits`` significant digits, scipen 0.

    With ``nsig`` the significant digits needed (at most ``digits``) and ``e`` the decimal
    exponent: fixed width = integer digits + (decimals + 1 if any); scientific width =
    1 + (nsig - 1 + 1 if nsig > 1) + 4 (+1 for a 3-digit exponent). Fixed wins ties.
    """
    if x == 0:
        return "0"
    neg = x < 0
    ax = -x if neg else x
    mant, exp_s = f"{ax:.{digits - 1}e}".split("e")
    e10 = int(exp_s)
    sig = mant.replace(".", "").rstrip("0")
    nsig = max(1, len(sig))
    rgt = max(0, nsig - e10 - 1)
    left = e10 + 1 if e10 >= 0 else 1
    width_fixed = left + (rgt + 1 if rgt > 0 else 0)
    width_sci = 1 + (nsig if nsig > 1 else 0) + 4 + (1 if abs(e10) >= 100 else 0)
    if width_fixed <= width_sci:
        out = f"{ax:.{rgt}f}"
    else:
        out = f"{ax:.{nsig - 1}e}"
        mant2, exp2 = out.split("e")
        sign = exp2[0]
        expdigits = exp2[1:].lstrip("0")
        out = f"{mant2}e{sign}{expdigits.rjust(2, '0')}"
    return "-" + out if neg else out


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


def deparse(expr: Expr | Formula) -> str:
    """R's one-line deparse of an expression (or a formula), as used in term labels."""
    if isinstance(expr, Formula):
        rhs = deparse(expr.rhs)
        return "~" + rhs if expr.lhs is None else f"{deparse(expr.lhs)} ~ {rhs}"
    if isinstance(expr, Name):
        return deparse_name(expr.id)
    if isinstance(expr, Num):
        return format_number(expr.value, expr.text)
    if isinstance(expr, Str):
        return deparse_string(expr.value)
    if isinstance(expr, Bool):
        return "TRUE" if expr.value else "FALSE"
    if isinstance(expr, Null):
        return "NULL"
    if isinstance(expr, Dot):
        return "."
    if isinstance(expr, Paren):
        return "(" + deparse(expr.expr) + ")"
    if isinstance(expr, UnaryOp):
        return expr.op + deparse(expr.operand)
    if isinstance(expr, BinOp):
        left, right = deparse(expr.left), deparse(expr.right)
        if expr.op in _TIGHT:
            return f"{left}{expr.op}{right}"
        return f"{left} {expr.op} {right}"
    if isinstance(expr, Call):
        parts = [deparse(a) for a in expr.args]
        parts += [f"{deparse_name(k)} = {deparse(v)}" for k, v in expr.kwargs]
        return f"{_deparse_fun(expr.fun)}({', '.join(parts)})"
    raise TypeError(f"not a formula expression: {expr!r}")
