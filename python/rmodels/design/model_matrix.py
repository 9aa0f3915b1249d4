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
``d.bars`` (random-effect bars, for lmer) with ``d.bar_matrix(bar)`` and
``d.grouping_factor(expr)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .. import _core
from ..errors import DataError, DataWarning, FormulaError, FormulaWarning
from ..formula.ast import BinOp, Call, Formula, Name, Paren
from ..formula.deparse import deparse
from ..formula.terms import Terms
from ..formula.terms import terms as make_terms
from ..frame import (
    Env,
    Factor,
    Mat,
    char_to_factor,
    evaluate,
    finish_variable,
    take,
    variable_na,
)
from ..frame import transforms as tr

ArrayLike = Union[np.ndarray, Sequence[float], pd.Series]


def frame_label(expr) -> str:
    """Name of a variable in R's model frame: bare symbol names, deparsed calls (R's deparse
    defaults: integer constants keep their ``L``)."""
    return expr.id if isinstance(expr, Name) else deparse(expr, keep_integer=True)


def r_row_names(index: pd.Index) -> list[str]:
    """R's row names for a pandas index: a default RangeIndex 0..n-1 becomes "1".."n"."""
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return [str(i + 1) for i in range(len(index))]
    return [str(v) for v in index]


# --------------------------------------------------------------------------------------------
# Coding of factor variables


@dataclass
class Coding:
    """How one variable enters one term: "num" (numeric/matrix), "contr" or "full"."""

    var: int
    how: str


def _contrast_for(f: Factor, label: str, user: Optional[dict]) -> tuple[np.ndarray, Optional[list],
                                                                        str]:
    spec = None
    if user and label in user:
        spec = user[label]
    elif f.contrasts is not None:
        spec = f.contrasts
    if spec is None:
        spec = "contr.poly" if f.ordered else "contr.treatment"
    if isinstance(spec, tuple):  # set by C(f, contr.xxx): the matrix R's C() attached
        M, names = spec
        return np.ascontiguousarray(M, dtype=float), names, "matrix"
    if isinstance(spec, str):
        name = spec if spec.startswith("contr.") else "contr." + spec
        M, names = tr.contrast_matrix(name, list(f.levels))
        return np.ascontiguousarray(M, dtype=float), names, name
    M = np.asarray(spec, dtype=float)
    if M.ndim != 2 or M.shape[0] != len(f.levels):
        raise DataError(f"wrong number of contrast matrix rows for '{label}'")
    return np.ascontiguousarray(M), None, "matrix"


@dataclass
class ModelSpec:
    """Everything needed to encode new data as the training data was encoded (R's predvars,
    xlevels and contrasts)."""

    terms: Terms
    labels: list  # deparsed variable labels (coefficient-name style)
    frame_labels: list
    states: dict
    kinds: list  # per variable: "num", "mat", "factor", "character", "logical", None (response)
    levels: dict  # var index -> levels used in the fit
    contrast_mats: dict  # var index -> (M, names)
    codings: list  # per term: list[Coding]
    columns: list
    assign: np.ndarray
    intercept: bool
    rhs_vars: list  # indices of variables needed on the right-hand side (incl. offsets)
    formula_text: str

    def _evaluate(self, newdata: pd.DataFrame, indices: Sequence[int]) -> dict:
        if not isinstance(newdata, pd.DataFrame):
            raise DataError("'newdata' must be a pandas DataFrame")
        env = Env(newdata, self.formula_text, states=self.states, record=False)
        out = {}
        for i in indices:
            expr = self.terms.variables[i]
            v = finish_variable(evaluate(expr, env, top=True, label=self.labels[i]), len(newdata),
                                self.labels[i])
            kind = self.kinds[i]
            if kind in ("factor", "character", "logical"):
                v = self._relevel(v, i)
            elif isinstance(v, Factor):
                raise DataError(f"variable '{self.frame_labels[i]}' was fitted with type "
                                f"\"numeric\" but type \"factor\" was supplied")
            out[i] = v
        return out

    def _relevel(self, v, i: int) -> Factor:
        levels = self.levels[i]
        if not isinstance(v, Factor):
            if isinstance(v, np.ndarray):
                raise DataError(f"variable '{self.frame_labels[i]}' was fitted with type "
                                f"\"factor\" but type \"numeric\" was supplied")
            raise DataError(f"variable '{self.frame_labels[i]}' has the wrong type")
        if list(v.levels) == list(levels):
            return v
        labels = v.labels()
        f = char_to_factor(labels, levels)
        bad = (f.codes < 0) & (v.codes >= 0)
        if bad.any():
            new = list(dict.fromkeys(str(v) for v in labels[bad]))
            word = "level" if len(new) == 1 else "levels"
            raise DataError(f"factor {self.frame_labels[i]} has new {word} {', '.join(new)}")
        return Factor(f.codes, list(levels), v.ordered, self.kinds[i])

    def model_matrix(self, newdata: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Model matrix of ``newdata`` (rows in order; rows with a missing predictor are NaN,
        R's na.pass) and the mask of complete rows."""
        needed = sorted({c.var for cod in self.codings for c in cod})
        vals = self._evaluate(newdata, needed)
        n = len(newdata)
        X = _fill(n, self.intercept, self.codings, vals, self.contrast_mats, len(self.columns))
        ok = np.ones(n, dtype=bool)
        for v in vals.values():
            ok &= ~variable_na(v)
        return X, ok

    def offset(self, newdata: pd.DataFrame) -> Optional[np.ndarray]:
        """Sum of the formula's ``offset()`` terms evaluated in ``newdata`` (None if none)."""
        if not self.terms.offsets:
            return None
        vals = self._evaluate(newdata, self.terms.offsets)
        return np.sum([np.asarray(vals[i], dtype=float) for i in self.terms.offsets], axis=0)


def _term_components(n: int, codings: list, vals: dict, contrast_mats: dict):
    """Yield (first column, width, components) per term with columns, components as
    ``_core.fill_term`` takes them; the intercept (column 0) is not included."""
    col = 0
    for cod in codings:
        if not cod:  # a term with no columns (the response on the right-hand side)
            continue
        comps = []
        width = 1
        for c in cod:
            v = vals[c.var]
            if c.how == "num":
                if isinstance(v, Mat):
                    M = v.values
                else:
                    M = np.asarray(v, dtype=np.float64).reshape(n, 1)
                M = np.asfortranarray(M, dtype=np.float64)
                comps.append(("num", M))
                width *= M.shape[1]
            else:
                C = contrast_mats[c.var][0] if c.how == "contr" else \
                    np.eye(len(v.levels), dtype=np.float64)
                comps.append(("fac", np.ascontiguousarray(v.codes, dtype=np.int32),
                              np.ascontiguousarray(C, dtype=np.float64)))
                width *= C.shape[1]
        yield col, width, comps
        col += width


def _fill(n: int, intercept: bool, codings: list, vals: dict, contrast_mats: dict,
          p: int) -> np.ndarray:
    X = np.empty((n, p), dtype=np.float64, order="F")
    off = 0
    if intercept:
        X[:, 0] = 1.0
        off = 1
    for col, width, comps in _term_components(n, codings, vals, contrast_mats):
        if width:
            _core.fill_term(X, off + col, comps)
    return X


def _rows(n: int, intercept: bool, codings: list, vals: dict, contrast_mats: dict, p: int):
    """The model matrix kept by rows (``_core.DesignRows``), or None when it is not tall and
    mostly zeros (see ``_core.design_rows``)."""
    off = 1 if intercept else 0
    terms: list = [(0, [])] if intercept else []
    terms += [(off + col, comps) for col, width, comps in
              _term_components(n, codings, vals, contrast_mats) if width]
    return _core.design_rows(n, p, terms)


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
        return _fill(len(self.kept), sp.intercept, sp.codings, vals, sp.contrast_mats,
                     len(sp.columns))

    def design_rows(self):
        """The model matrix kept by rows (``_core.DesignRows``) built from the model frame's
        variables, or None when it is not tall and mostly zeros."""
        sp = self.spec
        vals = dict(enumerate(self._frame_parts[0]))
        return _rows(len(self.kept), sp.intercept, sp.codings, vals, sp.contrast_mats,
                     len(sp.columns))

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

    @property
    def frame(self) -> pd.DataFrame:
        """R's model frame (built on first use)."""
        if self._frame is None:
            vals, flabels, resp, w, o = self._frame_parts
            self._frame = _model_frame_df(vals, flabels, resp, self.row_index(), w, o)
        return self._frame

    def kept_data(self) -> pd.DataFrame:
        if self._kept_data is None:
            raise RuntimeError("design has no data")
        return self._kept_data

    def bar_matrix(self, bar) -> tuple[np.ndarray, list]:
        """Model matrix of a random-effect bar's left-hand side on the kept rows (lme4 evaluates
        ``model.matrix(~ lhs, frame)``)."""
        text = "~" + deparse(bar.lhs)
        sub = build_design(text, self.kept_data(), na_action="fail", drop_unused_levels=True)
        return sub.X, sub.columns

    def grouping_factor(self, expr) -> tuple[np.ndarray, list]:
        """Codes (int32) and levels of a grouping factor on the kept rows; ``g1:g2`` is the
        interaction with unused combinations dropped (lme4's ``factor(g1:g2)``)."""
        env = Env(self.kept_data(), self.formula_text, states={}, record=False)
        v = evaluate(expr, env)
        if isinstance(v, np.ndarray):
            from ..frame import numeric_to_factor

            f = numeric_to_factor(v)
        elif isinstance(v, Factor):
            f = v
        else:
            f = finish_variable(v, env.n, deparse(expr))
            if not isinstance(f, Factor):
                raise DataError(f"invalid grouping factor '{deparse(expr)}'")
        f = f.drop_unused()
        if (f.codes < 0).any():
            raise DataError(f"missing values in grouping factor '{deparse(expr)}'")
        return f.codes.astype(np.int32), list(f.levels)


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


def build_design(formula: Union[str, Formula], data: pd.DataFrame, *, subset=None,
                 weights=None, offset=None, na_action: str = "omit",
                 drop_unused_levels: bool = True, contrasts: Optional[dict] = None,
                 allow_bars: bool = False, materialize: bool = True) -> Design:
    """Evaluate ``formula`` on ``data`` as R's model.frame + model.matrix (see module doc).
    ``materialize=False`` leaves ``X`` unbuilt (``model_matrix_array()`` builds it on demand;
    ``design_rows()`` gives the matrix by rows)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError("'data' must be a pandas DataFrame")
    if na_action not in ("omit", "exclude", "fail", "pass"):
        raise DataError("na_action must be 'omit', 'exclude' or 'fail'")
    t = make_terms(formula, data_columns=[str(c) for c in data.columns])
    text = t.formula.text
    if t.bars and not allow_bars:
        raise FormulaError("random-effect terms (a '|' bar) are only allowed in lmer()", text,
                           getattr(t.bars[0].lhs, "pos", None))
    n_all = len(data)
    env = Env(data, text)
    labels = list(t.variable_labels)
    flabels = [frame_label(e) for e in t.variables]
    raw = []
    for i, expr in enumerate(t.variables):
        raw.append(evaluate(expr, env, top=True, label=labels[i]))

    # Response
    resp = t.response
    y_factor = None
    response_columns = None
    values: list = []
    for i, v in enumerate(raw):
        if resp is not None and i == resp:
            values.append(_response_value(v, n_all, labels[i]))
        else:
            values.append(finish_variable(v, n_all, labels[i]))

    bar_cols = []
    if t.bars:
        for nm in _bar_names(t.bars):
            if nm in data.columns:
                bar_cols.append((nm, finish_variable(env.column(nm), n_all, nm)))
    w = _vector_arg(weights, data, "weights")
    o = _vector_arg(offset, data, "offset")

    # subset, then NA handling
    pos = subset_positions(subset, n_all, data)
    n_sub = len(pos)
    na = np.zeros(n_sub, dtype=bool)
    whole = subset is None  # no subset: avoid copying every column
    sub_vals = []
    for v in values:
        sv = v if whole else take(v, pos)
        sub_vals.append(sv)
        na |= _value_na(sv)
    for _, v in bar_cols:
        na |= _value_na(v if whole else take(v, pos))
    if w is not None:
        na |= np.isnan(w[pos])
    if o is not None:
        na |= np.isnan(o[pos])
    if na.any() and na_action == "fail":
        raise DataError("missing values in object")
    if na_action == "pass":
        keep_sub = np.arange(n_sub)
    else:
        keep_sub = np.flatnonzero(~na)
    kept = pos[keep_sub]
    n = len(kept)
    if len(keep_sub) == n_sub:
        vals = sub_vals
    else:
        vals = [take(v, keep_sub) for v in sub_vals]

    # Levels: characters always from the kept rows; factors drop unused levels for fits.
    for i, v in enumerate(vals):
        if isinstance(v, Factor) and (v.kind == "character" or
                                      (drop_unused_levels and v.kind == "factor")):
            vals[i] = v.drop_unused()

    # Response
    y = None
    if resp is not None:
        yv = vals[resp]
        if isinstance(yv, Mat):
            y = np.asfortranarray(yv.values)
            response_columns = list(yv.colnames) if yv.colnames else None
        elif isinstance(yv, Factor):
            if yv.kind == "logical":
                y = yv.codes.astype(float)
            else:
                y = yv.codes.astype(float)
                y_factor = list(yv.levels)
        else:
            y = np.asarray(yv, dtype=float)

    # Factors: contrasts need >= 2 levels (R's `contrasts<-`)
    kinds: list = []
    levels: dict = {}
    contrast_mats: dict = {}
    contrasts_used: dict = {}
    xlevels: dict = {}
    for i, v in enumerate(vals):
        if i == resp:
            kinds.append(None)
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

    if contrasts:
        for name in contrasts:
            if name not in labels[int(resp is not None):] or \
                    not isinstance(vals[labels.index(name)], Factor):
                warnings.warn(f"variable '{name}' is absent, its contrast will be ignored",
                              DataWarning, stacklevel=3)

    # Coding per term (R's factors attribute + model.matrix's no-intercept adjustment)
    fac = np.array(t.factors, dtype=int, copy=True) if len(t.terms) else np.zeros((0, 0), int)
    is_factor = [k in ("factor", "character", "logical") for k in kinds]
    if not t.intercept:
        done = False
        for j in range(len(t.terms)):
            for i in range(len(t.variables)):
                if i != resp and is_factor[i] and fac[i, j] > 0:
                    fac[i, j] = 2
                    done = True
                    break
            if done:
                break
    codings = []
    for j, term in enumerate(t.terms):
        cod = []
        if resp is not None and tuple(term) == (resp,):
            # R's modelmatrix: the response as a term gets no columns, with two warnings
            warnings.warn("the response appeared on the right-hand side and was dropped",
                          FormulaWarning, stacklevel=3)
            warnings.warn(f"problem with term {j + 1} in model.matrix: no columns are assigned",
                          FormulaWarning, stacklevel=3)
            codings.append(cod)
            continue
        for i in term:
            if is_factor[i]:
                cod.append(Coding(i, "full" if fac[i, j] == 2 else "contr"))
                if fac[i, j] != 2 and i not in contrast_mats:
                    M, names, cname = _contrast_for(vals[i], labels[i], contrasts)
                    contrast_mats[i] = (M, names)
                    contrasts_used[labels[i]] = cname
                elif i not in contrasts_used:
                    _, _, cname = _contrast_for(vals[i], labels[i], contrasts)
                    contrasts_used[labels[i]] = cname
            else:
                cod.append(Coding(i, "num"))
        codings.append(cod)

    # Column names and assign
    columns: list = ["(Intercept)"] if t.intercept else []
    assign: list = [0] if t.intercept else []
    for j, cod in enumerate(codings):
        if not cod:
            continue
        names = [""]
        first = True
        for c in cod:
            comp = _component_names(vals[c.var], labels[c.var], c.how, contrast_mats.get(c.var))
            if first:
                names = comp
                first = False
            else:
                # first component varies fastest
                names = [f"{a}:{b}" for b in comp for a in names]
        columns.extend(names)
        assign.extend([j + 1] * len(names))

    valmap = {i: v for i, v in enumerate(vals)}
    X = _fill(n, t.intercept, codings, valmap, contrast_mats, len(columns)) if materialize \
        else None

    # Offsets: formula offset() terms plus the offset= argument
    off = None
    for i in t.offsets:
        ov = np.asarray(vals[i], dtype=float)
        off = ov.copy() if off is None else off + ov
    if o is not None:
        ok = o[kept]
        off = ok.copy() if off is None else off + ok
    wk = None if w is None else w[kept].copy()

    na_dropped = np.flatnonzero(na) if na_action != "pass" else np.zeros(0, dtype=np.int64)
    spec = ModelSpec(terms=t, labels=labels, frame_labels=flabels, states=dict(env.states),
                     kinds=kinds, levels=levels, contrast_mats=contrast_mats, codings=codings,
                     columns=columns, assign=np.asarray(assign, dtype=np.int64),
                     intercept=bool(t.intercept),
                     rhs_vars=[i for i in range(len(t.variables)) if i != resp],
                     formula_text=text)
    d = Design(X=X, columns=columns, assign=np.asarray(assign, dtype=np.int64),
               term_labels=list(t.term_labels), intercept=bool(t.intercept), y=y,
               y_factor=y_factor, response_name=None if resp is None else flabels[resp],
               response_columns=response_columns, offset=off, weights=wk, kept=kept,
               kept_sub=keep_sub, n_data=n_sub,
               na_dropped=na_dropped, na_action=na_action, contrasts=contrasts_used,
               xlevels=xlevels, spec=spec, terms=t, bars=list(t.bars),
               formula_text=text, _index=data.index, subset_rows=pos,
               _frame_parts=(vals, flabels, resp, wk, None if o is None else o[kept]))
    if t.bars:
        d._kept_data = data.iloc[kept].reset_index(drop=True)
    return d


def _response_value(v, n: int, label: str):
    from ..frame import Char, Logical

    if isinstance(v, Mat):
        return v
    if isinstance(v, Char):
        return v.to_factor()
    if isinstance(v, Logical):
        return finish_variable(v, n, label)
    return finish_variable(v, n, label)


def _value_na(v) -> np.ndarray:
    return variable_na(v)


def _component_names(v, label: str, how: str, cm) -> list:
    if how == "num":
        if isinstance(v, Mat):
            k = v.values.shape[1]
            if k == 1:
                return [label]
            if v.colnames and any(v.colnames):
                return [f"{label}{c}" for c in v.colnames]
            return [f"{label}{j + 1}" for j in range(k)]
        return [label]
    if how == "full":
        return [f"{label}{lv}" for lv in v.levels]
    M, names = cm
    if names is not None:
        return [f"{label}{c}" for c in names]
    return [f"{label}{j + 1}" for j in range(M.shape[1])]


def _model_frame_df(vals, flabels, resp, row_names, w, o) -> pd.DataFrame:
    cols: dict = {}
    for i, v in enumerate(vals):
        lab = flabels[i]
        if isinstance(v, Mat):
            k = v.values.shape[1]
            if k == 1:
                cols[lab] = v.values[:, 0]
            else:
                for j in range(k):
                    cn = v.colnames[j] if v.colnames and v.colnames[j] else str(j + 1)
                    cols[f"{lab}.{cn}"] = v.values[:, j]
        elif isinstance(v, Factor):
            if v.kind == "logical":
                cols[lab] = pd.array(np.where(v.codes < 0, None, v.codes == 1), dtype="boolean")
            elif v.kind == "character":
                cols[lab] = pd.Series(v.labels(), dtype=object).to_numpy()
            else:
                cols[lab] = pd.Categorical.from_codes(v.codes, categories=list(v.levels),
                                                      ordered=v.ordered)
        else:
            cols[lab] = np.asarray(v, dtype=float)
    if w is not None:
        cols["(weights)"] = w
    if o is not None:
        cols["(offset)"] = o
    df = pd.DataFrame(cols)
    df.index = row_names if isinstance(row_names, pd.Index) else pd.Index(row_names)
    return df


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
