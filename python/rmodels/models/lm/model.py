"""Linear models: R's ``lm()`` and everything an R user does with an ``lm`` fit.

The path is the package's: formula → :func:`rmodels.design.build_design` (model frame and model
matrix) → the compiled least-squares kernel ``_core.lm_wfit`` (Householder QR with LINPACK
dqrdc2's limited pivoting, R's ``lm.wfit``) → :class:`LM`, whose methods reproduce R's generics
for ``"lm"`` objects (``summary.lm``, ``predict.lm``, ``anova.lm``, ``confint.lm``,
``lm.influence``, ``logLik.lm``) and broom's ``tidy``/``glance``/``augment``.

Notation used in the docstrings: n rows in the fit, of which N have a non-zero prior weight w;
X the model matrix, p its number of columns, r the rank found by the QR (aliased columns have
``NaN`` coefficients, R's ``NA``); e = y − ŷ the residuals (ŷ includes the offset);
RSS = Σ w e², rdf = N − r, σ̂² = RSS / rdf.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd
from scipy import stats as sps

from ... import _core
from ... import printing as rf
from ...errors import (
    DataError,
    FitError,
    PerfectFitWarning,
    PredictionWarning,
    RankDeficiencyWarning,
    RModelsWarning,
)
from ...formula import ast as A
from ...formula.call import call_lines, deparse_call, deparse_formula_lines
from ..contract import AnovaTable, LogLik, named_vector, perc_labels

_EPS = np.finfo(float).eps

__all__ = ["LM", "LMSummary", "MLMSummary", "AnovaTable", "LogLik", "lm"]


# ---------------------------------------------------------------------------------------------
# The compiled least-squares kernel


def _core_wfit(X: np.ndarray, Y: np.ndarray, weights: Optional[np.ndarray],
               offset: Optional[np.ndarray], tol: float, defer: bool = False) -> dict:
    """Weighted least squares exactly as R's ``lm.wfit`` (``lm.fit`` without weights), computed
    by ``_core.lm_wfit``; ``X`` is overwritten by its QR factorisation.

    Returns a dict with ``coefficients`` (p,) or (p, k) in the original column order (NaN for
    aliased columns), ``qr`` (N, p) compact QR of sqrt(w) X with pivoted columns, ``qraux``,
    ``pivot`` (0-based), ``rank``, ``effects`` (N,) or (N, k) = Q' sqrt(w) (y − offset),
    ``residuals`` / ``fitted_values`` for all n rows (fitted includes the offset),
    ``df_residual`` = N − r, ``n_used`` = N.

    ``defer=True``: when the core reconstructs the factor of a large tall design, it does not
    write it; ``X`` then keeps sqrt(w) X (and must not be changed), ``qr`` is None, ``qr_top``
    holds the first p rows of the factor, ``effects`` only its first p entries, and
    ``deferred`` (``_core.DeferredQR``) produces the factor and the full effects on request.
    """
    one = Y.ndim == 1
    Ym = np.asfortranarray(Y.reshape(len(Y), -1), dtype=np.float64)
    # X is factorised in place when it is a Fortran float64 array (the caller hands over the
    # design's matrix), so a fit needs no second copy of the design.
    out = dict(_core.lm_wfit(np.asfortranarray(X, dtype=np.float64), Ym, weights, offset, tol,
                             overwrite_x=True, defer_factor=defer))
    return _fit_arrays(out, one)


def _fit_arrays(out: dict, one: bool) -> dict:
    """The core's lm result with NumPy types; one response: vectors instead of (n, 1)."""
    out["pivot"] = np.asarray(out["pivot"], dtype=np.int64)
    if out["qr"] is not None:
        out["qr"] = np.asarray(out["qr"], dtype=np.float64)
    out["rank"] = int(out["rank"])
    out["df_residual"] = int(out["df_residual"])
    for key in ("coefficients", "effects", "residuals", "fitted_values"):
        a = np.asarray(out[key], dtype=np.float64)
        out[key] = a[:, 0] if (one and a.ndim == 2) else a
    return out


def _rows_path_applies(design, y: np.ndarray, w: Optional[np.ndarray], n: int, p: int) -> bool:
    """A large tall fit of one finite response with positive (or no) weights may go from the
    design's rows without building the dense model matrix (``_core_wfit_rows``)."""
    return (y.ndim == 1 and n * p >= 200_000 and bool(np.isfinite(y).all())
            and (w is None or bool((w > 0).all())))


def _core_wfit_rows(design, y: np.ndarray, w: Optional[np.ndarray], tol: float) -> dict | None:
    """``_core_wfit(..., defer=True)`` on the model matrix kept by rows (mostly-zero designs):
    X'X is accumulated over the non-zeros of each row, straight from the model's terms, and the
    dense matrix is built only if the QR factor or the hat values are asked for. None when the
    design is not of that kind or the reconstruction path does not apply."""
    rows = design.design_rows()
    if rows is None:
        return None
    sw = None if w is None else np.sqrt(w)

    def build() -> np.ndarray:
        X = design.build_model_matrix()
        if sw is not None:
            X *= sw[:, None]
        return X

    out = _core.lm_wfit_rows(rows, y, w, design.offset, tol, build)
    if out is None:
        return None
    out = _fit_arrays(dict(out), one=True)
    out["from_rows"] = True
    return out


def _hat_diagonal(qr: np.ndarray, qraux: np.ndarray, rank: int) -> np.ndarray:
    """h_i = ‖row i of Q₁‖², Q₁ the first r columns of Q (R's ``lm.influence``), values
    ≥ 1 − 10ε set to exactly 1 as R's C code does."""
    if rank == 0:
        return np.zeros(qr.shape[0])
    h = np.asarray(_core.qr_hat(qr, qraux, rank), dtype=np.float64)
    h[h >= 1.0 - 10 * _EPS] = 1.0
    return h


def cov_unscaled_pivoted(qr: np.ndarray, rank: int) -> np.ndarray:
    """(R₁₁'R₁₁)⁻¹ in pivoted order (R's ``chol2inv(qr$qr[p1, p1])``)."""
    if rank == 0:
        return np.zeros((0, 0))
    return np.asarray(_core.qr_cov_unscaled(qr, rank), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Summary


def summary_sums(f: np.ndarray, r: np.ndarray, w: Optional[np.ndarray],
                 intercept: bool) -> tuple[float, float]:
    """summary.lm's (MSS, RSS) in R's order (long-double accumulation, x^2 as x * x):
    MSS = sum((f - mean(f))^2) (weighted: sum(w (f - m)^2), m = sum(w f / sum(w))), or
    sum(f^2) / sum(w f^2) without an intercept; RSS = sum(r^2) / sum(w r^2)."""
    mss, rss = _core.r_summary_sums(np.ascontiguousarray(f, dtype=np.float64).ravel(),
                                    np.ascontiguousarray(r, dtype=np.float64).ravel(),
                                    None if w is None else
                                    np.ascontiguousarray(w, dtype=np.float64).ravel(),
                                    bool(intercept))
    return float(mss), float(rss)


@dataclass
class _SummaryStats:
    """The numbers of ``summary.lm`` for one response (see :meth:`LM.summary`)."""

    estimate: np.ndarray  # non-aliased, in pivoted order (as R's summary)
    std_error: np.ndarray
    t_value: np.ndarray
    p_value: np.ndarray
    names: list
    aliased: np.ndarray  # per coefficient, original order
    sigma: float
    rank: int
    rdf: int
    ncoef: int
    r_squared: float
    adj_r_squared: float
    fstatistic: Optional[tuple]  # (value, numdf, dendf)
    cov_unscaled: np.ndarray  # pivoted order, non-aliased
    residuals: np.ndarray  # sqrt(w) * e over all n rows (zero weights give 0)
    resid_names: Optional[list]  # R's row names; filled in when a summary is printed
    perfect: bool
    coef_names: list  # all coefficient names, original order
    resvar: float = float("nan")  # RSS / rdf (R's resvar, squared sigma without rounding)


class LMSummary:
    """R's ``summary.lm`` object. Attributes follow R's components: ``coefficients`` (DataFrame
    Estimate / Std. Error / t value / Pr(>|t|), non-aliased rows), ``aliased``, ``sigma``,
    ``df`` (rank, rdf, ncol(X)), ``r_squared``, ``adj_r_squared``, ``fstatistic`` (value, numdf,
    dendf or None), ``cov_unscaled``, ``residuals``; ``str()`` is ``print(summary(fit))``."""

    def __init__(self, st: _SummaryStats, call_lines: list, weighted: bool, n_na: int):
        self._st = st
        self._call_lines = call_lines
        self._weighted = weighted
        self._n_na = n_na
        self.coefficients = pd.DataFrame(
            {"Estimate": st.estimate, "Std. Error": st.std_error, "t value": st.t_value,
             "Pr(>|t|)": st.p_value}, index=pd.Index(st.names))
        self.aliased = pd.Series(st.aliased, index=pd.Index(list(st.coef_names)))
        self.sigma = st.sigma
        self.df = (st.rank, st.rdf, st.ncoef)
        self.r_squared = st.r_squared
        self.adj_r_squared = st.adj_r_squared
        self.fstatistic = None if st.fstatistic is None else dict(
            zip(("value", "numdf", "dendf"), st.fstatistic))
        self.cov_unscaled = pd.DataFrame(st.cov_unscaled, index=pd.Index(st.names),
                                         columns=pd.Index(st.names))
        self.residuals = named_vector(st.residuals, st.resid_names)

    def coef(self) -> pd.DataFrame:
        """R's ``coef(summary(fit))``: the coefficient table (non-aliased rows)."""
        return self.coefficients

    def __str__(self) -> str:
        return _print_summary(self._st, self._call_lines, self._weighted, self._n_na)

    def __repr__(self) -> str:
        return self.__str__()


class MLMSummary(list):
    """R's ``summary.mlm`` (a ``listof`` of per-response ``summary.lm``); ``str()`` prints each
    as ``Response <name> :`` followed by its summary and an empty line."""

    def __init__(self, items: Sequence[LMSummary], responses: Sequence[str]):
        super().__init__(items)
        self.responses = list(responses)

    def __str__(self) -> str:
        parts = []
        for name, s in zip(self.responses, self):
            parts.append(f"Response {name} :\n" + str(s) + "\n")
        return "".join(parts)

    def __repr__(self) -> str:
        return self.__str__()


def _print_summary(st: _SummaryStats, call_lines: list, weighted: bool, n_na: int) -> str:
    """Text of R's ``print.summary.lm`` (digits = 4)."""
    digits = 4
    out = ["\nCall:\n" + "\n".join(call_lines) + "\n\n"]
    out.append(("Weighted " if weighted else "") + "Residuals:\n")
    rdf = st.rdf
    if rdf > 5:
        q = rf.zapsmall(rf.quantile7(st.residuals), digits + 1)
        out.append(rf.print_named_vector(q, ["Min", "1Q", "Median", "3Q", "Max"],
                                         digits=digits))
    elif rdf > 0:
        out.append(rf.print_named_vector(np.asarray(st.residuals), st.resid_names,
                                         digits=digits))
    else:
        out.append(f"ALL {st.rank} residuals are 0: no residual degrees of freedom!\n")
    all_names = st.coef_names
    if len(all_names) == 0:
        out.append("\nNo Coefficients\n")
    else:
        nsing = st.ncoef - st.rank
        if nsing:
            out.append(f"\nCoefficients: ({nsing} not defined because of singularities)\n")
        else:
            out.append("\nCoefficients:\n")
        table = np.full((len(all_names), 4), rf.NA_REAL)
        rows = np.flatnonzero(~st.aliased)
        # summary rows are in pivoted order; print.summary.lm re-inserts them by name
        pos = {nm: i for i, nm in enumerate(st.names)}
        for i in rows:
            j = pos[all_names[i]]
            table[i] = (st.estimate[j], st.std_error[j], st.t_value[j], st.p_value[j])
        # NaN from a zero rdf must print as NaN, aliased rows as NA
        tab_obj = table.astype(object)
        out.append(rf.print_coefmat(tab_obj, ["Estimate", "Std. Error", "t value", "Pr(>|t|)"],
                                    list(all_names), digits=digits, na_print="NA",
                                    nan_is_na=False))
    out.append(f"\nResidual standard error: "
               f"{rf.format_scalar(rf.signif(st.sigma, digits), nan_is_na=False)} on {rdf} "
               f"degrees of freedom\n")
    if n_na:
        word = "observation" if n_na == 1 else "observations"
        out.append(f"  ({n_na} {word} deleted due to missingness)\n")
    if st.fstatistic is not None:
        fval, numdf, dendf = st.fstatistic
        with np.errstate(invalid="ignore"):
            pval = _pf_upper(fval, numdf, dendf)
        out.append(f"Multiple R-squared:  {_formatC(st.r_squared, digits)},\t"
                   f"Adjusted R-squared:  {_formatC(st.adj_r_squared, digits)} \n")
        out.append(f"F-statistic: {_formatC(fval, digits)} on {_int_text(numdf)} and "
                   f"{_int_text(dendf)} DF,  p-value: "
                   f"{rf.format_pval([pval], digits=digits)[0]}\n")
    out.append("\n")
    return "".join(out)


def _formatC(v: float, digits: int) -> str:  # noqa: N802
    """``formatC(v, digits)``; a NaN prints as ``NaN`` (not ``NA``) in width digits + 1."""
    if isinstance(v, float) and math.isnan(v) and not rf.is_na_real(v):
        return "NaN".rjust(digits + 1)
    return rf.formatC(float(v), digits=digits)


def _int_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else rf.format_scalar(v)


def _pf_upper(f: float, df1: float, df2: float) -> float:
    """``pf(f, df1, df2, lower.tail = FALSE)`` (NaN when undefined)."""
    if not np.isfinite(f) and not np.isinf(f):
        return float("nan")
    if df2 <= 0 or df1 <= 0:
        return float("nan")
    return float(sps.f.sf(f, df1, df2))


def _pt_two_sided(t: np.ndarray, df: float) -> np.ndarray:
    """``2 * pt(abs(t), df, lower.tail = FALSE)``."""
    t = np.asarray(t, dtype=np.float64)
    if df <= 0:
        return np.full(t.shape, np.nan)
    with np.errstate(invalid="ignore"):
        return 2.0 * sps.t.sf(np.abs(t), df)


def _qt(p: float, df: float) -> float:
    """``qt(p, df)``; R warns "NaNs produced" for df = 0."""
    if df <= 0:
        warnings.warn("NaNs produced", RModelsWarning, stacklevel=3)
        return float("nan")
    return float(sps.t.ppf(p, df))


# ---------------------------------------------------------------------------------------------
# The fit object


class LM:
    """A fitted linear model (R's ``"lm"``, or ``"mlm"`` for a ``cbind(...)`` response).

    Built by :func:`lm`. Attributes: ``rank``, ``pivot`` (0-based), ``qr``/``qraux`` (compact QR
    of sqrt(w) X on the N rows with non-zero weight; for large tall designs ``qr`` and the
    effects below row p are computed on first use), ``effects``, ``assign``, ``call``
    (R's deparsed call), ``formula``, ``design`` (the :class:`~rmodels.design.Design`);
    methods as R's generics.
    """

    def __init__(self, design: Any, fit: dict, call_args: list, na_names: list,
                 tol: float):
        self.design = design
        self._call_extra = list(call_args)
        self.tol = tol
        self.coef_names = list(design.columns)
        self.assign = np.asarray(design.assign, dtype=np.int64)
        self.intercept = bool(design.intercept)
        self.term_labels = list(design.term_labels)
        self.is_mlm = design.y.ndim == 2
        self.response_name = design.response_name
        if self.is_mlm:
            k = design.y.shape[1]
            cols = design.response_columns
            self.response_names = (list(cols) if cols and all(cols)
                                   else [f"Y{j + 1}" for j in range(k)])
        else:
            self.response_names = [design.response_name]
        self._y = design.y
        self._w = None if design.weights is None else np.asarray(design.weights, float)
        self._offset = None if design.offset is None else np.asarray(design.offset, float)
        self._coef = fit["coefficients"]
        # The compact factor: the whole (N, p) matrix, or, for a large fit whose factor the
        # core deferred, None until `qr` is first read (`_deferred` computes it from the
        # design it keeps). Its first rows (R and the reflector tops) are always at hand.
        self._deferred = fit.get("deferred")
        # fitted from the design's rows without the dense matrix (_core_wfit_rows)
        self._from_rows = bool(fit.get("from_rows", False))
        self._qr = fit["qr"]
        qr_top = fit.get("qr_top")
        self._qr_top = (np.asarray(qr_top, dtype=np.float64) if qr_top is not None
                        else self._qr[: self._qr.shape[1]])
        self._n_used = int(fit["n_used"]) if "n_used" in fit else int(self._qr.shape[0])
        self.qraux = np.asarray(fit["qraux"], dtype=np.float64)
        self.pivot = fit["pivot"]
        self.rank = fit["rank"]
        self._eff = fit["effects"]  # the first p rows only while the factor is deferred
        self._resid = fit["residuals"]
        self._fitted = fit["fitted_values"]
        self._df_residual = fit["df_residual"]
        self._used = np.ones(self._resid.shape[0], dtype=bool) if self._w is None \
            else self._w != 0
        self.na_action = design.na_action
        self._na_dropped = np.asarray(design.na_dropped, dtype=np.int64)
        self._na_names = list(na_names)
        self._kept_sub = np.asarray(design.kept_sub, dtype=np.int64)
        self._n_data = int(design.n_data)
        self._cache: dict = {}

    # -- the QR factor -----------------------------------------------------------------------

    @property
    def qr(self) -> np.ndarray:
        """R's ``fit$qr$qr``: the compact QR factor (N, p) of sqrt(w) X, pivoted columns. For a
        large tall fit it is computed on first use (one pass over the design, which it then
        replaces in memory) and is bit-identical to the factor written at fit time."""
        if self._qr is None:
            self._materialise()
        return self._qr

    @property
    def _effects(self) -> np.ndarray:
        """All N effects Q' sqrt(w)(y − offset) (computed with the factor when deferred)."""
        if self._qr is None:
            self._materialise()
        return self._eff

    def _effects_head(self, m: int) -> np.ndarray:
        """The first m ≤ p effects, without materialising a deferred factor."""
        return self._eff[:m]

    def _materialise(self) -> None:
        qr = np.asarray(self._deferred.qr(), dtype=np.float64)
        eff = np.asarray(self._deferred.effects(), dtype=np.float64)
        self._eff = eff[:, 0] if (not self.is_mlm and eff.ndim == 2) else eff
        self._qr = qr

    def _fit_rows(self):
        """The design by rows when the fit went by them with nothing aliased (then X b and
        x_i'(R'R)^-1 x_i come from each row's non-zeros), else None."""
        p = self.rank
        if not (self._from_rows and p == len(self.coef_names)
                and np.array_equal(self.pivot[:p], np.arange(p))):
            return None
        return self.design.design_rows()

    def _hat_values(self) -> np.ndarray:
        """Diagonal of the hat matrix of sqrt(w) X on the N used rows (R's ``lm.influence``
        ``$hat``, values ≥ 1 − 10ε set to 1). A fit from the design's rows takes
        h_i = w_i x_i'(R'R)⁻¹x_i over each row's non-zeros; another deferred factor is not
        materialised: h_i = ‖x_i' R⁻¹‖² (Q₁ = X R⁻¹) from the design."""
        if self.rank == 0:
            return np.zeros(self._n_used)
        p = self.rank
        rows = self._fit_rows()
        if rows is not None:
            # h_i = w_i x_i' (R'R)^-1 x_i over each row's non-zeros (no zero weights on this
            # path: every row is used)
            w = np.ones(self._n_used) if self._w is None else self._w
            M = cov_unscaled_pivoted(self._qr_top, p)
            h = np.asarray(_core.rows_hat(rows, M, np.ascontiguousarray(w, float)),
                           dtype=np.float64)
            h[h >= 1.0 - 10 * _EPS] = 1.0
            return h
        if self._deferred is None:
            return _hat_diagonal(self.qr, self.qraux, self.rank)
        h = np.asarray(self._deferred.hat(), dtype=np.float64)
        h[h >= 1.0 - 10 * _EPS] = 1.0
        return h

    def __getstate__(self) -> dict:
        # the deferred factor is a handle to compiled state: pickle the materialised arrays
        if self._qr is None:
            self._materialise()
        state = dict(self.__dict__)
        state["_deferred"] = None
        return state

    # -- basic accessors ---------------------------------------------------------------------

    @property
    def _call_lines(self) -> list:
        if "call" not in self._cache:
            text = self.design.terms.formula.text
            self._cache["call"] = deparse_call("lm", text, self._call_extra)
        return self._cache["call"]

    @property
    def call(self) -> str:
        """R's deparsed call, ``lm(formula = y ~ x, data = d, ...)`` (lines joined)."""
        return "\n".join(self._call_lines)

    @property
    def formula(self) -> str:
        """``deparse(formula(fit))``: the formula with ``.`` expanded."""
        return "\n".join(deparse_formula_lines(self.design.terms.formula))

    @property
    def row_names(self) -> list:
        """R's row names of the rows in the fit (the design builds them on first use)."""
        return self.design.row_names

    def _pad(self, values: np.ndarray, names: Sequence[str], fill: float = np.nan):
        """R's ``naresid``: with ``na_action="exclude"`` put ``fill`` back at the dropped rows."""
        if self.na_action != "exclude" or len(self._na_dropped) == 0:
            return values, list(names)
        n = self._n_data
        shape = (n,) + values.shape[1:]
        out = np.full(shape, fill, dtype=np.float64)
        out[self._kept_sub] = values
        nm = [""] * n
        for i, k in enumerate(self._kept_sub):
            nm[k] = names[i]
        for i, k in enumerate(self._na_dropped):
            nm[k] = self._na_names[i]
        return out, nm

    def _vec(self, values: np.ndarray, names: Sequence[str], pad: bool = True,
             fill: float = np.nan) -> Union[pd.Series, pd.DataFrame]:
        if pad:
            values, names = self._pad(values, names, fill)
        if values.ndim == 2:
            return pd.DataFrame(values, index=pd.Index(list(names)),
                                columns=pd.Index(self.response_names))
        return named_vector(values, names)

    def coef(self) -> Union[pd.Series, pd.DataFrame]:
        """Coefficients named as R names them; aliased ones are NaN (R's ``NA``). For a
        multi-response fit a DataFrame (coefficients × responses)."""
        if self.is_mlm:
            return pd.DataFrame(self._coef, index=pd.Index(self.coef_names),
                                columns=pd.Index(self.response_names))
        return named_vector(self._coef, self.coef_names)

    coefficients = coef

    def fitted(self) -> Union[pd.Series, pd.DataFrame]:
        """Fitted values ŷ = Xβ̂ + offset (R's ``fitted``; NaN-padded under ``na_action=
        "exclude"``)."""
        return self._vec(self._fitted, self.row_names)

    fitted_values = fitted

    def residuals(self, type: str = "response") -> Union[pd.Series, pd.DataFrame]:
        """R's ``residuals.lm``: ``"response"``/``"working"`` e = y − ŷ; ``"deviance"``/
        ``"pearson"`` sqrt(w)·e (NaN-padded under ``na_action="exclude"``)."""
        if type in ("response", "working"):
            r = self._resid
        elif type in ("deviance", "pearson"):
            r = self._resid if self._w is None else self._wscale(self._resid)
        else:
            raise ValueError("type must be one of 'response', 'working', 'deviance', 'pearson'")
        return self._vec(r, self.row_names)

    resid = residuals

    def _wscale(self, a: np.ndarray) -> np.ndarray:
        if self._w is None:
            return a
        sw = np.sqrt(self._w)
        return a * (sw[:, None] if a.ndim == 2 else sw)

    def weights(self) -> Optional[pd.Series]:
        """Prior weights (None when the fit is unweighted), R's ``weights(fit)``."""
        if self._w is None:
            return None
        return self._vec(self._w, self.row_names)

    @property
    def effects(self) -> Union[pd.Series, pd.DataFrame]:
        """R's ``fit$effects``: Q' sqrt(w)(y − offset), the first r named after the pivoted
        columns, the rest unnamed."""
        names = [self.coef_names[j] for j in self.pivot[: self.rank]]
        eff = self._effects
        names += [""] * (eff.shape[0] - self.rank)
        if eff.ndim == 2:
            return pd.DataFrame(eff, index=pd.Index(names),
                                columns=pd.Index(self.response_names))
        return named_vector(eff, names)

    def df_residual(self) -> int:
        """Residual degrees of freedom N − r."""
        return self._df_residual

    def nobs(self) -> int:
        """Number of observations with non-zero weight (R's ``nobs.lm``)."""
        return int(self._used.sum())

    def model_matrix(self) -> pd.DataFrame:
        """R's ``model.matrix(fit)``."""
        return pd.DataFrame(self.design.model_matrix_array(), columns=pd.Index(self.coef_names),
                            index=pd.Index(self.row_names))

    def model_frame(self) -> pd.DataFrame:
        """R's ``model.frame(fit)``."""
        return self.design.frame

    def _rss(self) -> Union[float, np.ndarray]:
        e = self._resid[self._used]
        if self._w is None:
            return (e * e).sum(axis=0)
        w = self._w[self._used]
        return ((w[:, None] if e.ndim == 2 else w) * e * e).sum(axis=0)

    def deviance(self) -> Union[float, pd.Series]:
        """RSS = Σ w e² (R's ``deviance.lm``)."""
        rss = self._rss()
        return pd.Series(rss, index=pd.Index(self.response_names)) if self.is_mlm \
            else float(rss)

    def sigma(self) -> Union[float, pd.Series]:
        """Residual standard error sqrt(RSS / (N − r)) (R's ``sigma``)."""
        if self.is_mlm:
            # R's sigma.mlm uses the unweighted residuals even for a weighted fit
            e = self._resid
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.sqrt((e * e).sum(axis=0) / np.float64(self._df_residual))
            return pd.Series(s, index=pd.Index(self.response_names))
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.sqrt(np.float64(self._rss()) / np.float64(self._df_residual))
        return float(s)

    # -- likelihood --------------------------------------------------------------------------

    def logLik(self, REML: bool = False) -> LogLik:  # noqa: N802, N803 - R's names
        """R's ``logLik.lm``: ½(Σ log wᵢ − N(log 2π + 1 − log N + log RSS)) over wᵢ > 0, with
        ``df`` = r + 1; ``REML=True`` uses N − r and subtracts Σ log|R_ii|."""
        if self.is_mlm:
            raise FitError("'logLik.lm' does not support multiple responses")
        w = np.ones(self.nobs()) if self._w is None else self._w[self._used]
        N = len(w)
        N0 = N
        p = self.rank
        if REML:
            N = N - p
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -Inf as in R
            val = 0.5 * (np.sum(np.log(w)) - N * (np.log(2 * np.pi) + 1 - np.log(np.float64(N))
                                                  + np.log(np.float64(self._rss()))))
        if REML:
            val -= float(np.sum(np.log(np.abs(np.diag(self._qr_top)[:p]))))
        return LogLik(val, p + 1, N0)

    def AIC(self, k: float = 2.0) -> float:  # noqa: N802
        """−2 logLik + k·(r + 1)."""
        ll = self.logLik()
        return -2.0 * float(ll) + k * ll.df

    def BIC(self) -> float:  # noqa: N802
        """−2 logLik + log(N)·(r + 1)."""
        ll = self.logLik()
        return -2.0 * float(ll) + float(np.log(np.float64(ll.nobs))) * ll.df

    # -- summary -----------------------------------------------------------------------------

    def _summary_stats(self, j: Optional[int] = None) -> _SummaryStats:
        """``summary.lm`` quantities for response ``j`` (None for a single response)."""
        key = ("summary", j)
        if key in self._cache:
            return self._cache[key]
        r = self._resid if j is None else self._resid[:, j]
        f = self._fitted if j is None else self._fitted[:, j]
        coef = self._coef if j is None else self._coef[:, j]
        p = self.rank
        rdf = self._df_residual
        w = self._w
        aliased = np.isnan(coef)
        mss, rss = summary_sums(f, r, w, self.intercept)
        rw = r if w is None else np.sqrt(w) * r
        with np.errstate(divide="ignore", invalid="ignore"):
            resvar = np.float64(rss) / np.float64(rdf)  # IEEE semantics as R (0/0 = NaN)
        perfect = False
        if p == 0:
            st = _SummaryStats(
                estimate=np.zeros(0), std_error=np.zeros(0), t_value=np.zeros(0),
                p_value=np.zeros(0), names=[], aliased=aliased, sigma=float(np.sqrt(resvar)),
                rank=0, rdf=len(r), ncoef=len(coef), r_squared=0.0, adj_r_squared=0.0,
                fstatistic=None, cov_unscaled=np.zeros((0, 0)), residuals=rw,
                resid_names=None, perfect=False,
                coef_names=list(self.coef_names))
            self._cache[key] = st
            return st
        if np.isfinite(resvar) and len(f) > 1:
            perfect = bool(resvar < (np.mean(f) ** 2 + np.var(f, ddof=1)) * 1e-30)
        piv = self.pivot[:p]
        R = cov_unscaled_pivoted(self._qr_top, p)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.diag(R) * resvar)
            est = coef[piv]
            tval = est / se
        pval = _pt_two_sided(tval, rdf)
        n = self._n_used
        fstat = None
        if p != int(self.intercept):
            df_int = 1 if self.intercept else 0
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = np.float64(mss) / np.float64(mss + rss)
                adj = 1 - (1 - r2) * (np.float64(n - df_int) / np.float64(rdf))
                fval = (np.float64(mss) / (p - df_int)) / resvar
            fstat = (float(fval), p - df_int, rdf)
        else:
            r2 = adj = 0.0
        st = _SummaryStats(
            estimate=est, std_error=se, t_value=tval, p_value=pval,
            names=[self.coef_names[i] for i in piv], aliased=aliased,
            sigma=float(np.sqrt(resvar)), rank=p, rdf=rdf, ncoef=len(coef),
            r_squared=float(r2), adj_r_squared=float(adj), fstatistic=fstat, cov_unscaled=R,
            residuals=rw, resid_names=None, perfect=perfect,
            coef_names=list(self.coef_names), resvar=float(resvar))
        self._cache[key] = st
        return st

    def _call_for(self, j: int) -> list:
        """The call of response ``j``'s summary in an mlm (R substitutes the response name)."""
        f = self.design.terms.formula
        node = A.BinOp("~", A.Name(self.response_names[j]), f.rhs)
        return call_lines("lm", [("formula", node)] + list(self._call_extra))

    def summary(self) -> Union[LMSummary, MLMSummary]:
        """R's ``summary.lm`` (``summary.mlm`` for several responses); warns
        :class:`PerfectFitWarning` as R does when RSS/rdf < 1e-30·(mean(ŷ)² + var(ŷ))."""
        weighted = self._w is not None and bool(np.ptp(self._w) != 0)
        n_na = len(self._na_dropped) if self.na_action in ("omit", "exclude") else 0
        if not self.is_mlm:
            st = self._summary_stats()
            if st.perfect:
                warnings.warn("essentially perfect fit: summary may be unreliable",
                              PerfectFitWarning, stacklevel=2)
            if st.resid_names is None:
                st.resid_names = list(self.row_names)
            return LMSummary(st, self._call_lines, weighted, n_na)
        items = []
        for j in range(len(self.response_names)):
            st = self._summary_stats(j)
            if st.resid_names is None:
                st.resid_names = list(self.row_names)
            if st.perfect:
                warnings.warn("essentially perfect fit: summary may be unreliable",
                              PerfectFitWarning, stacklevel=2)
            items.append(LMSummary(st, self._call_for(j), weighted, n_na))
        return MLMSummary(items, self.response_names)

    @property
    def r_squared(self) -> Union[float, pd.Series]:
        """R² of ``summary.lm`` (uncentred without an intercept; 0 for intercept-only)."""
        return self._per_response(lambda st: st.r_squared)

    @property
    def adj_r_squared(self) -> Union[float, pd.Series]:
        """Adjusted R² = 1 − (1 − R²)(N − int)/rdf."""
        return self._per_response(lambda st: st.adj_r_squared)

    @property
    def fstatistic(self) -> Optional[dict]:
        """The overall F test as ``{"value", "numdf", "dendf"}`` (None when rank == int)."""
        if self.is_mlm:
            return {nm: (None if st.fstatistic is None else
                         dict(zip(("value", "numdf", "dendf"), st.fstatistic)))
                    for nm, st in zip(self.response_names,
                                      (self._summary_stats(j)
                                       for j in range(len(self.response_names))))}
        st = self._summary_stats()
        return None if st.fstatistic is None else dict(
            zip(("value", "numdf", "dendf"), st.fstatistic))

    def _per_response(self, fn):
        if self.is_mlm:
            return pd.Series([fn(self._summary_stats(j))
                              for j in range(len(self.response_names))],
                             index=pd.Index(self.response_names))
        return fn(self._summary_stats())

    # -- covariance and intervals ------------------------------------------------------------

    def vcov(self, complete: bool = True) -> pd.DataFrame:
        """σ̂²(R'R)⁻¹ in the original column order (R's ``vcov.lm``); with ``complete=True``
        aliased coefficients get NaN rows and columns, otherwise they are left out. For an mlm,
        R's ``kronecker(estVar, cov.unscaled)`` with names ``response:coefficient``."""
        p = self.rank
        piv = self.pivot[:p]
        R = cov_unscaled_pivoted(self._qr_top, p)
        if self.is_mlm:
            if self._w is not None:
                raise FitError("'mlm' objects with weights are not supported")
            rdf = self._df_residual
            e = self._wscale(self._resid)[self._used]
            est_var = (e.T @ e) / rdf
            names_c = [self.coef_names[i] for i in piv]
            V = np.kron(est_var, R)
            nm = [f"{r}:{c}" for r in self.response_names for c in names_c]
            return pd.DataFrame(V, index=pd.Index(nm), columns=pd.Index(nm))
        s2 = self._summary_stats().resvar
        if not complete:
            order = np.sort(piv)
            inv = {c: i for i, c in enumerate(piv)}
            idx = [inv[c] for c in order]
            V = s2 * R[np.ix_(idx, idx)]
            nm = [self.coef_names[c] for c in order]
            return pd.DataFrame(V, index=pd.Index(nm), columns=pd.Index(nm))
        pc = len(self.coef_names)
        V = np.full((pc, pc), np.nan)
        V[np.ix_(piv, piv)] = s2 * R
        return pd.DataFrame(V, index=pd.Index(self.coef_names),
                            columns=pd.Index(self.coef_names))

    def confint(self, parm: Optional[Union[str, Sequence[Any]]] = None,
                level: float = 0.95) -> pd.DataFrame:
        """R's ``confint.lm``: β̂ ± qt((1 ± level)/2, rdf)·SE; columns ``"2.5 %"``/``"97.5 %"``
        (percentages to 3 significant digits); NaN rows for aliased coefficients. ``parm``:
        names, or 0-based positions."""
        cf = self.coef()
        if self.is_mlm:
            raise FitError("confint() is not available for multiple-response fits")
        ses = np.sqrt(np.diag(self.vcov().to_numpy()))
        names = self.coef_names
        if parm is None:
            sel = list(names)
        else:
            items = [parm] if isinstance(parm, (str, int, np.integer)) else list(parm)
            sel = [names[int(v)] if isinstance(v, (int, np.integer)) else str(v) for v in items]
        a = (1 - level) / 2
        probs = [a, 1 - a]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fac = np.array([_qt(pr, self._df_residual) for pr in probs])
        if self._df_residual <= 0:
            warnings.warn("NaNs produced", RModelsWarning, stacklevel=2)
        pos = {nm: i for i, nm in enumerate(names)}
        vals = np.full((len(sel), 2), np.nan)
        for i, nm in enumerate(sel):
            if nm in pos:
                k = pos[nm]
                vals[i] = cf.iloc[k] + ses[k] * fac
        return pd.DataFrame(vals, index=pd.Index(sel), columns=pd.Index(perc_labels(probs)))

    # -- prediction --------------------------------------------------------------------------

    def predict(self, newdata: Optional[pd.DataFrame] = None, interval: Optional[str] = None,
                level: float = 0.95, se_fit: bool = False, weights: Any = None,
                type: str = "response") -> Union[np.ndarray, pd.DataFrame]:
        """R's ``predict.lm``.

        fit = x₀'β̂ + offset (aliased coefficients dropped); se = sqrt(x₀'Vx₀) with
        V = σ̂²(R'R)⁻¹; ``interval="confidence"``: fit ± t·se, ``"prediction"``:
        fit ± t·sqrt(se² + σ̂²/w₀) with t = qt((1 + level)/2, rdf) and w₀ = ``weights``
        (default 1; on the training data the fit's weights, as R). Rows of ``newdata`` with a
        missing predictor give NaN (R's ``na.pass``). Returns a numpy array; with ``interval``
        a DataFrame ``fit, lwr, upr``; with ``se_fit`` a DataFrame with ``se_fit`` added and
        R's ``df`` and ``residual_scale`` in ``.attrs``.
        """
        if type != "response":
            raise ValueError("only type='response' is available for lm")
        if interval in ("none",):
            interval = None
        if interval not in (None, "confidence", "prediction"):
            raise ValueError("interval must be None, 'confidence' or 'prediction'")
        p = self.rank
        piv = self.pivot[:p]
        have_new = newdata is not None
        if have_new:
            X, _ok = self.design.spec.model_matrix(newdata)
            off = np.zeros(X.shape[0])
            o1 = self.design.spec.offset(newdata)
            if o1 is not None:
                off = off + o1
            if self._offset_arg is not None:
                off = off + self._offset_arg_values(newdata)
            elif self._offset_arg_array:
                raise DataError("the fit's offset= was given as an array; give it as a column "
                                "name of data to predict on new data")
            row_names = newdata.index  # R: the row names of newdata
            if p < X.shape[1]:
                warnings.warn("prediction from a rank-deficient fit may be misleading",
                              RankDeficiencyWarning, stacklevel=2)
        else:
            rows = None if self.is_mlm else self._fit_rows()
            X = None if rows is not None else self.design.model_matrix_array()
            off = self._offset
            row_names = list(self.row_names)
        if self.is_mlm:
            if se_fit or interval is not None:
                raise FitError("the 'se.fit' argument is not yet implemented for \"mlm\" "
                               "objects")
            with np.errstate(invalid="ignore"):
                pred = X[:, piv] @ self._coef[piv]
            if off is not None:
                pred = pred + off[:, None]
            if not have_new:
                return self._pad(self._fitted, self.row_names)[0]
            return pred
        with np.errstate(invalid="ignore"):  # NaN rows: missing predictors (na.pass)
            if X is None:  # the fit's own rows, by their non-zeros (R's X %*% b order)
                pred = np.asarray(_core.rows_matvec(rows, np.ascontiguousarray(self._coef)),
                                  dtype=np.float64)
            else:
                pred = X[:, piv] @ self._coef[piv] if p else np.zeros(X.shape[0])
        if off is not None:
            pred = pred + off
        pw = weights
        if interval == "prediction":
            if not have_new:
                warnings.warn("predictions on current data refer to _future_ responses",
                              PredictionWarning, stacklevel=2)
                if weights is None and self._w is not None:
                    pw = self._w
                    warnings.warn("assuming prediction variance inversely proportional to "
                                  "weights used for fitting", PredictionWarning, stacklevel=2)
            elif weights is None and self._w is not None:
                warnings.warn("Assuming constant prediction variance even though model fit is "
                              "weighted", PredictionWarning, stacklevel=2)
        if pw is None:
            pw = 1.0
        elif isinstance(pw, str):
            src = newdata if have_new else None
            if src is None or pw not in src.columns:
                raise DataError(f"object '{pw}' not found (weights)")
            pw = src[pw].to_numpy(dtype=float)
        else:
            pw = np.asarray(pw, dtype=float)
        if not (se_fit or interval is not None):
            if not have_new:
                return self._pad(pred, row_names)[0]
            return pred
        res_var = self._summary_stats().resvar
        rdf = self._df_residual
        if X is None:
            M = cov_unscaled_pivoted(self._qr_top, p)
            ip = np.asarray(_core.rows_hat(rows, M, np.ones(len(pred))), dtype=np.float64)
            ip = ip * res_var
        elif p > 0:
            from scipy.linalg import solve_triangular

            # x0'(R'R)^{-1}x0 = ||x0' R^{-1}||^2 (R's X[, piv] %*% qr.solve(R11))
            with np.errstate(invalid="ignore"):
                XRinv = solve_triangular(self._qr_top[:p, :p], X[:, piv].T, trans="T",
                                         lower=False, check_finite=False).T
                ip = np.sum(XRinv * XRinv, axis=1) * res_var
        else:
            ip = np.zeros(X.shape[0])
        cols: dict = {"fit": pred}
        if interval is not None:
            tfrac = _qt((1 - level) / 2, rdf)
            with np.errstate(invalid="ignore", divide="ignore"):
                hw = tfrac * (np.sqrt(ip) if interval == "confidence"
                              else np.sqrt(ip + res_var / pw))
            cols["lwr"] = pred + hw
            cols["upr"] = pred - hw
        if se_fit:
            cols["se_fit"] = np.sqrt(ip)
        if not have_new:
            padded = {k: self._pad(v, row_names)[0] for k, v in cols.items()}
            row_names = self._pad(pred, row_names)[1]
            cols = padded
        out = pd.DataFrame(cols, index=row_names if isinstance(row_names, pd.Index)
                           else pd.Index(row_names))
        if se_fit:
            out.attrs["df"] = rdf
            out.attrs["residual_scale"] = math.sqrt(res_var)
        return out

    _offset_arg: Optional[str] = None
    _offset_arg_array: bool = False

    def _offset_arg_values(self, newdata: pd.DataFrame) -> np.ndarray:
        """The ``offset=`` argument re-evaluated on ``newdata`` (a column name)."""
        name = self._offset_arg
        if name not in newdata.columns:
            raise DataError(f"object '{name}' not found (offset)")
        return newdata[name].to_numpy(dtype=float)

    # -- influence ---------------------------------------------------------------------------

    def _influence(self) -> dict:
        """R's ``lm.influence(fit, do.coef = FALSE)`` on the rows with non-zero weight: hat
        values, leave-one-out σ and the weighted residuals (tiny ones zeroed as R does)."""
        if "infl" in self._cache:
            return self._cache["infl"]
        if self.is_mlm:
            raise FitError("influence measures are not available for multiple-response fits")
        e = self._wscale(self._resid)[self._used]
        names = [nm for nm, u in zip(self.row_names, self._used) if u]
        n = len(e)
        p = self.rank
        if p == 0:
            sig = math.sqrt(self._rss() / self._df_residual) if self._df_residual else np.nan
            out = {"hat": np.zeros(n), "sigma": np.full(n, sig), "wt_res": e, "names": names}
            self._cache["infl"] = out
            return out
        e = e.copy()
        med = np.median(np.abs(e)) if n else 0.0
        e[np.abs(e) < 100 * _EPS * med] = 0.0
        hat = self._hat_values()
        denom = n - p - 1
        tot = float(np.sum(e * e))
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.where(hat < 1.0, tot - e * e / np.where(hat < 1.0, 1.0 - hat, 1.0), tot)
            sigma = np.sqrt(inner / denom) if denom != 0 else np.sqrt(inner * np.nan)
        out = {"hat": hat, "sigma": sigma, "wt_res": e, "names": names}
        self._cache["infl"] = out
        return out

    def _influence_vec(self, values: np.ndarray, fill: float) -> pd.Series:
        infl = self._influence()
        vals, names = self._pad(values, infl["names"], fill) if self._w is None or \
            self._used.all() else (values, infl["names"])
        return named_vector(vals, names)

    def hatvalues(self) -> pd.Series:
        """Diagonal of the hat matrix of sqrt(w)X (rows with non-zero weight; 0 at rows
        excluded for NA under ``na_action="exclude"``, as R)."""
        return self._influence_vec(self._influence()["hat"], 0.0)

    def _sd(self) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return math.sqrt(self._rss() / self._df_residual) if self._df_residual else np.nan

    def rstandard(self) -> pd.Series:
        """Standardised residuals eᵢ√wᵢ/(σ̂√(1 − hᵢ)); infinite values become NaN (R)."""
        infl = self._influence()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = infl["wt_res"] / (np.sqrt(1 - infl["hat"]) * self._sd())
        r[np.isinf(r)] = np.nan
        return self._influence_vec(r, np.nan)

    def rstudent(self) -> pd.Series:
        """Studentised residuals eᵢ√wᵢ/(σ₍ᵢ₎√(1 − hᵢ)), σ₍ᵢ₎ the leave-one-out σ."""
        infl = self._influence()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = infl["wt_res"] / (infl["sigma"] * np.sqrt(1 - infl["hat"]))
        r[np.isinf(r)] = np.nan
        return self._influence_vec(r, np.nan)

    def cooks_distance(self) -> pd.Series:
        """Cook's distances (eᵢ√wᵢ/(σ̂(1 − hᵢ)))²·hᵢ/r (R's ``cooks.distance.lm``, raw weighted
        residuals); infinite values become NaN."""
        infl = self._influence()
        e = self._wscale(self._resid)[self._used]
        hat = infl["hat"]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = (e / ((1 - hat) * self._sd())) ** 2 * hat / self.rank
        c[np.isinf(c)] = np.nan
        out = self._influence_vec(c, np.nan)
        if self._w is not None and self.na_action == "exclude" and len(self._na_dropped):
            # R indexes the padded residuals by the padded weights (w != 0 is NA there), which
            # leaves the excluded rows without a name
            idx = list(out.index)
            for k in self._na_dropped:
                idx[k] = None
            out.index = pd.Index(idx, dtype=object)
        return out

    def influence_sigma(self) -> pd.Series:
        """Leave-one-out residual standard errors (R's ``influence(fit)$sigma``)."""
        infl = self._influence()
        return self._influence_vec(infl["sigma"], self._sd())

    def dfbeta(self) -> pd.DataFrame:
        """Change in each non-aliased coefficient when case i is left out (R's ``dfbeta``):
        rows of (R⁻¹Q₁')' scaled by eᵢ√wᵢ/(1 − hᵢ) (0 where hᵢ = 1)."""
        infl = self._influence()
        p = self.rank
        n = len(infl["hat"])
        eye = np.zeros((n, p))
        eye[np.arange(p), np.arange(p)] = 1.0
        Q1 = np.asarray(_core.qr_qy(self.qr, self.qraux, p, eye))
        from scipy.linalg import solve_triangular

        inv_rqt = solve_triangular(self._qr_top[:p, :p], Q1.T).T
        hat = infl["hat"]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(hat == 1, 0.0, infl["wt_res"] / (1 - hat))
        cf = inv_rqt * scale[:, None]
        order = np.argsort(self.pivot[:p])
        names = [self.coef_names[self.pivot[i]] for i in order]
        return pd.DataFrame(cf[:, order], index=pd.Index(infl["names"]),
                            columns=pd.Index(names))

    # -- anova -------------------------------------------------------------------------------

    def anova(self, *others: "LM", test: str = "F") -> AnovaTable:
        """R's ``anova.lm`` (one model: sequential sums of squares of the effects per term) or
        ``anova.lmlist`` (several nested models: ``Res.Df RSS Df Sum of Sq F Pr(>F)``; the
        scale is RSS/rdf of the model with the smallest residual df)."""
        if others:
            return _anova_lmlist([self, *others], test=test)
        return _anova_lm(self)

    # -- broom -------------------------------------------------------------------------------

    def tidy(self, conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
        """broom's ``tidy.lm``: ``term estimate std.error statistic p.value`` (+ ``conf.low
        conf.high``); aliased terms kept with NaN. For an mlm a leading ``response`` column."""
        if self.is_mlm:
            frames = []
            for j, resp in enumerate(self.response_names):
                st = self._summary_stats(j)
                frames.append(pd.DataFrame({
                    "response": resp, "term": st.names, "estimate": st.estimate,
                    "std.error": st.std_error, "statistic": st.t_value, "p.value": st.p_value}))
            return pd.concat(frames, ignore_index=True)
        st = self._summary_stats()
        pos = {nm: i for i, nm in enumerate(st.names)}
        rows = []
        for nm in self.coef_names:
            if nm in pos:
                i = pos[nm]
                rows.append((nm, st.estimate[i], st.std_error[i], st.t_value[i], st.p_value[i]))
            else:
                rows.append((nm, np.nan, np.nan, np.nan, np.nan))
        out = pd.DataFrame(rows, columns=["term", "estimate", "std.error", "statistic",
                                          "p.value"])
        if conf_int:
            ci = self.confint(level=conf_level)
            out["conf.low"] = ci.iloc[:, 0].to_numpy()
            out["conf.high"] = ci.iloc[:, 1].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """broom's ``glance.lm`` (one row): ``r.squared adj.r.squared sigma statistic p.value
        df logLik AIC BIC deviance df.residual nobs``; ``statistic``, ``p.value``, ``df`` are
        NaN when the model has exactly one non-aliased coefficient."""
        if self.is_mlm:
            raise FitError("glance() does not support multiple-response fits")
        st = self._summary_stats()
        int_only = st.rank == 1
        if st.fstatistic is None or int_only:
            stat = pv = df = np.nan
        else:
            stat, numdf, dendf = st.fstatistic
            pv = _pf_upper(stat, numdf, dendf)
            df = float(numdf)
        return pd.DataFrame({
            "r.squared": [st.r_squared], "adj.r.squared": [st.adj_r_squared],
            "sigma": [st.sigma], "statistic": [stat], "p.value": [pv], "df": [df],
            "logLik": [float(self.logLik())], "AIC": [self.AIC()], "BIC": [self.BIC()],
            "deviance": [self.deviance()], "df.residual": [int(self._df_residual)],
            "nobs": [int(self.nobs())]})

    def augment(self, newdata: Optional[pd.DataFrame] = None, se_fit: bool = False,
                interval: Optional[str] = None) -> pd.DataFrame:
        """broom's ``augment.lm``. Without ``newdata``: the model frame (``.rownames`` first
        when the row names are not 1..n), ``.fitted`` (``.lower``/``.upper``, ``.se.fit``),
        ``.resid``, ``.hat``, ``.sigma``, ``.cooksd``, ``.std.resid``. With ``newdata``: its
        columns, ``.fitted`` (...) and ``.resid`` when the response can be evaluated."""
        if self.is_mlm:
            raise FitError("augment() does not support multiple-response fits")
        if interval == "none":
            interval = None
        if newdata is not None:
            df = newdata.copy()
            rn = _newdata_row_names(newdata)
        else:
            df = self.design.frame.copy()
            rn = list(self.row_names)
        df = df.reset_index(drop=True)
        if rn != [str(i + 1) for i in range(len(rn))]:
            df.insert(0, ".rownames", rn)
        if se_fit or interval is not None:
            pr = self.predict(newdata, interval=interval, se_fit=se_fit)
            df[".fitted"] = pr["fit"].to_numpy()
            if interval is not None:
                df[".lower"] = pr["lwr"].to_numpy()
                df[".upper"] = pr["upr"].to_numpy()
            if se_fit:
                df[".se.fit"] = pr["se_fit"].to_numpy()
        else:
            pr = self.predict(newdata)
            df[".fitted"] = np.asarray(pr)[: len(df)] if newdata is not None else \
                self._fitted
        resp = self._response_on(newdata)
        if resp is not None:
            df[".resid"] = resp - df[".fitted"].to_numpy()
        if newdata is None:
            infl = self._influence()
            n = len(self.row_names)
            hat = np.zeros(n)
            sig = np.zeros(n)
            cook = np.zeros(n)
            std = np.full(n, np.nan)
            u = self._used
            hat[u] = infl["hat"]
            sig[u] = infl["sigma"]
            e = self._wscale(self._resid)[u]
            with np.errstate(divide="ignore", invalid="ignore"):
                rs = infl["wt_res"] / (np.sqrt(1 - infl["hat"]) * self._sd())
                ck = (e / ((1 - infl["hat"]) * self._sd())) ** 2 * infl["hat"] / self.rank
            rs[np.isinf(rs)] = np.nan
            ck[np.isinf(ck)] = np.nan
            std[u] = rs
            cook[u] = ck
            df[".hat"] = hat
            df[".sigma"] = sig
            df[".cooksd"] = cook
            df[".std.resid"] = std
        return df

    def _response_on(self, newdata: Optional[pd.DataFrame]) -> Optional[np.ndarray]:
        if newdata is None:
            return np.asarray(self._y, dtype=float)
        name = self.response_name
        if name in newdata.columns:
            return newdata[name].to_numpy(dtype=float)
        try:
            spec = self.design.spec
            resp = spec.terms.response
            vals = spec._evaluate(newdata, [resp])
            return np.asarray(vals[resp], dtype=float)
        except Exception:  # the response cannot be evaluated on newdata: no .resid (broom)
            return None

    # -- printing ----------------------------------------------------------------------------

    def __str__(self) -> str:
        """R's ``print.lm``."""
        out = "\nCall:\n" + self.call + "\n\n"
        if len(self.coef_names) == 0:
            return out + "No coefficients\n\n"
        out += "Coefficients:\n"
        if self.is_mlm:
            cells = np.array(rf.format_num(self._coef.ravel(order="F"), digits=4),
                             dtype=object).reshape(self._coef.shape, order="F")
            out += rf.print_matrix(cells.tolist(), self.coef_names, self.response_names,
                                   right=False, quote=False, gap=2)
        else:
            out += rf.print_named_vector(rf.format_num(self._coef, digits=4), self.coef_names,
                                         gap=2)
        return out + "\n"

    def __repr__(self) -> str:
        return self.__str__()


def _newdata_row_names(newdata: pd.DataFrame) -> list:
    from ...design import r_row_names

    return r_row_names(newdata.index)


# ---------------------------------------------------------------------------------------------
# anova


def _anova_lm(fit: LM) -> AnovaTable:
    """``anova.lm``: per term, SS = Σ (effects of its non-aliased columns)², Df = their number;
    F = (SS/Df)/(RSS/rdf); the intercept row is dropped."""
    if fit.is_mlm:
        raise FitError("anova() of a multiple-response fit is not implemented")
    w = fit._w
    r = fit._resid
    f = fit._fitted
    ssr = float(np.sum(r * r) if w is None else np.sum(w * r * r))
    mss = float(np.sum(f * f) if w is None else np.sum(w * f * f))
    if ssr < 1e-10 * mss:
        warnings.warn("ANOVA F-tests on an essentially perfect fit are unreliable",
                      PerfectFitWarning, stacklevel=3)
    dfr = fit._df_residual
    p = fit.rank
    labels_all = ["(Intercept)"] + fit.term_labels
    if p > 0:
        comp = fit._effects_head(p)
        asgn = fit.assign[fit.pivot][:p]
        uniq = list(dict.fromkeys(int(a) for a in asgn))
        tlabels = [labels_all[a] for a in uniq]
        ss = [float(np.sum(comp[asgn == a] ** 2)) for a in uniq] + [ssr]
        df = [int(np.sum(asgn == a)) for a in uniq] + [dfr]
    else:
        tlabels, ss, df = [], [ssr], [dfr]
    ss_a = np.asarray(ss)
    df_a = np.asarray(df, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ms = ss_a / df_a
        fv = ms / (np.float64(ssr) / np.float64(dfr))
        pv = np.array([_pf_upper(a, b, dfr) for a, b in zip(fv, df_a)])
    fv[-1] = rf.NA_REAL  # R's NA (blank when printed), unlike a NaN from 0/0
    pv[-1] = rf.NA_REAL
    rows = tlabels + ["Residuals"]
    tab = AnovaTable({"Df": df_a, "Sum Sq": ss_a, "Mean Sq": ms, "F value": fv, "Pr(>F)": pv},
                     index=pd.Index(rows))
    if fit.intercept:
        tab = tab.iloc[1:]
    tab.heading = ["Analysis of Variance Table\n", f"Response: {fit.response_name}"]
    tab.nan_is_na = False
    return tab


def _anova_lmlist(fits: Sequence[LM], test: Optional[str] = "F") -> AnovaTable:
    """``anova.lmlist``: nested-model comparison with ``stat.anova``'s F or χ² test."""
    from ...errors import RModelsWarning

    responses = [f.response_name for f in fits]
    same = [r == responses[0] for r in responses]
    if not all(same):
        dropped = [r for r, s in zip(responses, same) if not s]
        warnings.warn(f"models with response \u2018{dropped}\u2019 removed because response "
                      "differs from model 1", RModelsWarning, stacklevel=3)
        fits = [f for f, s in zip(fits, same) if s]
    ns = [len(f._resid) for f in fits]
    if any(n != ns[0] for n in ns):
        raise FitError("models were not all fitted to the same size of dataset")
    if len(fits) == 1:
        return _anova_lm(fits[0])
    resdf = np.array([float(f.df_residual()) for f in fits])
    resdev = np.array([float(f.deviance()) for f in fits])
    ddf = np.concatenate([[rf.NA_REAL], -np.diff(resdf)])
    dss = np.concatenate([[rf.NA_REAL], -np.diff(resdev)])
    cols = {"Res.Df": resdf, "RSS": resdev, "Df": ddf, "Sum of Sq": dss}
    if test is not None:
        big = int(np.argsort(resdf, kind="stable")[0])
        scale = resdev[big] / resdf[big]
        df_scale = resdf[big]
        with np.errstate(divide="ignore", invalid="ignore"):
            if test == "F":
                fv = (dss / ddf) / scale
                fv[0] = rf.NA_REAL
                fv[ddf == 0] = rf.NA_REAL
                fv[~np.isnan(fv) & (fv < 0)] = rf.NA_REAL
                cols["F"] = fv
                cols["Pr(>F)"] = np.array([_pf_upper(a, abs(b), df_scale) if not np.isnan(a)
                                           else a for a, b in zip(fv, ddf)])
            elif test in ("Chisq", "LRT"):
                vals = dss / scale * np.sign(ddf)
                vals[0] = rf.NA_REAL
                vals[ddf == 0] = rf.NA_REAL
                vals[~np.isnan(vals) & (vals < 0)] = rf.NA_REAL
                cols["Pr(>Chi)"] = np.array([float(sps.chi2.sf(a, abs(b))) if not np.isnan(a)
                                             else a for a, b in zip(vals, ddf)])
            elif test == "Cp":
                n = len(fits[big]._resid)
                cols["Cp"] = resdev + 2 * scale * (n - resdf)
            else:
                raise ValueError("test must be 'F', 'Chisq', 'LRT', 'Cp' or None")
    tab = AnovaTable(cols, index=pd.Index([str(i + 1) for i in range(len(fits))]))
    width = len(str(len(fits)))
    notes = [f"Model {str(i + 1).rjust(width)}: "
             + "\n".join(deparse_formula_lines(f.design.terms.formula))
             for i, f in enumerate(fits)]
    tab.heading = ["Analysis of Variance Table\n", "\n".join(notes)]
    tab.nan_is_na = False
    return tab


# ---------------------------------------------------------------------------------------------
# lm()


def _arg_text(value: Any, name: str) -> str:
    return value if isinstance(value, str) else name


def lm_call_args(data_name: str, subset: Any, weights: Any, offset: Any, na_action: str,
                 singular_ok: bool) -> list:
    """The arguments after ``formula`` of the printed call ``lm(formula = ..., data = ...)``."""
    extra: list = [("data", data_name)]
    if subset is not None:
        extra.append(("subset", "subset"))
    if weights is not None:
        extra.append(("weights", _arg_text(weights, "weights")))
    if na_action != "omit":
        extra.append(("na.action", f"na.{na_action}"))
    if not singular_ok:
        extra.append(("singular.ok", "FALSE"))
    if offset is not None:
        extra.append(("offset", _arg_text(offset, "offset")))
    return extra


def lm(formula: str, data: pd.DataFrame, weights: Any = None, subset: Any = None,
       offset: Any = None, na_action: str = "omit", tol: float = 1e-7,
       singular_ok: bool = True, contrasts: Optional[dict] = None,
       data_name: str = "data") -> LM:
    """Fit a linear model as R's ``lm(formula, data, subset, weights, na.action, offset)``.

    ``weights``/``offset``: a column name of ``data`` or an array of ``len(data)``; ``subset``:
    a boolean mask or 0-based integer positions; ``na_action``: ``"omit"``, ``"exclude"`` or
    ``"fail"``. Weighted least squares minimises Σ wᵢ(yᵢ − oᵢ − xᵢ'β)² over the rows with wᵢ > 0
    by the pivoted QR of R's ``lm.wfit`` (tolerance ``tol``, R's default 1e-7); columns that
    are linear combinations of earlier ones get NaN coefficients (an error if not
    ``singular_ok``). ``data_name`` is the name shown for ``data`` in the printed call.
    """
    from ...design import build_design

    design = build_design(formula, data, subset=subset, weights=weights, offset=offset,
                          na_action=na_action, contrasts=contrasts, materialize=False)
    if design.y is None:
        raise DataError("lm() needs a response: the formula has no left-hand side")
    if design.y_factor is not None:
        raise DataError(f"the response '{design.response_name}' is a factor; lm() needs a "
                        "numeric response")
    w = design.weights
    if w is not None and (np.isnan(w).any() or (w < 0).any()):
        raise DataError("missing or negative weights not allowed")
    y = np.asarray(design.y, dtype=np.float64)
    n = y.shape[0]
    if n == 0:
        raise DataError("0 (non-NA) cases")
    if w is not None and not (w != 0).any():
        raise FitError("all weights are zero")
    p = len(design.columns)
    fit = None
    if p == 0:
        fit = empty_fit(y, w, design.offset)
    elif _rows_path_applies(design, y, w, n, p):
        fit = _core_wfit_rows(design, y, w, tol)
    if fit is None:
        # Large tall designs: the core keeps X and defers the n x p factor (see LM.qr).
        fit = _core_wfit(design.consume_X(), y, w, design.offset, tol, defer=True)
    if not singular_ok and fit["rank"] < p:
        raise FitError("singular fit encountered")

    # R's row names of the rows dropped for NA (for na.exclude padding)
    na_names: list = []
    if len(design.na_dropped):
        from ...design import subset_positions

        pos = subset_positions(subset, len(data), data)
        idx = data.index
        rows = pos[np.asarray(design.na_dropped, dtype=np.int64)]
        if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
            na_names = [str(int(i) + 1) for i in rows]  # R's "1".."n"
        else:
            na_names = [str(idx[int(i)]) for i in rows]

    extra = lm_call_args(data_name, subset, weights, offset, na_action, singular_ok)
    out = LM(design, fit, extra, na_names, tol)
    out._offset_arg = offset if isinstance(offset, str) else None
    if offset is not None and not isinstance(offset, str):
        out._offset_arg_array = True
    return out


def empty_fit(y: np.ndarray, w: Optional[np.ndarray], offset: Optional[np.ndarray]) -> dict:
    """R's ``lm`` for an empty model (``y ~ 0``): no coefficients, fitted = offset."""
    n = y.shape[0]
    off = np.zeros(n) if offset is None else offset
    fitted = np.broadcast_to(off[:, None] if y.ndim == 2 else off, y.shape).copy()
    used = n if w is None else int((w != 0).sum())
    sw = np.ones(n) if w is None else np.sqrt(w)
    res = y - fitted
    eff = (res * (sw[:, None] if y.ndim == 2 else sw))
    eff = eff[(np.ones(n, bool) if w is None else w != 0)]
    return {"coefficients": np.zeros((0,) + y.shape[1:]), "qr": np.zeros((used, 0)),
            "qraux": np.zeros(0), "pivot": np.zeros(0, dtype=np.int64), "rank": 0,
            "effects": eff, "residuals": res, "fitted_values": fitted, "df_residual": used}
