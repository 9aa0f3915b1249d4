"""The fitted linear mixed model (lme4's ``lmerMod``): its state at θ̂ and R's generics as
methods that orchestrate; the numbers are computed in the modules named after them
(:mod:`.optimize`, :mod:`.predict`, :mod:`.influence`, :mod:`.ranef`, :mod:`.varcorr`,
:mod:`.anova`, :mod:`.confint`, :mod:`.broom`, :mod:`.summary`).

Model: y = Xβ + Zb + ε with ε ~ N(0, σ²W⁻¹), b = Λ_θ u, u ~ N(0, σ²I).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import RModelsWarning
from ...frame import optional_data_frame
from ...printing import format_num
from ...printing.html import fit_html
from ..contract import RowLabels
from . import broom
from .anova import anova_fixed_terms, anova_lrt
from .confint import confint_lmer
from .influence import cooks_distances, hat_values
from .optimize import LmerControl, OptInfo, fit_pls, pls_model
from .predict import (
    fitted_values,
    is_population,
    population_values,
    predict_newdata,
    residual_values,
)
from .ranef import coef_frames, conditional_variance_blocks, ranef_frames
from .summary import LmerSummary, print_lmer
from .terms import ReStructure
from .varcorr import VarCorr


class LmerMod:
    """A fitted linear mixed model (lme4's ``lmerMod``), built by :func:`rmodels.lmer`.

    State: ``design`` (the rows, model spec and frame), ``re`` (the random-effect terms),
    ``X`` (n, p) and ``columns`` (the fixed effects kept), ``y``, ``prior_weights``,
    ``offset_values``, ``REML``, ``control``, ``call`` (what the printed call shows),
    ``fit_msgs``, ``model`` (the compiled PLS model), ``optinfo``; at θ̂: ``theta``, ``beta``,
    ``b``, ``u``, ``RX`` (lower L with L L' = R_X'R_X), ``cmp`` (lme4's criteria ``ldL2 ldRX2
    pwrss ldW deviance REML``) and ``solution`` (the compiled solve's result).
    """

    def __init__(self, design: Any, re: ReStructure, X: np.ndarray, columns: list,
                 reml: bool, control: LmerControl, call: dict, fit_msgs: list,
                 model: Any, optinfo: OptInfo) -> None:
        self.design, self.re, self.REML, self.control = design, re, reml, control
        self.call, self.fit_msgs = call, fit_msgs
        self.X = X
        self.columns = columns
        self.y = np.asarray(design.y, dtype=float)
        self.prior_weights = None if design.weights is None else \
            np.asarray(design.weights, float)
        self.offset_values = None if design.offset is None else np.asarray(design.offset, float)
        self.model, self.optinfo = model, optinfo
        self.rows = RowLabels.from_design(design)
        self.set_theta(optinfo.theta)

    @classmethod
    def from_design(cls, design: Any, re: ReStructure, X: np.ndarray, columns: list,
                    reml: bool, control: LmerControl, call: dict,
                    fit_msgs: list) -> LmerMod:
        """Minimise the profiled criterion over θ and build the fit at θ̂ (lme4's
        ``mkLmerDevfun`` + ``optimizeLmer`` + ``mkMerMod``)."""
        X = np.asfortranarray(X)
        y = np.asarray(design.y, dtype=float)
        w = None if design.weights is None else np.asarray(design.weights, float)
        off = None if design.offset is None else np.asarray(design.offset, float)
        model = pls_model(X, y, w, off, re, control)
        optinfo = fit_pls(model, re, y, reml, control)
        return cls(design, re, X, columns, reml, control, call, fit_msgs, model, optinfo)

    # -- pickling: the compiled model is a handle, rebuilt from the arrays it was made of -----
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("model", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.model = self.rebuild_model()

    def rebuild_model(self) -> Any:
        """The compiled PLS model of this fit's data (as the fit made it; nothing is
        re-optimised): what a loaded pickle evaluates ``devfun``/``profile`` with."""
        return pls_model(np.asfortranarray(self.X), self.y, self.prior_weights,
                         self.offset_values, self.re, self.control)

    def set_theta(self, theta: np.ndarray) -> None:
        """Solve the penalized least squares problem at θ and keep its solution (lme4's
        ``setTheta`` + ``solve``)."""
        self.theta = np.asarray(theta, dtype=float)
        s = self.model.solve(self.theta)
        self.solution = s
        self.beta = np.asarray(s["beta"])
        self.b = np.asarray(s["b"])
        self.u = np.asarray(s["u"])
        self.RX = np.asarray(s["RX"])
        self.cmp = {k: float(s[k]) for k in ("ldL2", "ldRX2", "pwrss", "ldW", "deviance", "REML")}
        self._condvar: list | None = None
        # lmerTest's (θ, σ) derivatives and pbkrtest's adjusted vcov, computed on demand
        self.lmertest_cache: dict = {}

    def devfun(self, theta: Sequence[float], REML: bool | None = None) -> float:  # noqa: N803
        """The profiled criterion at θ (lme4's ``as.function(fit)``): REML criterion for a REML
        fit, ML deviance otherwise."""
        reml = self.REML if REML is None else REML
        return float(self.model.objective(np.asarray(theta, dtype=float), reml))

    def refitML(self) -> LmerMod:  # noqa: N802
        """The same model fitted by maximum likelihood (lme4's ``refitML``)."""
        if not self.REML:
            return self
        return LmerMod.from_design(self.design, self.re, self.X, self.columns, False,
                                   self.control, self.call, self.fit_msgs)

    # -- sizes and criteria ----------------------------------------------------------------
    def nobs(self) -> int:
        return int(self.X.shape[0])

    @property
    def p(self) -> int:
        return int(self.X.shape[1])

    def ngrps(self) -> pd.Series:
        """Number of levels of each grouping factor (flist order)."""
        return self.re.group_levels()

    def npar(self) -> int:
        """Number of parameters: p + length(θ) + 1 (σ)."""
        return self.p + len(self.theta) + 1

    def df_residual(self) -> int:
        return self.nobs() - self.npar()

    def sigma(self) -> float:
        """σ̂ = sqrt(pwrss / (n − p)) (REML) or sqrt(pwrss / n) (ML)."""
        n = self.nobs()
        den = n - self.p if self.REML else n
        return math.sqrt(self.cmp["pwrss"] / den)

    def REMLcrit(self) -> float:  # noqa: N802
        """REML criterion at the estimates (for an ML fit: evaluated at the ML θ̂)."""
        return self.cmp["REML"]

    def deviance(self, REML: bool | None = None) -> float:  # noqa: N803
        """ML deviance; for a REML fit lme4 warns and returns the REML criterion unless
        ``REML=False`` (the ML deviance at the REML estimates)."""
        if REML is None and self.REML:
            warnings.warn("deviance() is deprecated for REML fits; use REMLcrit for the REML "
                          "criterion or deviance(.,REML=FALSE) for deviance calculated at the "
                          "REML fit", RModelsWarning, stacklevel=2)
            return self.cmp["REML"]
        if REML:
            return self.cmp["REML"]
        return self.cmp["deviance"]

    def logLik(self, REML: bool | None = None) -> float:  # noqa: N802,N803
        """Log-likelihood (REML log-likelihood for a REML fit); ``df`` = p + length(θ) + 1 is
        available as :meth:`logLik_df`."""
        reml = self.REML if REML is None else REML
        return -0.5 * (self.cmp["REML"] if reml else self.cmp["deviance"])

    def logLik_df(self) -> int:  # noqa: N802
        return self.npar()

    def AIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + 2 * self.npar()

    def BIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + math.log(self.nobs()) * self.npar()

    def isSingular(self, tol: float = 1e-4) -> bool:  # noqa: N802
        """True when a θ with lower bound 0 is below ``tol`` (lme4's ``isSingular``)."""
        b = self.re.lower == 0
        return bool(np.any(self.theta[b] < tol))

    # -- fixed and random effects ----------------------------------------------------------
    def fixef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.columns, dtype=float)

    def vcov(self) -> pd.DataFrame:
        """σ̂² (R_X'R_X)⁻¹."""
        return pd.DataFrame(self.vcov_matrix(), index=self.columns, columns=self.columns)

    def vcov_matrix(self) -> np.ndarray:
        """σ̂² (R_X'R_X)⁻¹ as an array (p, p)."""
        p = self.p
        if p == 0:
            return np.zeros((0, 0))
        Linv = np.linalg.solve(self.RX, np.eye(p))
        with np.errstate(over="ignore"):  # a column near 1e-160 overflows to Inf, as in R
            return self.sigma() ** 2 * (Linv.T @ Linv)

    def getME_theta(self) -> pd.Series:  # noqa: N802
        return pd.Series(self.theta, index=self.re.theta_names)

    def conditional_variances(self) -> list:
        """Per term the (k, nlev, k) conditional covariances of its random effects (cached)."""
        if self._condvar is None:
            self._condvar = conditional_variance_blocks(self.model, self.theta, self.sigma())
        return self._condvar

    def ranef(self, condVar: bool = True) -> dict:  # noqa: N803
        """Conditional modes b̂ per grouping factor (flist order): DataFrames with one row per
        level and one column per effect (terms of the same factor concatenated in term order).
        With ``condVar`` the conditional variances are in ``df.attrs["postVar"]`` as an array
        (nlevels, k, k) (block diagonal across terms of one factor)."""
        return ranef_frames(self.b, self.re,
                            self.conditional_variances() if condVar else None)

    def coef(self) -> dict:
        """Per grouping factor: fixed effects plus the matching random effects (lme4's
        ``coef.merMod``; random-only effects are prepended with fixed part 0)."""
        return coef_frames(self.fixef(), self.ranef(condVar=False))

    def VarCorr(self) -> VarCorr:  # noqa: N802
        """Variance components: per term σ̂² T Tᵀ, and σ̂."""
        sig = self.sigma()
        groups = [(name, list(t.cnms), sig**2 * (T @ T.T))
                  for name, t, T in zip(self.re.vc_group_names(), self.re.terms,
                                        self.re.templates(self.theta))]
        return VarCorr(groups, sig)

    # -- per-row results: Series on the data's index (R's naresid / napredict) -------------
    def fitted(self) -> pd.Series:
        """Fitted values Xβ̂ + Zb̂ + offset on the data's index (NaN-padded under
        ``na_action="exclude"``, as lme4's ``fitted.merMod`` through ``napredict``)."""
        return self.rows.naresid(fitted_values(self))

    def residuals(self, type: str = "response", scaled: bool = False) -> pd.Series:  # noqa: A002
        """``y − fitted`` ("response"), times √w ("pearson"); divided by σ̂ if ``scaled``
        (NaN-padded under ``na_action="exclude"``, as lme4's ``residuals.merMod``)."""
        return self.rows.naresid(residual_values(self, type, scaled))

    def predict(self, newdata: pd.DataFrame | None = None, re_form: Any = None,
                allow_new_levels: bool = False) -> pd.Series:
        """Predictions Xβ̂ + Zb̂ + offset; ``re_form`` of ``"~0"``, ``"NA"`` or ``np.nan``
        gives the population level Xβ̂ + offset. New levels raise unless ``allow_new_levels``,
        which gives them random effects 0 (lme4's ``predict.merMod``). Without ``newdata``
        on the data's index (NaN-padded under ``na_action="exclude"``); with it, on
        ``newdata``'s index."""
        population = is_population(re_form)
        newdata = optional_data_frame(newdata)
        if newdata is None:
            return self.rows.naresid(population_values(self) if population
                                     else fitted_values(self))
        eta = predict_newdata(self, newdata, population, allow_new_levels)
        return pd.Series(eta, index=newdata.index)

    def hatvalues(self) -> pd.Series:
        """Diagonal of the hat matrix of the penalized fit (lme4's ``hatvalues.merMod``), on
        the data's index (NaN-padded under ``na_action="exclude"``)."""
        return self.rows.naresid(hat_values(self))

    def cooks_distance(self) -> pd.Series:
        """lme4's ``cooks.distance.merMod``, on the data's index (NaN-padded under
        ``na_action="exclude"``)."""
        return self.rows.naresid(cooks_distances(self, hat_values(self)))

    # -- inference -------------------------------------------------------------------------
    def confint(self, parm: Any = None, level: float = 0.95,
                method: str = "profile") -> pd.DataFrame:
        """lme4's ``confint.merMod``. ``method="profile"`` (lme4's default): profile-likelihood
        intervals for the variance parameters (``.sig01 …``, ``.sigma``: standard deviations and
        correlations) and the fixed effects (see :mod:`.profile`). ``method="Wald"``: Wald
        intervals for the fixed effects, NaN rows for the variance parameters. ``parm``:
        names, 1-based positions, ``"theta_"`` or ``"beta_"``."""
        return confint_lmer(self, parm, level, method)

    def anova(self, *others: LmerMod, refit: bool = True,
              model_names: Sequence[str] | None = None, type: Any = None,  # noqa: A002
              ddf: str | None = None) -> pd.DataFrame:
        """One fit: ``npar Sum Sq Mean Sq F value`` per fixed term. Several fits: likelihood
        ratio table ``npar AIC BIC logLik deviance Chisq Df Pr(>Chisq)`` (REML fits refitted
        by ML when ``refit``), models sorted by npar, as lme4's ``anova.merMod``. One fit with
        ``type`` ("I", "II", "III") or ``ddf`` ("Satterthwaite", "Kenward-Roger"): lmerTest's
        table ``Sum Sq Mean Sq NumDF DenDF F value Pr(>F)`` (defaults type III,
        Satterthwaite); ``ddf="lme4"`` gives lme4's table."""
        if not others and (type is not None or ddf is not None) and ddf != "lme4":
            from ..lmertest.anova import lmertest_anova  # lmerTest's code, loaded when asked

            return lmertest_anova(self, "III" if type is None else type,
                                  "Satterthwaite" if ddf is None else ddf)
        if not others:
            return anova_fixed_terms(self)
        return anova_lrt([self, *others], refit=refit, model_names=model_names)

    # -- broom.mixed -----------------------------------------------------------------------
    def contest(self, L: Any, rhs: Any = 0.0, joint: bool = True, confint: bool = True,
                level: float = 0.95, ddf: str = "Satterthwaite") -> pd.DataFrame:
        """lmerTest's ``contest``: the F test of Lβ = rhs (``joint``) or a t test per row of
        L, by Satterthwaite's or Kenward-Roger's method (see
        :func:`rmodels.models.lmertest.contest.contest`)."""
        from ..lmertest.contest import contest as lmertest_contest

        return lmertest_contest(self, L, rhs, joint, confint, level, ddf)

    def tidy(self, effects: Sequence[str] | str = ("ran_pars", "fixed"),
             scales: str | None = None, conf_int: bool = False,
             conf_level: float = 0.95, conf_method: str = "Wald",
             ddf: str | None = None) -> pd.DataFrame:
        """broom.mixed's ``tidy.merMod``: fixed rows first (``effect group term estimate
        std.error statistic``), then ``ran_pars`` rows ``sd__x``/``cor__x.y`` per group and
        ``sd__Observation``; ``ran_vals`` (conditional modes with conditional SDs) and
        ``ran_coefs`` (coef()) on request. ``conf_method``: ``"Wald"`` (intervals for the fixed
        effects only) or ``"profile"`` (profile intervals for the fixed effects and, by
        position, the ``ran_pars`` rows, as broom.mixed binds them). ``ddf``
        ("Satterthwaite", "Kenward-Roger"; broom.mixed's ``ddf.method``): the fixed rows get
        lmerTest's ``df`` and ``p.value`` columns and t-based Wald intervals."""
        return broom.tidy(self, effects, scales, conf_int, conf_level, conf_method, ddf)

    def glance(self) -> pd.DataFrame:
        """broom.mixed's ``glance.merMod``."""
        return broom.glance(self)

    def augment(self, newdata: pd.DataFrame | None = None) -> pd.DataFrame:
        """broom.mixed's ``augment.merMod``: the model frame with ``.fitted .resid .hat
        .cooksd .fixed .mu .offset .sqrtXwt .sqrtrwt .weights .wtres``, indexed by the data's
        labels of the rows in the fit; with ``newdata``, ``newdata`` and ``.fitted``."""
        return broom.augment(self, optional_data_frame(newdata))

    # -- printing --------------------------------------------------------------------------
    def summary(self, ddf: str | None = None) -> LmerSummary:
        """lme4's summary; with ``ddf`` ("Satterthwaite", "Kenward-Roger") lmerTest's, whose
        coefficient table has ``df`` and ``Pr(>|t|)`` (``ddf="lme4"``: lme4's)."""
        if ddf is None or ddf == "lme4":
            return LmerSummary(self)
        from ..lmertest.contest import match_ddf
        from ..lmertest.summary import LmerTestSummary

        return LmerTestSummary(self, match_ddf(ddf, ("Satterthwaite", "Kenward-Roger")))

    def __str__(self) -> str:
        return print_lmer(self)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """print.merMod for notebooks: the fixed effects as a table of R's
        ``format(digits = 4)``."""
        return fit_html(str(self), "Fixed Effects:", self.columns,
                        format_num(np.asarray(self.beta, dtype=float), digits=4))
