"""Model frame: evaluate the variables of a formula against a data frame, as R's model.frame.

Each variable expression of the terms (``x``, ``log(x + 1)``, ``poly(x, 2)``, ``factor(g)``...)
is evaluated by a small interpreter over the formula AST. Only the functions in ``FUNCTIONS`` are
callable; user text never reaches Python's ``eval``.

As in R, variables are evaluated on the whole data first (so ``poly``/``scale``/``ns`` see every
row), then ``subset`` is applied, then rows with a missing value in any variable are dropped.
Data-dependent transforms at the top of a variable (``poly``, ``scale``, ``ns``, ``bs``) record
their state so that new data is encoded exactly as the training data (R's ``predvars``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from ..collation import sort_levels
from ..errors import DataError, DataWarning, FormulaError
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
)
from ..formula.deparse import deparse
from . import transforms as tr

# --------------------------------------------------------------------------------------------
# Values


@dataclass
class Factor:
    """A factor: 0-based ``codes`` (−1 = NA) into ``levels``.

    ``kind`` is "factor" (a factor or pandas Categorical), "character" (a string column: its
    levels are recomputed from the rows kept, as model.matrix's ``factor()`` does) or "logical"
    (levels FALSE/TRUE always). ``contrasts`` is a contrast name or (matrix, colnames) set by
    ``C()``; None means the default for the factor's type.
    """

    codes: np.ndarray
    levels: list
    ordered: bool = False
    kind: str = "factor"
    contrasts: Any = None

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, idx: np.ndarray) -> Factor:
        return replace(self, codes=self.codes[idx])

    @property
    def na(self) -> np.ndarray:
        return self.codes < 0

    def drop_unused(self) -> Factor:
        nlev = len(self.levels)
        # counts per code, -1 (NA) first
        counts = np.bincount(self.codes.astype(np.intp) + 1, minlength=nlev + 1)
        used = counts[1:nlev + 1] > 0
        if used.all():
            return self
        ok = self.codes >= 0
        remap = np.cumsum(used) - 1
        codes = np.where(ok, remap[np.where(ok, self.codes, 0)], -1).astype(np.int32)
        levels = [lv for lv, u in zip(self.levels, used) if u]
        return replace(self, codes=codes, levels=levels)

    def labels(self) -> np.ndarray:
        lv = np.array(list(self.levels) + [None], dtype=object)
        return lv[self.codes]


@dataclass
class Mat:
    """A matrix-valued variable (poly, ns, bs, scale, cbind); ``colnames`` may be None."""

    values: np.ndarray
    colnames: Optional[list] = None

    def __len__(self) -> int:
        return self.values.shape[0]

    def take(self, idx: np.ndarray) -> Mat:
        return Mat(self.values[idx], self.colnames)

    @property
    def na(self) -> np.ndarray:
        return np.isnan(self.values).any(axis=1)


class Char:
    """A character vector (object array, None = NA) during evaluation. A data column arrives
    already factorised (``codes`` into ``uniques``, −1 = NA) and its object array is only built
    when an operation needs the strings."""

    def __init__(self, values: Optional[np.ndarray] = None, codes: Optional[np.ndarray] = None,
                 uniques: Optional[list] = None):
        self._values = values
        self.codes = codes
        self.uniques = uniques

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            lut = np.array(list(self.uniques) + [None], dtype=object)
            self._values = lut[self.codes]
        return self._values

    def __len__(self) -> int:
        return len(self.codes) if self.codes is not None else len(self._values)

    def to_factor(self, levels: Optional[list] = None) -> "Factor":
        """R's ``factor()`` of the strings: sorted levels, or the given ones (others → NA)."""
        if self.codes is None:
            return char_to_factor(self.values, levels)
        if levels is None:
            levels = sort_levels(self.uniques)
        pos = {lv: i for i, lv in enumerate(levels)}
        lut = np.array([pos.get(u, -1) for u in self.uniques] + [-1], dtype=np.int32)
        return Factor(lut[self.codes], list(levels), kind="character")


@dataclass
class Logical:
    """A logical vector during evaluation: float 0/1 with NaN for NA."""

    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class VarState:
    """Frozen state of a variable for new data: a transform state and/or factor levels."""

    transform: Any = None
    levels: Optional[list] = None


# --------------------------------------------------------------------------------------------
# Reading data columns


def column_value(data: pd.DataFrame, name: str, expr_pos: int = 0, formula: str | None = None):
    """The R value of a data column: numeric → float64 array, Categorical → Factor,
    bool → Logical, strings → Char."""
    if name not in data.columns:
        raise DataError(f"object '{name}' not found")
    s = data[name]
    if isinstance(s, pd.DataFrame):
        raise DataError(f"column name '{name}' is duplicated in data")
    return series_value(s, name)


def series_value(s: pd.Series, name: str = "x"):
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        cats = [str(c) for c in dt.categories]
        return Factor(s.cat.codes.to_numpy(np.int32, copy=True), cats, bool(dt.ordered))
    if pd.api.types.is_bool_dtype(dt):
        return Logical(s.to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_numeric_dtype(dt):
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        nan = np.isnan(arr)
        if nan.any():
            # canonical quiet NaNs: R's NA (a signalling NaN pattern, e.g. data that came
            # through rpy2) would raise floating-point 'invalid' warnings in arithmetic
            arr = arr.copy()
            arr[nan] = np.nan
        return arr
    if pd.api.types.is_datetime64_any_dtype(dt) or pd.api.types.is_timedelta64_dtype(dt):
        raise DataError(f"column '{name}' has a date/time type; convert it to numbers first")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    uniq = list(uniques)
    if uniq and all(isinstance(v, (bool, np.bool_)) for v in uniq):
        lut = np.array([1.0 if v else 0.0 for v in uniq] + [np.nan])
        return Logical(lut[codes])
    labels = [str(v) for v in uniq]
    if len(set(labels)) != len(labels):  # mixed types that print alike ("1" and 1)
        vals = np.array(labels + [None], dtype=object)[codes]
        return Char(vals)
    return Char(codes=np.asarray(codes, dtype=np.int64), uniques=labels)


def char_to_factor(values: np.ndarray, levels: Optional[list] = None) -> Factor:
    """Character → factor with R's sorted levels (or the given levels; others → NA)."""
    isna = pd.isna(values)
    codes_raw, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = [str(u) for u in uniques]
    if levels is None:
        levels = sort_levels(uniques)
    pos = {lv: i for i, lv in enumerate(levels)}
    lut = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int32)
    codes = lut[codes_raw]
    codes[isna] = -1
    return Factor(codes.astype(np.int32), list(levels), kind="character")


def format_number_label(v: float) -> str:
    """as.character() of a double as R prints it (15 significant digits)."""
    if np.isnan(v):
        return "NA"
    if np.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        iv = int(v)
        s = str(iv)
        # R switches to scientific when it is shorter (e.g. 1e+05 for 100000).
        sci = _sci15(v)
        return sci if len(sci) < len(s) else s
    fixed = f"{v:.15g}"
    if "e" in fixed:
        return _sci15(v)
    sci = _sci15(v)
    return sci if len(sci) < len(fixed) else fixed


def _sci15(v: float) -> str:
    m, e = f"{v:.14e}".split("e")
    m = m.rstrip("0").rstrip(".")
    ei = int(e)
    return f"{m}e{'+' if ei >= 0 else '-'}{abs(ei):02d}"


def _integer_factor(x: np.ndarray, isna: np.ndarray) -> Factor | None:
    """factor() of whole numbers in a narrow range by counting (no sort); None otherwise."""
    has_na = bool(isna.any())
    v = x[~isna] if has_na else x
    if len(v) == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    if not (abs(lo) < 2.0**52 and abs(hi) < 2.0**52 and hi - lo <= 4 * len(v) + 1024):
        return None
    off = v - lo
    k = off.astype(np.int64)
    if not np.array_equal(k, off):
        return None
    present = np.bincount(k) > 0
    lut = (np.cumsum(present) - 1).astype(np.int32)
    levels = [format_number_label(u + lo) for u in np.flatnonzero(present).tolist()]
    if not has_na:
        return Factor(lut[k], levels)
    codes = np.full(len(x), -1, dtype=np.int32)
    codes[~isna] = lut[k]
    return Factor(codes, levels)


def numeric_to_factor(x: np.ndarray, levels: Optional[list] = None) -> Factor:
    isna = np.isnan(x)
    if levels is None:
        fast = _integer_factor(x, isna)
        if fast is not None:
            return fast
        uniq = np.unique(x[~isna])
        levels = [format_number_label(v) for v in uniq]
        codes = np.full(len(x), -1, dtype=np.int32)
        codes[~isna] = np.searchsorted(uniq, x[~isna]).astype(np.int32)
        return Factor(codes, levels)
    labels = np.array([format_number_label(v) for v in x], dtype=object)
    labels[isna] = None
    f = char_to_factor(labels, levels)
    f.kind = "factor"
    return f


# --------------------------------------------------------------------------------------------
# The interpreter


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


def _err(env: Env, msg: str, node) -> FormulaError:
    pos = getattr(node, "pos", None) if env.formula else None
    return FormulaError(msg, env.formula or None, pos)


def _num(v, env: Env, node, what: str = "argument") -> np.ndarray | float:
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


def _as_scalar(v, node, env) -> Any:
    if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == 1:
        return float(v[0])
    return v


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
        raise _err(env, "'.' is only allowed in the formula's right-hand side", node)
    if isinstance(node, UnaryOp):
        v = evaluate(node.operand, env)
        if node.op == "-":
            return -_num(v, env, node.operand)
        if node.op == "+":
            return _num(v, env, node.operand)
        if node.op == "!":
            return Logical(_logical_not(v, env, node))
        raise _err(env, f"operator '{node.op}' cannot be evaluated here", node)
    if isinstance(node, BinOp):
        return _binop(node, env)
    if isinstance(node, Call):
        fn = node.fun.split("::")[-1]
        impl = FUNCTIONS.get(fn)
        if impl is None:
            raise _err(env, f"could not find function \"{node.fun}\" (not supported in formulas)",
                       node)
        return impl(node, env, top, label)
    raise _err(env, "cannot evaluate this expression", node)


def _logical_values(v, env, node) -> np.ndarray:
    if isinstance(v, Logical):
        return v.values
    if isinstance(v, bool):
        return float(v)
    x = _num(v, env, node)
    return np.where(np.isnan(x), np.nan, (np.asarray(x) != 0).astype(float))


def _logical_not(v, env, node):
    x = _logical_values(v, env, node)
    return np.where(np.isnan(x), np.nan, 1.0 - x)


def _compare(op: str, a, b, env, node):
    def as_cmp(v):
        if isinstance(v, Factor):
            return v.labels()
        if isinstance(v, Char):
            return v.values
        if isinstance(v, str):
            return v
        return _num(v, env, node)

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
    op = node.op
    if op in ("~", "|", "||") and op != "|":
        raise _err(env, f"operator '{op}' cannot be used inside a variable", node)
    a = evaluate(node.left, env)
    b = evaluate(node.right, env)
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return _compare(op, a, b, env, node)
    if op == "%in%":
        return _in(a, b)
    if op in ("&", "&&", "|"):
        x = _logical_values(a, env, node.left)
        y = _logical_values(b, env, node.right)
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
            return interaction_factor(_as_factor(a), _as_factor(b))
        raise _err(env, "':' between variables is only meaningful for factors here", node)
    x = _num(a, env, node.left)
    y = _num(b, env, node.right)
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
    raise _err(env, f"operator '{op}' cannot be evaluated here", node)


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


def interaction_factor(f1: Factor, f2: Factor) -> Factor:
    """``f1:f2`` for factors: levels "a:b" with the first factor varying slowest (R's ':'),
    unused combinations dropped."""
    n2 = len(f2.levels)
    ok = (f1.codes >= 0) & (f2.codes >= 0)
    codes = np.where(ok, f1.codes.astype(np.int64) * n2 + f2.codes, -1)
    levels = [f"{a}:{b}" for a in f1.levels for b in f2.levels]
    return Factor(codes.astype(np.int32), levels).drop_unused()


# --------------------------------------------------------------------------------------------
# Functions callable in formulas


def _args(node: Call, env: Env, names: list[str], required: int = 1) -> dict:
    """Match positional and named arguments to ``names`` as R does (exact names, then
    positions); returns unevaluated nodes."""
    out: dict = {}
    for k, v in node.kwargs:
        key = k.replace("_", ".") if k.replace("_", ".") in names else k
        if key not in names:
            # R's partial matching of argument names
            cands = [nm for nm in names if nm.startswith(key)]
            if len(cands) != 1:
                raise _err(env, f"unused argument ({k} = {deparse(v)}) in {node.fun}()", node)
            key = cands[0]
        out[key] = v
    free = [nm for nm in names if nm not in out]
    if len(node.args) > len(free):
        extra = node.args[len(free)]
        raise _err(env, f"unused argument ({deparse(extra)}) in {node.fun}()", extra)
    for nm, v in zip(free, node.args):
        out[nm] = v
    for nm in names[:required]:
        if nm not in out:
            raise _err(env, f'argument "{nm}" is missing, with no default', node)
    return out


def _eval_const(node, env: Env):
    """Evaluate an argument that must be a constant (number, string, TRUE/FALSE, c(...))."""
    v = evaluate(node, env)
    if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == 1:
        return float(v[0])
    return v


def _as_factor(v) -> Factor:
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


def _fn_identity(node, env, top, label):
    a = _args(node, env, ["x"])
    return evaluate(a["x"], env)


def _math(fun: Callable[[np.ndarray], np.ndarray], name: str):
    def impl(node, env, top, label):
        a = _args(node, env, ["x"])
        x = _num(evaluate(a["x"], env), env, a["x"])
        with np.errstate(all="ignore"):
            out = fun(np.asarray(x, dtype=float))
        _warn_nans(x, out)
        return out if isinstance(x, np.ndarray) else float(out)

    return impl


def _fn_log(node, env, top, label):
    a = _args(node, env, ["x", "base"])
    x = _num(evaluate(a["x"], env), env, a["x"])
    with np.errstate(all="ignore"):
        out = np.log(np.asarray(x, dtype=float))
        if "base" in a:
            out = out / np.log(float(_num(_eval_const(a["base"], env), env, a["base"])))
    _warn_nans(x, out)
    return out


def _warn_nans(x, out) -> None:
    """R's math functions warn 'NaNs produced' when a non-NaN input gives NaN."""
    xa = np.asarray(x, dtype=float)
    oa = np.asarray(out, dtype=float)
    if np.any(np.isnan(oa) & ~np.isnan(xa)):
        warnings.warn("NaNs produced", DataWarning, stacklevel=6)


def _fn_round(node, env, top, label):
    a = _args(node, env, ["x", "digits"])
    x = _num(evaluate(a["x"], env), env, a["x"])
    d = int(_eval_const(a["digits"], env)) if "digits" in a else 0
    return np.round(x, d)


def _reduction(fun):
    def impl(node, env, top, label):
        a = _args(node, env, ["x", "na.rm"])
        x = np.asarray(_num(evaluate(a["x"], env), env, a["x"]), dtype=float)
        na_rm = bool(_eval_const(a["na.rm"], env)) if "na.rm" in a else False
        if na_rm:
            x = x[~np.isnan(x)]
        return float(fun(x))

    return impl


def _fn_as_character(node, env, top, label):
    a = _args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Factor):
        return Char(x.labels())
    if isinstance(x, Char):
        return x
    if isinstance(x, Logical):
        return Char(np.where(np.isnan(x.values), None,
                             np.where(x.values == 1, "TRUE", "FALSE")).astype(object))
    v = np.asarray(_num(x, env, a["x"]), dtype=float)
    return Char(np.array([None if np.isnan(t) else format_number_label(t) for t in v],
                         dtype=object))


def _fn_c(node, env, top, label):
    vals = [_eval_const(x, env) for x in node.args]
    if any(isinstance(v, str) for v in vals):
        return [str(v) if not isinstance(v, float) else format_number_label(v) for v in vals]
    return np.array([float(v) for v in vals])


def _levels_arg(v) -> list:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [str(x) for x in v]
    if isinstance(v, np.ndarray):
        return [format_number_label(x) for x in v]
    if isinstance(v, float):
        return [format_number_label(v)]
    raise DataError("invalid 'levels' argument")


def _fn_factor(node, env, top, label, ordered_default: bool = False):
    a = _args(node, env, ["x", "levels", "labels", "exclude", "ordered"], required=0)
    if "x" not in a:
        raise _err(env, 'argument "x" is missing, with no default', node)
    x = evaluate(a["x"], env)
    levels = _levels_arg(_eval_const(a["levels"], env)) if "levels" in a else None
    ordered = bool(_eval_const(a["ordered"], env)) if "ordered" in a else ordered_default
    if isinstance(x, Factor):
        if levels is None:
            f = replace(x.drop_unused(), kind="factor", contrasts=None)
        else:
            f = char_to_factor(x.labels(), levels)
    elif isinstance(x, Char):
        f = x.to_factor(levels)
    elif isinstance(x, Logical):
        if levels is None:
            f = _as_factor(x)
        else:
            lab = np.where(np.isnan(x.values), None,
                           np.where(x.values == 1, "TRUE", "FALSE")).astype(object)
            f = char_to_factor(lab, levels)
    elif isinstance(x, np.ndarray):
        f = numeric_to_factor(x, levels)
    else:
        raise DataError(f"cannot make a factor of '{deparse(a['x'])}'")
    if "labels" in a:
        labs = _levels_arg(_eval_const(a["labels"], env))
        if len(labs) == len(f.levels):
            f = replace(f, levels=labs)
        elif len(labs) == 1:
            f = replace(f, levels=[f"{labs[0]}{i + 1}" for i in range(len(f.levels))])
        else:
            raise DataError(f"invalid 'labels'; length {len(labs)} should be 1 or "
                            f"{len(f.levels)}")
    return replace(f, kind="factor", ordered=ordered, contrasts=None)


def _fn_as_factor(node, env, top, label):
    a = _args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Factor) and x.kind == "factor":
        return x
    return replace(_as_factor(x), kind="factor")


def _fn_ordered(node, env, top, label):
    return _fn_factor(node, env, top, label, ordered_default=True)


def _fn_relevel(node, env, top, label):
    a = _args(node, env, ["x", "ref"], required=2)
    x = evaluate(a["x"], env)
    if not isinstance(x, Factor) or x.kind != "factor" or x.ordered:
        raise DataError("'relevel' only for (unordered) factors")
    ref = _eval_const(a["ref"], env)
    if isinstance(ref, float):
        idx = int(ref) - 1
        if idx < 0 or idx >= len(x.levels):
            raise DataError(f"ref = {int(ref)} must be in 1L:{len(x.levels)}")
    else:
        ref = str(ref if not isinstance(ref, list) else ref[0])
        if ref not in x.levels:
            raise DataError("'ref' must be an existing level")
        idx = x.levels.index(ref)
    order = [idx] + [i for i in range(len(x.levels)) if i != idx]
    inv = np.empty(len(order), dtype=np.int32)
    inv[order] = np.arange(len(order), dtype=np.int32)
    codes = np.where(x.codes >= 0, inv[np.maximum(x.codes, 0)], -1).astype(np.int32)
    return replace(x, codes=codes, levels=[x.levels[i] for i in order], contrasts=None)


_CONTRAST_NAMES = ("contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS")


_SHORT_CONTRASTS = {"treatment": "contr.treatment", "sum": "contr.sum",
                    "helmert": "contr.helmert", "poly": "contr.poly", "SAS": "contr.SAS"}


def _contrast_call(node: Call, env: Env, n_levels: Optional[float] = None,
                   dots: Optional[dict] = None) -> tuple:
    """Evaluate ``contr.xxx(n, base =, scores =, contrasts =)`` as R: ``n`` a number (levels
    "1".."n", so columns are named by numbers) or a vector of level names."""
    fun = node.fun.split("::")[-1]
    names = ["n", "base", "contrasts", "sparse"] if fun == "contr.treatment" else \
        ["n", "scores", "contrasts", "sparse"] if fun == "contr.poly" else \
        ["n", "contrasts", "sparse"]
    a = _args(node, env, names, required=0) if node.args or node.kwargs else {}
    kw = {k: _eval_const(v, env) for k, v in a.items()}
    kw.update(dots or {})
    n = kw.pop("n", n_levels)
    if n is None:
        raise _err(env, 'argument "n" is missing, with no default', node)
    levels = _levels_arg(n) if not isinstance(n, float) else [str(i + 1) for i in range(int(n))]
    if isinstance(n, float) and n < 2:
        raise DataError("not enough degrees of freedom to define contrasts")
    kw.pop("sparse", None)
    if kw.pop("contrasts", True) is False:
        M, names_ = tr.full_dummy_matrix(levels)
        return M, names_
    opts = {}
    if "base" in kw:
        opts["base"] = int(kw.pop("base"))
    if "scores" in kw:
        opts["scores"] = np.atleast_1d(np.asarray(kw.pop("scores"), dtype=float))
    if kw:
        raise _err(env, f"unused argument ({next(iter(kw))}) in {fun}()", node)
    return tr.contrast_matrix(fun, levels, **opts)


def _fn_C(node, env, top, label):
    """R's ``C(object, contr, how.many, ...)``: set a factor's contrasts. A contrast given by
    name (``treatment``, ``"contr.sum"``) is applied to the factor's levels at model-matrix
    time (columns named by level where the contrast names them); a contrast function
    (``contr.sum``), a call (``contr.treatment(3, base = 2)``), ``how.many`` or extra arguments
    make R compute the matrix for 1..nlevels, so columns are named by number."""
    pos_names = ["object", "contr", "how.many"]
    a: dict = {}
    dots: dict = {}
    for k, v in node.kwargs:
        if k in pos_names:
            a[k] = v
        else:
            dots[k] = v
    free = [nm for nm in pos_names if nm not in a]
    for nm, v in zip(free, node.args):
        a[nm] = v
    if len(node.args) > len(free):
        raise _err(env, "too many arguments to C()", node.args[len(free)])
    if "object" not in a:
        raise _err(env, 'argument "object" is missing, with no default', node)
    x = evaluate(a["object"], env)
    if isinstance(x, (np.ndarray, float, Mat)):
        raise DataError("object not interpretable as a factor")
    f = _as_factor(x) if not isinstance(x, Factor) else x
    L = len(f.levels)
    cn = a.get("contr")
    kind, value = "name", None
    if cn is None:
        value = "contr.poly" if f.ordered else "contr.treatment"
    elif isinstance(cn, Name) and cn.id in _SHORT_CONTRASTS:
        value = _SHORT_CONTRASTS[cn.id]
    elif isinstance(cn, Name) and cn.id in _CONTRAST_NAMES:
        kind, value = "func", cn.id
    elif isinstance(cn, Str) and cn.value in _CONTRAST_NAMES:
        value = cn.value
    elif isinstance(cn, Call) and cn.fun.split("::")[-1] in _CONTRAST_NAMES:
        kind, value = "matrix", _contrast_call(cn, env)
    else:
        raise _err(env, "C(): 'contr' must be a contrast such as contr.sum or "
                        "contr.treatment(3, base = 2)", cn)
    how_many = None
    if "how.many" in a:
        how_many = int(_eval_const(a["how.many"], env))
    dot_vals = {k: _eval_const(v, env) for k, v in dots.items()}
    if how_many is None and not dot_vals:
        if kind == "name":
            return replace(f, kind="factor", contrasts=value)
        if kind == "func":
            M, names = tr.contrast_matrix(value, [str(i + 1) for i in range(L)])
        else:
            M, names = value
    else:
        if kind in ("name", "func"):
            M, names = _contrast_call(Call(value, ()), env, n_levels=float(L), dots=dot_vals)
        else:
            M, names = value
    M = np.asarray(M, dtype=float)
    if M.shape[0] != L:
        raise DataError("wrong number of contrast matrix rows")
    n1 = L - 1 if how_many is None else how_many
    if n1 < M.shape[1]:
        M = M[:, :n1]
        names = None if names is None else list(names)[:n1]
    elif n1 > M.shape[1]:
        raise DataError("C(): 'how.many' larger than the number of contrast columns is "
                        "not supported")
    return replace(f, kind="factor", contrasts=(M, names))


def _fn_droplevels(node, env, top, label):
    a = _args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if not isinstance(x, Factor):
        raise DataError("no applicable method for 'droplevels'")
    return x.drop_unused()


def _fn_interaction(node, env, top, label):
    """R's ``interaction(f1, f2, ..., sep = ".", drop = FALSE)``: levels with the first factor
    varying fastest (lex.order = FALSE)."""
    facs = [_as_factor(evaluate(x, env)) for x in node.args]
    opts = {k: _eval_const(v, env) for k, v in node.kwargs}
    sep = str(opts.pop("sep", "."))
    drop = bool(opts.pop("drop", False))
    if opts:
        raise _err(env, f"unused argument ({next(iter(opts))}) in interaction()", node)
    if not facs:
        raise _err(env, "No factors specified", node)
    codes = facs[0].codes.astype(np.int64)
    levels = list(facs[0].levels)
    ok = codes >= 0
    for f in facs[1:]:
        codes = codes + len(levels) * np.maximum(f.codes, 0)
        ok &= f.codes >= 0
        levels = [f"{a}{sep}{b}" for b in f.levels for a in levels]
    out = Factor(np.where(ok, codes, -1).astype(np.int32), levels)
    return out.drop_unused() if drop else out


def _fn_as_logical(node, env, top, label):
    a = _args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Logical):
        return x
    if isinstance(x, (Char, Factor)):
        vals = x.labels() if isinstance(x, Factor) else x.values
        table = {"TRUE": 1.0, "true": 1.0, "T": 1.0, "True": 1.0,
                 "FALSE": 0.0, "false": 0.0, "F": 0.0, "False": 0.0}
        return Logical(np.array([table.get(v, np.nan) if v is not None else np.nan
                                 for v in vals], dtype=float))
    v = np.asarray(_num(x, env, a["x"]), dtype=float)
    return Logical(np.where(np.isnan(v), np.nan, (v != 0).astype(float)))


def _fn_cut(node, env, top, label):
    """R's ``cut(x, breaks, labels = NULL, include.lowest = FALSE, right = TRUE,
    dig.lab = 3, ordered_result = FALSE)``."""
    from ..printing import formatC

    a = _args(node, env, ["x", "breaks", "labels", "include.lowest", "right", "dig.lab",
                          "ordered_result"], required=2)
    x = np.asarray(_num(evaluate(a["x"], env), env, a["x"]), dtype=float)
    br = _eval_const(a["breaks"], env)
    right = bool(_eval_const(a["right"], env)) if "right" in a else True
    incl = bool(_eval_const(a["include.lowest"], env)) if "include.lowest" in a else False
    dig = int(_eval_const(a["dig.lab"], env)) if "dig.lab" in a else 3
    ordered = bool(_eval_const(a["ordered_result"], env)) if "ordered_result" in a else False
    if isinstance(br, float):
        nb = int(br)
        if nb < 2:
            raise DataError("invalid number of intervals")
        fin = x[np.isfinite(x)]
        lo, hi = float(fin.min()), float(fin.max())
        dx = hi - lo
        if dx == 0:
            dx = abs(lo)
            breaks = np.linspace(lo - dx / 1000, hi + dx / 1000, nb + 1)
        else:
            breaks = np.linspace(lo, hi, nb + 1)
            breaks[0] = lo - dx / 1000
            breaks[-1] = hi + dx / 1000
    else:
        breaks = np.sort(np.asarray(br, dtype=float))
    nb = len(breaks)
    if nb < 2:
        raise DataError("invalid number of intervals")
    if len(np.unique(breaks)) != nb:
        raise DataError("'breaks' are not unique")
    if "labels" in a:
        lab = _eval_const(a["labels"], env)
        if lab is False:
            raise DataError("cut(labels = FALSE) gives integer codes; use as.numeric(cut(...))")
        labels = _levels_arg(lab)
    else:
        for d in range(dig, max(12, dig) + 1):
            formatted = [formatC(float(b), digits=d, width=1) for b in breaks]
            if len(set(formatted)) == nb:
                break
        formatted = [s.strip() for s in formatted]
        if right:
            labels = [f"({formatted[i]},{formatted[i + 1]}]" for i in range(nb - 1)]
            if incl:
                labels[0] = "[" + labels[0][1:]
        else:
            labels = [f"[{formatted[i]},{formatted[i + 1]})" for i in range(nb - 1)]
            if incl:
                labels[-1] = labels[-1][:-1] + "]"
    if len(labels) != nb - 1:
        raise DataError("number of intervals and length of 'labels' differ")
    codes = np.full(len(x), -1, dtype=np.int32)
    ok = ~np.isnan(x)
    xv = x[ok]
    if right:
        idx = np.searchsorted(breaks, xv, side="left") - 1
        inside = (xv > breaks[0]) & (xv <= breaks[-1])
        if incl:
            inside |= xv == breaks[0]
            idx = np.where(xv == breaks[0], 0, idx)
    else:
        idx = np.searchsorted(breaks, xv, side="right") - 1
        inside = (xv >= breaks[0]) & (xv < breaks[-1])
        if incl:
            inside |= xv == breaks[-1]
            idx = np.where(xv == breaks[-1], nb - 2, idx)
    codes[np.flatnonzero(ok)] = np.where(inside, idx, -1)
    return Factor(codes, labels, ordered=ordered)


def _fn_as_numeric(node, env, top, label):
    a = _args(node, env, ["x"])
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
    return _num(x, env, a["x"])


def _fn_as_integer(node, env, top, label):
    x = _fn_as_numeric(node, env, top, label)
    return np.trunc(x)


def _fn_offset(node, env, top, label):
    a = _args(node, env, ["object"])
    return _num(evaluate(a["object"], env), env, a["object"])


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
        vals = _num(v, env, x)
        cols.append(np.broadcast_to(vals, (env.n,)).astype(float))
        names.append(nm if nm is not None else (x.id if isinstance(x, Name) else ""))
    m = np.column_stack(cols) if cols else np.empty((env.n, 0))
    return Mat(np.asfortranarray(m), names if any(names) else None)


def _state_key(node: Call) -> str:
    return deparse(node)


def _transform(kind: str):
    """poly/scale/ns/bs: compute on the data and record the state (top-level variables only),
    or replay a recorded state on new data."""

    def impl(node, env, top, label):
        key = _state_key(node)
        # R's makepredictcall freezes scale() only under its bare name (base::scale(x) is
        # re-evaluated on new data); poly/ns/bs are recognised namespaced too.
        if kind == "scale" and node.fun != "scale":
            top = False
        state = env.states.get(key) if top else None
        if kind == "scale":
            a = _args(node, env, ["x", "center", "scale"])
            x = _num(evaluate(a["x"], env), env, a["x"])
            if state is not None:
                return Mat(np.asfortranarray(state.apply(x)), None)
            center = _eval_const(a["center"], env) if "center" in a else True
            scl = _eval_const(a["scale"], env) if "scale" in a else True
            m, st = tr.scale(np.asarray(x, dtype=float), center=center, scale=scl)
            if top and env.record:
                env.states[key] = st
            return Mat(np.asfortranarray(np.asarray(m).reshape(len(x), -1)), None)
        if kind == "poly":
            xs, opts = [], {}
            for arg in node.args:
                xs.append(arg)
            for k, v in node.kwargs:
                opts[k] = v
            degree = 1
            raw = False
            data_args = []
            for arg in xs:
                data_args.append(arg)
            if "degree" in opts:
                degree = int(_eval_const(opts.pop("degree"), env))
            elif len(data_args) >= 2 and isinstance(data_args[-1], Num):
                degree = int(data_args.pop().value)
            simple = bool(_eval_const(opts.pop("simple"), env)) if "simple" in opts else False
            if "raw" in opts:
                raw = bool(_eval_const(opts.pop("raw"), env))
            elif len(data_args) >= 2 and isinstance(data_args[-1], Bool):
                raw = bool(data_args.pop().value)
            if "x" in opts:
                data_args.insert(0, opts.pop("x"))
            if opts:
                k = next(iter(opts))
                raise _err(env, f"unused argument ({k}) in poly()", node)
            if not data_args:
                raise _err(env, 'argument "x" is missing, with no default', node)
            arrays = [np.asarray(_num(evaluate(d, env), env, d), dtype=float) for d in data_args]
            if state is not None:
                m, names = state.apply(*arrays), state.colnames
            else:
                m, names, st = tr.poly(*arrays, degree=degree, raw=raw)
                # simple = TRUE drops the coefs attribute, so R re-evaluates on new data
                if top and env.record and not simple:
                    env.states[key] = st
            return Mat(np.asfortranarray(m), list(names))
        # ns / bs
        names_ = ["x", "df", "knots", "intercept", "Boundary.knots"]
        if kind == "bs":
            names_ = ["x", "df", "knots", "degree", "intercept", "Boundary.knots"]
        a = _args(node, env, names_)
        x = np.asarray(_num(evaluate(a["x"], env), env, a["x"]), dtype=float)
        if state is not None:
            m = state.apply(x)
            return Mat(np.asfortranarray(m), list(state.colnames))
        kw: dict = {}
        for k in names_[1:]:
            if k in a:
                v = _eval_const(a[k], env)
                if k in ("df", "degree"):
                    v = int(v)
                elif k == "intercept":
                    v = bool(v)
                else:
                    v = np.atleast_1d(np.asarray(v, dtype=float))
                kw[k.replace(".", "_")] = v
        m, names, st = (tr.ns if kind == "ns" else tr.bs)(x, **kw)
        if top and env.record:
            env.states[key] = st
        return Mat(np.asfortranarray(m), list(names))

    return impl


def _fn_ifelse(node, env, top, label):
    a = _args(node, env, ["test", "yes", "no"], required=3)
    t = _logical_values(evaluate(a["test"], env), env, a["test"])
    y = _num(evaluate(a["yes"], env), env, a["yes"])
    n = _num(evaluate(a["no"], env), env, a["no"])
    return np.where(np.isnan(t), np.nan, np.where(t == 1, y, n))


def _fn_pminmax(fun):
    def impl(node, env, top, label):
        vals = [_num(evaluate(x, env), env, x) for x in node.args]
        out = vals[0]
        for v in vals[1:]:
            out = fun(out, v)
        return np.broadcast_to(out, (env.n,)).astype(float)

    return impl


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
    "factor": _fn_factor,
    "as.factor": _fn_as_factor,
    "ordered": _fn_ordered,
    "as.ordered": _fn_ordered,
    "relevel": _fn_relevel,
    "C": _fn_C,
    "as.numeric": _fn_as_numeric,
    "as.double": _fn_as_numeric,
    "as.integer": _fn_as_integer,
    "offset": _fn_offset,
    "cbind": _fn_cbind,
    "poly": _transform("poly"),
    "scale": _transform("scale"),
    "ns": _transform("ns"),
    "bs": _transform("bs"),
    "ifelse": _fn_ifelse,
    "droplevels": _fn_droplevels,
    "interaction": _fn_interaction,
    "as.logical": _fn_as_logical,
    "cut": _fn_cut,
    "as.character": _fn_as_character,
    "mean": _reduction(lambda v: np.mean(v) if len(v) else np.nan),
    "sum": _reduction(np.sum),
    "min": _reduction(lambda v: np.min(v) if len(v) else np.inf),
    "max": _reduction(lambda v: np.max(v) if len(v) else -np.inf),
    "median": _reduction(lambda v: np.median(v) if len(v) else np.nan),
    "sd": _reduction(lambda v: np.std(v, ddof=1) if len(v) > 1 else np.nan),
    "var": _reduction(lambda v: np.var(v, ddof=1) if len(v) > 1 else np.nan),
    "pmin": _fn_pminmax(np.fmin),
    "pmax": _fn_pminmax(np.fmax),
}


# --------------------------------------------------------------------------------------------
# Finishing a variable for the frame


def finish_variable(v, n: int, label: str):
    """Turn an evaluated value into a frame variable: float (n,), Mat, or Factor."""
    if isinstance(v, Char):
        return v.to_factor()
    if isinstance(v, Logical):
        x = v.values
        codes = np.where(np.isnan(x), -1, x).astype(np.int32)
        return Factor(codes, ["FALSE", "TRUE"], kind="logical")
    if isinstance(v, Factor):
        return v
    if isinstance(v, Mat):
        if v.values.shape[0] != n:
            raise DataError(f"variable lengths differ (found for '{label}')")
        return v
    if isinstance(v, (float, int, bool, str)) and not isinstance(v, np.ndarray):
        if n == 1:
            return finish_variable(np.array([float(v)]) if not isinstance(v, str)
                                   else Char(np.array([v], dtype=object)), n, label)
        raise DataError(f"variable lengths differ (found for '{label}')")
    if isinstance(v, list):
        raise DataError(f"invalid type (list) for variable '{label}'")
    arr = np.asarray(v, dtype=float)
    if arr.ndim == 2:
        return Mat(np.asfortranarray(arr), None)
    if arr.shape[0] != n:
        raise DataError(f"variable lengths differ (found for '{label}')")
    return arr


def variable_na(v) -> np.ndarray:
    if isinstance(v, (Factor, Mat)):
        return v.na
    return np.isnan(v)


def take(v, idx: np.ndarray):
    if isinstance(v, (Factor, Mat)):
        return v.take(idx)
    return v[idx]


@dataclass
class EvaluatedVariables:
    labels: list
    values: list
    states: dict = field(default_factory=dict)
