"""The fitted generalized linear mixed model (lme4's ``glmerMod``): its state at the optimum
and R's generics as methods; the numbers come from :mod:`.optimize`, :mod:`.predict`,
:mod:`.summary` and :mod:`.broom`, and the random-effect pieces from the lmer package
(terms, ``ranef``/``coef`` frames, ``VarCorr``, the likelihood-ratio table).

Model: g(E[y | b]) = offset + Xβ + Zb, b = Λ_θ u, u ~ N(0, I).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import FitError, RModelsWarning
from ..contract import RowLabels
from ..families import Family
from ..glm.fit import response_matrix
from ..lmer.anova import anova_lrt
from ..lmer.confint import wald_confint
from ..lmer.ranef import coef_frames, ranef_frames
from ..lmer.terms import ReStructure
from ..lmer.varcorr import VarCorr
from . import broom
from .compiled import compiled_model, restore_settings
from .family import has_scale
from .influence import glmm_cooks_distances, glmm_hat_values
from .optimize import GlmerControl, GlmerOptInfo, check_glmer_conv, criterion
from .predict import predict_glmer, residual_values
from .summary import GlmerSummary, print_glmer


class GlmerMod:
    """A fitted GLMM (lme4's ``glmerMod``), built by :func:`rmodels.glmer`.

    State: ``design``, ``re`` (random-effect terms), ``X``/``columns`` (fixed effects kept),
    ``family``, ``nAGQ``, ``y`` (binomial: proportions), ``prior_weights``, ``n_trials``,
    ``offset_values``, ``model`` (the compiled model), ``optinfo``; at the optimum ``theta``,
    ``beta``, ``u``, ``b``, ``eta``, ``mu``, ``eta_weights`` (the linear predictor of the last
    PIRLS factor's weights) and ``cmp`` (lme4's ``ldL2 sqrL drsum dev``).
    """

    def __init__(self, design: Any, re: ReStructure, X: np.ndarray, columns: list,
                 family: Family, nagq: int, control: GlmerControl, call: dict,
                 fit_msgs: list, model: Any, optinfo: GlmerOptInfo,
                 offset: np.ndarray | None) -> None:
        self.design, self.re, self.X, self.columns = design, re, X, columns
        self.family, self.nAGQ, self.control, self.call = family, nagq, control, call
        self.fit_msgs, self.model, self.optinfo = fit_msgs, model, optinfo
        self.REML = False
        self.y = np.asarray(model.y)
        self.prior_weights = np.asarray(model.prior_weights)
        self.n_trials = np.asarray(model.n_trials)
        self.offset_values = offset
        self.rows = RowLabels.from_design(design)
        st = model.state()
        nth = len(re.theta0)
        self.theta = np.asarray(optinfo.par[:nth], dtype=float)
        self.beta = np.asarray(st["beta"], dtype=float)
        self.u, self.b = np.asarray(st["u"]), np.asarray(st["b"])
        self.eta, self.mu = np.asarray(st["eta"]), np.asarray(st["mu"])
        self.eta_weights = np.asarray(st["eta_weights"])  # the last PIRLS factor's weights
        self.cmp = {"ldL2": float(st["ldL2"]), "sqrL": float(st["sqrL"]),
                    "drsum": float(st["devsum"]), "deviance": float(optinfo.fval)}
        self._condvar: list | None = None
        self._vcov: np.ndarray | None = None
        self._sigma: float | None = None

    def at_parameters(self, par: Sequence[float]) -> GlmerMod:
        """The same model evaluated at the parameters ``par`` (θ, then β; θ only for nAGQ = 0)
        instead of its optimum, with the derivatives and messages lme4 computes at the end of
        its optimisation (as a fit started at ``par`` whose optimizer stops at once)."""
        par = np.asarray(par, dtype=float)
        opt = GlmerOptInfo(par.copy(), 0.0, 0, 0, lp0=self.optinfo.lp0)
        opt.fval = criterion(self.model, par, self.nAGQ)
        if self.nAGQ != 0:
            lower = np.r_[self.re.lower, np.full(len(par) - len(self.re.lower), -np.inf)]
            check_glmer_conv(self.model, opt, lower, self.nAGQ, self.control)
        out = GlmerMod(self.design, self.re, self.X, self.columns, self.family, self.nAGQ,
                       self.control, self.call, self.fit_msgs, self.model, opt,
                       self.offset_values)
        return out

    # -- sizes and criteria ----------------------------------------------------------------
    def nobs(self) -> int:
        return int(self.X.shape[0])

    @property
    def p(self) -> int:
        return int(self.X.shape[1])

    def ngrps(self) -> pd.Series:
        """Number of levels of each grouping factor (flist order)."""
        return self.re.group_levels()

    @property
    def use_sc(self) -> bool:
        """lme4's ``useSc``: the family has a dispersion parameter (not binomial, poisson or
        negative binomial: lme4's ``hasNoScale``)."""
        return has_scale(self.family)

    def npar(self) -> int:
        """Number of parameters: p + length(θ), plus 1 for the scale of a family with one and
        1 for a negative binomial family's θ (lme4's ``npar.merMod`` counts it, known or not)."""
        nb = "Negative Binomial" in self.family.family
        return self.p + len(self.theta) + int(self.use_sc) + int(nb)

    def df_residual(self) -> int:
        return self.nobs() - self.npar()

    def sigma(self) -> float:
        """lme4's ``sigma.merMod`` of a GLMM: 1 for the families without a scale, else
        lme4's ``sigmaML`` √((Σ Pearson residuals² + ‖u‖²) / n) at the optimum."""
        if not self.use_sc:
            return 1.0
        if self._sigma is None:
            pwrss = float(np.sum(residual_values(self, "pearson") ** 2) + self.u @ self.u)
            self._sigma = math.sqrt(pwrss / self.nobs())
        return self._sigma

    def logLik(self) -> float:  # noqa: N802
        """−½ of the optimised criterion (Laplace or AGQ approximation), as lme4."""
        return -0.5 * self.cmp["deviance"]

    def logLik_df(self) -> int:  # noqa: N802
        return self.npar()

    def deviance(self) -> float:
        """Sum of the squared deviance residuals (lme4's ``deviance.merMod`` of a GLMM)."""
        return float(np.sum(residual_values(self, "deviance") ** 2))

    def AIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + 2 * self.npar()

    def BIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + math.log(self.nobs()) * self.npar()

    def isSingular(self, tol: float = 1e-4) -> bool:  # noqa: N802
        """True when a θ with lower bound 0 is below ``tol`` (lme4's ``isSingular``)."""
        return bool(np.any(self.theta[self.re.lower == 0] < tol))

    # -- fixed and random effects ----------------------------------------------------------
    def fixef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.columns, dtype=float)

    def vcov_matrix(self) -> np.ndarray:
        """lme4 1.1-31's ``vcov.merMod``: from the finite-difference Hessian H of the criterion
        in (θ, β) (the β block of 2 H⁻¹); when there is none, or it is not positive definite
        (then with lme4's warning), σ̂² (R_X'R_X)⁻¹."""
        if self._vcov is None:
            self._vcov = self._hessian_vcov()
            if self._vcov is None:
                self._restore_state()
                RX = np.asarray(self.model.fixed_rx(self.theta))
                Linv = np.linalg.solve(RX, np.eye(self.p))
                self._vcov = self.sigma() ** 2 * (Linv.T @ Linv)
        return self._vcov

    def _hessian_vcov(self) -> np.ndarray | None:
        d = self.optinfo.derivs
        nth = len(self.theta)
        if d is None or d["Hessian"].shape[0] <= nth:
            return None
        try:
            hinv = np.linalg.solve(d["Hessian"], np.eye(d["Hessian"].shape[0]))
            V = hinv[nth:, nth:]
            V = V + V.T
            ok = bool(np.all(np.isfinite(V))) and np.linalg.eigvalsh(V).min() > 0
        except np.linalg.LinAlgError:
            ok = False
        if ok:
            return V
        warnings.warn("variance-covariance matrix computed from finite-difference Hessian is\n"
                      "not positive definite or contains NA values: falling back to var-cov "
                      "estimated from RX", RModelsWarning, stacklevel=4)
        return None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("model", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.model = self.rebuild_model()
        self._restore_state()

    def rebuild_model(self) -> Any:
        """The compiled model of this fit's data (as the fit made it; nothing is re-optimised):
        what a loaded pickle evaluates with (its family warnings were given by the fit)."""
        d = self.design
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = compiled_model(self.X, response_matrix(d, self.family), d.weights,
                                   self.offset_values, self.family, self.re, self.control)
        restore_settings(model, self.control, self.nAGQ, self.optinfo)
        return model

    def _restore_state(self) -> None:
        """Evaluate the compiled model at this fit's estimates again (another fit sharing it,
        e.g. :meth:`at_parameters`, may have moved its PIRLS state)."""
        criterion(self.model, self.optinfo.par, self.nAGQ)

    def vcov(self) -> pd.DataFrame:
        return pd.DataFrame(self.vcov_matrix(), index=self.columns, columns=self.columns)

    def getME_theta(self) -> pd.Series:  # noqa: N802
        return pd.Series(self.theta, index=self.re.theta_names)

    def conditional_variances(self) -> list:
        """Per term the (k, k·nlev) conditional covariance blocks of its random effects at the
        final PIRLS weights (lme4's ``condVar``)."""
        if self._condvar is None:
            self._restore_state()
            s2 = self.sigma() ** 2  # lme4 scales them by σ̂² (1 without a scale)
            self._condvar = [s2 * np.asarray(B) for B in self.model.cond_var_blocks(self.theta)]
        return self._condvar

    def ranef(self, condVar: bool = True) -> dict:  # noqa: N803
        """Conditional modes per grouping factor (see :meth:`rmodels.models.lmer.LmerMod.ranef`);
        conditional variances in ``df.attrs["postVar"]``."""
        return ranef_frames(self.b, self.re, self.conditional_variances() if condVar else None)

    def coef(self) -> dict:
        """Per grouping factor: fixed effects plus the matching random effects."""
        return coef_frames(self.fixef(), self.ranef(condVar=False))

    def VarCorr(self) -> VarCorr:  # noqa: N802
        """Variance components σ̂² T Tᵀ per term (lme4's ``VarCorr.merMod``); a residual row
        σ̂ for the families with a scale (lme4's ``useSc``), none for binomial and poisson."""
        sig = self.sigma()
        groups = [(name, list(t.cnms), sig**2 * (T @ T.T))
                  for name, t, T in zip(self.re.vc_group_names(), self.re.terms,
                                        self.re.templates(self.theta))]
        return VarCorr(groups, sig, use_sc=self.use_sc)

    # -- per-row results -------------------------------------------------------------------
    def fitted(self) -> pd.Series:
        """Fitted means μ̂ on the data's index (lme4's ``fitted.merMod``)."""
        return self.rows.naresid(self.mu.copy())

    def residuals(self, type: str = "deviance") -> pd.Series:  # noqa: A002 - R's argument
        """lme4's ``residuals.glmResp``: ``"deviance"`` (default), ``"pearson"``,
        ``"working"`` or ``"response"``."""
        return self.rows.naresid(residual_values(self, type))

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "link",  # noqa: A002
                re_form: Any = None, allow_new_levels: bool = False) -> pd.Series:
        """lme4's ``predict.merMod``: the linear predictor (``type="link"``) or the mean
        (``"response"``); ``re_form`` ``"~0"``/NA for the population level; new levels of a
        grouping factor raise unless ``allow_new_levels`` (random effects 0)."""
        vals = predict_glmer(self, newdata, type, re_form, allow_new_levels)
        if newdata is None:
            return self.rows.naresid(vals)
        return pd.Series(vals, index=newdata.index)

    def hatvalues(self) -> pd.Series:
        """lme4's ``hatvalues.merMod`` of a GLMM (with its warning that the hat matrix may not
        make sense for GLMMs), on the data's index."""
        return self.rows.naresid(glmm_hat_values(self))

    def cooks_distance(self) -> pd.Series:
        """lme4's ``cooks.distance.merMod`` of a GLMM (Pearson residuals, σ̂² the dispersion),
        with the hat-matrix warning, on the data's index."""
        return self.rows.naresid(glmm_cooks_distances(self, glmm_hat_values(self)))

    # -- inference -------------------------------------------------------------------------
    def confint(self, parm: Any = None, level: float = 0.95,
                method: str = "Wald") -> pd.DataFrame:
        """Wald intervals β̂ ± z SE for the fixed effects and NaN rows for θ (lme4's
        ``confint.merMod(method = "Wald")``; lme4's default is the profile, not provided)."""
        if method != "Wald":
            raise FitError("glmer: only method='Wald' intervals are available")
        return wald_confint(self, parm, level, use_sc=False)

    def anova(self, *others: Any, model_names: Sequence[str] | None = None) -> pd.DataFrame:
        """Likelihood-ratio table of several fits (lme4's ``anova.merMod``): ``npar AIC BIC
        logLik deviance Chisq Df Pr(>Chisq)``, models sorted by npar."""
        if not others:
            raise FitError("anova of a single glmer fit is not available")
        return anova_lrt([self, *others], refit=False, model_names=model_names)

    # -- broom.mixed -----------------------------------------------------------------------
    def tidy(self, effects: Sequence[str] | str = ("ran_pars", "fixed"),
             conf_int: bool = False, conf_level: float = 0.95) -> pd.DataFrame:
        """broom.mixed's ``tidy.merMod`` of a GLMM: fixed rows ``estimate std.error statistic
        p.value`` (z tests), ``ran_pars`` ``sd__``/``cor__`` rows, ``ran_vals`` on request."""
        return broom.tidy(self, effects, conf_int, conf_level)

    def glance(self) -> pd.DataFrame:
        """broom.mixed's ``glance.merMod``: ``nobs sigma logLik AIC BIC deviance
        df.residual``."""
        return broom.glance(self)

    def augment(self) -> pd.DataFrame:
        """broom.mixed's ``augment.merMod``: the model frame with ``.fitted`` (link scale),
        ``.resid`` (deviance residuals), ``.hat``, ``.cooksd``, ``.fixed`` and the response
        module's columns (with lme4's hat-matrix warning)."""
        return broom.augment(self)

    # -- printing --------------------------------------------------------------------------
    def summary(self) -> GlmerSummary:
        return GlmerSummary(self)

    def __str__(self) -> str:
        return print_glmer(self)

    def __repr__(self) -> str:
        return str(self)
