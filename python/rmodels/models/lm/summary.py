"""R's ``summary.lm`` (and ``summary.mlm``): the coefficient table, σ̂, R², the overall F test,
and the printed summary (``print.summary.lm``).

Notation: n rows in the fit, N with non-zero weight w, r the rank, rdf = N − r, e the
residuals, ŷ the fitted values; RSS = Σ w e², σ̂² = RSS / rdf.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np
import pandas as pd

from ... import _core
from ... import printing as rf
from ...printing.correlation import correlation_block, correlation_from_cov
from ...printing.html import TableSpec, printout_html
from ..contract import RowLabels
from .distributions import pf_upper, pt_two_sided
from .wfit import LmArrays

__all__ = ["summary_sums", "SummaryStats", "summary_stats", "LMSummary", "MLMSummary",
           "format_summary_lm"]


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
class SummaryStats:
    """The numbers of ``summary.lm`` for one response."""

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
    perfect: bool
    coef_names: list  # all coefficient names, original order
    resvar: float = float("nan")  # RSS / rdf (R's resvar, squared sigma without rounding)

    @property
    def fstatistic_dict(self) -> Optional[dict]:
        """The F test as ``{"value", "numdf", "dendf"}`` (None when rank == intercept)."""
        return None if self.fstatistic is None else dict(
            zip(("value", "numdf", "dendf"), self.fstatistic))


def summary_stats(a: LmArrays, coef_names: Sequence[str], intercept: bool,
                  j: Optional[int] = None) -> SummaryStats:
    """``summary.lm`` for response ``j`` (None for a single response): SE = sqrt(diag((R'R)⁻¹)
    σ̂²) in pivoted order, t = β̂/SE, two-sided p on rdf; R² = MSS/(MSS + RSS),
    adjusted 1 − (1 − R²)(N − int)/rdf, F = (MSS/(r − int))/σ̂²; ``perfect`` when
    σ̂² < 1e-30·(mean(ŷ)² + var(ŷ)) (R's warning)."""
    r = a.residuals if j is None else a.residuals[:, j]
    f = a.fitted_values if j is None else a.fitted_values[:, j]
    coef = a.coefficients if j is None else a.coefficients[:, j]
    p, rdf, w = a.rank, a.df_residual, a.weights
    mss, rss = summary_sums(f, r, w, intercept)
    rw = r if w is None else np.sqrt(w) * r
    resvar = ieee_ratio(rss, rdf)
    common = dict(aliased=np.isnan(coef), sigma=math.sqrt(resvar) if resvar >= 0 else math.nan,
                  ncoef=len(coef), residuals=rw, coef_names=list(coef_names))
    if p == 0:
        return SummaryStats(
            estimate=np.zeros(0), std_error=np.zeros(0), t_value=np.zeros(0),
            p_value=np.zeros(0), names=[], rank=0, rdf=len(r), r_squared=0.0,
            adj_r_squared=0.0, fstatistic=None, cov_unscaled=np.zeros((0, 0)), perfect=False,
            **common)
    perfect = False
    if np.isfinite(resvar) and len(f) > 1 and not _clearly_imperfect(resvar, f):
        perfect = bool(resvar < (np.mean(f) ** 2 + np.var(f, ddof=1)) * 1e-30)
    piv = a.pivot[:p]
    R = a.qr.cov_unscaled()
    est = coef[piv]
    se, tval = _standard_errors_and_t(est, np.diag(R), resvar)
    fstat = None
    r2 = adj = 0.0
    if p != int(intercept):
        df_int = 1 if intercept else 0
        r2 = ieee_ratio(mss, mss + rss)
        adj = 1 - (1 - r2) * ieee_ratio(a.qr.n_rows - df_int, rdf)
        fval = ieee_ratio(mss / (p - df_int), resvar)
        fstat = (float(fval), p - df_int, rdf)
    return SummaryStats(
        estimate=est, std_error=se, t_value=tval, p_value=pt_two_sided(tval, rdf),
        names=[coef_names[i] for i in piv], rank=p, rdf=rdf, r_squared=float(r2),
        adj_r_squared=float(adj), fstatistic=fstat, cov_unscaled=R, perfect=perfect,
        resvar=float(resvar), **common)


def ieee_ratio(a: float, b: float) -> float:
    """a / b in IEEE arithmetic, as R divides: x / 0 = ±Inf, 0 / 0 = NaN (no exception)."""
    a, b = float(a), float(b)
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _standard_errors_and_t(est: np.ndarray, cov_diag: np.ndarray,
                           resvar: float) -> tuple[np.ndarray, np.ndarray]:
    """SE = sqrt(diag((R'R)⁻¹) σ̂²) and t = β̂ / SE (NaN and ±Inf as R where σ̂² is 0 or not
    finite)."""
    v = cov_diag * resvar
    if math.isfinite(resvar) and (v > 0).all():  # the common case: nothing undefined
        se = np.sqrt(v)
        return se, est / se
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(v)
        return se, est / se


def _clearly_imperfect(resvar: float, f: np.ndarray) -> bool:
    """True when σ̂² is far above R's "essentially perfect fit" bound 1e-30·(mean(ŷ)² + var(ŷ)):
    that sum equals (Σŷ² − mean(ŷ)²)/(n − 1) ≤ Σŷ²/(n − 1), so σ̂² ≥ 2e-30·Σŷ²/(n − 1) settles
    it without the mean and variance (the exact test runs otherwise). Σŷ² by einsum, not
    ``np.dot``: a long vector's dot product wakes the BLAS threads, which then spin on the cores
    the next compiled pass needs (about 15 ms of CPU per 1e6-row fit); any rounding of Σŷ² is
    far inside the bound's factor 2."""
    ss = float(np.einsum("i,i->", f, f))
    return math.isfinite(ss) and resvar >= 2e-30 * ss / (len(f) - 1)


class LMSummary:
    """R's ``summary.lm`` object. Attributes follow R's components: ``coefficients`` (DataFrame
    Estimate / Std. Error / t value / Pr(>|t|), non-aliased rows), ``aliased``, ``sigma``,
    ``df`` (rank, rdf, ncol(X)), ``r_squared``, ``adj_r_squared``, ``fstatistic`` (value, numdf,
    dendf or None), ``cov_unscaled``, ``residuals`` (sqrt(w)·e on the data's index labels of
    the rows in the fit); ``str()`` is ``print(summary(fit))``.

    ``rows``: the data's rows in the fit; ``design``: the fit's design, whose ``row_names``
    (R's) label the residuals printed when rdf ≤ 5; ``correlation``: R's
    ``summary(fit, correlation = TRUE)`` (the ``correlation`` component, printed).
    """

    def __init__(self, st: SummaryStats, call_lines: list, weighted: bool, n_na: int,
                 rows: RowLabels, design: Any, correlation: bool = False):
        self.stats = st
        self._call_lines = call_lines
        self._weighted = weighted
        self._n_na = n_na
        self._rows = rows
        self._design = design
        self.sigma = st.sigma
        self.df = (st.rank, st.rdf, st.ncoef)
        self.r_squared = st.r_squared
        self.adj_r_squared = st.adj_r_squared
        self.fstatistic = st.fstatistic_dict
        self._with_correlation = correlation

    # the tables are pandas objects built on first use (printing needs none of them)

    @functools.cached_property
    def coefficients(self) -> pd.DataFrame:
        """The coefficient table: Estimate, Std. Error, t value, Pr(>|t|) (non-aliased rows)."""
        st = self.stats
        return pd.DataFrame(
            {"Estimate": st.estimate, "Std. Error": st.std_error, "t value": st.t_value,
             "Pr(>|t|)": st.p_value}, index=pd.Index(st.names))

    @functools.cached_property
    def aliased(self) -> pd.Series:
        """Whether each coefficient is aliased (original order)."""
        return pd.Series(self.stats.aliased, index=pd.Index(list(self.stats.coef_names)))

    @functools.cached_property
    def cov_unscaled(self) -> pd.DataFrame:
        """(R'R)⁻¹ of the non-aliased coefficients (pivoted order)."""
        names = self.stats.names
        return pd.DataFrame(self.stats.cov_unscaled, index=pd.Index(names),
                            columns=pd.Index(names))

    @property
    def residuals(self) -> pd.Series:
        """sqrt(w)·e of the rows in the fit, on the data's index labels."""
        return pd.Series(np.asarray(self.stats.residuals, dtype=np.float64),
                         index=self._rows.used_index)

    def coef(self) -> pd.DataFrame:
        """R's ``coef(summary(fit))``: the coefficient table (non-aliased rows)."""
        return self.coefficients

    @functools.cached_property
    def correlation(self) -> Optional[pd.DataFrame]:
        """The correlations of the non-aliased coefficients (R's ``correlation`` component,
        present when ``summary(fit, correlation=True)``), else None."""
        if not self._with_correlation:
            return None
        names = self.stats.names
        return pd.DataFrame(correlation_from_cov(self.stats.cov_unscaled),
                            index=pd.Index(names), columns=pd.Index(names))

    def __str__(self) -> str:
        text = format_summary_lm(self.stats, self._call_lines, self._weighted, self._n_na,
                                 lambda: self._design.row_names)
        if self.correlation is None:
            return text
        return text[:-1] + correlation_block(self.correlation.to_numpy(),
                                             list(self.stats.names)) + "\n"

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        """The printout for notebooks, the coefficient table as an HTML table of R's cells."""
        cols = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
        return printout_html(str(self), [TableSpec(cols, list(self.stats.coef_names))])


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


def format_summary_lm(st: SummaryStats, call_lines: list, weighted: bool, n_na: int,
                      r_row_names: Callable[[], Sequence[str]]) -> str:
    """Text of R's ``print.summary.lm`` (digits = 4)."""
    digits = 4
    out = ["\nCall:\n" + "\n".join(call_lines) + "\n\n",
           ("Weighted " if weighted else "") + "Residuals:\n",
           _residuals_block(st, r_row_names, digits)]
    if len(st.coef_names) == 0:
        out.append("\nNo Coefficients\n")
    else:
        nsing = st.ncoef - st.rank
        out.append(f"\nCoefficients: ({nsing} not defined because of singularities)\n" if nsing
                   else "\nCoefficients:\n")
        out.append(_coefficient_block(st, digits))
    out.append(f"\nResidual standard error: {_format_sigma(st.sigma, digits)} on {st.rdf} "
               f"degrees of freedom\n")
    if n_na:
        word = "observation" if n_na == 1 else "observations"
        out.append(f"  ({n_na} {word} deleted due to missingness)\n")
    if st.fstatistic is not None:
        out.append(_fstatistic_block(st, digits))
    out.append("\n")
    return "".join(out)


def _residuals_block(st: SummaryStats, r_row_names: Callable[[], Sequence[str]],
                     digits: int) -> str:
    """The residual quantiles (rdf > 5), the residuals themselves, or R's note for rdf = 0."""
    if st.rdf > 5:
        q = rf.zapsmall(rf.quantile7(st.residuals), digits + 1)
        return rf.print_named_vector(q, ["Min", "1Q", "Median", "3Q", "Max"], digits=digits)
    if st.rdf > 0:
        return rf.print_named_vector(np.asarray(st.residuals), list(r_row_names()),
                                     digits=digits)
    return f"ALL {st.rank} residuals are 0: no residual degrees of freedom!\n"


def _coefficient_block(st: SummaryStats, digits: int) -> str:
    """``printCoefmat`` of all coefficients: aliased rows print NA, a zero rdf's NaN as NaN."""
    all_names = st.coef_names
    if st.names == all_names:  # nothing aliased nor pivoted: the rows as they are
        table = np.array([st.estimate, st.std_error, st.t_value, st.p_value]).T
    else:
        table = np.full((len(all_names), 4), rf.NA_REAL)
        # summary rows are in pivoted order; print.summary.lm re-inserts them by name
        pos = {nm: i for i, nm in enumerate(st.names)}
        rows = np.flatnonzero(~st.aliased)
        js = [pos[all_names[i]] for i in rows.tolist()]
        table[rows] = np.column_stack([st.estimate[js], st.std_error[js], st.t_value[js],
                                       st.p_value[js]])
    return rf.print_coefmat(table,
                            ["Estimate", "Std. Error", "t value", "Pr(>|t|)"],
                            list(all_names), digits=digits, na_print="NA", nan_is_na=False)


def _fstatistic_block(st: SummaryStats, digits: int) -> str:
    fval, numdf, dendf = st.fstatistic
    if math.isfinite(fval):
        pval = pf_upper(fval, numdf, dendf)
    else:
        with np.errstate(invalid="ignore"):
            pval = pf_upper(fval, numdf, dendf)
    return (f"Multiple R-squared:  {_format_c(st.r_squared, digits)},\t"
            f"Adjusted R-squared:  {_format_c(st.adj_r_squared, digits)} \n"
            f"F-statistic: {_format_c(fval, digits)} on {_int_text(numdf)} and "
            f"{_int_text(dendf)} DF,  p-value: "
            f"{rf.format_pval(np.array([pval]), digits=digits)[0]}\n")


def _format_c(v: float, digits: int) -> str:
    """``formatC(v, digits)``; a NaN prints as ``NaN`` (not ``NA``) in width digits + 1."""
    if isinstance(v, float) and math.isnan(v) and not rf.is_na_real(v):
        return "NaN".rjust(digits + 1)
    if isinstance(v, float) and math.isfinite(v):  # formatC's C sprintf, width digits + 1
        return "%*.*g" % (digits + 1, digits, v)  # noqa: UP031 (formatC's own format)
    return rf.formatC(float(v), digits=digits)


def _format_sigma(sigma: float, digits: int) -> str:
    """``format(signif(sigma, digits))`` (7 significant digits; NaN prints as ``NaN``)."""
    return rf.format_num(rf.signif(np.array([sigma]), digits), nan_is_na=False)[0]


def _int_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else rf.format_scalar(v)

