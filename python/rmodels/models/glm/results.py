"""glm stage "fit object": what a fitted GLM stores and R's components read from it.

:class:`GlmResults` holds the core fit (:class:`~.fit.GlmCoreFit`), the design, the family and
the arguments of the call, and answers the quantities every later stage reads: coefficients,
dispersion (summary.glm's), the unscaled covariance, residuals of each type, the likelihood.
Per-row results are pandas Series on the input DataFrame's own index labels
(:class:`~rmodels.models.contract.RowLabels`): the rows used, or with ``na_action="exclude"``
every row of the (subsetted) data with NaN where R's ``naresid`` pads. The generics that
print, predict and tidy are in :class:`~.model.GLM`.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
import pandas as pd

from ... import _core
from ..contract import LogLik, RowLabels
from ..families import Family
from .fit import GlmCoreFit

__all__ = ["GlmResults"]

RESIDUAL_TYPES = ("deviance", "pearson", "working", "response")


class GlmResults:
    """A fitted GLM's stored results (R's ``glm`` object components)."""

    def __init__(self, core: GlmCoreFit, design: Any, family: Family, Y: np.ndarray,
                 raw_weights: np.ndarray, control: dict, call: str, data: pd.DataFrame,
                 formula: str, offset_arg: Any = None, start: Any = None) -> None:
        self.core = core
        self.design = design
        self.family = family
        self.response = Y  # the response as glm.fit took it (before family$initialize)
        self.raw_weights = raw_weights
        self.control = control
        self.call = call
        self.data = data
        self.formula = formula
        self.offset_arg = offset_arg
        self.start = start
        self.names = list(design.columns)
        self._row_labels: Optional[RowLabels] = None
        n = len(core.y)
        self.offset = np.zeros(n) if design.offset is None else np.asarray(design.offset)
        self.n_ok = int(n - np.sum(core.prior_weights == 0))
        self.df_null_ = int(self.n_ok - (1 if design.intercept else 0))
        self.df_residual_ = int(self.n_ok - core.rank)
        aic0 = family.aic(core.y, core.n_trials, core.fitted, core.prior_weights, core.deviance)
        self.aic = aic0 + 2 * core.rank

    # ---- rows -------------------------------------------------------------------------------
    @property
    def row_labels(self) -> RowLabels:
        """The rows of the user's data behind the fit (built on first use, no index built)."""
        if self._row_labels is None:
            self._row_labels = RowLabels.from_design(self.design)
        return self._row_labels

    @property
    def row_names(self) -> list:
        """R's row names of the rows in the fit (built on first use)."""
        return list(self.design.row_names)

    def rows_series(self, values: np.ndarray) -> pd.Series:
        """A component over the rows in the fit (R's ``fit$x``: no padding), on the data's
        index labels."""
        return pd.Series(values, index=self.row_labels.used_index, dtype=float, copy=False)

    def naresid(self, values: np.ndarray) -> pd.Series:
        """R's ``naresid``/``napredict`` of a per-row result, on the data's index labels."""
        return self.row_labels.naresid(np.asarray(values, dtype=float))

    # ---- R's components ---------------------------------------------------------------------
    @property
    def coefficients(self) -> pd.Series:
        return pd.Series(self.core.coefficients, index=self.names, dtype=float)

    @property
    def rank(self) -> int:
        return self.core.rank

    @property
    def iter(self) -> int:
        return self.core.iter

    @property
    def converged(self) -> bool:
        return self.core.converged

    @property
    def boundary(self) -> bool:
        return self.core.boundary

    @property
    def null_deviance(self) -> float:
        return self.core.null_deviance

    @property
    def df_null(self) -> int:
        return self.df_null_

    @property
    def linear_predictors(self) -> pd.Series:
        return self.rows_series(self.core.linear_predictors)

    @property
    def fitted_values(self) -> pd.Series:
        return self.rows_series(self.core.fitted)

    @property
    def weights(self) -> pd.Series:
        """Working weights of the last IRLS iteration (R's ``fit$weights``)."""
        return self.rows_series(self.core.working_weights)

    @property
    def prior_weights(self) -> pd.Series:
        return self.rows_series(self.core.prior_weights)

    @property
    def y(self) -> pd.Series:
        return self.rows_series(self.core.y)

    # ---- generics that read the components --------------------------------------------------
    def coef(self) -> pd.Series:
        """Coefficients, named as R's model matrix columns; aliased ones are NaN."""
        return self.coefficients

    def fitted(self) -> pd.Series:
        """Fitted means mu (R's ``fitted``, padded by ``naresid``)."""
        return self.naresid(self.core.fitted)

    def deviance(self) -> float:
        return self.core.deviance

    def df_residual(self) -> int:
        return self.df_residual_

    def nobs(self) -> int:
        """Number of observations with non-zero prior weight (R's ``nobs.glm``)."""
        return int(np.sum(self.core.prior_weights != 0))

    def dispersion(self) -> float:
        """summary.glm's dispersion: 1 for binomial/poisson, otherwise
        sum(W r^2) / df.residual over W > 0 with the working weights W and working residuals r of
        the last iteration (NaN when df.residual = 0)."""
        if self.family.fixed_dispersion:
            return 1.0
        df_r = self.df_residual_
        if df_r <= 0:
            return float("nan")
        W = self.core.working_weights
        r = self.core.working_residuals
        pos = W > 0
        return float(np.sum((W * r * r)[pos]) / df_r)

    def sigma(self) -> float:
        """R's ``sigma.default``: sqrt(deviance / (nobs - rank))."""
        with np.errstate(divide="ignore", invalid="ignore"):  # R: x/0 is Inf, 0/0 NaN
            return float(np.sqrt(np.float64(self.core.deviance) /
                                 np.float64(self.nobs() - self.rank)))

    def cov_unscaled(self) -> np.ndarray:
        """(R'R)^{-1} of the last weighted QR, on the non-aliased coefficients in pivoted order
        (R's ``chol2inv(Qr$qr[p1, p1])``, computed by the core: no BLAS thread pool woken for a
        p x p problem)."""
        p = self.rank
        if p == 0:
            return np.zeros((0, 0))
        return np.asarray(_core.qr_cov_unscaled(np.asfortranarray(self.core.R), p), dtype=float)

    def aliased(self) -> np.ndarray:
        """Which coefficients are aliased (NA in R)."""
        return np.isnan(self.core.coefficients)

    def vcov(self, complete: bool = True) -> pd.DataFrame:
        """dispersion x (R'R)^{-1}; aliased coefficients get NaN rows/columns (complete=True)."""
        p = self.rank
        piv = self.core.pivot[:p]
        cov = self.dispersion() * self.cov_unscaled()
        if not complete:
            nm = [self.names[i] for i in piv]
            return pd.DataFrame(cov, index=nm, columns=nm)
        k = len(self.names)
        full = np.full((k, k), np.nan)
        full[np.ix_(piv, piv)] = cov
        return pd.DataFrame(full, index=self.names, columns=self.names)

    def residuals(self, type: str = "deviance") -> pd.Series:  # noqa: A002 - R's argument
        """R's ``residuals.glm``: "deviance" (default), "pearson", "working", "response"."""
        return self.naresid(self.residual_values(type))

    resid = residuals

    def residual_values(self, type: str = "deviance") -> np.ndarray:  # noqa: A002
        """The residuals of one type over the rows in the fit (R's ``residuals.glm`` before
        ``naresid``): deviance sign(y - mu) sqrt(d_i) (zeros when no residual df are left),
        pearson (y - mu) sqrt(w) / sqrt(V(mu)), working, response y - mu."""
        c = self.core
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

    def logLik(self) -> LogLik:  # noqa: N802 - R's name
        """R's ``logLik.glm``: p - aic/2 with p = rank (+1 for gaussian, Gamma,
        inverse.gaussian); NaN for quasi families. A float with ``df`` and ``nobs`` (rows with
        a residual) whose ``str()`` is R's print.logLik."""
        value = float("nan") if self.family.is_quasi else self.loglik_df() - self.aic / 2
        return self.loglik_object(value)

    def loglik_object(self, value: float) -> LogLik:
        """A :class:`LogLik` of this fit: df = :meth:`loglik_df`, nobs = rows with a residual."""
        return LogLik(value, self.loglik_df(), self.loglik_nobs())

    def loglik_nobs(self) -> int:
        """logLik.glm's "nobs" attribute: every row with a residual (zero weights too)."""
        return int(np.sum(~np.isnan(self.core.working_residuals)))

    def loglik_df(self) -> int:
        return self.rank + self.family.extra_df

    def AIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + 2 * self.loglik_df()

    def BIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + math.log(self.loglik_nobs()) * self.loglik_df()

    def naprint(self) -> str:
        """R's ``naprint`` of the rows dropped for missing values ("" when none)."""
        k = len(self.design.na_dropped)
        if k == 0:
            return ""
        return f"{k} observation{'s' if k > 1 else ''} deleted due to missingness"
