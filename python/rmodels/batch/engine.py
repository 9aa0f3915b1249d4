"""Grouped ("by") fitting: one lm / glm per group of rows, all fitted in one compiled call.

``lm(formula, data, by="g")`` is R's ``lapply(split(data, data$g), function(s) lm(formula, s))``:
every group's fit is the fit R gives for that group's rows alone. In particular the model frame
of each group drops the factor levels the group does not use (R's ``drop.unused.levels``), so a
group that lacks a level has fewer columns, and a group that lacks the baseline level is coded
against its own first level; data-dependent transforms (``poly``, ``scale``, ``ns``, ``cut``,
``mean`` ...) are computed on the group's rows.

The path per call:

1. groups: the rows of each value (or combination of values) of the ``by`` columns, ordered as
   R's ``split(data, list(g1, g2, ...), lex.order = TRUE)`` orders them (a Categorical's category
   order, strings by R's collation, numbers increasing, FALSE before TRUE); rows with a missing
   ``by`` value belong to no group, as in ``split``;
2. designs: the model matrix of the whole data is built once; a group whose rows contain every
   level of every factor in the formula, and a formula made only of element-wise functions, has
   exactly those rows of it as its own model matrix. Any other group (a level missing, or a
   data-dependent transform in the formula) gets its design from its own rows with
   :func:`rmodels.design.build_design`, as R does;
3. fits: every group's least-squares (``_core.lm_wfit_batch``, R's ``lm.wfit``) or IRLS problem
   (``_core.glm_fit_batch``, R's ``glm.fit``) in one compiled call on a pool of threads, each
   group statically assigned to one thread and fitted single-threaded, so the results do not
   depend on the number of threads;
4. fit objects: :class:`rmodels.lm.LM` / :class:`rmodels.glm.GLM` built as ``lm()`` / ``glm()``
   build them, collected in a :class:`FitList`. A group whose fit fails (no observations, a factor
   with a single level, ...) is a :class:`FailedFit` holding R's error message.

R's warnings of the groups are collected and issued once per distinct message, with the number
of groups that gave it.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd
from scipy import stats as sps

from .. import _core
from ..collation import sort_levels
from ..design import Design, build_design
from ..errors import DataError, FitError, RModelsError
from ..formula.ast import BinOp, Bool, Call, Name, Num, Paren, Str, UnaryOp
from ..frame import Factor, take
from ..models import Family, as_family
from ..models.glm import DATA_MESSAGES, GLM, GlmCoreFit, glm_call_text, response_matrix
from ..models.glm import glm as _glm_single
from ..models.lm import LM, cov_unscaled_pivoted, empty_fit, lm_call_args, summary_sums
from ..models.lm import lm as _lm_single
from ..rsums import r_sum

__all__ = ["lm", "glm", "FitList", "FailedFit", "GroupGLM"]

# Functions whose value at a row depends on that row only (given their constant arguments):
# the whole-data model frame restricted to a group's rows is then the group's own model frame,
# once every factor level is present in the group. Everything else (poly, scale, ns, bs, cut,
# mean, ...) makes the groups' designs be built from their own rows.
_POINTWISE = frozenset({
    "I", "log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "abs", "sin", "cos", "tan",
    "atan", "tanh", "floor", "ceiling", "trunc", "sign", "round", "factor", "as.factor",
    "ordered", "as.ordered", "relevel", "C", "as.numeric", "as.double", "as.integer", "offset",
    "cbind", "ifelse", "droplevels", "interaction", "as.logical", "as.character", "pmin",
    "pmax"})


# ---------------------------------------------------------------------------------------------
# Results


class FailedFit:
    """A group whose fit failed: ``error`` is the exception, ``status`` its message (R's)."""

    def __init__(self, group: dict, error: Exception) -> None:
        self.group = group
        self.error = error
        self.status = str(error)

    def __repr__(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.group.items())
        return f"<FailedFit {key}: {self.status}>"


class FitList(list):
    """The fits of a grouped call, one per group in R's ``split`` order.

    Each element is an :class:`~rmodels.lm.LM` / :class:`~rmodels.glm.GLM` (or a
    :class:`FailedFit`) with a ``group`` attribute: a dict ``{by column: value}``. ``by`` lists the
    grouping columns, ``keys`` the group values as tuples. :meth:`tidy` and :meth:`glance` stack
    the per-group tables with the group columns first and a ``status`` column ("ok" or the
    error message); :meth:`coef` is a DataFrame with one row per group.
    """

    def __init__(self, fits: Sequence[Any], by: Sequence[str], keys: Sequence[tuple],
                 key_dtypes: dict, column_order: Sequence[str] = ()) -> None:
        super().__init__(fits)
        self.by = list(by)
        self.keys = [tuple(k) for k in keys]
        self._key_dtypes = dict(key_dtypes)
        self._column_order = list(column_order)

    @property
    def status(self) -> list:
        """Per group: "ok" or the message of the error that stopped its fit."""
        return [f.status if isinstance(f, FailedFit) else "ok" for f in self]

    def groups(self) -> pd.DataFrame:
        """The group values, one row per group, one column per ``by`` column."""
        return self._group_columns(np.arange(len(self)))

    def get(self, *key: Any) -> Any:
        """The fit of the group with these ``by`` values (one value per ``by`` column)."""
        k = tuple(key)
        for kk, f in zip(self.keys, self):
            if kk == k:
                return f
        raise KeyError(key)

    def _group_columns(self, idx: np.ndarray) -> pd.DataFrame:
        cols = {}
        for j, name in enumerate(self.by):
            values = [self.keys[i][j] for i in idx]
            dt = self._key_dtypes.get(name)
            if isinstance(dt, pd.CategoricalDtype):
                cols[name] = pd.Categorical(values, dtype=dt)
            elif dt is not None and dt is not object and dt != np.dtype(object):
                cols[name] = pd.array(values, dtype=dt)
            else:
                cols[name] = pd.array(values, dtype=object)
        return pd.DataFrame(cols)

    def _stack(self, method: str, kwargs: dict) -> pd.DataFrame:
        parts, counts, columns = [], [], None
        for f in self:
            if isinstance(f, FailedFit):
                parts.append(None)
                counts.append(1)
                continue
            t = getattr(f, method)(**kwargs)
            if columns is None:
                columns = list(t.columns)
            parts.append(t)
            counts.append(len(t))
        columns = columns or []
        filled = [pd.DataFrame({c: [np.nan] for c in columns}) if p is None else p
                  for p in parts]
        body = (pd.concat(filled, ignore_index=True) if filled
                else pd.DataFrame(columns=columns))
        return self._stack_frames((body, counts))

    def _stack_frames(self, parts: tuple) -> pd.DataFrame:
        body, counts = parts
        idx = np.repeat(np.arange(len(self)), counts)
        out = self._group_columns(idx)
        for c in body.columns:
            out[c] = body[c].to_numpy()
        status = self.status
        out["status"] = [status[i] for i in idx]
        return out

    def tidy(self, **kwargs: Any) -> pd.DataFrame:
        """Every group's ``tidy()`` stacked: group columns, broom's columns, ``status`` (a failed
        group has one row with NaN values). For single-response lm fits without ``conf_int``
        the table is computed for all groups at once (the same numbers as each ``tidy()``)."""
        with _blas_single_thread():
            return self._tidy(kwargs)

    def _tidy(self, kwargs: dict) -> pd.DataFrame:
        ok = [f for f in self if not isinstance(f, FailedFit)]
        if ok and not kwargs.get("conf_int") and \
                all(type(f) is LM and not f.is_mlm for f in ok):
            fits = [None if isinstance(f, FailedFit) else f for f in self]
            return self._stack_frames(_lm_tidy_rows(fits))
        if ok and not kwargs.get("conf_int") and not kwargs.get("exponentiate") and \
                all(type(f) in (GLM, GroupGLM) for f in ok):
            fits = [None if isinstance(f, FailedFit) else f for f in self]
            return self._stack_frames(_glm_tidy_rows(fits))
        return self._stack("tidy", kwargs)

    def glance(self, **kwargs: Any) -> pd.DataFrame:
        """Every group's ``glance()`` row stacked: group columns, broom's columns, ``status``."""
        ok = [f for f in self if not isinstance(f, FailedFit)]
        if ok and not kwargs and all(type(f) is LM and not f.is_mlm for f in ok):
            fits = [None if isinstance(f, FailedFit) else f for f in self]
            return self._stack_frames(_lm_glance_rows(fits))
        with _blas_single_thread():
            return self._stack("glance", kwargs)

    def coef(self) -> pd.DataFrame:
        """Coefficients, one row per group (indexed by the group values), one column per
        coefficient name met in any group; NaN where a group has no such coefficient, for
        aliased coefficients and for failed groups."""
        names = list(self._column_order)
        seen = set(names)
        series = []
        for f in self:
            if isinstance(f, FailedFit):
                series.append(None)
                continue
            c = _coef_pairs(f)
            for nm in c[0]:
                if nm not in seen:
                    seen.add(nm)
                    names.append(nm)
            series.append(c)
        pos = {nm: j for j, nm in enumerate(names)}
        M = np.full((len(self), len(names)), np.nan)
        met = np.zeros(len(names), dtype=bool)
        for i, c in enumerate(series):
            if c is not None:
                cols = [pos[nm] for nm in c[0]]
                M[i, cols] = c[1]
                met[cols] = True
        g = self.groups()
        index = (pd.Index(g.iloc[:, 0], name=self.by[0]) if len(self.by) == 1
                 else pd.MultiIndex.from_frame(g))
        return pd.DataFrame(M[:, met], index=index,
                            columns=pd.Index([nm for nm, k in zip(names, met) if k]))

    coefficients = coef

    def __repr__(self) -> str:
        ok = sum(1 for f in self if not isinstance(f, FailedFit))
        return f"<FitList: {len(self)} groups by {', '.join(self.by)}; {ok} fitted>"


def _lm_tidy_rows(fits: Sequence[Optional[LM]]) -> tuple[pd.DataFrame, list]:
    """broom's ``tidy.lm`` columns for many single-response fits at once (None = a failed
    group, one NaN row): the arithmetic of ``LM.tidy`` / ``summary.lm`` per group, the
    t-distribution tail probabilities in one vectorised call."""
    terms, est, se, tval, df, counts = [], [], [], [], [], []
    for f in fits:
        if f is None:
            terms.append(np.array([np.nan], dtype=object))
            nan = np.array([np.nan])
            est.append(nan)
            se.append(nan)
            tval.append(nan)
            df.append(np.array([0.0]))
            counts.append(1)
            continue
        names = f.coef_names
        k = len(names)
        e = np.full(k, np.nan)
        s = np.full(k, np.nan)
        t = np.full(k, np.nan)
        p = f.rank
        rdf = f.arrays.df_residual
        if p > 0:
            r, fw = f.arrays.residuals, f.arrays.weights
            rss = r_sum(r * r) if fw is None else r_sum(fw * (r * r))
            with np.errstate(divide="ignore", invalid="ignore"):
                resvar = np.float64(rss) / np.float64(rdf)
            piv = f.pivot[:p]
            R = cov_unscaled_pivoted(f.qr, p)
            with np.errstate(invalid="ignore"):
                sp = np.sqrt(np.diag(R) * resvar)
                ep = f.arrays.coefficients[piv]
                e[piv] = ep
                s[piv] = sp
                t[piv] = ep / sp
        terms.append(np.asarray(names, dtype=object))
        est.append(e)
        se.append(s)
        tval.append(t)
        df.append(np.full(k, float(rdf)))
        counts.append(k)
    tv = np.concatenate(tval) if tval else np.zeros(0)
    dfv = np.concatenate(df) if df else np.zeros(0)
    pv = np.full(tv.shape, np.nan)
    pos = dfv > 0
    with np.errstate(invalid="ignore"):
        pv[pos] = 2.0 * sps.t.sf(np.abs(tv[pos]), dfv[pos])
    body = pd.DataFrame({"term": np.concatenate(terms) if terms else np.zeros(0, object),
                         "estimate": np.concatenate(est) if est else np.zeros(0),
                         "std.error": np.concatenate(se) if se else np.zeros(0),
                         "statistic": tv, "p.value": pv})
    return body, counts


def _lm_glance_rows(fits: Sequence[Optional[LM]]) -> tuple[pd.DataFrame, list]:
    """broom's ``glance.lm`` row for many single-response fits at once (None = a failed
    group): ``summary.lm``'s R², adjusted R², sigma and F statistic, ``logLik.lm``, AIC, BIC,
    with the arithmetic of ``LM.glance`` per group and the F tail probabilities in one
    vectorised call."""
    cols = ("r.squared", "adj.r.squared", "sigma", "statistic", "numdf", "dendf", "logLik",
            "AIC", "BIC", "deviance", "df.residual", "nobs")
    out = {c: np.full(len(fits), np.nan) for c in cols}
    for i, f in enumerate(fits):
        if f is None:
            continue
        a = f.arrays
        r, fv, w, p, rdf = a.residuals, a.fitted_values, a.weights, f.rank, a.df_residual
        mss, rss = summary_sums(fv, r, w, f.intercept)
        with np.errstate(divide="ignore", invalid="ignore"):
            resvar = np.float64(rss) / np.float64(rdf)
        r2 = adj = 0.0
        if p > 0 and p != int(f.intercept):
            df_int = 1 if f.intercept else 0
            n = f.qr.shape[0]
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.float64(mss) / np.float64(mss + rss)
                adj = 1 - (1 - r2) * (np.float64(n - df_int) / np.float64(rdf))
                fval = (np.float64(mss) / (p - df_int)) / resvar
            if p != 1:
                out["statistic"][i] = float(fval)
                out["numdf"][i] = p - df_int
                out["dendf"][i] = rdf
        ll = f.logLik()
        out["r.squared"][i] = float(r2)
        out["adj.r.squared"][i] = float(adj)
        out["sigma"][i] = float(np.sqrt(resvar))
        out["logLik"][i] = float(ll)
        out["AIC"][i] = -2.0 * float(ll) + 2.0 * ll.df
        out["BIC"][i] = -2.0 * float(ll) + float(np.log(np.float64(ll.nobs))) * ll.df
        out["deviance"][i] = float(a.rss())
        out["df.residual"][i] = int(rdf)
        out["nobs"][i] = int(a.used.sum())
    stat, d1, d2 = out["statistic"], out["numdf"], out["dendf"]
    pv = np.full(len(fits), np.nan)
    ok = ~np.isnan(stat) & (d1 > 0) & (d2 > 0)
    pv[ok] = sps.f.sf(stat[ok], d1[ok], d2[ok])
    failed = np.array([f is None for f in fits], dtype=bool)
    ints = {}
    for c in ("df.residual", "nobs"):
        v = out[c]
        ints[c] = (v.astype(np.int64) if not failed.any()
                   else pd.array(np.where(failed, 0, v).astype(np.int64), dtype="Int64"))
        if failed.any():
            ints[c][failed] = pd.NA
    body = pd.DataFrame({
        "r.squared": out["r.squared"], "adj.r.squared": out["adj.r.squared"],
        "sigma": out["sigma"], "statistic": stat, "p.value": pv, "df": d1,
        "logLik": out["logLik"], "AIC": out["AIC"], "BIC": out["BIC"],
        "deviance": out["deviance"], "df.residual": ints["df.residual"],
        "nobs": ints["nobs"]})
    return body, [1] * len(fits)


def _glm_tidy_rows(fits: Sequence[Optional[GLM]]) -> tuple[pd.DataFrame, list]:
    """broom's ``tidy.glm`` columns for many fits at once (None = a failed group, one NaN
    row): ``GLM.coef_table``'s arithmetic per group (non-aliased coefficients in pivoted order;
    z tests for binomial/poisson, t tests otherwise, NaN when the residual df is 0), the tail
    probabilities in one vectorised call per kind."""
    terms, est, se, stat, df, kind, counts = [], [], [], [], [], [], []
    for f in fits:
        if f is None:
            terms.append(np.array([np.nan], dtype=object))
            nan = np.array([np.nan])
            est.append(nan)
            se.append(nan)
            stat.append(nan)
            df.append(np.array([0.0]))
            kind.append(np.array([2]))
            counts.append(1)
            continue
        p = f.rank
        piv = f._core.pivot[:p]
        e = f._core.coefficients[piv]
        s = np.sqrt(np.diag(f._cov_unscaled()) * f.dispersion())
        df_r = f.df_residual_
        if f.family.fixed_dispersion:
            k, z = 0, e / s
        elif df_r > 0:
            k, z = 1, e / s
        else:
            k, s, z = 2, np.full(p, np.nan), np.full(p, np.nan)
        terms.append(np.asarray([f.names[i] for i in piv], dtype=object))
        est.append(e)
        se.append(s)
        stat.append(z)
        df.append(np.full(p, float(df_r)))
        kind.append(np.full(p, k))
        counts.append(p)
    zv = np.concatenate(stat) if stat else np.zeros(0)
    dfv = np.concatenate(df) if df else np.zeros(0)
    kv = np.concatenate(kind) if kind else np.zeros(0, dtype=int)
    pv = np.full(zv.shape, np.nan)
    pv[kv == 0] = 2 * sps.norm.cdf(-np.abs(zv[kv == 0]))
    pv[kv == 1] = 2 * sps.t.cdf(-np.abs(zv[kv == 1]), dfv[kv == 1])
    body = pd.DataFrame({"term": np.concatenate(terms) if terms else np.zeros(0, object),
                         "estimate": np.concatenate(est) if est else np.zeros(0),
                         "std.error": np.concatenate(se) if se else np.zeros(0),
                         "statistic": zv, "p.value": pv})
    return body, counts


def _coef_pairs(f: Any) -> tuple[list, np.ndarray]:
    """(names, values) of a fit's coefficients without building a Series per group."""
    if isinstance(f, LM):
        if f.is_mlm:
            raise FitError("coef() of a FitList needs single-response fits")
        return f.coef_names, np.asarray(f.arrays.coefficients, dtype=float)
    if isinstance(f, GLM):
        return f.names, np.asarray(f._core.coefficients, dtype=float)
    c = f.coef()
    return list(c.index), c.to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------------
# Groups


def _column_levels(s: pd.Series) -> tuple[np.ndarray, list, Any]:
    """Codes (−1 = missing) and levels of one ``by`` column as R's ``factor()`` makes them."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return np.asarray(s.cat.codes, dtype=np.int64), list(s.cat.categories), s.dtype
    na = pd.isna(s).to_numpy()
    codes = np.full(len(s), -1, dtype=np.int64)
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        # factor() of numbers / logicals: sorted distinct values (FALSE before TRUE)
        vals = s.to_numpy()[~na]
        uniq, inv = np.unique(vals, return_inverse=True)
        levels = [v.item() if hasattr(v, "item") else v for v in uniq]
        codes[~na] = inv
    else:
        # factor() of strings: distinct values in R's collation order
        fcodes, uniq = pd.factorize(pd.Series(s.to_numpy(dtype=object)[~na]).astype(str))
        levels = sort_levels(list(uniq))
        rank = {lv: i for i, lv in enumerate(levels)}
        remap = np.array([rank[u] for u in uniq], dtype=np.int64)
        codes[~na] = remap[fcodes]
    dt = s.dtype if pd.api.types.is_bool_dtype(s.dtype) or \
        pd.api.types.is_numeric_dtype(s.dtype) else object
    return codes, levels, dt


def _split(data: pd.DataFrame, by: list, drop: bool) -> tuple[list, list, dict]:
    """Group keys (tuples) and the positions of each group's rows, in R's split order."""
    combined = np.zeros(len(data), dtype=np.int64)
    missing = np.zeros(len(data), dtype=bool)
    all_levels, dtypes = [], {}
    for name in by:
        if name not in data.columns:
            raise DataError(f"object '{name}' not found (by)")
        codes, levels, dt = _column_levels(data[name])
        missing |= codes < 0
        combined = combined * max(len(levels), 1) + np.maximum(codes, 0)
        all_levels.append(levels)
        dtypes[name] = dt
    sizes = [len(lv) for lv in all_levels]
    n_groups = int(np.prod(sizes)) if sizes else 0
    rows_ok = np.flatnonzero(~missing)
    order = rows_ok[np.argsort(combined[rows_ok], kind="stable")]
    counts = np.bincount(combined[rows_ok], minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)])
    keys, rows = [], []
    for gid in range(n_groups):
        if drop and counts[gid] == 0:
            continue
        key, rem = [], gid
        for lv, sz in zip(reversed(all_levels), reversed(sizes)):
            key.append(lv[rem % sz])
            rem //= sz
        keys.append(tuple(reversed(key)))
        rows.append(order[starts[gid]:starts[gid + 1]])
    return keys, rows, dtypes


# ---------------------------------------------------------------------------------------------
# Designs


def _pointwise(expr: Any) -> bool:
    if isinstance(expr, (Name, Num, Str, Bool)):
        return True
    if isinstance(expr, BinOp):
        return _pointwise(expr.left) and _pointwise(expr.right)
    if isinstance(expr, UnaryOp):
        return _pointwise(expr.operand)
    if isinstance(expr, Paren):
        return _pointwise(expr.expr)
    if isinstance(expr, Call):
        return expr.fun in _POINTWISE and all(_pointwise(a) for a in expr.args) and \
            all(_pointwise(a) for _, a in expr.kwargs)
    return False


class _GroupFrames:
    """The groups' data frames (R's ``split(data, ...)``: original row names), taken as slices
    of one reordered copy of ``data`` instead of one row selection per group."""

    def __init__(self, data: pd.DataFrame, rows: list) -> None:
        self._data, self._rows = data, rows
        self._frame: Optional[pd.DataFrame] = None

    def __getitem__(self, i: int) -> pd.DataFrame:
        if self._frame is None:
            order = np.concatenate(self._rows) if self._rows else np.zeros(0, dtype=np.int64)
            self._bounds = np.concatenate([[0], np.cumsum([len(r) for r in self._rows])])
            self._frame = _group_data(self._data, order)
        return self._frame.iloc[self._bounds[i]:self._bounds[i + 1]]


class GroupGLM(GLM):
    """A group's :class:`~rmodels.glm.GLM`; its ``data`` (the group's rows, R's row names) is
    taken from the whole data frame on first use."""

    _frames: Optional[_GroupFrames] = None
    _group_index: int = -1

    @property  # type: ignore[override]
    def data(self) -> pd.DataFrame:
        d = self.__dict__.get("_data_value")
        if d is None and self._frames is not None:
            d = self._frames[self._group_index]
            self.__dict__["_data_value"] = d
        return d

    @data.setter
    def data(self, value: Optional[pd.DataFrame]) -> None:
        self.__dict__["_data_value"] = value


def _blas_single_thread():
    """A context in which BLAS runs single-threaded, when threadpoolctl is installed: the
    per-group Python work calls LAPACK on tiny matrices, where waking BLAS threads costs far
    more than the solve."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _group_data(data: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The group's rows with R's row names of ``split(data, ...)`` (the original ones)."""
    g = data.iloc[rows]
    idx = data.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        g = g.set_axis(pd.Index([str(k + 1) for k in rows]), axis=0)
    return g


def _slice_arg(v: Any, rows: np.ndarray) -> Any:
    if v is None or isinstance(v, str):
        return v
    arr = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
    return arr[rows]


def _subset_mask(subset: Any, n: int) -> Optional[np.ndarray]:
    if subset is None:
        return None
    s = np.asarray(subset.to_numpy() if isinstance(subset, pd.Series) else subset)
    if s.dtype == bool:
        if len(s) != n:
            raise DataError("'subset' must have one entry per row of data")
        return s
    if s.dtype.kind in "iu":
        mask = np.zeros(n, dtype=bool)
        if (s < 0).any() or (s >= n).any():
            raise DataError("'subset' positions out of range")
        mask[s] = True
        return mask
    raise DataError("'subset' must be a boolean mask or integer positions")


class _FrameParts:
    """The ``_frame_parts`` of a group's design (values, frame labels, response index, weights,
    offset argument), the values restricted to the group's rows when first unpacked."""

    def __init__(self, vals: list, rows: np.ndarray, flabels: list, resp: Any,
                 w: Optional[np.ndarray], o_arg: Optional[np.ndarray]) -> None:
        self._vals, self._rows = vals, rows
        self._rest = (flabels, resp, w, None if o_arg is None else o_arg[rows])
        self._taken: Optional[list] = None

    def __iter__(self):
        if self._taken is None:
            self._taken = [take(v, self._rows) for v in self._vals]
        yield self._taken
        yield from self._rest

    def __getitem__(self, k: int) -> Any:
        return list(self)[k]

    def __len__(self) -> int:
        return 5


class _Designs:
    """Per-group designs: rows of the whole-data design where that is R's group design, else
    built from the group's rows. ``designs[i]`` is a Design or the exception that stopped it;
    ``warnings[i]`` the (category, message) pairs the group's design raised."""

    def __init__(self, formula: str, data: pd.DataFrame, rows: list, *, weights: Any,
                 offset: Any, subset: Any, na_action: str, contrasts: Optional[dict]) -> None:
        self.designs: list = [None] * len(rows)
        self.warnings: list = [[] for _ in rows]
        self.full: Optional[Design] = None
        self.full_warnings: list = []
        mask = _subset_mask(subset, len(data))
        full = self._full_design(formula, data, weights, offset, mask, na_action, contrasts)
        fast = np.zeros(len(rows), dtype=bool)
        if full is not None:
            fast = self._derivable(full, rows, len(data))
            self.full = full
        if fast.any():
            self._derive(full, data, rows, np.flatnonzero(fast), mask)
        for i in np.flatnonzero(~fast):
            self._own(i, formula, data, rows[i], weights, offset, mask, na_action, contrasts)

    def _full_design(self, formula, data, weights, offset, mask, na_action, contrasts):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                full = build_design(formula, data, subset=mask, weights=weights, offset=offset,
                                    na_action=na_action, contrasts=contrasts)
            except RModelsError:
                return None
        t = full.terms
        if full.bars or not all(_pointwise(e) for e in t.variables):
            return None
        self.full_warnings = [(c.category, str(c.message)) for c in caught]
        return full

    @staticmethod
    def _derivable(full: Design, rows: list, n_all: int) -> np.ndarray:
        """Groups whose rows hold every level of every factor of the whole-data design."""
        n_groups = len(rows)
        gid = np.full(n_all, -1, dtype=np.int64)
        for i, r in enumerate(rows):
            gid[r] = i
        row_gid = gid[full.kept]  # group of each design row (−1: in no group)
        ok = np.ones(n_groups, dtype=bool)
        vals = full._frame_parts[0]
        resp = full.terms.response
        for i, v in enumerate(vals):
            if not isinstance(v, Factor) or v.kind == "logical":
                continue
            if i == resp and full.y_factor is None:
                continue
            L = len(v.levels)
            sel = (row_gid >= 0) & (v.codes >= 0)
            counts = np.bincount(row_gid[sel] * L + v.codes[sel],
                                 minlength=n_groups * L).reshape(n_groups, L)
            ok &= (counts > 0).all(axis=1)
        n_rows = np.bincount(row_gid[row_gid >= 0], minlength=n_groups)
        return ok & (n_rows > 0)

    def _derive(self, full: Design, data: pd.DataFrame, rows: list, groups: np.ndarray,
                mask: Optional[np.ndarray]) -> None:
        where = np.full(len(data), -1, dtype=np.int64)
        where[full.kept] = np.arange(len(full.kept))
        design_rows = []
        for i in groups:
            r = rows[i] if mask is None else rows[i][mask[rows[i]]]
            design_rows.append((r, where[r]))
        perm = np.concatenate([w[w >= 0] for _, w in design_rows]) if design_rows else \
            np.zeros(0, dtype=np.int64)
        X = np.asfortranarray(full.X[perm])
        y = None if full.y is None else full.y[perm]
        w = None if full.weights is None else full.weights[perm]
        o = None if full.offset is None else full.offset[perm]
        vals, flabels, resp, _, o_arg = full._frame_parts
        a = 0
        for i, (r, wh) in zip(groups, design_rows):
            keep = wh >= 0
            R = wh[keep]
            b = a + len(R)
            sl = slice(a, b)
            kept = full.kept[R]
            # a shallow copy of the whole-data design with the group's rows (the model frame of
            # the group is taken only when asked for)
            gd = copy.copy(full)
            gd.__dict__.update(
                X=X[sl], y=None if y is None else y[sl], weights=None if w is None else w[sl],
                offset=None if o is None else o[sl], kept=kept, kept_sub=np.flatnonzero(keep),
                n_data=len(r), na_dropped=np.flatnonzero(~keep), subset_rows=r,
                _frame_parts=_FrameParts(vals, R, flabels, resp, None if w is None else w[sl],
                                         o_arg),
                _row_names=None, _frame=None, _kept_data=None)
            self.designs[i] = gd
            self.warnings[i] = list(self.full_warnings)
            a = b

    def _own(self, i: int, formula, data, rows, weights, offset, mask, na_action,
             contrasts) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.designs[i] = build_design(
                    formula, _group_data(data, rows), subset=None if mask is None else mask[rows],
                    weights=_slice_arg(weights, rows), offset=_slice_arg(offset, rows),
                    na_action=na_action, contrasts=contrasts)
            except RModelsError as exc:
                self.designs[i] = exc
        self.warnings[i] = [(c.category, str(c.message)) for c in caught]


def _issue(per_group: list, keys: list, by: list) -> None:
    """R's warnings of the groups, once per distinct (class, message), with the group count."""
    seen: dict = {}
    for i, ws in enumerate(per_group):
        for cat, msg in dict.fromkeys(ws):
            seen.setdefault((cat, msg), []).append(i)
    for (cat, msg), groups in seen.items():
        first = ", ".join(f"{b}={v}" for b, v in zip(by, keys[groups[0]]))
        warnings.warn(f"{msg} [in {len(groups)} of {len(keys)} groups; first: {first}]", cat,
                      stacklevel=3)


def _as_by(by: Union[str, Sequence[str]]) -> list:
    out = [by] if isinstance(by, str) else list(by)
    if not out:
        raise DataError("'by' must name at least one column")
    return out


def _group_dict(by: list, key: tuple) -> dict:
    return dict(zip(by, key))


# ---------------------------------------------------------------------------------------------
# lm


def lm(formula: str, data: pd.DataFrame, weights: Any = None, subset: Any = None,
       offset: Any = None, na_action: str = "omit", tol: float = 1e-7,
       singular_ok: bool = True, contrasts: Optional[dict] = None, data_name: str = "data",
       *, by: Union[str, Sequence[str], None] = None, threads: int = 0,
       drop: bool = False) -> Union[LM, FitList]:
    """R's ``lm()``; with ``by`` one fit per group, as
    ``lapply(split(data, data[by]), function(s) lm(formula, s, ...))``.

    ``by``: a column name or a list of names; groups are ordered as R's ``split(...,
    lex.order = TRUE)`` (the first column varies slowest); with ``drop=False`` (R's default)
    every combination of levels is a group, an empty one failing with "0 (non-NA) cases".
    ``weights``/``offset``: column names or arrays over all rows of ``data``; ``subset``: a
    boolean mask (or positions) over the rows of ``data``, applied within each group.
    ``threads``: worker threads for the fits (0 = all cores); results do not depend on it.
    Returns a :class:`FitList`; other arguments as :func:`rmodels.lm.lm`.
    """
    if by is None:
        return _lm_single(formula, data, weights=weights, subset=subset, offset=offset,
                      na_action=na_action, tol=tol, singular_ok=singular_ok,
                      contrasts=contrasts, data_name=data_name)
    if not isinstance(data, pd.DataFrame):
        raise DataError("'data' must be a pandas DataFrame")
    by = _as_by(by)
    keys, rows, dtypes = _split(data, by, drop)
    ds = _Designs(formula, data, rows, weights=weights, offset=offset, subset=subset,
                  na_action=na_action, contrasts=contrasts)
    fits: list = [None] * len(keys)
    problems, where = [], []
    for i, d in enumerate(ds.designs):
        try:
            if isinstance(d, Exception):
                raise d
            _check_lm_design(d)
        except RModelsError as exc:
            fits[i] = FailedFit(_group_dict(by, keys[i]), exc)
            continue
        if d.X.shape[1] == 0:
            fits[i] = empty_fit(np.asarray(d.y, dtype=np.float64), d.weights, d.offset)
            continue
        problems.append((d.X, d.y, d.weights, d.offset))
        where.append(i)
    results = _core.lm_wfit_batch(problems, float(tol), int(threads)) if problems else []
    for i, res in zip(where, results):
        if res["error"] is not None:
            fits[i] = FailedFit(_group_dict(by, keys[i]), FitError(res["error"]))
        else:
            fits[i] = _lm_fit_dict(res, ds.designs[i].y.ndim == 1)
    extra = lm_call_args(data_name, subset, weights, offset, na_action, singular_ok)
    out = []
    for i, f in enumerate(fits):
        if isinstance(f, FailedFit):
            out.append(f)
            continue
        d = ds.designs[i]
        if not singular_ok and f["rank"] < d.X.shape[1]:
            out.append(FailedFit(_group_dict(by, keys[i]), FitError("singular fit encountered")))
            continue
        fit = LM(d, f, extra, tol, offset_arg=offset)
        fit.group = _group_dict(by, keys[i])
        out.append(fit)
    _issue(ds.warnings, keys, by)
    order = [] if ds.full is None else list(ds.full.columns)
    return FitList(out, by, keys, dtypes, order)


def _check_lm_design(d: Design) -> None:
    """lm()'s checks of a design before the fit (R's messages)."""
    if d.y is None:
        raise DataError("lm() needs a response: the formula has no left-hand side")
    if d.y_factor is not None:
        raise DataError(f"the response '{d.response_name}' is a factor; lm() needs a numeric "
                        "response")
    w = d.weights
    if w is not None and (np.isnan(w).any() or (w < 0).any()):
        raise DataError("missing or negative weights not allowed")
    if d.y.shape[0] == 0:
        raise DataError("0 (non-NA) cases")
    if w is not None and not (w != 0).any():
        raise FitError("all weights are zero")


def _lm_fit_dict(res: dict, one: bool) -> dict:
    """The batch result of one group in the form lm.py's ``_core_wfit`` returns."""
    out = dict(res)
    out["pivot"] = np.asarray(out["pivot"], dtype=np.int64)
    out["qr"] = np.asfortranarray(out["qr"], dtype=np.float64)
    out["rank"] = int(out["rank"])
    out["df_residual"] = int(out["df_residual"])
    for key in ("coefficients", "effects", "residuals", "fitted_values"):
        a = np.asarray(out[key], dtype=np.float64)
        out[key] = a[:, 0] if (one and a.ndim == 2) else a
    return out


# ---------------------------------------------------------------------------------------------
# glm


def glm(formula: str, data: pd.DataFrame, family: Union[str, Family, None] = None,
        weights: Any = None, subset: Any = None, offset: Any = None, na_action: str = "omit",
        start: Sequence[float] | None = None, etastart: Any = None, mustart: Any = None,
        control: dict | None = None, *, data_name: str = "data",
        by: Union[str, Sequence[str], None] = None, threads: int = 0,
        drop: bool = False) -> Union[GLM, FitList]:
    """R's ``glm()``; with ``by`` one fit per group, as
    ``lapply(split(data, data[by]), function(s) glm(formula, family, s, ...))``.

    Grouping, ``weights``/``offset``/``subset``, ``threads`` and ``drop`` as :func:`lm`;
    ``start``/``etastart``/``mustart`` are not available with ``by``. Returns a
    :class:`FitList`; other arguments as :func:`rmodels.glm.glm`.
    """
    if by is None:
        return _glm_single(formula, data, family=family, weights=weights, subset=subset,
                        offset=offset, na_action=na_action, start=start, etastart=etastart,
                        mustart=mustart, control=control, data_name=data_name)
    if start is not None or etastart is not None or mustart is not None:
        raise FitError("start, etastart and mustart are not available with 'by'")
    if not isinstance(data, pd.DataFrame):
        raise DataError("'data' must be a pandas DataFrame")
    fam = as_family("gaussian" if family is None else family)
    ctrl = {"epsilon": 1e-8, "maxit": 25}
    if control:
        unknown = set(control) - {"epsilon", "maxit", "trace"}
        if unknown:
            raise FitError(f"unknown glm.control arguments: {sorted(unknown)}")
        ctrl.update({k: v for k, v in control.items() if k != "trace"})
    if not (ctrl["epsilon"] > 0):
        raise FitError("value of 'epsilon' must be > 0")
    if not (ctrl["maxit"] > 0):
        raise FitError("maximum number of iterations must be > 0")
    by = _as_by(by)
    keys, rows, dtypes = _split(data, by, drop)
    ds = _Designs(formula, data, rows, weights=weights, offset=offset, subset=subset,
                  na_action=na_action, contrasts=None)
    fits: list = [None] * len(keys)
    problems, where, ys, icols = [], [], {}, []
    for i, d in enumerate(ds.designs):
        try:
            if isinstance(d, Exception):
                raise d
            Y = response_matrix(d, fam)
            if d.weights is not None and np.any(d.weights < 0):
                raise DataError("negative weights not allowed")
        except RModelsError as exc:
            fits[i] = FailedFit(_group_dict(by, keys[i]), exc)
            continue
        ys[i] = Y
        problems.append((d.X, Y, d.weights, d.offset))
        icols.append(d.columns.index("(Intercept)") if "(Intercept)" in d.columns else -1)
        where.append(i)
    intercept = bool(ds.full.intercept) if ds.full is not None else \
        any(isinstance(d, Design) and d.intercept for d in ds.designs)
    results = _core.glm_fit_batch(
        problems, fam.core_name, fam.link, fam.lam, fam.variance_name, fam.theta,
        float(ctrl["epsilon"]), int(ctrl["maxit"]), intercept, icols,
        int(threads)) if problems else []
    texts = [d.formula_text for d in ds.designs if isinstance(d, Design)]
    call = glm_call_text((texts[0] if texts else "") or formula,
                           None if family is None else fam, data_name, weights, subset, offset,
                           None, None, None, control, na_action)
    per_warn = [list(w) for w in ds.warnings]
    frames = _GroupFrames(data, rows)
    for i, res in zip(where, results):
        key = _group_dict(by, keys[i])
        if res["error"] is not None:
            msg = res["error"]
            data_err = res.get("data_error") or any(m in msg for m in DATA_MESSAGES)
            fits[i] = FailedFit(key, (DataError if data_err else FitError)(msg))
            continue
        core = GlmCoreFit.from_result(res)
        per_warn[i].extend((_warning_class(m), m) for m in core.warnings)
        d = ds.designs[i]
        n = d.X.shape[0]
        w = d.weights
        g = GroupGLM(core=core, design=d, family=fam, Y=ys[i],
                     raw_weights=np.ones(n) if w is None else np.asarray(w, float),
                     control=ctrl, call=call, data=None,
                     formula=formula, offset_arg=offset, start=None)
        g._frames, g._group_index = frames, i
        g.group = key
        fits[i] = g
    _issue(per_warn, keys, by)
    order = [] if ds.full is None else list(ds.full.columns)
    return FitList(fits, by, keys, dtypes, order)


def _warning_class(msg: str) -> type:
    from ..errors import BoundaryWarning, ConvergenceWarning, FittedValuesWarning, RModelsWarning

    if "did not converge" in msg:
        return ConvergenceWarning
    if "fitted probabilities" in msg or "fitted rates" in msg:
        return FittedValuesWarning
    if "boundary value" in msg:
        return BoundaryWarning
    return RModelsWarning
