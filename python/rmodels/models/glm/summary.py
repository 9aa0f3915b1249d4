"""glm stage "summary and printing": R's ``summary.glm``, ``print.summary.glm`` and
``print.glm`` (R 4.2.2's text)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from ... import printing as rf
from ...design import r_row_names
from ...errors import RModelsWarning
from ...printing.correlation import correlation_block, correlation_from_cov
from ...printing.html import TableSpec, printout_html
from .results import GlmResults

__all__ = ["coef_table", "GLMSummary", "print_glm", "padded_row_names"]


def coef_table(fit: GlmResults) -> pd.DataFrame:
    """summary.glm's coefficient matrix (non-aliased rows, pivoted order): estimate, standard
    error sqrt(dispersion diag((R'R)^-1)), z (binomial, poisson) or t statistic and its
    two-sided p-value (t on df.residual; NaN columns when no residual df are left)."""
    from scipy import special
    p = fit.rank
    piv = fit.core.pivot[:p]
    est = fit.core.coefficients[piv]
    disp = fit.dispersion()
    se = np.sqrt(np.diag(fit.cov_unscaled()) * disp)
    df_r = fit.df_residual_
    names = [fit.names[i] for i in piv]
    if fit.family.fixed_dispersion:
        with np.errstate(divide="ignore", invalid="ignore"):  # R: x / 0 is Inf or NaN
            z = est / se
        pv = 2 * special.ndtr(-np.abs(z))  # scipy.stats.norm.cdf's values
        cols = ["Estimate", "Std. Error", "z value", "Pr(>|z|)"]
    elif df_r > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
        pv = 2 * special.stdtr(float(df_r), -np.abs(z))  # scipy.stats.t.cdf's, df_r > 0
        cols = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
    else:
        se = np.full(p, np.nan)
        z = np.full(p, np.nan)
        pv = np.full(p, np.nan)
        cols = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
    return pd.DataFrame(np.column_stack([est, se, z, pv]), index=names, columns=cols)


def padded_row_names(fit: GlmResults) -> list:
    """R's row names of ``naresid``'s output: the rows in the fit, or with
    ``na_action="exclude"`` every row of the (subsetted) data."""
    labels = fit.row_labels
    if labels.pad_rows is None:
        return fit.row_names
    names = r_row_names(labels.index)
    return [names[k] for k in labels.pad_rows]


def padded_deviance_residuals(fit: GlmResults) -> np.ndarray:
    """summary.glm's ``deviance.resid``: the deviance residuals with NaN at the rows
    ``naresid`` pads."""
    return fit.naresid(fit.residual_values("deviance")).to_numpy()


class GLMSummary:
    """R's ``summary.glm`` object; ``str()`` is ``print(summary(fit))`` of R 4.2.2."""

    def __init__(self, fit: GlmResults, correlation: bool = False) -> None:
        self.fit = fit
        self._with_correlation = correlation
        self.coefficients = coef_table(fit)
        self.dispersion = fit.dispersion()
        self.aliased = pd.Series(fit.aliased(), index=fit.names)
        self.deviance_resid = padded_deviance_residuals(fit)
        self.df = (fit.rank, fit.df_residual_, len(fit.names))
        self.null_deviance = fit.null_deviance
        self.deviance = fit.deviance()
        self.df_null = fit.df_null_
        self.df_residual = fit.df_residual_
        self.aic = fit.aic
        self.iter = fit.iter
        if not fit.family.fixed_dispersion and fit.df_residual_ > 0 and np.any(
                fit.core.working_weights == 0):
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
        out += "Deviance Residuals: \n" + self._residuals_text()
        out += self._coefficients_text()
        out += (f"\n(Dispersion parameter for {fit.family.family} family taken to be "
                f"{rf.format_num([self.dispersion], nan_is_na=False)[0]})\n\n")
        labels = rf.format_str(["Null", "Residual"], justify="right")
        devs = rf.format_num([self.null_deviance, self.deviance], digits=5)
        dfs = rf.format_num([float(self.df_null), float(self.df_residual)])
        for lab, dv, df in zip(labels, devs, dfs):
            out += f"{lab} deviance: {dv}  on {df}  degrees of freedom\n"
        mess = fit.naprint()
        if mess:
            out += f"  ({mess})\n"
        out += f"AIC: {rf.format_num([self.aic], digits=5)[0]}\n\n"
        out += f"Number of Fisher Scoring iterations: {self.iter}\n"
        if self.correlation is not None:
            out += correlation_block(self.correlation.to_numpy(), list(self.correlation.index))
        return out + "\n"

    @functools.cached_property
    def correlation(self) -> pd.DataFrame | None:
        """The correlations of the non-aliased coefficients (R's ``correlation`` component,
        present when ``summary(fit, correlation=True)``), else None."""
        if not self._with_correlation:
            return None
        names = list(self.coefficients.index)
        return pd.DataFrame(correlation_from_cov(np.asarray(self.fit.cov_unscaled())),
                            index=pd.Index(names), columns=pd.Index(names))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The printout for notebooks, the coefficient table as an HTML table of R's cells."""
        spec = TableSpec(list(self.coefficients.columns), list(self.fit.names))
        return printout_html(str(self), [spec])

    def _residuals_text(self) -> str:
        """The deviance residuals: their quantiles when df.residual > 5, else each one."""
        r = self.deviance_resid
        if self.df_residual > 5:
            vals = rf.quantile7(r[~np.isnan(r)])
            names = ["Min", "1Q", "Median", "3Q", "Max"]
        else:
            vals = r
            names = padded_row_names(self.fit)
        xx = rf.zapsmall(np.asarray(vals, float), 5)
        if self.df_residual == 0:
            # residuals.glm gives an unnamed rep.int(0, n) when no residual df are left
            return rf.print_vector(xx, digits=4, gap=2)
        return rf.print_named_vector(xx, names, digits=4, gap=2, na_print="")

    def _coefficients_text(self) -> str:
        if len(self.aliased) == 0:
            return "\nNo Coefficients\n"
        nsing = self.df[2] - self.df[0]
        if nsing:
            out = f"\nCoefficients: ({nsing} not defined because of singularities)\n"
        else:
            out = "\nCoefficients:\n"
        ct = self.coefficients
        names = list(self.fit.names)
        table = np.full((len(names), 4), rf.NA_REAL)
        table[~self.aliased.to_numpy()] = ct.to_numpy()
        return out + rf.print_coefmat(table, list(ct.columns), names, digits=4,
                                      na_print="NA", nan_is_na=False)


def print_glm(fit: GlmResults) -> str:
    """R's ``print.glm``."""
    out = f"\nCall:  {fit.call}\n\n"
    coefs = fit.core.coefficients
    if len(coefs):
        out += "Coefficients:\n"
        out += rf.print_named_vector(rf.format_num(coefs, digits=4), fit.names, gap=2)
    else:
        out += "No coefficients\n\n"
    out += (f"\nDegrees of Freedom: {fit.df_null_} Total (i.e. Null);  "
            f"{fit.df_residual_} Residual\n")
    mess = fit.naprint()
    if mess:
        out += f"  ({mess})\n"
    out += ("Null Deviance:\t    " + rf.format_num([rf.signif(fit.null_deviance, 4)])[0]
            + " \nResidual Deviance: " + rf.format_num([rf.signif(fit.deviance(), 4)])[0]
            + " \tAIC: " + rf.format_num([rf.signif(fit.aic, 4)])[0] + "\n")
    return out
