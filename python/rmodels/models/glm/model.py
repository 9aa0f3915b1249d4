"""Generalized linear models: R's ``glm()`` and the methods of its fit object.

The fit itself is the compiled IRLS of cpp/glm/irls.cpp (R's ``glm.fit``: family ``initialize``,
working weights ``W = w mu'(eta)^2 / V(mu)``, the dqrdc2 pivoted QR with tolerance
``min(1e-7, epsilon/1000)`` at every step, step halving, convergence
``|dev - dev_old| / (|dev| + 0.1) < epsilon``). This module turns a formula and a data frame
into the model matrix (:func:`rmodels.design.build_design`), converts the response as R's
``family$initialize`` expects it, and implements the generics of the ``glm`` class:
``summary.glm`` (dispersion from the working weights and residuals of the last iteration),
``print.glm``, ``anova.glm`` (sequential refits), ``predict.glm``, ``residuals.glm``,
``confint`` (MASS's profile likelihood) and broom's ``tidy``/``glance``/``augment``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence, Union

import numpy as np
import pandas as pd
from scipy import stats

from ... import _core
from ... import printing as rf
from ...errors import (
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    FitError,
    FittedValuesWarning,
    RankDeficiencyWarning,
    RModelsWarning,
)
from ...formula.call import deparse_call_text
from ..contract import AnovaTable, LogLik
from ..families import Family, as_family

__all__ = ["glm", "GLM", "GLMSummary", "glm_fit_matrix", "GlmCoreFit", "glm_nb", "NegBinGLM",
           "theta_ml"]

# The messages of the core's data errors (GlmErrorKind.ResponseValues / ResponseShape); the
# grouped engine still reads them, the single fit classifies by kind (error_class).
DATA_MESSAGES = ("y values must be", "negative values not allowed", "non-positive values",
                  "positive values only", "y must be a vector of 0 and 1")

_WarningKind = _core.GlmWarningKind
_WARNING_CLASSES: dict = {
    _WarningKind.NotConverged: ConvergenceWarning,
    _WarningKind.NullDevianceNotConverged: ConvergenceWarning,
    _WarningKind.FittedProbabilitiesZeroOne: FittedValuesWarning,
    _WarningKind.FittedRatesZero: FittedValuesWarning,
    _WarningKind.Boundary: BoundaryWarning,
}
_DATA_ERRORS = (_core.GlmErrorKind.ResponseValues, _core.GlmErrorKind.ResponseShape)


def warning_class(kind: _core.GlmWarningKind) -> type:
    """The package's warning class for one of glm.fit's warnings, by its kind."""
    return _WARNING_CLASSES.get(kind, RModelsWarning)


def error_class(kind: _core.GlmErrorKind) -> type:
    """DataError for the family's checks of the response, FitError for the rest."""
    return DataError if kind in _DATA_ERRORS else FitError


# ---------------------------------------------------------------------------------------------
# The compiled fit


@dataclass
class GlmCoreFit:
    """The quantities glm.fit returns (arrays over the n rows of the model frame).

    ``R`` is the p x p R factor of the last weighted QR in pivoted order; ``pivot`` 0-based.
    """

    coefficients: np.ndarray
    fitted: np.ndarray
    linear_predictors: np.ndarray
    working_weights: np.ndarray
    working_residuals: np.ndarray
    R: np.ndarray
    pivot: np.ndarray
    rank: int
    y: np.ndarray
    prior_weights: np.ndarray
    n_trials: np.ndarray
    good: np.ndarray
    deviance: float
    null_deviance: float
    iter: int
    converged: bool
    boundary: bool
    warnings: list = field(default_factory=list)
    warning_kinds: list = field(default_factory=list)  # _core.GlmWarningKind, one per warning
    trace: list = field(default_factory=list)
    reconstructed_steps: int = 0
    gram_steps: int = 0

    @classmethod
    def from_result(cls, res: dict) -> "GlmCoreFit":
        """The fit from the dict that ``_core.glm_fit`` / ``glm_fit_batch`` return."""
        return cls(
            coefficients=np.asarray(res["coefficients"]), fitted=np.asarray(res["fitted"]),
            linear_predictors=np.asarray(res["linear_predictors"]),
            working_weights=np.asarray(res["working_weights"]),
            working_residuals=np.asarray(res["working_residuals"]), R=np.asarray(res["R"]),
            pivot=np.asarray(res["pivot"], dtype=np.int64), rank=int(res["rank"]),
            y=np.asarray(res["y"]), prior_weights=np.asarray(res["prior_weights"]),
            n_trials=np.asarray(res["n_trials"]), good=np.asarray(res["good"], dtype=bool),
            deviance=float(res["deviance"]), null_deviance=float(res["null_deviance"]),
            iter=int(res["iter"]), converged=bool(res["converged"]),
            boundary=bool(res["boundary"]), warnings=list(res["warnings"]),
            warning_kinds=list(res["warning_kinds"]),
            trace=list(res.get("trace", [])),
            reconstructed_steps=int(res.get("reconstructed_steps", 0)),
            gram_steps=int(res.get("gram_steps", 0)))

    def classified_warnings(self) -> list[tuple[type, str]]:
        """R's warnings of the fit as (warning class, message), in R's order."""
        return [(warning_class(k), m) for k, m in zip(self.warning_kinds, self.warnings)]


def _emit(messages: Sequence[tuple[type, str]], stacklevel: int = 3) -> None:
    for cls, msg in messages:
        warnings.warn(msg, cls, stacklevel=stacklevel)


def glm_fit_matrix(X: np.ndarray, Y: np.ndarray, family: Union[str, Family] = "gaussian",
                   weights: np.ndarray | None = None, offset: np.ndarray | None = None,
                   start: np.ndarray | None = None, etastart: np.ndarray | None = None,
                   mustart: np.ndarray | None = None, epsilon: float = 1e-8,
                   maxit: int = 25, intercept: bool = True, intercept_col: int = -1,
                   has_offset: bool | None = None, emit: bool = True,
                   rows: Any = None) -> GlmCoreFit | None:
    """R's ``glm.fit(x, y, ...)`` on a model matrix: X (n, p), Y (n,) or (n, 2) for
    ``cbind(successes, failures)``. The null deviance includes glm()'s intercept-only refit when
    ``has_offset`` and ``intercept_col >= 0``. R's warnings are issued unless ``emit=False``
    (they are in ``.warnings`` either way).

    With ``rows`` (the model matrix by rows, ``_core.DesignRows``; X is then ignored and may be
    None) every IRLS step is solved from the weighted Gram matrix; None is returned when a step
    cannot be (the caller fits the dense matrix instead)."""
    fam = as_family(family)
    p = rows.p if rows is not None else np.shape(X)[1]
    if rows is None:
        X = np.asfortranarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    Y = np.asfortranarray(Y)
    n = Y.shape[0]
    w = np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=float)
    o = np.zeros(n) if offset is None else np.ascontiguousarray(offset, dtype=float)
    if has_offset is None:
        has_offset = offset is not None
    if start is not None and len(start) != p:
        raise FitError(f"length of 'start' should equal {p} and correspond to initial "
                       "coefs")
    try:
        res = (_core.glm_fit if rows is None else _core.glm_fit_rows)(
            X if rows is None else rows, Y, w, o, bool(has_offset), fam.core,
            None if start is None else np.asarray(start, float),
            None if etastart is None else np.asarray(etastart, float),
            None if mustart is None else np.asarray(mustart, float),
            float(epsilon), int(maxit), bool(intercept), int(intercept_col))
    except _core.GlmError as exc:
        raise error_class(exc.kind)(str(exc)) from None
    if res is None:
        return None
    fit = GlmCoreFit.from_result(res)
    if emit:
        _emit(fit.classified_warnings(), stacklevel=3)
    return fit


# ---------------------------------------------------------------------------------------------
# glm()


def response_matrix(d, fam: Family) -> np.ndarray:
    y = d.y
    if y is None:
        raise FitError("glm needs a two-sided formula")
    y = np.asarray(y, dtype=float)
    binomial_like = fam.family in ("binomial", "quasibinomial")
    if y.ndim == 2:
        if y.shape[1] == 1:
            y = y[:, 0]
        elif not binomial_like:
            raise DataError("a matrix response is only allowed for the binomial families "
                            "(cbind(successes, failures))")
        elif y.shape[1] != 2:
            raise DataError(f"for the '{fam.family}' family, y must be a vector of 0 and 1's\n"
                            "or a 2 column matrix where col 1 is no. successes and col 2 is "
                            "no. failures")
    if d.y_factor is not None:
        if not binomial_like:
            raise DataError(f"the response '{d.response_name}' is a factor: only the binomial "
                            "families accept a factor response")
        y = (y != 0).astype(float)  # every level but the first is a success
    return y


def _trace_text(lines: Sequence[str]) -> str:
    """glm.fit's ``control$trace`` output (values as ``cat`` prints them, 7 significant
    digits)."""
    out = []
    for ln in lines:
        if ln.startswith("Deviance = "):
            parts = ln.split()
            out.append(f"Deviance = {rf.format_num([float(parts[2])])[0]} Iterations - "
                       f"{parts[-1]}\n")
        else:
            out.append(f"Step halved: new deviance = {rf.format_num([float(ln.split()[-1])])[0]}"
                       "\n")
    return "".join(out)


def _deparse_arg(v: Any, name: str) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return name


def glm(formula: str, data: pd.DataFrame, family: Union[str, Family, None] = None,
        weights: Any = None, subset: Any = None, offset: Any = None, na_action: str = "omit",
        start: Sequence[float] | None = None, etastart: Any = None, mustart: Any = None,
        control: dict | None = None, contrasts: dict | None = None, *,
        data_name: str = "data") -> GLM:
    """Fit a generalized linear model as R's ``glm()``.

    ``family`` is a :class:`~rmodels.families.Family` (``binomial(link="probit")``) or R's
    family name. The response may be numeric, 0/1, logical or a two-level factor (first level
    = failure) for the binomial families, proportions with ``weights`` = trials, or
    ``cbind(successes, failures)``. ``weights``/``offset``/``etastart``/``mustart`` are column
    names of ``data`` or arrays of ``len(data)``; ``control`` = ``{"epsilon": 1e-8,
    "maxit": 25, "trace": False}``; ``contrasts`` as R's (e.g. ``{"f": "contr.sum"}``).
    ``data_name`` is the name the printed call gives the data.
    """
    from ...design import build_design

    fam = as_family("gaussian" if family is None else family)
    ctrl = {"epsilon": 1e-8, "maxit": 25}
    if control:
        unknown = set(control) - {"epsilon", "maxit", "trace"}
        if unknown:
            raise FitError(f"unknown glm.control arguments: {sorted(unknown)}")
        ctrl.update({k: v for k, v in control.items() if k != "trace"})
    trace = bool(control and control.get("trace"))
    if not (ctrl["epsilon"] > 0):
        raise FitError("value of 'epsilon' must be > 0")
    if not (ctrl["maxit"] > 0):
        raise FitError("maximum number of iterations must be > 0")
    d = build_design(formula, data, subset=subset, weights=weights, offset=offset,
                     na_action=na_action, contrasts=contrasts, materialize=False)
    Y = response_matrix(d, fam)
    n = d.n
    w = d.weights
    if w is not None and np.any(w < 0):
        raise DataError("negative weights not allowed")
    starts = {}
    for key, v in (("etastart", etastart), ("mustart", mustart)):
        if v is None:
            continue
        arr = np.asarray(data[v] if isinstance(v, str) else v, dtype=float)
        if len(arr) == len(data):
            arr = arr[d.kept]
        starts[key] = arr
    if start is not None and len(start) != len(d.columns):
        names = ", ".join(f'"{c}"' for c in d.columns)
        names = f"c({names})" if len(d.columns) != 1 else names
        raise FitError(f"length of 'start' should equal {len(d.columns)} and correspond to "
                       f"initial coefs for {names}")
    intercept_col = d.columns.index("(Intercept)") if "(Intercept)" in d.columns else -1
    # A tall, mostly-zero design is fitted from its rows without the dense matrix (built later
    # if something asks for it); the dense path when a step needs dqrdc2's pivoting.
    rows = d.design_rows() if n * len(d.columns) >= 200_000 else None
    fit_args = dict(weights=w, offset=d.offset,
                    start=None if start is None else np.asarray(start, float),
                    etastart=starts.get("etastart"), mustart=starts.get("mustart"),
                    epsilon=ctrl["epsilon"], maxit=ctrl["maxit"], intercept=d.intercept,
                    intercept_col=intercept_col, has_offset=d.offset is not None, emit=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        core = None
        if rows is not None:
            core = glm_fit_matrix(None, Y, fam, rows=rows, **fit_args)
        if core is None:
            core = glm_fit_matrix(d.model_matrix_array(), Y, fam, **fit_args)
    if trace:
        print(_trace_text(core.trace), end="")
    for c in caught:
        warnings.warn(c.message, c.category, stacklevel=2)
    call = glm_call_text(getattr(d, "formula_text", "") or formula,
                      None if family is None else fam, data_name, weights,
                      subset, offset, start, etastart, mustart, control, na_action, contrasts)
    return GLM(core=core, design=d, family=fam, Y=Y,
               raw_weights=np.ones(n) if w is None else np.asarray(w, float),
               control=ctrl, call=call, data=data, formula=formula,
               offset_arg=offset, start=start)


def glm_call_text(formula: str, fam: Family | None, data_name: str, weights, subset, offset,
               start, etastart, mustart, control, na_action, contrasts=None) -> str:
    # match.call() order of glm's formals: formula, family, data, weights, subset, na.action,
    # start, etastart, mustart, offset, control.
    args: list[tuple[str, str]] = [("formula", formula)]
    if fam is not None:
        args.append(("family", fam.call_text))
    args.append(("data", data_name))
    for name, v in (("weights", weights), ("subset", subset)):
        s = _deparse_arg(v, name)
        if s is not None:
            args.append((name, s))
    if na_action != "omit":
        args.append(("na.action", f"na.{na_action}"))
    if start is not None:
        args.append(("start", "start"))
    for name, v in (("etastart", etastart), ("mustart", mustart), ("offset", offset)):
        s = _deparse_arg(v, name)
        if s is not None:
            args.append((name, s))
    if control:
        args.append(("control", "control"))
    if contrasts:
        items = ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {k}"
                          for k, v in contrasts.items())
        args.append(("contrasts", f"list({items})"))
    return deparse_call_text("glm", args)


# ---------------------------------------------------------------------------------------------
# The fit object


class GLM:
    """A fitted GLM (R class ``glm``). Accessors follow R's generics; see the module doc."""

    def __init__(self, core: GlmCoreFit, design: Any, family: Family, Y: np.ndarray,
                 raw_weights: np.ndarray, control: dict, call: str, data: pd.DataFrame,
                 formula: str, offset_arg: Any = None, start: Any = None) -> None:
        self._core = core
        self.design = design
        self.family = family
        self._Y = Y
        self._raw_weights = raw_weights
        self.control = control
        self.call = call
        self.data = data
        self.formula = formula
        self._offset_arg = offset_arg
        self._start = start
        self.names = list(design.columns)
        self._row_index: pd.Index | None = None
        n = len(core.y)
        self._offset = np.zeros(n) if design.offset is None else np.asarray(design.offset)
        self.n_ok = int(n - np.sum(core.prior_weights == 0))
        self.df_null_ = int(self.n_ok - (1 if design.intercept else 0))
        self.df_residual_ = int(self.n_ok - core.rank)
        aic0 = family.aic(core.y, core.n_trials, core.fitted, core.prior_weights, core.deviance)
        self.aic = aic0 + 2 * core.rank

    def _core_steps_reconstructed(self) -> int:
        """IRLS steps solved by the fast reconstruction of dqrdc2's factor (diagnostic)."""
        return self._core.reconstructed_steps

    def _core_steps_gram(self) -> int:
        """IRLS steps solved from the weighted Gram matrix of a sparse design (diagnostic)."""
        return self._core.gram_steps

    @property
    def row_names(self) -> list:
        """R's row names of the rows in the fit (built on first use)."""
        return list(self.design.row_names)

    # ---- R's components ---------------------------------------------------------------------
    @property
    def coefficients(self) -> pd.Series:
        return pd.Series(self._core.coefficients, index=self.names, dtype=float)

    @property
    def rank(self) -> int:
        return self._core.rank

    @property
    def iter(self) -> int:
        return self._core.iter

    @property
    def converged(self) -> bool:
        return self._core.converged

    @property
    def boundary(self) -> bool:
        return self._core.boundary

    @property
    def null_deviance(self) -> float:
        return self._core.null_deviance

    @property
    def df_null(self) -> int:
        return self.df_null_

    @property
    def linear_predictors(self) -> pd.Series:
        return self._series(self._core.linear_predictors)

    @property
    def fitted_values(self) -> pd.Series:
        return self._series(self._core.fitted)

    @property
    def weights(self) -> pd.Series:
        """Working weights of the last IRLS iteration (R's ``fit$weights``)."""
        return self._series(self._core.working_weights)

    @property
    def prior_weights(self) -> pd.Series:
        return self._series(self._core.prior_weights)

    @property
    def y(self) -> pd.Series:
        return self._series(self._core.y)

    def _series(self, v: np.ndarray) -> pd.Series:
        if self._row_index is None:  # built once: an index of 1e6 strings is not free
            self._row_index = pd.Index(self.row_names)
        return pd.Series(v, index=self._row_index, dtype=float, copy=False)

    def _pad(self, v: np.ndarray) -> np.ndarray:
        """naresid: with na_action='exclude', NaN at the rows dropped for missingness."""
        d = self.design
        if d.na_action != "exclude" or len(d.na_dropped) == 0:
            return v
        out = np.full(d.n_data, np.nan)
        out[d.kept_sub] = v
        return out

    def _padded_names(self) -> list:
        """Row names of R's naresid output (all rows of the data when na_action='exclude')."""
        d = self.design
        if d.na_action != "exclude" or len(d.na_dropped) == 0:
            return self.row_names
        from ...design import r_row_names
        if d.n_data == len(self.data):
            return list(r_row_names(self.data.index))
        return [str(i + 1) for i in range(d.n_data)]

    def _pad_series(self, v: np.ndarray) -> pd.Series:
        d = self.design
        if d.na_action != "exclude" or len(d.na_dropped) == 0:
            return self._series(v)
        return pd.Series(self._pad(v), index=self._padded_names(), dtype=float)

    # ---- generics ---------------------------------------------------------------------------
    def coef(self) -> pd.Series:
        """Coefficients, named as R's model matrix columns; aliased ones are NaN."""
        return self.coefficients

    def fitted(self) -> pd.Series:
        """Fitted means mu (R's ``fitted``)."""
        return self._pad_series(self._core.fitted)

    def deviance(self) -> float:
        return self._core.deviance

    def df_residual(self) -> int:
        return self.df_residual_

    def nobs(self) -> int:
        """Number of observations with non-zero prior weight (R's ``nobs.glm``)."""
        return int(np.sum(self._core.prior_weights != 0))

    def dispersion(self) -> float:
        """summary.glm's dispersion: 1 for binomial/poisson, otherwise
        sum(W r^2) / df.residual over W > 0 with the working weights W and working residuals r of
        the last iteration (NaN when df.residual = 0)."""
        if self.family.fixed_dispersion:
            return 1.0
        df_r = self.df_residual_
        if df_r <= 0:
            return float("nan")
        W = self._core.working_weights
        r = self._core.working_residuals
        pos = W > 0
        return float(np.sum((W * r * r)[pos]) / df_r)

    def sigma(self) -> float:
        """R's ``sigma.default``: sqrt(deviance / (nobs - rank))."""
        with np.errstate(divide="ignore", invalid="ignore"):  # R: x/0 is Inf, 0/0 NaN
            return float(np.sqrt(np.float64(self._core.deviance) /
                                 np.float64(self.nobs() - self.rank)))

    def _cov_unscaled(self) -> np.ndarray:
        """(R'R)^{-1} of the last weighted QR, on the non-aliased coefficients in pivoted order."""
        p = self.rank
        if p == 0:
            return np.zeros((0, 0))
        # R's chol2inv(Qr$qr[p1, p1]), computed by the core (no BLAS thread pool woken for a
        # p x p problem).
        return np.asarray(_core.qr_cov_unscaled(np.asfortranarray(self._core.R), p), dtype=float)

    def _aliased(self) -> np.ndarray:
        return np.isnan(self._core.coefficients)

    def vcov(self, complete: bool = True) -> pd.DataFrame:
        """dispersion x (R'R)^{-1}; aliased coefficients get NaN rows/columns (complete=True)."""
        p = self.rank
        piv = self._core.pivot[:p]
        cov = self.dispersion() * self._cov_unscaled()
        if not complete:
            nm = [self.names[i] for i in piv]
            return pd.DataFrame(cov, index=nm, columns=nm)
        k = len(self.names)
        full = np.full((k, k), np.nan)
        full[np.ix_(piv, piv)] = cov
        return pd.DataFrame(full, index=self.names, columns=self.names)

    def residuals(self, type: str = "deviance") -> pd.Series:  # noqa: A002 - R's argument
        """R's ``residuals.glm``: "deviance" (default), "pearson", "working", "response"."""
        return self._pad_series(self._residuals(type))

    def _residuals(self, type: str = "deviance") -> np.ndarray:  # noqa: A002
        c = self._core
        y, mu, wts = c.y, c.fitted, c.prior_weights
        if type == "deviance":
            if self.df_residual_ > 0:
                d = np.sqrt(np.maximum(self.family.dev_resids(y, mu, wts), 0))
                return np.where(y > mu, d, -d)
            return np.zeros(len(mu))
        if type == "pearson":
            return (y - mu) * np.sqrt(wts) / np.sqrt(self.family.variance(mu))
        if type == "working":
            return c.working_residuals.copy()
        if type == "response":
            return y - mu
        raise ValueError("type must be one of 'deviance', 'pearson', 'working', 'response'")

    resid = residuals

    def logLik(self) -> float:  # noqa: N802 - R's name
        """R's ``logLik.glm``: p - aic/2 with p = rank (+1 for gaussian, Gamma,
        inverse.gaussian); NaN for quasi families. A float with ``df`` and ``nobs`` (rows with
        a residual) whose ``str()`` is R's print.logLik."""
        value = float("nan") if self.family.is_quasi else self.loglik_df() - self.aic / 2
        return self._loglik_object(value)

    def _loglik_object(self, value: float) -> float:
        n = int(np.sum(~np.isnan(self._core.working_residuals)))
        return LogLik(value, self.loglik_df(), n)

    def loglik_df(self) -> int:
        return self.rank + self.family.extra_df

    def AIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + 2 * self.loglik_df()

    def BIC(self) -> float:  # noqa: N802
        # logLik.glm's "nobs" attribute counts every row with a residual (zero weights too).
        n = int(np.sum(~np.isnan(self._core.working_residuals)))
        return -2 * self.logLik() + math.log(n) * self.loglik_df()

    # ---- summary / print --------------------------------------------------------------------
    def summary(self) -> GLMSummary:
        """R's ``summary.glm``; ``str()`` of the result is ``print(summary(fit))``."""
        return GLMSummary(self)

    def coef_table(self) -> pd.DataFrame:
        """summary.glm's coefficient matrix (non-aliased rows, pivoted order)."""
        p = self.rank
        piv = self._core.pivot[:p]
        est = self._core.coefficients[piv]
        disp = self.dispersion()
        se = np.sqrt(np.diag(self._cov_unscaled()) * disp)
        df_r = self.df_residual_
        names = [self.names[i] for i in piv]
        if self.family.fixed_dispersion:
            z = est / se
            pv = 2 * stats.norm.cdf(-np.abs(z))
            cols = ["Estimate", "Std. Error", "z value", "Pr(>|z|)"]
        elif df_r > 0:
            z = est / se
            pv = 2 * stats.t.cdf(-np.abs(z), df_r)
            cols = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
        else:
            se = np.full(p, np.nan)
            z = np.full(p, np.nan)
            pv = np.full(p, np.nan)
            cols = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
        return pd.DataFrame(np.column_stack([est, se, z, pv]), index=names, columns=cols)

    def __str__(self) -> str:
        """R's ``print.glm``."""
        out = f"\nCall:  {self.call}\n\n"
        coefs = self._core.coefficients
        if len(coefs):
            out += "Coefficients"
            out += ":\n"
            cells = rf.format_num(coefs, digits=4)
            out += rf.print_named_vector(cells, self.names, gap=2)
        else:
            out += "No coefficients\n\n"
        out += (f"\nDegrees of Freedom: {self.df_null_} Total (i.e. Null);  "
                f"{self.df_residual_} Residual\n")
        mess = self._naprint()
        if mess:
            out += f"  ({mess})\n"
        out += ("Null Deviance:\t    " + rf.format_num([rf.signif(self.null_deviance, 4)])[0]
                + " \nResidual Deviance: " + rf.format_num([rf.signif(self.deviance(), 4)])[0]
                + " \tAIC: " + rf.format_num([rf.signif(self.aic, 4)])[0] + "\n")
        return out

    def __repr__(self) -> str:
        return self.__str__()

    def _naprint(self) -> str:
        d = self.design
        k = len(d.na_dropped)
        if k == 0:
            return ""
        if d.na_action == "exclude":
            return f"{k} observation{'s' if k > 1 else ''} deleted due to missingness"
        return f"{k} observation{'s' if k > 1 else ''} deleted due to missingness"

    # ---- prediction -------------------------------------------------------------------------
    def _newdata_matrix(self, newdata: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        X, _ = self.design.spec.model_matrix(newdata)
        off = self.design.spec.offset(newdata)
        o = np.zeros(len(newdata)) if off is None else np.asarray(off, float)
        if isinstance(self._offset_arg, str):
            o = o + np.asarray(newdata[self._offset_arg], dtype=float)
        return np.asarray(X, float), o

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "link",  # noqa: A002
                se_fit: bool = False) -> Union[np.ndarray, pd.DataFrame]:
        """R's ``predict.glm``: type "link" (eta, incl. offset) or "response" (mu); with
        ``se_fit`` a DataFrame ``fit, se_fit`` (``attrs["residual_scale"]`` = sqrt(dispersion)),
        se on the response scale = se_link * |mu.eta(eta)|."""
        if type not in ("link", "response"):
            raise ValueError("type must be 'link' or 'response'")
        p = self.rank
        piv = self._core.pivot[:p]
        beta = self._core.coefficients[piv]
        X = None
        if newdata is None:
            eta = self._core.linear_predictors.copy()
            index = self.row_names if se_fit else None  # names only for the se_fit frame
        else:
            X, o = self._newdata_matrix(newdata)
            if p < X.shape[1]:
                warnings.warn("prediction from a rank-deficient fit may be misleading",
                              RankDeficiencyWarning, stacklevel=2)
            eta = X[:, piv] @ beta + o
            from ...design import r_row_names
            index = r_row_names(newdata.index)
        fit = eta if type == "link" else self.family.linkinv(eta)
        if not se_fit:
            return fit
        disp = self.dispersion()
        q = self._rows_quadform(np.ones(len(eta))) if X is None else None
        if q is None:
            if X is None:
                X = self.design.model_matrix_array()
            R = np.triu(self._core.R[:p, :p])
            XRinv = _solve_upper(R.T, X[:, piv].T, lower=True).T if p else \
                np.zeros((len(eta), 0))
            q = np.sum(XRinv ** 2, axis=1)
        se = np.sqrt(q * disp)
        if type == "response":
            se = se * np.abs(self.family.mu_eta(eta))
        out = pd.DataFrame({"fit": fit, "se_fit": se}, index=index)
        out.attrs["residual_scale"] = math.sqrt(disp)
        return out

    # ---- influence --------------------------------------------------------------------------
    def hatvalues(self) -> pd.Series:
        """Diagonal of the hat matrix of the last weighted least-squares step (lm.influence:
        rows with zero prior weight are left out, as R)."""
        return self._influence_series(self._hat())

    def _influence_series(self, v: np.ndarray) -> pd.Series:
        """lm.influence's rows: those with non-zero prior weight."""
        keep = self._core.prior_weights != 0
        s = self._series(v)
        return s if keep.all() else s[keep]

    def _rows_quadform(self, w: np.ndarray) -> np.ndarray | None:
        """w_i x_i' (R'R)^-1 x_i over the rows of the design when the fit went by the rows of
        a mostly-zero design (well conditioned, nothing aliased); None otherwise."""
        c = self._core
        p = self.rank
        if not (c.gram_steps > 0 and p == len(self.names)
                and np.array_equal(c.pivot[:p], np.arange(p))):
            return None
        rows = self.design.design_rows()
        if rows is None:
            return None
        M = np.asarray(_core.qr_cov_unscaled(np.asfortranarray(c.R), p), dtype=float)
        return np.asarray(_core.rows_hat(rows, M, np.ascontiguousarray(w, float)), dtype=float)

    def _hat(self) -> np.ndarray:
        c = self._core
        p = self.rank
        piv = c.pivot[:p]
        h = self._rows_quadform(c.working_weights)
        if h is not None:  # h_i = w_i x_i' (R'R)^-1 x_i over the rows' non-zeros
            h[h >= 1 - 10 * np.finfo(float).eps] = 1.0
            return h
        h = np.zeros(len(c.y))
        g = c.good
        X = self.design.model_matrix_array()
        Xw = X[g][:, piv] * np.sqrt(c.working_weights[g])[:, None]
        R = np.triu(c.R[:p, :p])
        Q = _solve_upper(R.T, Xw.T, lower=True).T
        h[g] = np.sum(Q ** 2, axis=1)
        h[h >= 1 - 10 * np.finfo(float).eps] = 1.0
        return h

    def _influence(self) -> dict:
        c = self._core
        h = self._hat()
        keep = c.prior_weights != 0
        dres = self._residuals("deviance")
        pres = self._residuals("pearson")
        e = dres[keep]
        hk = h[keep]
        n = len(e)
        denom = n - self.rank - 1
        s2 = np.sum(e ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            sig = np.where(hk < 1, np.sqrt((s2 - e ** 2 / (1 - hk)) / denom), np.sqrt(s2 / denom))
        sigma = np.full(len(h), np.nan)
        sigma[keep] = sig
        return {"hat": h, "dev_res": dres, "pear_res": pres, "sigma": sigma}

    def rstandard(self, type: str = "deviance") -> pd.Series:  # noqa: A002
        """r / sqrt(dispersion (1 - h)) with deviance (default) or Pearson residuals."""
        return self._influence_series(self._rstandard(self._influence(), type))

    def _rstandard(self, inf: dict, type: str = "deviance") -> np.ndarray:  # noqa: A002
        r = inf["pear_res"] if type == "pearson" else inf["dev_res"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = r / np.sqrt(self.dispersion() * (1 - inf["hat"]))
        out[np.isinf(out)] = np.nan
        return out

    def rstudent(self) -> pd.Series:
        """R's ``rstudent.glm``: sign(r_D) sqrt(r_D^2 + h r_P^2 / (1 - h)), divided by the
        leave-one-out sigma unless the family is binomial or poisson."""
        inf = self._influence()
        rd, rp, h = inf["dev_res"], inf["pear_res"], inf["hat"]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.sign(rd) * np.sqrt(rd ** 2 + (h * rp ** 2) / (1 - h))
        r[np.isinf(r)] = np.nan
        if self.family.family not in ("binomial", "poisson"):
            r = r / inf["sigma"]
        return self._influence_series(r)

    def cooks_distance(self) -> pd.Series:
        """(r_P / (1 - h))^2 h / (dispersion rank) (R's ``cooks.distance.glm``)."""
        return self._influence_series(self._cooks(self._influence()))

    def _cooks(self, inf: dict) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (inf["pear_res"] / (1 - inf["hat"])) ** 2 * inf["hat"] / (
                self.dispersion() * self.rank)

    # ---- anova ------------------------------------------------------------------------------
    def anova(self, *others: GLM, test: str | None = None,
              dispersion: float | None = None) -> AnovaTable:
        """R's ``anova.glm``: sequential deviance table (refitting term by term), or the
        comparison of nested fits; ``test`` None, "Chisq"/"LRT", "F" or "Rao"."""
        if test is not None and test not in ("Chisq", "LRT", "F", "Rao", "Cp"):
            raise ValueError("test must be one of 'Chisq', 'LRT', 'F', 'Rao', 'Cp'")
        if others:
            return _anova_glmlist([self, *others], test=test, dispersion=dispersion)
        return _anova_single(self, test=test, dispersion=dispersion)

    # ---- confidence intervals ---------------------------------------------------------------
    def confint_default(self, parm: Any = None, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals beta +- z_{(1+level)/2} se (R's ``confint.default``)."""
        a = (1 - level) / 2
        names = self._parm_names(parm)
        cf = self.coefficients[names]
        se = np.sqrt(np.diag(self.vcov().loc[names, names].to_numpy()))
        q = stats.norm.ppf([a, 1 - a])
        out = pd.DataFrame({_pct(a): cf.to_numpy() + q[0] * se,
                            _pct(1 - a): cf.to_numpy() + q[1] * se}, index=names)
        return out

    def _parm_names(self, parm: Any) -> list:
        if parm is None:
            return list(self.names)
        if isinstance(parm, str):
            parm = [parm]
        out = []
        for p in parm:
            out.append(self.names[p] if isinstance(p, (int, np.integer)) else p)
        return out

    def confint(self, parm: Any = None, level: float = 0.95) -> pd.DataFrame:
        """Profile-likelihood intervals as R 4.2.2's ``confint.glm`` (MASS ``profile.glm`` with
        alpha = (1 - level)/4, then ``confint.profile.glm``: an fmm spline of the signed root
        deviance against the parameter, inverted by linear interpolation at qnorm)."""
        names = self._parm_names(parm)
        return profile_confint(self, names, level)

    def _refit_profile(self, Xi: np.ndarray, Y: np.ndarray, W: np.ndarray, LP: np.ndarray,
                       o: np.ndarray) -> GlmCoreFit:
        """glm.fit(x = Xi, y = Y, weights = W, etastart = LP, offset = o) for profiling."""
        return glm_fit_matrix(Xi, Y, self.family, weights=W, offset=o, etastart=LP,
                              epsilon=self.control["epsilon"], maxit=self.control["maxit"],
                              has_offset=False)

    # ---- broom ------------------------------------------------------------------------------
    def tidy(self, conf_int: bool = False, conf_level: float = 0.95,
             exponentiate: bool = False) -> pd.DataFrame:
        """broom's ``tidy.glm``: term, estimate, std.error, statistic, p.value
        [, conf.low, conf.high (profile likelihood)]."""
        ct = self.coef_table()
        out = pd.DataFrame({"term": list(ct.index), "estimate": ct.iloc[:, 0].to_numpy(),
                            "std.error": ct.iloc[:, 1].to_numpy(),
                            "statistic": ct.iloc[:, 2].to_numpy(),
                            "p.value": ct.iloc[:, 3].to_numpy()})
        if conf_int:
            ci = self.confint(parm=list(ct.index), level=conf_level)
            out["conf.low"] = ci.iloc[:, 0].to_numpy()
            out["conf.high"] = ci.iloc[:, 1].to_numpy()
        if exponentiate:
            out["estimate"] = np.exp(out["estimate"])
            if conf_int:
                out["conf.low"] = np.exp(out["conf.low"])
                out["conf.high"] = np.exp(out["conf.high"])
        return out

    def glance(self) -> pd.DataFrame:
        """broom's ``glance.glm``: null.deviance, df.null, logLik, AIC, BIC, deviance,
        df.residual, nobs."""
        ll = self.logLik()
        quasi = self.family.is_quasi
        return pd.DataFrame({
            "null.deviance": [self.null_deviance], "df.null": [self.df_null_],
            "logLik": [np.nan if quasi else ll], "AIC": [np.nan if quasi else self.AIC()],
            "BIC": [np.nan if quasi else self.BIC()], "deviance": [self.deviance()],
            "df.residual": [self.df_residual_], "nobs": [self.nobs()]})

    def augment(self, newdata: pd.DataFrame | None = None, type_predict: str = "link",
                type_residuals: str = "deviance", se_fit: bool = False) -> pd.DataFrame:
        """broom's ``augment.glm``: the model frame (or newdata) with .fitted [, .se.fit] and,
        without newdata, .resid, .std.resid, .hat, .sigma, .cooksd."""
        if newdata is not None:
            out = newdata.reset_index(drop=True).copy()
            pr = self.predict(newdata, type=type_predict, se_fit=True)
            out[".fitted"] = pr["fit"].to_numpy()
            if se_fit:
                out[".se.fit"] = pr["se_fit"].to_numpy()
            return out
        frame = self.design.frame.copy()
        out = frame.reset_index(drop=True)
        d = self.design
        idx = d._index
        default_names = (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
                         and np.array_equal(d.kept, np.arange(len(d.kept))))
        if not default_names:
            rn = self.row_names
            if rn != [str(i + 1) for i in range(len(rn))]:
                out.insert(0, ".rownames", rn)
        pr = self.predict(type=type_predict, se_fit=se_fit)
        out[".fitted"] = pr["fit"].to_numpy() if se_fit else np.asarray(pr)
        if se_fit:
            out[".se.fit"] = pr["se_fit"].to_numpy()
        inf = self._influence()
        out[".resid"] = self._residuals(type_residuals)
        out[".std.resid"] = self._rstandard(
            inf, "pearson" if type_residuals == "pearson" else "deviance")
        out[".hat"] = inf["hat"]
        out[".sigma"] = inf["sigma"]
        out[".cooksd"] = self._cooks(inf)
        return out


def _pct(a: float) -> str:
    v = round(100 * a, 1)
    s = f"{v:.15g}"
    return f"{s} %"


def _solve_upper(R: np.ndarray, B: np.ndarray, lower: bool = False) -> np.ndarray:
    from scipy.linalg import solve_triangular
    if R.shape[0] == 0:
        return np.zeros((0,) + B.shape[1:])
    return solve_triangular(R, B, lower=lower)


# ---------------------------------------------------------------------------------------------
# summary.glm


class GLMSummary:
    """R's ``summary.glm`` object; ``str()`` is ``print(summary(fit))`` of R 4.2.2."""

    def __init__(self, fit: GLM) -> None:
        self.fit = fit
        self.coefficients = fit.coef_table()
        self.dispersion = fit.dispersion()
        self.aliased = pd.Series(fit._aliased(), index=fit.names)
        self.deviance_resid = fit._pad(fit._residuals("deviance"))
        self.df = (fit.rank, fit.df_residual_, len(fit.names))
        self.null_deviance = fit.null_deviance
        self.deviance = fit.deviance()
        self.df_null = fit.df_null_
        self.df_residual = fit.df_residual_
        self.aic = fit.aic
        self.iter = fit.iter
        if not fit.family.fixed_dispersion and fit.df_residual_ > 0 and np.any(
                fit._core.working_weights == 0):
            warnings.warn("observations with zero weight not used for calculating dispersion",
                          RModelsWarning, stacklevel=3)

    @property
    def cov_unscaled(self) -> pd.DataFrame:
        return self.fit.vcov(complete=False) / self.dispersion

    @property
    def cov_scaled(self) -> pd.DataFrame:
        return self.fit.vcov(complete=False)

    def __str__(self) -> str:
        fit = self.fit
        out = f"\nCall:\n{fit.call}\n\n"
        out += "Deviance Residuals: \n"
        r = self.deviance_resid
        r = r[~np.isnan(r)]
        if self.df_residual > 5:
            vals = rf.quantile7(r)
            names = ["Min", "1Q", "Median", "3Q", "Max"]
        else:
            vals = r
            names = fit._padded_names()
            vals = self.deviance_resid
        xx = rf.zapsmall(np.asarray(vals, float), 5)
        if self.df_residual == 0:
            # residuals.glm gives an unnamed rep.int(0, n) when no residual df are left
            out += rf.print_vector(xx, digits=4, gap=2)
        else:
            out += rf.print_named_vector(xx, names, digits=4, gap=2)
        if len(self.aliased) == 0:
            out += "\nNo Coefficients\n"
        else:
            nsing = self.df[2] - self.df[0]
            if nsing:
                out += f"\nCoefficients: ({nsing} not defined because of singularities)\n"
            else:
                out += "\nCoefficients:\n"
            ct = self.coefficients
            table = np.full((len(fit.names), 4), rf.NA_REAL)
            nonal = ~self.aliased.to_numpy()
            table[nonal] = ct.to_numpy()
            obj = table.astype(object)
            out += rf.print_coefmat(obj, list(ct.columns), list(fit.names), digits=4,
                                    na_print="NA", nan_is_na=False)
        out += (f"\n(Dispersion parameter for {fit.family.family} family taken to be "
                f"{rf.format_num([self.dispersion], nan_is_na=False)[0]})\n\n")
        labels = rf.format_str(["Null", "Residual"], justify="right")
        devs = rf.format_num([self.null_deviance, self.deviance], digits=5)
        dfs = rf.format_num([float(self.df_null), float(self.df_residual)])
        for lab, dv, df in zip(labels, devs, dfs):
            out += f"{lab} deviance: {dv}  on {df}  degrees of freedom\n"
        mess = fit._naprint()
        if mess:
            out += f"  ({mess})\n"
        out += f"AIC: {rf.format_num([self.aic], digits=5)[0]}\n\n"
        out += f"Number of Fisher Scoring iterations: {self.iter}\n\n"
        return out

    __repr__ = __str__


# ---------------------------------------------------------------------------------------------
# anova.glm


class NegBinAnova(AnovaTable):
    """MASS's likelihood-ratio table of negative binomial fits; ``str()`` is print.Anova
    (format.data.frame, NA cells blank, print.data.frame)."""

    @property
    def _constructor(self):
        return NegBinAnova

    def __str__(self) -> str:
        cols = []
        for c in self.columns:
            v = self[c]
            if not pd.api.types.is_numeric_dtype(v.dtype):
                cols.append([str(x) for x in v])
            else:
                arr = v.to_numpy(float)
                txt = rf.format_num(arr, digits=7)
                cols.append(["" if np.isnan(a) else t for a, t in zip(arr, txt)])
        cells = np.array(cols, dtype=object).T
        head = "".join(h + "\n" for h in getattr(self, "heading", []))
        return head + rf.print_matrix(cells, list(self.index), list(self.columns), right=True)


def _refit_columns(fit: GLM, cols: np.ndarray, emit: bool = True) -> GlmCoreFit:
    """glm.fit on a subset of the model matrix columns with the fit's y (after initialize),
    prior weights, offset and control (as anova.glm)."""
    X = fit.design.model_matrix_array()[:, cols]
    return glm_fit_matrix(X, fit._core.y, fit.family, weights=fit._core.prior_weights,
                          offset=fit._offset, epsilon=fit.control["epsilon"],
                          maxit=fit.control["maxit"], intercept=True, has_offset=False,
                          emit=emit)


def _lsfit_score(X: np.ndarray, r: np.ndarray, w: np.ndarray, intercept: bool) -> float:
    """null.deviance - deviance of the gaussian glm.fit of r on X with weights w (the Rao
    score statistic of anova.glm)."""
    core = glm_fit_matrix(X, r, "gaussian", weights=w, intercept=intercept, emit=False)
    return core.null_deviance - core.deviance


def _anova_single(fit: GLM, test: str | None, dispersion: float | None) -> AnovaTable:
    assign = np.asarray(fit.design.assign)
    nvars = int(assign.max()) if len(assign) else 0
    resdev: list = []
    resdf: list = []
    doscore = test == "Rao"
    score = np.zeros(nvars)
    icpt = fit.design.intercept
    if doscore:
        fit0 = _refit_columns(fit, np.flatnonzero(assign == 0))
        r, w = fit0.working_residuals, fit0.working_weights
    if nvars > 1 or doscore:
        for i in range(1, max(nvars - 1, 0) + 1):
            sub = _refit_columns(fit, np.flatnonzero(assign <= i))
            if doscore:
                Xi = fit.design.model_matrix_array()[:, assign <= i]
                score[i - 1] = _lsfit_score(Xi, r, w, icpt)
                r, w = sub.working_residuals, sub.working_weights
            resdev.append(sub.deviance)
            resdf.append(fit.n_ok - sub.rank)
        if doscore:
            score[nvars - 1] = _lsfit_score(fit.design.model_matrix_array(), r, w, icpt)
    resdf = [fit.df_null_] + resdf + [fit.df_residual_]
    resdev = [fit.null_deviance] + resdev + [fit.deviance()]
    df = [np.nan] + [float(resdf[i] - resdf[i + 1]) for i in range(len(resdf) - 1)]
    dev = [np.nan] + [max(0.0, resdev[i] - resdev[i + 1]) for i in range(len(resdev) - 1)]
    tl = list(fit.design.term_labels)
    table = pd.DataFrame({"Df": df, "Deviance": dev, "Resid. Df": np.asarray(resdf, float),
                          "Resid. Dev": resdev}, index=["NULL"] + tl)
    if not tl:
        table = table.iloc[:1]
    if doscore:
        table["Rao"] = [np.nan] + list(score)
    title = ("Analysis of Deviance Table\n\nModel: " + fit.family.family + ", link: "
             + fit.family.link + "\n\nResponse: " + str(fit.design.response_name)
             + "\n\nTerms added sequentially (first to last)\n\n")
    df_disp = math.inf
    if dispersion is None:
        dispersion = fit.dispersion()
        df_disp = math.inf if dispersion == 1 else fit.df_residual_
    if test is not None:
        if test == "F" and df_disp == math.inf:
            fam = fit.family.family
            if fam in ("binomial", "poisson"):
                warnings.warn(f"using F test with a '{fam}' family is inappropriate",
                              RModelsWarning, stacklevel=3)
            else:
                warnings.warn("using F test with a fixed dispersion is inappropriate",
                              RModelsWarning, stacklevel=3)
        table = _stat_anova(table, test, dispersion, df_disp, len(fit._core.y))
    out = AnovaTable(table)
    out.heading = [title]
    return out


def _stat_anova(table: pd.DataFrame, test: str, scale: float, df_scale: float,
                n: int) -> pd.DataFrame:
    table = table.copy()
    dfs = table["Df"].to_numpy(float)
    if test in ("Rao", "LRT", "Chisq"):
        col = "Rao" if test == "Rao" else "Deviance"
        with np.errstate(invalid="ignore"):
            vals = table[col].to_numpy(float) / scale * np.sign(dfs)
        vals[dfs == 0] = np.nan
        vals[~np.isnan(vals) & (vals < 0)] = np.nan
        table["Pr(>Chi)"] = stats.chi2.sf(vals, np.abs(dfs))
    elif test == "F":
        with np.errstate(invalid="ignore", divide="ignore"):
            fv = (table["Deviance"].to_numpy(float) / dfs) / scale
        fv[dfs == 0] = np.nan
        fv[~np.isnan(fv) & (fv < 0)] = np.nan
        table["F"] = fv
        table["Pr(>F)"] = stats.f.sf(fv, np.abs(dfs), df_scale) if np.isfinite(df_scale) \
            else stats.chi2.sf(fv * np.abs(dfs), np.abs(dfs))
    elif test == "Cp":
        table["Cp"] = table["Resid. Dev"] + 2 * scale * (n - table["Resid. Df"])
    return table


def _anova_glmlist(fits: list, test: str | None, dispersion: float | None) -> AnovaTable:
    resp = [f.design.response_name for f in fits]
    keep = [f for f, r in zip(fits, resp) if r == resp[0]]
    if len(keep) < len(fits):
        warnings.warn("models with response removed because response differs from model 1",
                      RModelsWarning, stacklevel=3)
    fits = keep
    ns = {len(f._core.y) for f in fits}
    if len(ns) > 1:
        raise FitError("models were not all fitted to the same size of dataset")
    if len(fits) == 1:
        return _anova_single(fits[0], test, dispersion)
    resdf = np.array([f.df_residual_ for f in fits], float)
    resdev = np.array([f.deviance() for f in fits], float)
    table = pd.DataFrame({"Resid. Df": resdf, "Resid. Dev": resdev,
                          "Df": np.concatenate([[np.nan], -np.diff(resdf)]),
                          "Deviance": np.concatenate([[np.nan], -np.diff(resdev)])},
                         index=[str(i + 1) for i in range(len(fits))])
    if test == "Rao":
        score = [np.nan]
        dfd = -np.diff(resdf)
        for i in range(len(fits) - 1):
            m1, m2 = (fits[i], fits[i + 1]) if dfd[i] > 0 else (fits[i + 1], fits[i])
            s = _lsfit_score(m2.design.model_matrix_array(), m1._core.working_residuals,
                             m1._core.working_weights, m1.design.intercept)
            score.append(s if dfd[i] >= 0 else -s)
        table["Rao"] = score
    variables = [f.design.formula_text if getattr(f.design, "formula_text", "") else f.formula
                 for f in fits]
    nums = rf.format_int(list(range(1, len(fits) + 1)))
    topnote = "\n".join(f"Model {k}: {v}" for k, v in zip(nums, variables))
    if test is not None:
        big = fits[int(np.argsort(resdf, kind="stable")[0])]
        disp = big.dispersion() if dispersion is None else dispersion
        df_disp = math.inf if disp == 1 else float(np.min(resdf))
        if test == "F" and df_disp == math.inf:
            fam = big.family.family
            if fam in ("binomial", "poisson"):
                warnings.warn(f"using F test with a '{fam}' family is inappropriate",
                              RModelsWarning, stacklevel=3)
            else:
                warnings.warn("using F test with a fixed dispersion is inappropriate",
                              RModelsWarning, stacklevel=3)
        table = _stat_anova(table, test, disp, df_disp, len(big._core.y))
    out = AnovaTable(table)
    out.heading = ["Analysis of Deviance Table\n", topnote]
    return out


# ---------------------------------------------------------------------------------------------
# Profile likelihood intervals (MASS 7.3-58 profile.glm + confint.profile.glm)


def profile_glm(fit: GLM, names: Sequence[str], alpha: float = 0.01,
                maxsteps: int = 10) -> dict:
    """MASS's ``profile.glm``: for each coefficient j, beta_j is fixed at
    beta_hat_j + s k (zmax/5) se_j (s = -1, +1; k = 1, 2, ... while k < maxsteps and |z| < zmax)
    through the offset, the other coefficients are refitted by glm.fit (started at the previous
    linear predictor), and z = s sqrt((dev - dev_hat) / dispersion) is recorded.
    zmax = sqrt(qchisq(1 - alpha, 1)) for binomial/poisson, sqrt(qf(1 - alpha, 1, n - p))
    otherwise. Returns {name: (z sorted, parameter values (rows) in the same order)}."""
    B0 = fit._core.coefficients
    nonA = ~np.isnan(B0)
    p = len(B0)
    ct = fit.coef_table()
    X = fit.design.model_matrix_array()
    Y = fit._Y
    n = Y.shape[0]
    O = fit._offset
    W = fit._raw_weights
    dev0 = fit.deviance()
    disp = fit.dispersion()
    if fit.family.family in ("binomial", "poisson", "Negative Binomial"):
        zmax = math.sqrt(stats.chi2.ppf(1 - alpha, 1))
    else:
        zmax = math.sqrt(stats.f.ppf(1 - alpha, 1, n - p))
    delta = zmax / 5
    out = {}
    B0z = np.where(nonA, B0, 0.0)
    for name in names:
        i = fit.names.index(name)
        if not nonA[i]:
            continue
        zi = [0.0]
        pvi = [B0.copy()]
        a = nonA.copy()
        a[i] = False
        Xi = X[:, a]
        se = float(ct.loc[name, "Std. Error"])
        for sgn in (-1.0, 1.0):
            step = 0
            z = 0.0
            LP = X[:, nonA] @ B0z[nonA] + O
            while (step + 1) < maxsteps and abs(z) < zmax:
                step += 1
                bi = B0[i] + sgn * step * delta * se
                o = O + X[:, i] * bi
                fm = fit._refit_profile(Xi, Y, W, LP, o)
                cf = fm.coefficients
                LP = Xi @ cf + o
                ri = B0.copy()
                ri[np.flatnonzero(a)] = cf
                ri[i] = bi
                pvi.append(ri)
                zz = (fm.deviance - dev0) / disp
                if zz > -0.001:
                    zz = max(zz, 0.0)
                else:
                    raise FitError("profiling has found a better solution, so original fit had "
                                   "not converged")
                z = sgn * math.sqrt(zz)
                zi.append(z)
        order = np.argsort(np.asarray(zi), kind="stable")
        out[name] = (np.asarray(zi)[order], np.asarray(pvi)[order])
    return out


def _fmm_spline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients b, c, d of the Forsythe-Malcolm-Moler interpolating cubic spline (end
    conditions matching third derivatives of cubics through the end points), as R's
    ``spline(method = "fmm")``: s(u) = y_i + b_i t + c_i t^2 + d_i t^3, t = u - x_i."""
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        raise FitError("need at least two points for a spline")
    if n < 3:
        t = (y[1] - y[0])
        b[0] = t / (x[1] - x[0])
        b[1] = b[0]
        return b, c, d
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, n - 1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[n - 1] = -d[n - 2]
    c[0] = c[n - 1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[n - 1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[n - 1] = -c[n - 1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[n - 1] = c[n - 1] / b[n - 1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[n - 1] = (y[n - 1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[n - 1])
    for i in range(n - 1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[n - 1] = 3.0 * c[n - 1]
    d[n - 1] = d[n - 2]
    return b, c, d


def _regularize(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's regularize.values(ties = mean): sort by x, average y over tied x."""
    order = np.argsort(x, kind="stable")
    x = x[order]
    y = y[order]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) == len(x):
        return x, y
    sums = np.zeros(len(ux))
    np.add.at(sums, inv, y)
    counts = np.bincount(inv)
    return ux, sums / counts


def r_spline(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``spline(x, y)`` (fmm, n = 3 * number of distinct x, equally spaced over range x)."""
    x, y = _regularize(np.asarray(x, float), np.asarray(y, float))
    nx = len(x)
    n = 3 * nx
    lo, hi = x[0], x[-1]
    xout = np.empty(n)
    xout[0] = lo
    xout[-1] = hi
    if n > 2:
        by = (hi - lo) / (n - 1)
        for k in range(1, n - 1):
            xout[k] = lo + k * by if k < n // 2 else hi - (n - 1 - k) * by
    b, c, d = _fmm_spline(x, y)
    idx = np.clip(np.searchsorted(x, xout, side="right") - 1, 0, nx - 1)
    dx = xout - x[idx]
    yout = y[idx] + dx * (b[idx] + dx * (c[idx] + dx * d[idx]))
    return xout, yout


def r_approx(x: np.ndarray, y: np.ndarray, xout: np.ndarray) -> np.ndarray:
    """R's ``approx(x, y, xout)`` (linear, rule = 1: NA outside the range, ties = mean)."""
    x, y = _regularize(np.asarray(x, float), np.asarray(y, float))
    out = np.full(len(xout), np.nan)
    for k, v in enumerate(xout):
        if not (x[0] <= v <= x[-1]):
            continue
        j = int(np.searchsorted(x, v, side="left"))
        if x[j] == v:
            out[k] = y[j]
            continue
        i = j - 1
        out[k] = y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]))
    return out


def profile_confint(fit: GLM, names: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """``confint.profile.glm`` on ``profile_glm(alpha = (1 - level) / 4)``."""
    a = (1 - level) / 2
    cutoff = stats.norm.ppf([a, 1 - a])
    prof = profile_glm(fit, names, alpha=(1 - level) / 4)
    rows = []
    for name in names:
        if name not in prof:
            rows.append([np.nan, np.nan])
            continue
        z, pv = prof[name]
        j = fit.names.index(name)
        sx, sy = r_spline(pv[:, j], z)
        rows.append(list(r_approx(sy, sx, cutoff)))
    return pd.DataFrame(rows, index=list(names), columns=[_pct(a), _pct(1 - a)])


# ---------------------------------------------------------------------------------------------
# MASS::glm.nb


def _nb_loglik(th: float, mu: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Negative binomial log-likelihood of glm.nb: sum w (lgamma(th + y) - lgamma(th)
    - lgamma(y + 1) + th log th + y log(mu + (y == 0)) - (th + y) log(th + mu))."""
    from scipy.special import gammaln
    return float(np.sum(w * (gammaln(th + y) - gammaln(th) - gammaln(y + 1) + th * math.log(th)
                             + y * np.log(mu + (y == 0)) - (th + y) * np.log(th + mu))))


def theta_ml(y: np.ndarray, mu: np.ndarray, n: float, w: np.ndarray, limit: int = 10,
             eps: float = np.finfo(float).eps ** 0.25) -> tuple[float, float, list[str]]:
    """MASS's ``theta.ml``: Newton-Raphson on the score of theta, started at
    n / sum(w (y/mu - 1)^2); returns (theta, SE = 1/sqrt(information), warnings)."""
    from scipy.special import digamma, polygamma

    def score(th: float) -> float:
        return float(np.sum(w * (digamma(th + y) - digamma(th) + math.log(th) + 1
                                 - np.log(th + mu) - (y + th) / (mu + th))))

    def info(th: float) -> float:
        return float(np.sum(w * (-polygamma(1, th + y) + polygamma(1, th) - 1 / th
                                 + 2 / (mu + th) - (y + th) / (mu + th) ** 2)))

    t0 = n / float(np.sum(w * (y / mu - 1) ** 2))
    it = 0
    delta = 1.0
    i = float("nan")
    msgs: list[str] = []
    while True:
        it += 1
        if not (it < limit and abs(delta) > eps):
            break
        t0 = abs(t0)
        i = info(t0)
        delta = score(t0) / i
        t0 = t0 + delta
    if t0 < 0:
        t0 = 0.0
        msgs.append("estimate truncated at zero")
    if it == limit:
        msgs.append("iteration limit reached")
    return t0, math.sqrt(1 / i), msgs


def glm_nb(formula: str, data: pd.DataFrame, weights: Any = None, subset: Any = None,
           na_action: str = "omit", start: Sequence[float] | None = None, etastart: Any = None,
           mustart: Any = None, control: dict | None = None, init_theta: float | None = None,
           link: str | None = None, *, data_name: str = "data") -> NegBinGLM:
    """Negative binomial GLM as MASS's ``glm.nb``: a Poisson (or ``init_theta``) fit, then
    alternate theta by ``theta.ml`` (at the previous means) and IRLS with
    ``negative.binomial(theta)`` until |Lm0 - Lm|/d1 + |dtheta|/d2 <= epsilon
    (d1 = sqrt(2 max(1, df.residual)), d2 = 1), at most ``maxit`` alternations."""
    from ...design import build_design
    from ...models import negative_binomial
    from ...models import poisson as poisson_family

    link_given = link is not None
    link = "log" if link is None else link
    ctrl = {"epsilon": 1e-8, "maxit": 25}
    if control:
        ctrl.update({k: v for k, v in control.items() if k in ("epsilon", "maxit")})
    d = build_design(formula, data, subset=subset, weights=weights, na_action=na_action)
    if d.y is None or np.asarray(d.y).ndim != 1 or d.y_factor is not None:
        raise DataError("glm.nb needs a numeric response")
    Y = np.asarray(d.y, float)
    n = len(Y)
    w = np.ones(n) if d.weights is None else np.asarray(d.weights, float)
    if np.any(w < 0):
        raise DataError("negative weights not allowed")
    starts = {}
    for key, v in (("etastart", etastart), ("mustart", mustart)):
        if v is not None:
            arr = np.asarray(data[v] if isinstance(v, str) else v, dtype=float)
            starts[key] = arr[d.kept] if len(arr) == len(data) else arr
    fam0 = poisson_family(link) if init_theta is None else negative_binomial(init_theta, link)
    eps, maxit = ctrl["epsilon"], ctrl["maxit"]
    common = {"weights": w, "offset": d.offset, "epsilon": eps, "maxit": maxit,
              "intercept": d.intercept, "has_offset": False}
    msgs: list[tuple[type, str]] = []
    fit = glm_fit_matrix(d.X, Y, fam0, start=None if start is None else np.asarray(start, float),
                         etastart=starts.get("etastart"), mustart=starts.get("mustart"),
                         emit=False, **common)
    msgs += fit.classified_warnings()
    n_ok = int(n - np.sum(fit.prior_weights == 0))
    mu = fit.fitted
    th, se_th, tw = theta_ml(Y, mu, float(np.sum(w)), w, limit=maxit)
    msgs += [(RModelsWarning, m) for m in tw]
    fam = negative_binomial(th, link)
    fam_fit = fam0
    it = 0
    d1 = math.sqrt(2 * max(1, n_ok - fit.rank))
    d2 = delta = 1.0
    Lm = _nb_loglik(th, mu, Y, w)
    Lm0 = Lm + 2 * d1
    while True:
        it += 1
        if not (it <= maxit and (abs(Lm0 - Lm) / d1 + abs(delta) / d2) > eps):
            break
        eta = fam.linkfun(mu)
        fit = glm_fit_matrix(d.X, Y, fam, etastart=eta, emit=False, **common)
        msgs += fit.classified_warnings()
        fam_fit = fam
        t0 = th
        th, se_th, tw = theta_ml(Y, mu, float(np.sum(w)), w, limit=maxit)
        msgs += [(RModelsWarning, m) for m in tw]
        fam = negative_binomial(th, link)
        mu = fit.fitted
        delta = t0 - th
        Lm0 = Lm
        Lm = _nb_loglik(th, mu, Y, w)
    th_warn = tw[-1] if tw else None
    if it > maxit:
        msgs.append((RModelsWarning, "alternation limit reached"))
        th_warn = "alternation limit reached"
    if d.offset is not None and d.intercept:
        icol = d.columns.index("(Intercept)")
        nul = glm_fit_matrix(d.X[:, [icol]], Y, fam, emit=False, **common)
        msgs += nul.classified_warnings()
        fit.null_deviance = nul.deviance
    _emit(msgs, stacklevel=2)
    formula_text = getattr(d, "formula_text", "") or formula
    args: list[tuple[str, str]] = [("formula", formula_text), ("data", data_name)]
    if isinstance(weights, str):
        args.append(("weights", weights))
    # glm.nb sets Call$init.theta (appended) then Call$link (in place when the user gave it).
    theta_arg = ("init.theta", f"{float(rf.signif(th, 10)):.15g}")
    args += [("link", link), theta_arg] if link_given else [theta_arg, ("link", link)]
    call = deparse_call_text("glm.nb", args)
    out = NegBinGLM(core=fit, design=d, family=fam_fit, Y=Y[:, None], raw_weights=w,
                    control=ctrl, call=call, data=data, formula=formula)
    out.theta = float(th)
    out.SE_theta = float(se_th)
    out.twologlik = 2 * Lm
    out.th_warn = th_warn
    out.aic = -out.twologlik + 2 * fit.rank + 2
    return out


class NegBinGLM(GLM):
    """A ``glm.nb`` fit (R class ``negbin``): theta, SE_theta, twologlik; logLik = twologlik/2
    with rank + 1 degrees of freedom; summary with dispersion 1 and the theta lines."""

    theta: float
    SE_theta: float
    twologlik: float
    th_warn: str | None

    def logLik(self) -> float:  # noqa: N802
        """MASS's ``logLik.negbin``: twologlik / 2 with df = rank + 1."""
        return self._loglik_object(self.twologlik / 2)

    def loglik_df(self) -> int:
        return self.rank + 1

    def summary(self) -> NegBinSummary:
        return NegBinSummary(self)

    def anova(self, *others: GLM, test: str | None = "Chisq",  # type: ignore[override]
              dispersion: float | None = None) -> AnovaTable:
        """MASS's ``anova.negbin``: one model → anova.glm with theta held fixed (warning
        "tests made without re-estimating 'theta'", Chisq test by default); several →
        likelihood-ratio tests of the models ordered by decreasing residual df (columns Model,
        theta, Resid. df, 2 x log-lik., Test, df, LR stat., Pr(Chi))."""
        if not others:
            warnings.warn("tests made without re-estimating 'theta'", RModelsWarning,
                          stacklevel=2)
            return super().anova(test=test, dispersion=dispersion)
        if test != "Chisq":
            warnings.warn("only Chi-squared LR tests are implemented", RModelsWarning,
                          stacklevel=2)
        fits = [self, *others]
        if not all(isinstance(f, NegBinGLM) for f in fits):
            raise FitError('not all objects are of class "negbin"')
        order = np.argsort([-f.df_residual_ for f in fits], kind="stable")
        fits = [fits[k] for k in order]
        nt = len(fits)
        dfs = np.array([f.df_residual_ for f in fits], float)
        lls = np.array([f.twologlik for f in fits])
        df = np.concatenate([[np.nan], -np.diff(dfs)])
        x2 = np.concatenate([[np.nan], np.diff(lls)])
        pr = np.concatenate([[np.nan], 1 - stats.chi2.cdf(x2[1:], df[1:])])
        models = [str(f.design.formula_text).split(" ~ ", 1)[-1] for f in fits]
        tests = [""] + [f"{k} vs {k + 1}" for k in range(1, nt)]
        out = NegBinAnova({"Model": models, "theta": [f.theta for f in fits],
                          "Resid. df": dfs, "   2 x log-lik.": lls, "Test": tests,
                          "   df": df, "LR stat.": x2, "Pr(Chi)": pr},
                         index=[str(k + 1) for k in range(nt)])
        out.heading = ["Likelihood ratio tests of Negative Binomial Models\n",
                       f"Response: {self.design.response_name}"]
        return out


class NegBinSummary(GLMSummary):
    """``summary.negbin``: summary.glm's text, then Theta, its standard error and
    2 x log-likelihood."""

    def __str__(self) -> str:
        fit = self.fit
        out = super().__str__()
        dp = max(2 - math.floor(math.log10(fit.SE_theta)), 0)
        th = rf.format_num([rf.round_r(fit.theta, dp)], nsmall=dp)[0]
        se = rf.format_num([rf.round_r(fit.SE_theta, dp)], nsmall=dp)[0]
        out += f"\n              Theta:  {th} \n          Std. Err.:  {se} \n"
        if fit.th_warn is not None:
            out += f"Warning while fitting theta: {fit.th_warn} \n"
        ll = rf.format_num([rf.round_r(fit.twologlik, 3)], nsmall=dp)[0]
        out += f"\n 2 x log-likelihood:  {ll} \n"
        return out

    __repr__ = __str__
