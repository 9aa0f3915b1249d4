"""Design: model frame → model matrix, and the stored model spec that encodes new data.

The path is R's: ``terms()`` (expansion and ordering) → ``model.frame()`` (variables evaluated on
the whole data, then ``subset``, then NA handling and dropping of unused levels) →
``model.matrix()`` (contrasts or full indicators per R's coding rule, columns filled by the
compiled kernel ``_core.fill_term``).

Contract used by lm, glm and lmer::

    d = build_design(formula, data, *, subset=None, weights=None, offset=None,
                     na_action="omit", drop_unused_levels=True, contrasts=None, allow_bars=False)

``d.X`` (n, p) float64 Fortran-ordered; ``d.columns`` R's names; ``d.assign`` (0 = intercept);
``d.term_labels``; ``d.intercept``; ``d.y`` (n,) or (n, k) for ``cbind(...)`` responses, None
for a one-sided formula; ``d.y_factor`` the levels when the response is a factor or character
(``d.y`` then holds 0-based codes); ``d.response_name``; ``d.response_columns`` (cbind);
``d.offset`` (sum of ``offset()`` terms and the ``offset=`` argument, or None); ``d.weights``;
``d.row_names`` (R's row names of the kept rows); ``d.kept`` (positions in ``data``);
``d.kept_sub``/``d.na_dropped`` (positions within the subsetted data); ``d.n_data``;
``d.contrasts``; ``d.xlevels``; ``d.frame`` (R's model frame); ``d.spec`` (a
:class:`ModelSpec`: ``spec.model_matrix(newdata) -> (X, ok)``, ``spec.offset(newdata)``);
``d.bars`` (random-effect bars, for lmer) with ``d.bar_matrix(bar)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning, FormulaError, FormulaWarning
from ..formula.ast import BinOp, Call, Formula, Name, Paren
from ..formula.deparse import deparse
from ..formula.terms import Terms
from ..formula.terms import terms as make_terms
from ..frame import (
    Char,
    Env,
    Factor,
    Mat,
    as_data_frame,
    evaluate,
    finish_variable,
    take,
    variable_has_na,
    variable_na,
)
from .coding import column_names, term_codings
from .fill import fill_model_matrix, model_matrix_rows
from .frame_table import model_frame_table
from .spec import ModelSpec

ArrayLike = Union[np.ndarray, Sequence[float], pd.Series]


def r_row_names(index: pd.Index) -> list[str]:
    """R's row names for a pandas index: a default RangeIndex 0..n-1 becomes "1".."n"."""
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return [str(i + 1) for i in range(len(index))]
    return [str(v) for v in index]


# --------------------------------------------------------------------------------------------
# The design


@dataclass
class Design:
    X: np.ndarray
    columns: list
    assign: np.ndarray
    term_labels: list
    intercept: bool
    y: Optional[np.ndarray]
    y_factor: Optional[list]
    response_name: Optional[str]
    response_columns: Optional[list]
    offset: Optional[np.ndarray]
    weights: Optional[np.ndarray]
    kept: np.ndarray
    kept_sub: np.ndarray
    n_data: int
    na_dropped: np.ndarray
    na_action: str
    contrasts: dict
    xlevels: dict
    spec: ModelSpec
    terms: Terms
    bars: list = field(default_factory=list)
    _kept_data: Any = None
    formula_text: str = ""
    _index: Any = None
    subset_rows: Any = None  # positions in data of the rows after subset
    _frame_parts: Any = None
    _row_names: Any = None
    _frame: Any = None

    @property
    def n(self) -> int:
        return len(self.kept)

    @property
    def data_index(self) -> pd.Index:
        """The index of the data the design was built from (all its rows)."""
        return self._index

    @property
    def frame_parts(self) -> tuple:
        """What the model frame is built from: (variables of the kept rows, frame labels,
        response index, weights, offset argument)."""
        return self._frame_parts

    def consume_X(self) -> np.ndarray:
        """Hand the model matrix over to a fit that factorises it in place (no copy). Later
        calls to :meth:`model_matrix_array` rebuild it from the stored variables."""
        X = self.X if self.X is not None else self.build_model_matrix()
        self.X = None
        return X

    def build_model_matrix(self) -> np.ndarray:
        """A new model matrix built from the model frame's variables (not kept)."""
        sp = self.spec
        vals = dict(enumerate(self._frame_parts[0]))
        return fill_model_matrix(len(self.kept), sp.intercept, sp.codings, vals,
                                 sp.contrast_mats, len(sp.columns))

    def design_rows(self):
        """The model matrix kept by rows (``_core.DesignRows``) built from the model frame's
        variables, or None when it is not tall and mostly zeros."""
        sp = self.spec
        vals = dict(enumerate(self._frame_parts[0]))
        return model_matrix_rows(len(self.kept), sp.intercept, sp.codings, vals,
                                 sp.contrast_mats, len(sp.columns))

    def model_matrix_array(self) -> np.ndarray:
        """The model matrix (rebuilt from the model frame's variables if a fit consumed it)."""
        if self.X is None:
            self.X = self.build_model_matrix()
        return self.X

    @property
    def row_names(self) -> list:
        """R's row names of the kept rows (built on first use)."""
        if self._row_names is None:
            idx = self._index
            if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
                self._row_names = list(map(str, (np.asarray(self.kept) + 1).tolist()))
            else:
                self._row_names = [str(v) for v in idx[self.kept]]
        return self._row_names

    def row_index(self) -> pd.Index:
        """A pandas index of the kept rows whose values print as R's row names: for a default
        RangeIndex the integers k + 1 (R's "1".."n"), else the data's own labels. Cheaper than
        :attr:`row_names` for large data (no strings are built)."""
        idx = self._index
        if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
            return pd.Index(np.asarray(self.kept, dtype=np.int64) + 1)
        return idx[self.kept]

    def frame_factor_codes(self) -> list:
        """(codes, number of levels) of every factor and character variable of the model frame
        (the response included; logicals, whose levels are always FALSE/TRUE, left out): the
        levels a subset of the rows must hold to have the same columns. A character variable's
        levels are the distinct strings of the kept rows, codes −1 for NA."""
        out = []
        for v in self._frame_parts[0]:
            if not isinstance(v, Factor) or v.kind == "logical":
                continue
            codes = np.asarray(v.codes)
            if v.kind == "character":
                present = np.unique(codes[codes >= 0])
                codes = np.where(codes >= 0, np.searchsorted(present, codes), -1)
                out.append((codes, len(present)))
            else:
                out.append((codes, len(v.levels)))
        return out

    @property
    def frame(self) -> pd.DataFrame:
        """R's model frame (built on first use)."""
        if self._frame is None:
            vals, flabels, resp, w, o = self._frame_parts
            self._frame = model_frame_table(vals, flabels, resp, self.row_index(), w, o)
        return self._frame

    def kept_data(self) -> pd.DataFrame:
        if self._kept_data is None:
            raise DataError("the design keeps no data rows (it was built without "
                            "random-effect terms)")
        return self._kept_data

    def bar_matrix(self, bar) -> tuple[np.ndarray, list]:
        """Model matrix of a random-effect bar's left-hand side on the kept rows (lme4 evaluates
        ``model.matrix(~ lhs, frame)``)."""
        text = "~" + deparse(bar.lhs)
        sub = build_design(text, self.kept_data(), na_action="fail", drop_unused_levels=True)
        return sub.X, sub.columns


def _vector_arg(v, data: pd.DataFrame, what: str) -> Optional[np.ndarray]:
    if v is None:
        return None
    if isinstance(v, str):
        if v not in data.columns:
            raise DataError(f"object '{v}' not found ({what})")
        v = data[v]
    arr = pd.Series(v).to_numpy(dtype=float, na_value=np.nan) if not isinstance(v, np.ndarray) \
        else np.asarray(v, dtype=float)
    if arr.ndim != 1 or len(arr) != len(data):
        raise DataError(f"variable lengths differ (found for '({what})')")
    return arr


def subset_positions(subset, n: int, data: pd.DataFrame) -> np.ndarray:
    if subset is None:
        return np.arange(n)
    if isinstance(subset, pd.Series):
        subset = subset.to_numpy()
    s = np.asarray(subset)
    if s.dtype == bool:
        if len(s) != n:
            raise DataError("'subset' must have one entry per row of data")
        return np.flatnonzero(s)
    if s.dtype.kind in "iu":
        if (s < 0).any() or (s >= n).any():
            raise DataError("'subset' positions out of range")
        return s.astype(np.int64)
    raise DataError("'subset' must be a boolean mask or integer positions")


def _bar_names(bars) -> list:
    out: list = []

    def walk(e):
        if isinstance(e, Name):
            if e.id not in out:
                out.append(e.id)
        elif isinstance(e, Call):
            for a in e.args:
                walk(a)
            for _, a in e.kwargs:
                walk(a)
        elif isinstance(e, BinOp):
            walk(e.left)
            walk(e.right)
        elif isinstance(e, Paren):
            walk(e.expr)
        elif hasattr(e, "operand"):
            walk(e.operand)

    for b in bars:
        walk(b.lhs)
        walk(b.group)
    return out


def _bar_columns(t: Terms, env: Env, data: pd.DataFrame, n_all: int) -> list:
    """The data columns named in random-effect bars (their missing values drop rows too)."""
    bar_cols = []
    if t.bars:
        for nm in _bar_names(t.bars):
            if nm in data.columns:
                bar_cols.append((nm, finish_variable(env.column(nm), n_all, nm)))
    return bar_cols


def _subset_and_na(values: list, bar_cols: list, w, o, pos: np.ndarray,
                   whole: bool) -> tuple[list, Optional[np.ndarray]]:
    """The variables on the subset's rows ``pos`` and the mask of those rows with a missing
    value in any variable, bar column, weight or offset (R's na.action sees them all); None
    when no row has one (settled by one pass without a temporary per variable)."""
    sub_vals = values if whole else [take(v, pos) for v in values]
    tested = sub_vals + [v if whole else take(v, pos) for _, v in bar_cols]
    tested += [a if whole else a[pos] for a in (w, o) if a is not None]
    na = None
    for v in tested:
        if variable_has_na(v):
            m = variable_na(v)
            na = m if na is None else na | m
    return sub_vals, na


def _drop_unused_levels(vals: list, drop_unused_levels: bool) -> None:
    """Levels: characters always from the kept rows; factors drop unused levels for fits."""
    for i, v in enumerate(vals):
        if isinstance(v, Factor) and (v.kind == "character" or
                                      (drop_unused_levels and v.kind == "factor")):
            vals[i] = v.drop_unused()


def _response(yv) -> tuple[np.ndarray, Optional[list], Optional[list]]:
    """The response as (y, levels of a factor response (y then holds 0-based codes), column
    names of a ``cbind`` response)."""
    if isinstance(yv, Mat):
        return np.asfortranarray(yv.values), None, list(yv.colnames) if yv.colnames else None
    if isinstance(yv, Factor):
        if yv.kind == "logical":
            return yv.codes.astype(float), None, None
        return yv.codes.astype(float), list(yv.levels), None
    return np.asarray(yv, dtype=float), None, None


def _variable_kinds(vals: list, resp: Optional[int], flabels: list) -> tuple[list, dict, dict]:
    """Per variable its kind ("num", "mat", a factor's kind, None for the response); the
    levels of each factor; R's ``xlevels`` (not for logicals). Contrasts need >= 2 levels
    (R's `contrasts<-`)."""
    kinds: list = []
    levels: dict = {}
    xlevels: dict = {}
    for i, v in enumerate(vals):
        if i == resp:
            # a factor response inside a term (a ~ x:a) is coded as the factor it is (R)
            kinds.append(v.kind if isinstance(v, Factor) else None)
            if isinstance(v, Factor):
                levels[i] = list(v.levels)
            continue
        if isinstance(v, Factor):
            kinds.append(v.kind)
            if len(v.levels) < 2:
                raise DataError("contrasts can be applied only to factors with 2 or more levels")
            levels[i] = list(v.levels)
            if v.kind != "logical":
                xlevels[flabels[i]] = list(v.levels)
        elif isinstance(v, Mat):
            kinds.append("mat")
        else:
            kinds.append("num")
    return kinds, levels, xlevels


def _warn_absent_contrasts(contrasts: dict, labels: list, vals: list,
                           resp: Optional[int]) -> None:
    for name in contrasts:
        if name not in labels[int(resp is not None):] or \
                not isinstance(vals[labels.index(name)], Factor):
            warnings.warn(f"variable '{name}' is absent, its contrast will be ignored",
                          DataWarning, stacklevel=4)


def _total_offset(offsets: list, vals: list, o, kept: np.ndarray) -> Optional[np.ndarray]:
    """Formula ``offset()`` terms plus the ``offset=`` argument (None if neither)."""
    off = None
    for i in offsets:
        ov = np.asarray(vals[i], dtype=float)
        off = ov.copy() if off is None else off + ov
    if o is not None:
        ok = o[kept]
        off = ok.copy() if off is None else off + ok
    return off


def build_design(formula: Union[str, Formula], data: pd.DataFrame, *, subset=None,
                 weights=None, offset=None, na_action: str = "omit",
                 drop_unused_levels: bool = True, contrasts: Optional[dict] = None,
                 allow_bars: bool = False, materialize: bool = True) -> Design:
    """Evaluate ``formula`` on ``data`` as R's model.frame + model.matrix (see module doc).
    ``materialize=False`` leaves ``X`` unbuilt (``model_matrix_array()`` builds it on demand;
    ``design_rows()`` gives the matrix by rows)."""
    data = as_data_frame(data)
    t = _checked_terms(formula, data, na_action, allow_bars)
    n_all = len(data)
    env = Env(data, t.formula.text)
    labels = list(t.variable_labels)
    raw = []
    for i, expr in enumerate(t.variables):  # a loop, not a comprehension: warnings' stacklevel
        raw.append(evaluate(expr, env, top=True, label=labels[i]))
    values = _frame_variables(raw, t.response, n_all, labels)
    bar_cols = _bar_columns(t, env, data, n_all)
    w = _vector_arg(weights, data, "weights")
    o = _vector_arg(offset, data, "offset")
    rows = _kept_rows(values, bar_cols, w, o, subset_positions(subset, n_all, data),
                      subset is None, na_action)
    _drop_unused_levels(rows.vals, drop_unused_levels)
    if contrasts:  # here, not deeper: the warning's stacklevel
        _warn_absent_contrasts(contrasts, labels, rows.vals, t.response)
    coding = _model_coding(t, rows.vals, labels, contrasts)
    X = fill_model_matrix(len(rows.kept), t.intercept, coding.codings, dict(enumerate(rows.vals)),
                          coding.contrast_mats, len(coding.columns)) if materialize else None
    d = _assemble_design(t, data, rows, coding, labels, dict(env.states), X, w, o, na_action)
    if t.bars:
        d._kept_data = data.iloc[rows.kept].reset_index(drop=True)
    return d


def _checked_terms(formula: Union[str, Formula], data: pd.DataFrame, na_action: str,
                   allow_bars: bool) -> Terms:
    """The formula's terms, after the checks of ``na_action`` and of random-effect bars."""
    if na_action not in ("omit", "exclude", "fail", "pass"):
        raise DataError("na_action must be 'omit', 'exclude' or 'fail'")
    t = make_terms(formula, data_columns=data.columns)
    if t.bars and not allow_bars:
        raise FormulaError("random-effect terms (a '|' bar) are only allowed in lmer()",
                           t.formula.text, getattr(t.bars[0].lhs, "pos", None))
    return t


def _frame_variables(raw: list, resp: Optional[int], n_all: int, labels: list) -> list:
    """The evaluated variables as model-frame variables (R's lengths checked)."""
    return [_response_value(v, n_all, labels[i]) if i == resp else
            finish_variable(v, n_all, labels[i]) for i, v in enumerate(raw)]


class _KeptRows(NamedTuple):
    """The rows of the model frame: ``pos`` the subset's positions in the data, ``keep_sub``
    the kept ones among them, ``kept`` their positions in the data, ``vals`` the variables on
    the kept rows, ``na`` the subset's rows with a missing value (None: no such row)."""

    pos: np.ndarray
    keep_sub: np.ndarray
    kept: np.ndarray
    vals: list
    na: Optional[np.ndarray]


def _kept_rows(values: list, bar_cols: list, w, o, pos: np.ndarray, whole: bool,
               na_action: str) -> _KeptRows:
    """``subset``, then R's NA handling (``na.fail`` raises, ``na.pass`` keeps every row).
    Without a missing value every row of the subset is kept (no index array is rebuilt)."""
    sub_vals, na = _subset_and_na(values, bar_cols, w, o, pos, whole)
    if na is None:
        return _KeptRows(pos, pos if whole else np.arange(len(pos)), pos, sub_vals, None)
    if na_action == "fail":
        raise DataError("missing values in object")
    keep_sub = np.arange(len(pos)) if na_action == "pass" else np.flatnonzero(~na)
    vals = sub_vals if len(keep_sub) == len(pos) else [take(v, keep_sub) for v in sub_vals]
    return _KeptRows(pos, keep_sub, pos[keep_sub], vals, na)


class _Coding(NamedTuple):
    """What ``model.matrix`` makes of the frame: variable kinds, factor levels, R's xlevels,
    the terms' codings, contrast matrices (and those used, by name), columns and assign."""

    kinds: list
    levels: dict
    xlevels: dict
    codings: list
    contrast_mats: dict
    contrasts_used: dict
    columns: list
    assign: np.ndarray


def _model_coding(t: Terms, vals: list, labels: list, contrasts: Optional[dict]) -> _Coding:
    """The codings of the terms (contrasts or indicators) and the model matrix's columns."""
    resp = t.response
    kinds, levels, xlevels = _variable_kinds(vals, resp, t.frame_labels)
    codings, contrast_mats, contrasts_used = term_codings(t, kinds, resp, vals, labels,
                                                          contrasts)
    columns, assign = column_names(codings, vals, labels, contrast_mats, bool(t.intercept))
    return _Coding(kinds, levels, xlevels, codings, contrast_mats, contrasts_used, columns,
                   np.asarray(assign, dtype=np.int64))


def _assemble_design(t: Terms, data: pd.DataFrame, rows: _KeptRows, coding: _Coding,
                     labels: list, states: dict, X: Optional[np.ndarray], w, o,
                     na_action: str) -> Design:
    """The :class:`Design` (and its :class:`ModelSpec`) of the kept rows."""
    resp, vals, kept = t.response, rows.vals, rows.kept
    flabels = list(t.frame_labels)
    text = t.formula.text
    y, y_factor, response_columns = (None, None, None) if resp is None else \
        _response(vals[resp])
    wk = None if w is None else w[kept].copy()
    spec = ModelSpec(terms=t, labels=labels, frame_labels=flabels, states=states,
                     kinds=coding.kinds, levels=coding.levels,
                     contrast_mats=coding.contrast_mats, codings=coding.codings,
                     columns=coding.columns, assign=coding.assign, intercept=bool(t.intercept),
                     rhs_vars=[i for i in range(len(t.variables)) if i != resp],
                     formula_text=text)
    return Design(X=X, columns=coding.columns, assign=coding.assign,
                  term_labels=list(t.term_labels), intercept=bool(t.intercept), y=y,
                  y_factor=y_factor, response_name=None if resp is None else flabels[resp],
                  response_columns=response_columns,
                  offset=_total_offset(t.offsets, vals, o, kept), weights=wk, kept=kept,
                  kept_sub=rows.keep_sub, n_data=len(rows.pos),
                  na_dropped=(np.flatnonzero(rows.na) if na_action != "pass" and
                              rows.na is not None else np.zeros(0, dtype=np.int64)),
                  na_action=na_action,
                  contrasts=coding.contrasts_used, xlevels=coding.xlevels, spec=spec, terms=t,
                  bars=list(t.bars), formula_text=text, _index=data.index,
                  subset_rows=rows.pos,
                  _frame_parts=(vals, flabels, resp, wk, None if o is None else o[kept]))


def _response_value(v, n: int, label: str):
    if isinstance(v, Mat):
        return v
    if isinstance(v, Char):
        return v.to_factor()
    return finish_variable(v, n, label)


# --------------------------------------------------------------------------------------------
# Public functions


def model_matrix(formula: Union[str, Formula], data: pd.DataFrame,
                 contrasts: Optional[dict] = None) -> pd.DataFrame:
    """R's ``model.matrix(formula, data, contrasts.arg = contrasts)``.

    Rows with a missing value are dropped (``na.omit``); unused factor levels are kept (as R's
    model.matrix on raw data). Columns are named exactly as R names them;
    ``.attrs["assign"]`` is R's assign vector and ``.attrs["contrasts"]`` the contrasts used.
    """
    d = build_design(formula, data, drop_unused_levels=False, contrasts=contrasts)
    out = pd.DataFrame(d.X, columns=d.columns, index=d.row_index(), copy=False)
    out.attrs["assign"] = [int(a) for a in d.assign]
    out.attrs["contrasts"] = dict(d.contrasts)
    return out


def model_frame(formula: Union[str, Formula], data: pd.DataFrame, subset=None,
                na_action: str = "omit", weights=None, offset=None,
                drop_unused_levels: bool = False) -> pd.DataFrame:
    """R's ``model.frame(formula, data, subset, na.action)``: the evaluated variables of the
    rows kept, indexed by R's row names. Matrix-valued variables (``poly(x, 2)``) are split into
    columns ``poly(x, 2).1``, ``poly(x, 2).2`` as ``as.data.frame`` does in R."""
    with warnings.catch_warnings():
        # model.matrix's warnings (e.g. the response on the right-hand side) are not
        # model.frame's
        warnings.simplefilter("ignore", FormulaWarning)
        d = build_design(formula, data, subset=subset, na_action=na_action, weights=weights,
                         offset=offset, drop_unused_levels=drop_unused_levels, allow_bars=True)
    return d.frame
