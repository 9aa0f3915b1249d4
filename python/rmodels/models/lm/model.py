"""The fitted linear model :class:`LM` (R's ``"lm"`` / ``"mlm"`` object): its state, R's
accessors, and methods named as R's generics, which call the functions of this package
(:mod:`.summary`, :mod:`.covariance`, :mod:`.predict`, :mod:`.influence`, :mod:`.anova`,
:mod:`.broom`).

Notation used in the docstrings: n rows in the fit, of which N have a non-zero prior weight w;
X the model matrix, p its number of columns, r the rank found by the QR (aliased columns have
``NaN`` coefficients, R's ``NA``); e = y − ŷ the residuals (ŷ includes the offset);
RSS = Σ w e², rdf = N − r, σ̂² = RSS / rdf.

Per-row results are pandas objects on the data's own index labels (the fit contract's
:class:`~rmodels.models.contract.RowLabels`); R's row names stay in printouts and broom's
``.rownames``.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import FitError, PerfectFitWarning
from ...formula import ast as A
from ...formula.call import call_lines, deparse_call, deparse_formula_lines
from ...frame import optional_data_frame
from ...printing.html import fit_html, printout_html
from ..contract import AnovaTable, LogLik, RowLabels, named_vector
from . import influence as infl
from .anova import anova_lm, anova_lmlist
from .broom import augment_lm, glance_lm, tidy_lm
from .covariance import confint_lm, vcov_lm, vcov_mlm
from .predict import predict_lm
from .summary import LMSummary, MLMSummary, SummaryStats, summary_stats
from .wfit import LmArrays, WeightedQR

__all__ = ["LM"]


class LM:
    """A fitted linear model (R's ``"lm"``, or ``"mlm"`` for a ``cbind(...)`` response).

    Built by :func:`~rmodels.models.lm.lm` from a design, the kernel's result dict and the
    arguments of the printed call (``offset_arg``: the ``offset=`` argument, re-evaluated on
    new data when it is a column name). Attributes: ``rank``, ``pivot`` (0-based),
    ``qr``/``qraux`` (compact QR of sqrt(w) X on the N rows with non-zero weight; for large
    tall designs ``qr`` and the effects below row p are computed on first use), ``effects``,
    ``assign``, ``call``, ``formula``, ``design``; ``arrays`` (:class:`~.wfit.LmArrays`, the
    fit's result arrays) and ``row_labels`` (the data's rows behind per-row results).
    """

    def __init__(self, design: Any, fit: dict, call_args: list, tol: float = 1e-7,
                 offset_arg: Any = None):
        self.design = design
        self.call_args = list(call_args)
        self.tol = tol
        self.offset_arg = offset_arg
        self.data: Any = None  # the data frame of the call (set by lm(); a reference)
        self.coef_names = list(design.columns)
        self.assign = np.asarray(design.assign, dtype=np.int64)
        self.intercept = bool(design.intercept)
        self.term_labels = list(design.term_labels)
        self.is_mlm = design.y.ndim == 2
        self.response_name = design.response_name
        self.response_names = self._response_names(design)
        w = None if design.weights is None else np.asarray(design.weights, float)
        off = None if design.offset is None else np.asarray(design.offset, float)
        qr = WeightedQR(fit, not self.is_mlm, design.design_rows)
        self.arrays = LmArrays(fit, w, off, qr)
        self.na_action = design.na_action
        self.row_labels = RowLabels.from_design(design)
        self._cache: dict = {}

    def _response_names(self, design: Any) -> list:
        if not self.is_mlm:
            return [design.response_name]
        cols = design.response_columns
        k = design.y.shape[1]
        return list(cols) if cols and all(cols) else [f"Y{j + 1}" for j in range(k)]

    # -- R's components ----------------------------------------------------------------------

    @property
    def rank(self) -> int:
        return self.arrays.qr.rank

    @property
    def pivot(self) -> np.ndarray:
        return self.arrays.qr.pivot

    @property
    def qraux(self) -> np.ndarray:
        return self.arrays.qr.qraux

    @property
    def qr(self) -> np.ndarray:
        """R's ``fit$qr$qr``: the compact QR factor (N, p) of sqrt(w) X, pivoted columns (see
        :attr:`WeightedQR.factor`)."""
        return self.arrays.qr.factor

    @property
    def effects(self) -> Union[pd.Series, pd.DataFrame]:
        """R's ``fit$effects``: Q' sqrt(w)(y − offset), the first r named after the pivoted
        columns, the rest unnamed."""
        names = [self.coef_names[j] for j in self.pivot[: self.rank]]
        eff = self.arrays.qr.effects
        names += [""] * (eff.shape[0] - self.rank)
        if eff.ndim == 2:
            return pd.DataFrame(eff, index=pd.Index(names),
                                columns=pd.Index(self.response_names))
        return named_vector(eff, names)

    @property
    def call(self) -> str:
        """R's deparsed call, ``lm(formula = y ~ x, data = d, ...)`` (lines joined)."""
        return "\n".join(self._call_lines())

    def _call_lines(self) -> list:
        if "call" not in self._cache:
            text = self.design.terms.formula.text
            self._cache["call"] = deparse_call("lm", text, self.call_args)
        return self._cache["call"]

    @property
    def formula(self) -> str:
        """``deparse(formula(fit))``: the formula with ``.`` expanded."""
        return "\n".join(deparse_formula_lines(self.design.terms.formula))

    @property
    def row_names(self) -> list:
        """R's row names of the rows in the fit (the design builds them on first use)."""
        return self.design.row_names

    # -- per-row results (on the data's index; NaN-padded under na_action="exclude") --------

    def _per_row(self, values: np.ndarray) -> Union[pd.Series, pd.DataFrame]:
        return self.row_labels.naresid(values, columns=self.response_names
                                       if values.ndim == 2 else None)

    def fitted(self) -> Union[pd.Series, pd.DataFrame]:
        """Fitted values ŷ = Xβ̂ + offset (R's ``fitted``)."""
        return self._per_row(self.arrays.fitted_values)

    fitted_values = fitted

    def residuals(self, type: str = "response") -> Union[pd.Series, pd.DataFrame]:
        """R's ``residuals.lm``: ``"response"``/``"working"`` e = y − ŷ; ``"deviance"``/
        ``"pearson"`` sqrt(w)·e."""
        if type in ("response", "working"):
            return self._per_row(self.arrays.residuals)
        if type in ("deviance", "pearson"):
            return self._per_row(self.arrays.weighted(self.arrays.residuals))
        raise ValueError("type must be one of 'response', 'working', 'deviance', 'pearson'")

    resid = residuals

    def weights(self) -> Optional[pd.Series]:
        """Prior weights (None when the fit is unweighted), R's ``weights(fit)``."""
        w = self.arrays.weights
        return None if w is None else self._per_row(w)

    # -- scalars -----------------------------------------------------------------------------

    def coef(self) -> Union[pd.Series, pd.DataFrame]:
        """Coefficients named as R names them; aliased ones are NaN (R's ``NA``). For a
        multi-response fit a DataFrame (coefficients × responses)."""
        if self.is_mlm:
            return pd.DataFrame(self.arrays.coefficients, index=pd.Index(self.coef_names),
                                columns=pd.Index(self.response_names))
        return named_vector(self.arrays.coefficients, self.coef_names)

    coefficients = coef

    def df_residual(self) -> int:
        """Residual degrees of freedom N − r."""
        return self.arrays.df_residual

    def nobs(self) -> int:
        """Number of observations with non-zero weight (R's ``nobs.lm``)."""
        return int(self.arrays.used.sum())

    def model_matrix(self) -> pd.DataFrame:
        """R's ``model.matrix(fit)`` (R's row names)."""
        return pd.DataFrame(self.design.model_matrix_array(), columns=pd.Index(self.coef_names),
                            index=pd.Index(self.row_names))

    def model_frame(self) -> pd.DataFrame:
        """R's ``model.frame(fit)``."""
        return self.design.frame

    def deviance(self) -> Union[float, pd.Series]:
        """RSS = Σ w e² (R's ``deviance.lm``)."""
        rss = self.arrays.rss()
        return pd.Series(rss, index=pd.Index(self.response_names)) if self.is_mlm \
            else float(rss)

    def sigma(self) -> Union[float, pd.Series]:
        """Residual standard error sqrt(RSS / (N − r)) (R's ``sigma``)."""
        rdf = np.float64(self.arrays.df_residual)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.is_mlm:
                # R's sigma.mlm uses the unweighted residuals even for a weighted fit
                e = self.arrays.residuals
                return pd.Series(np.sqrt((e * e).sum(axis=0) / rdf),
                                 index=pd.Index(self.response_names))
            return float(np.sqrt(np.float64(self.arrays.rss()) / rdf))

    def logLik(self, REML: bool = False) -> LogLik:  # noqa: N802, N803 - R's names
        """R's ``logLik.lm``: ½(Σ log wᵢ − N(log 2π + 1 − log N + log RSS)) over wᵢ > 0, with
        ``df`` = r + 1; ``REML=True`` uses N − r and subtracts Σ log|R_ii|."""
        if self.is_mlm:
            raise FitError("'logLik.lm' does not support multiple responses")
        a = self.arrays
        w = np.ones(self.nobs()) if a.weights is None else a.weights[a.used]
        N0 = len(w)
        N = N0 - a.rank if REML else N0
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -Inf as in R
            val = 0.5 * (np.sum(np.log(w)) - N * (np.log(2 * np.pi) + 1 - np.log(np.float64(N))
                                                  + np.log(np.float64(a.rss()))))
        if REML:
            val -= float(np.sum(np.log(np.abs(np.diag(a.qr.top)[: a.rank]))))
        return LogLik(val, a.rank + 1, N0)

    def AIC(self, k: float = 2.0) -> float:  # noqa: N802
        """−2 logLik + k·(r + 1)."""
        ll = self.logLik()
        return -2.0 * float(ll) + k * ll.df

    def BIC(self) -> float:  # noqa: N802
        """−2 logLik + log(N)·(r + 1)."""
        ll = self.logLik()
        return -2.0 * float(ll) + float(np.log(np.float64(ll.nobs))) * ll.df

    # -- summary -----------------------------------------------------------------------------

    def summary_stats(self, j: Optional[int] = None) -> SummaryStats:
        """The numbers of ``summary.lm`` for response ``j`` (None for a single response)."""
        key = ("summary", j)
        if key not in self._cache:
            self._cache[key] = summary_stats(self.arrays, self.coef_names, self.intercept, j)
        return self._cache[key]

    def _call_for(self, j: int) -> list:
        """The call of response ``j``'s summary in an mlm (R substitutes the response name)."""
        node = A.BinOp("~", A.Name(self.response_names[j]), self.design.terms.formula.rhs)
        return call_lines("lm", [("formula", node)] + list(self.call_args))

    def summary(self, correlation: bool = False) -> Union[LMSummary, MLMSummary]:
        """R's ``summary.lm`` (``summary.mlm`` for several responses); warns
        :class:`PerfectFitWarning` as R does when RSS/rdf < 1e-30·(mean(ŷ)² + var(ŷ)).
        ``correlation=True``: the coefficients' correlations, printed as R prints them."""
        w = self.arrays.weights
        weighted = w is not None and bool(np.ptp(w) != 0)
        n_na = len(self.design.na_dropped) if self.na_action in ("omit", "exclude") else 0
        items = []
        for j in ([None] if not self.is_mlm else range(len(self.response_names))):
            st = self.summary_stats(j)
            if st.perfect:
                warnings.warn("essentially perfect fit: summary may be unreliable",
                              PerfectFitWarning, stacklevel=2)
            call = self._call_lines() if j is None else self._call_for(j)
            items.append(LMSummary(st, call, weighted, n_na, self.row_labels, self.design,
                                   correlation))
        return items[0] if not self.is_mlm else MLMSummary(items, self.response_names)

    def _per_response(self, fn: Any) -> Any:
        if self.is_mlm:
            return pd.Series([fn(self.summary_stats(j))
                              for j in range(len(self.response_names))],
                             index=pd.Index(self.response_names))
        return fn(self.summary_stats())

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
        """The overall F test as ``{"value", "numdf", "dendf"}`` (None when rank == int); for
        an mlm a dict of them by response."""
        if self.is_mlm:
            return {nm: self.summary_stats(j).fstatistic_dict
                    for j, nm in enumerate(self.response_names)}
        return self.summary_stats().fstatistic_dict

    # -- covariance and intervals ------------------------------------------------------------

    def vcov(self, complete: bool = True) -> pd.DataFrame:
        """σ̂²(R'R)⁻¹ in the original column order (R's ``vcov.lm``); with ``complete=True``
        aliased coefficients get NaN rows and columns, otherwise they are left out. For an mlm,
        R's ``kronecker(estVar, cov.unscaled)`` with names ``response:coefficient``."""
        if self.is_mlm:
            return vcov_mlm(self.arrays, self.coef_names, self.response_names)
        return vcov_lm(self.arrays, self.coef_names, self.summary_stats().resvar, complete)

    def confint(self, parm: Optional[Union[str, Sequence[Any]]] = None,
                level: float = 0.95) -> pd.DataFrame:
        """R's ``confint.lm``: β̂ ± qt((1 ± level)/2, rdf)·SE; columns ``"2.5 %"``/``"97.5 %"``;
        NaN rows for aliased coefficients. ``parm``: names, or 0-based positions."""
        if self.is_mlm:
            raise FitError("confint() is not available for multiple-response fits")
        return confint_lm(self.coef(), self.vcov(), self.arrays.df_residual, parm, level)

    # -- prediction --------------------------------------------------------------------------

    def predict(self, newdata: Optional[pd.DataFrame] = None, interval: Optional[str] = None,
                level: float = 0.95, se_fit: bool = False, weights: Any = None,
                type: str = "response") -> Union[pd.Series, pd.DataFrame]:
        """R's ``predict.lm`` (see :mod:`.predict`): a Series on newdata's index (on the data's
        index, NaN-padded under ``na_action="exclude"``, without newdata); with ``interval``
        a DataFrame ``fit, lwr, upr``; with ``se_fit`` a DataFrame with ``se_fit`` added and
        R's ``df`` and ``residual_scale`` in ``.attrs``. Rows of ``newdata`` with a missing
        predictor give NaN (R's ``na.pass``). ``weights``: w₀ of prediction intervals (default
        1; on the fit's own rows the fit's weights, as R). An mlm gives a DataFrame by
        response."""
        if type != "response":
            raise ValueError("only type='response' is available for lm")
        return predict_lm(self, optional_data_frame(newdata), interval, level, se_fit, weights)

    def response_on(self, newdata: Optional[pd.DataFrame]) -> Optional[np.ndarray]:
        """The response of the fit's rows, or evaluated on ``newdata`` (None when it cannot
        be: broom then gives no ``.resid``)."""
        if newdata is None:
            return np.asarray(self.design.y, dtype=float)
        if self.response_name in newdata.columns:
            return newdata[self.response_name].to_numpy(dtype=float)
        try:
            spec = self.design.spec
            resp = spec.terms.response
            return np.asarray(spec.evaluate_variables(newdata, [resp])[resp], dtype=float)
        except Exception:  # the response cannot be evaluated on newdata: no .resid (broom)
            return None

    # -- influence ---------------------------------------------------------------------------

    def influence(self) -> infl.Influence:
        """R's ``lm.influence(fit, do.coef = FALSE)`` on the rows with non-zero weight: hat
        values, leave-one-out σ and the weighted residuals (tiny ones zeroed as R does)."""
        if self.is_mlm:
            raise FitError("influence measures are not available for multiple-response fits")
        if "infl" not in self._cache:
            self._cache["infl"] = infl.lm_influence(self.arrays)
        return self._cache["infl"]

    def _influence_rows(self, values: np.ndarray, fill: float = np.nan,
                        columns: Optional[list] = None) -> Union[pd.Series, pd.DataFrame]:
        rows = infl.influence_rows(self.row_labels, self.arrays.used)
        return infl.naresid_filled(rows, values, fill, columns)

    def hatvalues(self) -> pd.Series:
        """Diagonal of the hat matrix of sqrt(w)X (rows with non-zero weight; 0 at rows
        excluded for NA under ``na_action="exclude"``, as R)."""
        return self._influence_rows(self.influence().hat, 0.0)

    def rstandard(self) -> pd.Series:
        """Standardised residuals eᵢ√wᵢ/(σ̂√(1 − hᵢ)); infinite values become NaN (R)."""
        return self._influence_rows(infl.rstandard(self.influence(),
                                                   self.arrays.residual_sd()))

    def rstudent(self) -> pd.Series:
        """Studentised residuals eᵢ√wᵢ/(σ₍ᵢ₎√(1 − hᵢ)), σ₍ᵢ₎ the leave-one-out σ."""
        return self._influence_rows(infl.rstudent(self.influence()))

    def cooks_distance(self) -> pd.Series:
        """Cook's distances (eᵢ√wᵢ/(σ̂(1 − hᵢ)))²·hᵢ/r (R's ``cooks.distance.lm``)."""
        a = self.arrays
        return self._influence_rows(infl.cooks_distance(
            self.influence(), a.weighted(a.residuals)[a.used], a.residual_sd(), a.rank))

    def influence_sigma(self) -> pd.Series:
        """Leave-one-out residual standard errors (R's ``influence(fit)$sigma``; σ̂ at rows
        excluded for NA)."""
        return self._influence_rows(self.influence().sigma, self.arrays.residual_sd())

    def dfbeta(self) -> pd.DataFrame:
        """Change in each non-aliased coefficient when case i is left out (R's ``dfbeta``; 0
        at rows excluded for NA)."""
        values, names = infl.dfbeta(self.influence(), self.arrays, self.coef_names)
        return self._influence_rows(values, 0.0, names)

    # -- anova and broom ---------------------------------------------------------------------

    def anova(self, *others: "LM", test: str = "F") -> AnovaTable:
        """R's ``anova.lm`` (one model: sequential sums of squares of the effects per term) or
        ``anova.lmlist`` (several nested models: ``Res.Df RSS Df Sum of Sq F Pr(>F)``)."""
        if others:
            return anova_lmlist([self, *others], test=test)
        if self.is_mlm:
            raise FitError("anova() of a multiple-response fit is not implemented")
        return anova_lm(self.arrays, self.assign, self.term_labels, self.intercept,
                        self.response_name)

    def tidy(self, conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
        """broom's ``tidy.lm`` (see :func:`.broom.tidy_lm`)."""
        return tidy_lm(self, conf_int, conf_level)

    def glance(self) -> pd.DataFrame:
        """broom's ``glance.lm`` (see :func:`.broom.glance_lm`)."""
        return glance_lm(self)

    def augment(self, newdata: Optional[pd.DataFrame] = None, se_fit: bool = False,
                interval: Optional[str] = None) -> pd.DataFrame:
        """broom's ``augment.lm`` on the data's (or newdata's) index (see
        :func:`.broom.augment_lm`)."""
        return augment_lm(self, optional_data_frame(newdata), se_fit, interval)

    # -- printing ----------------------------------------------------------------------------

    def __str__(self) -> str:
        """R's ``print.lm``."""
        out = "\nCall:\n" + self.call + "\n\n"
        if len(self.coef_names) == 0:
            return out + "No coefficients\n\n"
        out += "Coefficients:\n"
        coef = self.arrays.coefficients
        if self.is_mlm:
            cells = np.array(rf.format_num(coef.ravel(order="F"), digits=4),
                             dtype=object).reshape(coef.shape, order="F")
            return out + rf.print_matrix(cells.tolist(), self.coef_names, self.response_names,
                                         right=False, quote=False, gap=2) + "\n"
        return out + rf.print_named_vector(rf.format_num(coef, digits=4), self.coef_names,
                                           gap=2) + "\n"

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        """print.lm for notebooks: the coefficients as a table of R's ``format(digits = 4)``."""
        if self.is_mlm:
            return printout_html(str(self))
        return fit_html(str(self), "Coefficients:", self.coef_names,
                        rf.format_num(self.arrays.coefficients, digits=4))
