"""frame functions, numeric: R's numeric functions callable in a formula — ``I``, ``log`` and the
other math functions (R's "NaNs produced" warning), ``round``, the reductions (``mean``, ``sum``,
``sd``…), ``c``, ``as.numeric``/``as.integer``/``as.character``/``as.logical``, ``offset``,
``cbind``, ``ifelse``, ``pmin``/``pmax``.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import pandas as pd

from ...errors import DataError, DataWarning
from ...formula.ast import (
    Name,
)
from ..interpreter import (
    as_numeric,
    eval_constant,
    evaluate,
    logical_values,
    match_args,
)
from ..values import (
    Char,
    Factor,
    Logical,
    Mat,
    format_number_label,
)


def _fn_identity(node, env, top, label):
    a = match_args(node, env, ["x"])
    return evaluate(a["x"], env)


def _math(fun: Callable[[np.ndarray], np.ndarray], name: str):
    def impl(node, env, top, label):
        a = match_args(node, env, ["x"])
        x = as_numeric(evaluate(a["x"], env), env, a["x"])
        with np.errstate(all="ignore"):
            out = fun(np.asarray(x, dtype=float))
        _warn_nans(x, out)
        return out if isinstance(x, np.ndarray) else float(out)

    return impl


def _fn_log(node, env, top, label):
    a = match_args(node, env, ["x", "base"])
    x = as_numeric(evaluate(a["x"], env), env, a["x"])
    with np.errstate(all="ignore"):
        out = np.log(np.asarray(x, dtype=float))
        if "base" in a:
            out = out / np.log(float(as_numeric(eval_constant(a["base"], env), env, a["base"])))
    _warn_nans(x, out)
    return out


def _warn_nans(x, out) -> None:
    """R's math functions warn 'NaNs produced' when a non-NaN input gives NaN."""
    xa = np.asarray(x, dtype=float)
    oa = np.asarray(out, dtype=float)
    if np.any(np.isnan(oa) & ~np.isnan(xa)):
        warnings.warn("NaNs produced", DataWarning, stacklevel=6)


def _fn_round(node, env, top, label):
    a = match_args(node, env, ["x", "digits"])
    x = as_numeric(evaluate(a["x"], env), env, a["x"])
    d = int(eval_constant(a["digits"], env)) if "digits" in a else 0
    return np.round(x, d)


def _reduction(fun):
    def impl(node, env, top, label):
        a = match_args(node, env, ["x", "na.rm"])
        x = np.asarray(as_numeric(evaluate(a["x"], env), env, a["x"]), dtype=float)
        na_rm = bool(eval_constant(a["na.rm"], env)) if "na.rm" in a else False
        if na_rm:
            x = x[~np.isnan(x)]
        return float(fun(x))

    return impl


def _fn_as_character(node, env, top, label):
    a = match_args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Factor):
        return Char(x.labels())
    if isinstance(x, Char):
        return x
    if isinstance(x, Logical):
        return Char(np.where(np.isnan(x.values), None,
                             np.where(x.values == 1, "TRUE", "FALSE")).astype(object))
    v = np.asarray(as_numeric(x, env, a["x"]), dtype=float)
    return Char(np.array([None if np.isnan(t) else format_number_label(t) for t in v],
                         dtype=object))


def _fn_c(node, env, top, label):
    vals = [eval_constant(x, env) for x in node.args]
    if any(isinstance(v, str) for v in vals):
        return [str(v) if not isinstance(v, float) else format_number_label(v) for v in vals]
    return np.array([float(v) for v in vals])


def _fn_as_logical(node, env, top, label):
    a = match_args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Logical):
        return x
    if isinstance(x, (Char, Factor)):
        vals = x.labels() if isinstance(x, Factor) else x.values
        table = {"TRUE": 1.0, "true": 1.0, "T": 1.0, "True": 1.0,
                 "FALSE": 0.0, "false": 0.0, "F": 0.0, "False": 0.0}
        return Logical(np.array([table.get(v, np.nan) if v is not None else np.nan
                                 for v in vals], dtype=float))
    v = np.asarray(as_numeric(x, env, a["x"]), dtype=float)
    return Logical(np.where(np.isnan(v), np.nan, (v != 0).astype(float)))


def _fn_as_numeric(node, env, top, label):
    a = match_args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Factor):
        return np.where(x.codes >= 0, x.codes + 1.0, np.nan)
    if isinstance(x, Logical):
        return x.values
    if isinstance(x, Char):
        out = pd.to_numeric(pd.Series(x.values, dtype=object), errors="coerce").to_numpy(float)
        if np.any(np.isnan(out) & ~pd.isna(x.values)):
            warnings.warn("NAs introduced by coercion", DataWarning, stacklevel=5)
        return out
    return as_numeric(x, env, a["x"])


def _fn_as_integer(node, env, top, label):
    x = _fn_as_numeric(node, env, top, label)
    return np.trunc(x)


def _fn_offset(node, env, top, label):
    a = match_args(node, env, ["object"])
    return as_numeric(evaluate(a["object"], env), env, a["object"])


def _fn_cbind(node, env, top, label):
    cols, names = [], []
    items = node.items()
    for nm, x in items:
        v = evaluate(x, env)
        if isinstance(v, Mat):
            cols.extend(v.values.T)
            names.extend(v.colnames or [""] * v.values.shape[1])
            continue
        if isinstance(v, Factor):
            v = np.where(v.codes >= 0, v.codes + 1.0, np.nan)
        vals = as_numeric(v, env, x)
        cols.append(np.broadcast_to(vals, (env.n,)).astype(float))
        names.append(nm if nm is not None else (x.id if isinstance(x, Name) else ""))
    m = np.column_stack(cols) if cols else np.empty((env.n, 0))
    return Mat(np.asfortranarray(m), names if any(names) else None)


def _fn_ifelse(node, env, top, label):
    a = match_args(node, env, ["test", "yes", "no"], required=3)
    t = logical_values(evaluate(a["test"], env), env, a["test"])
    y = as_numeric(evaluate(a["yes"], env), env, a["yes"])
    n = as_numeric(evaluate(a["no"], env), env, a["no"])
    return np.where(np.isnan(t), np.nan, np.where(t == 1, y, n))


def _fn_pminmax(fun):
    def impl(node, env, top, label):
        if not node.args or node.kwargs:
            raise DataError("no arguments" if not node.args and not node.kwargs else
                            f"{node.fun}(): named arguments are not supported in formulas")
        vals = [as_numeric(evaluate(x, env), env, x) for x in node.args]
        out = vals[0]
        for v in vals[1:]:
            out = fun(out, v)
        return np.broadcast_to(out, (env.n,)).astype(float)

    return impl


#: R's name -> implementation (node, env, top, label) -> value
FUNCTIONS: dict[str, Callable] = {
    "I": _fn_identity,
    "log": _fn_log,
    "log2": _math(np.log2, "log2"),
    "log10": _math(np.log10, "log10"),
    "log1p": _math(np.log1p, "log1p"),
    "exp": _math(np.exp, "exp"),
    "expm1": _math(np.expm1, "expm1"),
    "sqrt": _math(np.sqrt, "sqrt"),
    "abs": _math(np.abs, "abs"),
    "sin": _math(np.sin, "sin"),
    "cos": _math(np.cos, "cos"),
    "tan": _math(np.tan, "tan"),
    "atan": _math(np.arctan, "atan"),
    "tanh": _math(np.tanh, "tanh"),
    "floor": _math(np.floor, "floor"),
    "ceiling": _math(np.ceil, "ceiling"),
    "trunc": _math(np.trunc, "trunc"),
    "sign": _math(np.sign, "sign"),
    "round": _fn_round,
    "c": _fn_c,
    "as.numeric": _fn_as_numeric,
    "as.double": _fn_as_numeric,
    "as.integer": _fn_as_integer,
    "offset": _fn_offset,
    "cbind": _fn_cbind,
    "ifelse": _fn_ifelse,
    "as.logical": _fn_as_logical,
    "as.character": _fn_as_character,
    "mean": _reduction(lambda v: np.mean(v) if len(v) else np.nan),
    "sum": _reduction(np.sum),
    "min": _reduction(lambda v: np.min(v) if len(v) else np.inf),
    "max": _reduction(lambda v: np.max(v) if len(v) else -np.inf),
    "median": _reduction(lambda v: np.median(v) if len(v) else np.nan),
    "sd": _reduction(lambda v: np.std(v, ddof=1) if len(v) > 1 else np.nan),
    "var": _reduction(lambda v: np.var(v, ddof=1) if len(v) > 1 else np.nan),
    "pmin": _fn_pminmax(np.fmin),
}
