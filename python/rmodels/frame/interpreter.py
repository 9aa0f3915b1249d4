"""frame, interpreter: evaluation of R expressions of a formula over the AST — names (data
columns, ``pi``, ``T``/``F``), constants, R's arithmetic, comparison and logical operators,
``%in%``, ``:`` between factors — and calls of the functions in :data:`FUNCTIONS`. User text
never reaches Python's ``eval``.

:data:`FUNCTIONS` maps R's function names to their implementations; the modules of
``frame.functions`` define them and ``frame.functions`` installs them here (the package
``frame`` imports it, so the table is full whenever the frame is used). Also here: R's matching
of call arguments to formal names (``match_args``) and R's coercions (``as_numeric``,
``as_factor``, ``logical_values``) that the functions share.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from ..formula.ast import (
    BinOp,
    Bool,
    Call,
    Dot,
    Name,
    Null,
    Num,
    Paren,
    Str,
    UnaryOp,
    left_spine,
)
from ..formula.deparse import deparse
from .columns import column_value
from .values import Char, Factor, Logical, Mat, interaction_factor, numeric_to_factor

#: R's function name -> implementation ``(node, env, top, label) -> value``; filled by
#: ``frame.functions`` (imported by the package ``frame``).
FUNCTIONS: dict[str, Callable] = {}


class Env:
    """Evaluation context: the data, its length, the formula text for error positions, and the
    transform states (training: None → compute and record; new data: replay)."""

    def __init__(self, data: pd.DataFrame, formula: str = "", states: dict | None = None,
                 record: bool = True):
        self.data = data
        self.n = len(data)
        self.formula = formula
        self.states = states if states is not None else {}
        self.record = record
        self._cache: dict[str, Any] = {}

    def column(self, name: str):
        if name not in self._cache:
            self._cache[name] = column_value(self.data, name)
        return self._cache[name]


def formula_error(env: Env, msg: str, node) -> FormulaError:
    pos = getattr(node, "pos", None) if env.formula else None
    return FormulaError(msg, env.formula or None, pos)


def as_numeric(v, env: Env, node, what: str = "argument") -> np.ndarray | float:
    """Coerce to numeric as R's arithmetic does (logical → 0/1; factor/character → error)."""
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v
    if isinstance(v, Logical):
        return v.values
    if isinstance(v, Mat):
        if v.values.shape[1] == 1:
            return v.values[:, 0]
        return v.values
    if isinstance(v, Factor):
        raise DataError(f"non-numeric argument: '{deparse(node)}' is a factor")
    if isinstance(v, (Char, str)):
        raise DataError(f"non-numeric argument to mathematical function: '{deparse(node)}'")
    raise DataError(f"cannot use '{deparse(node)}' as a number")


def evaluate(node, env: Env, top: bool = False, label: str | None = None):
    """Evaluate an AST node; ``top`` marks the node as a whole formula variable (its
    poly/scale/ns/bs state is frozen for new data under ``label``)."""
    if isinstance(node, Paren):
        return evaluate(node.expr, env)
    if isinstance(node, Name):
        if node.id in env.data.columns:
            return env.column(node.id)
        if node.id == "pi":
            return math.pi
        if node.id in ("T", "F"):
            return node.id == "T"
        raise DataError(f"object '{node.id}' not found")
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Str):
        return node.value
    if isinstance(node, Bool):
        return bool(node.value)
    if isinstance(node, Null):
        return None
    if isinstance(node, Dot):
        raise formula_error(env, "'.' is only allowed in the formula's right-hand side", node)
    if isinstance(node, UnaryOp):
        v = evaluate(node.operand, env)
        if node.op == "-":
            return -as_numeric(v, env, node.operand)
        if node.op == "+":
            return as_numeric(v, env, node.operand)
        if node.op == "!":
            return Logical(_logical_not(v, env, node))
        raise formula_error(env, f"operator '{node.op}' cannot be evaluated here", node)
    if isinstance(node, BinOp):
        return _binop(node, env)
    if isinstance(node, Call):
        fn = node.fun.split("::")[-1]
        impl = FUNCTIONS.get(fn)
        if impl is None:
            raise formula_error(env, f"could not find function \"{node.fun}\" (not supported "
                                     "in formulas)", node)
        return call_function(impl, node, env, top, label)
    raise formula_error(env, "cannot evaluate this expression", node)


def call_function(impl: Callable, node: Call, env: Env, top: bool, label: str | None):
    """Call one of :data:`FUNCTIONS`. Arguments of a kind the function cannot take (a vector
    where R wants one number, a number past the range of an integer, ...) end in the package's
    :class:`DataError` naming the call, never in a Python exception of another kind."""
    try:
        with np.errstate(all="ignore"):
            return impl(node, env, top, label)
    except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError,
            AttributeError) as exc:
        raise DataError(f"invalid argument in '{deparse(node)}': {_plain(exc)}") from exc


def _plain(exc: Exception) -> str:
    """A short reason for an argument error, without Python's wording of the type."""
    if isinstance(exc, OverflowError):
        return "a number out of range"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, IndexError):
        return "missing or too few values"
    return "argument of the wrong kind or length"


def logical_values(v, env, node) -> np.ndarray:
    if isinstance(v, Logical):
        return v.values
    if isinstance(v, bool):
        return float(v)
    x = as_numeric(v, env, node)
    return np.where(np.isnan(x), np.nan, (np.asarray(x) != 0).astype(float))


def _logical_not(v, env, node):
    x = logical_values(v, env, node)
    return np.where(np.isnan(x), np.nan, 1.0 - x)


def _compare(op: str, a, b, env, node):
    def as_cmp(v):
        if isinstance(v, Factor):
            return v.labels()
        if isinstance(v, Char):
            return v.values
        if isinstance(v, str):
            return v
        return as_numeric(v, env, node)

    x, y = as_cmp(a), as_cmp(b)
    if isinstance(x, np.ndarray) and x.dtype == object or isinstance(y, np.ndarray) and \
            y.dtype == object or isinstance(x, str) or isinstance(y, str):
        xa = np.asarray(x, dtype=object) if not isinstance(x, str) else x
        ya = np.asarray(y, dtype=object) if not isinstance(y, str) else y
        na = pd.isna(xa) | pd.isna(ya)
        xs = np.where(pd.isna(xa), "", xa) if isinstance(xa, np.ndarray) else xa
        ys = np.where(pd.isna(ya), "", ya) if isinstance(ya, np.ndarray) else ya
        if op in ("==", "!="):
            res = np.asarray(xs == ys) if op == "==" else np.asarray(xs != ys)
        else:
            raise DataError(f"comparison '{op}' of strings is not supported in formulas")
        res = res.astype(float)
        return Logical(np.where(na, np.nan, res))
    xf, yf = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        res = {"==": xf == yf, "!=": xf != yf, "<": xf < yf, ">": xf > yf,
               "<=": xf <= yf, ">=": xf >= yf}[op].astype(float)
    res = np.where(np.isnan(xf) | np.isnan(yf), np.nan, res)
    return Logical(np.broadcast_to(res, (env.n,)).copy() if res.ndim == 0 else res)


def _binop(node: BinOp, env: Env):
    """A chain of binary operators, evaluated along its left spine without recursing (a sum of
    thousands of columns inside ``I()`` must not recurse as deep)."""
    leftmost, spine = left_spine(node)
    for b in reversed(spine):
        if b.op in ("~", "||"):
            raise formula_error(env, f"operator '{b.op}' cannot be used inside a variable", b)
    value = evaluate(leftmost, env)
    for b in spine:
        right = evaluate(b.right, env)
        try:
            value = _apply_binop(b, value, right, env)
        except (TypeError, ValueError, IndexError) as exc:  # e.g. a vector && a matrix
            raise DataError(f"invalid operands of '{b.op}' in '{deparse(b)}': "
                            f"{_plain(exc)}") from exc
    return value


def _apply_binop(node: BinOp, a, b, env: Env):
    """R's binary operator ``node.op`` applied to the evaluated operands ``a`` and ``b``."""
    op = node.op
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return _compare(op, a, b, env, node)
    if op == "%in%":
        return _in(a, b)
    if op in ("&", "&&", "|"):
        x = logical_values(a, env, node.left)
        y = logical_values(b, env, node.right)
        with np.errstate(invalid="ignore"):
            if op == "|":
                res = np.where((x == 1) | (y == 1), 1.0,
                               np.where(np.isnan(x) | np.isnan(y), np.nan, 0.0))
            else:
                res = np.where((x == 0) | (y == 0), 0.0,
                               np.where(np.isnan(x) | np.isnan(y), np.nan, 1.0))
        return Logical(res)
    if op == ":":
        if isinstance(a, (Factor, Char)) and isinstance(b, (Factor, Char)):
            return interaction_factor(as_factor(a), as_factor(b))
        raise formula_error(env, "':' between variables is only meaningful for factors here", node)
    # NumPy scalars: R's arithmetic on constants (1/0 is Inf, not Python's ZeroDivisionError)
    x = as_numeric(a, env, node.left)
    y = as_numeric(b, env, node.right)
    x = np.float64(x) if np.ndim(x) == 0 else x
    y = np.float64(y) if np.ndim(y) == 0 else y
    with np.errstate(all="ignore"):
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            return x / y
        if op == "^":
            return np.power(x, y)
        if op == "%%":
            return _r_mod(x, y)
        if op == "%/%":
            return np.floor_divide(x, y)
    raise formula_error(env, f"operator '{op}' cannot be evaluated here", node)


def _in(a, b) -> Logical:
    def as_values(v):
        if isinstance(v, Factor):
            return v.labels()
        if isinstance(v, Char):
            return v.values
        if isinstance(v, list):
            return np.array(v, dtype=object)
        if isinstance(v, str):
            return np.array([v], dtype=object)
        if isinstance(v, Logical):
            return v.values
        return np.atleast_1d(np.asarray(v, dtype=float))

    x, table = as_values(a), as_values(b)
    if x.dtype == object or table.dtype == object:
        tab = {str(t) for t in table if t is not None}
        res = np.array([(str(v) in tab) if v is not None else (None in list(table))
                        for v in x], dtype=float)
    else:
        res = np.isin(x, table).astype(float)
        if np.isnan(table).any():
            res[np.isnan(x)] = 1.0
    return Logical(res)


def _r_mod(x, y):
    return np.mod(x, y)


def match_args(node: Call, env: Env, names: list[str], required: int = 1) -> dict:
    """Match positional and named arguments to ``names`` as R does (exact names, then
    positions); returns unevaluated nodes."""
    out: dict = {}
    for k, v in node.kwargs:
        key = k.replace("_", ".") if k.replace("_", ".") in names else k
        if key not in names:
            # R's partial matching of argument names
            cands = [nm for nm in names if nm.startswith(key)]
            if len(cands) != 1:
                raise formula_error(env, f"unused argument ({k} = {deparse(v)}) in {node.fun}()",
                                    node)
            key = cands[0]
        out[key] = v
    free = [nm for nm in names if nm not in out]
    if len(node.args) > len(free):
        extra = node.args[len(free)]
        raise formula_error(env, f"unused argument ({deparse(extra)}) in {node.fun}()", extra)
    for nm, v in zip(free, node.args):
        out[nm] = v
    for nm in names[:required]:
        if nm not in out:
            raise formula_error(env, f'argument "{nm}" is missing, with no default', node)
    return out


def eval_constant(node, env: Env):
    """Evaluate an argument that must be a constant (number, string, TRUE/FALSE, c(...))."""
    v = evaluate(node, env)
    if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == 1:
        return float(v[0])
    return v


def as_factor(v) -> Factor:
    if isinstance(v, Factor):
        return v
    if isinstance(v, Char):
        return v.to_factor()
    if isinstance(v, Logical):
        x = v.values
        present = [lv for lv, val in (("FALSE", 0.0), ("TRUE", 1.0)) if (x == val).any()]
        codes = np.full(len(x), -1, dtype=np.int32)
        for i, (_, val) in enumerate([(lv, 0.0 if lv == "FALSE" else 1.0) for lv in present]):
            codes[x == val] = i
        return Factor(codes, present)
    if isinstance(v, np.ndarray):
        return numeric_to_factor(v)
    raise DataError("cannot convert to a factor")
