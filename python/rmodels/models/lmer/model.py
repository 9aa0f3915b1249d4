"""Linear mixed models as lme4::lmer (1.1-31): the fit, its accessors, printing and broom output.

Model: y = Xβ + Zb + ε with ε ~ N(0, σ²W⁻¹), b = Λ_θ u, u ~ N(0, σ²I). For each θ the compiled
core (``_core.PlsModel``) solves the penalized least squares problem through a blocked Cholesky
factor of Λ'Z'WZΛ + I (with X and y appended) and returns the profiled criteria

    ML deviance:   ldL2 − ldW + n (1 + log(2π pwrss / n))
    REML:          ldL2 − ldW + ldRX2 + (n − p)(1 + log(2π pwrss / (n − p)))

which NLopt's BOBYQA minimises over θ with lme4's ``nloptwrap`` settings; then lme4's
``optimizeLmer`` post-processing (restart at the edge, boundary snapping) and ``checkConv``
(singular fit message, gradient and Hessian checks) are applied.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ... import _core
from ...design import build_design
from ...errors import (
    ConvergenceWarning,
    DataError,
    FitError,
    RankDeficiencyWarning,
    RModelsWarning,
    SingularFitWarning,
)
from ...formula.ast import Name
from ...formula.deparse import deparse
from ...printing import (
    format_num,
    print_coefmat,
    print_matrix,
    print_named_vector,
    quantile7,
    round_r,
    zapsmall,
)
from ..contract import format_perc
from .terms import (
    ReStructure,
    build_re_structure,
    default_start,
    expanded_formula_text,
    grouping_factor,
)

SINGULAR_MESSAGE = "boundary (singular) fit: see help('isSingular')"


@dataclass
class LmerControl:
    """lme4's ``lmerControl()`` defaults that matter for a fit with ``nloptwrap``."""

    xtol_abs: float = 1e-8
    ftol_abs: float = 1e-8
    xtol_rel: float = 1e-4  # nloptr's default, kept by lme4's nloptwrap
    maxeval: int = 100000
    restart_edge: bool = True
    boundary_tol: float = 1e-5
    calc_derivs: bool = True
    check_conv_grad_tol: float = 2e-3
    check_conv_singular_tol: float = 1e-4
    check_conv_hess_tol: float = 1e-6
    check_rank_tol: float = 1e-7
    # rmodels only: factorisation of the random-effects block ("auto", "blocked", "sparse")
    pls_method: str = "auto"
    # rmodels only: threads for the dense block factorisation (the result does not depend on it)
    threads: int = 1


def lmerControl(**kwargs: Any) -> LmerControl:  # noqa: N802 - R's name
    """Control settings (``xtol_abs``, ``ftol_abs``, ``maxeval``, ``restart_edge``, …)."""
    return LmerControl(**kwargs)


# ------------------------------------------------------------------------------------------
# Optimisation (lme4's optwrap / optimizeLmer / checkConv)


@dataclass
class OptInfo:
    theta: np.ndarray
    fval: float
    feval: int
    status: int
    messages: list = field(default_factory=list)  # lme4 convergence messages (checkConv)
    derivs: dict | None = None


def deriv12(fun: Any, x: np.ndarray, fx: float, delta: float = 1e-4) -> dict:
    """Central finite-difference gradient and Hessian of ``fun`` at ``x`` (lme4's ``deriv12``)."""
    nx = len(x)
    H = np.full((nx, nx), np.nan)
    g = np.zeros(nx)
    for j in range(nx):
        xa = x.copy()
        xa[j] += delta
        xs = x.copy()
        xs[j] -= delta
        fadd, fsub = fun(xa), fun(xs)
        H[j, j] = fadd / delta**2 - 2 * fx / (delta * delta) + fsub / delta**2
        g[j] = (fadd - fsub) / (2 * delta)
        for i in range(j):
            def at(si: float, sj: float, i: int = i, j: int = j) -> float:
                z = x.copy()
                z[i] += si
                z[j] += sj
                return fun(z)
            H[i, j] = H[j, i] = (at(delta, delta) / (2 * delta) ** 2
                                 - at(delta, -delta) / (2 * delta) ** 2
                                 - at(-delta, delta) / (2 * delta) ** 2
                                 + at(-delta, -delta) / (2 * delta) ** 2)
    return {"gradient": g, "Hessian": H}


def _check_hess(H: np.ndarray, tol: float) -> list:
    try:
        ev = np.linalg.eigvalsh(H)
    except np.linalg.LinAlgError:
        return ["Problem with Hessian check (infinite or missing values?)"]
    neg = int(np.sum(ev < -tol))
    if neg:
        return [f"Model failed to converge: degenerate  Hessian with {neg} negative eigenvalues"]
    try:
        np.linalg.cholesky(H)
        chol_ok = True
    except np.linalg.LinAlgError:
        chol_ok = False
    if np.sum(np.abs(ev) < tol) or not chol_ok:
        return [" Hessian is numerically singular: parameters are not uniquely determined"]
    out = []
    if ev.max() * tol > 1:
        out.append("Model is nearly unidentifiable: very large eigenvalue\n - Rescale variables?")
    if ev.min() / ev.max() < tol:
        out.append("Model is nearly unidentifiable: large eigenvalue ratio\n - Rescale variables?")
    return out


def optimize_lmer(model: Any, re: ReStructure, reml: bool, ctrl: LmerControl,
                  start: np.ndarray | None = None) -> OptInfo:
    """BOBYQA over θ and lme4's post-processing; returns the optimum and lme4's messages.

    Steps (lme4 1.1-31 ``optimizeLmer`` + ``checkConv``): optimise from ``start`` (lme4's
    starting θ, :func:`default_start`; θ₀ when None); if some θ_i sits
    exactly on its bound and the one-sided difference quotient (step 1e-5) is negative there,
    optimise again from the solution; set θ_i within ``boundary_tol`` of the bound to the bound
    if that does not raise the criterion; then a singular fit (a bounded θ_i < 1e-4) gives the
    message, otherwise the scaled gradient (``solve(chol(H), g)``) and the Hessian are checked.
    """
    lower = re.lower

    def fn(th: np.ndarray) -> float:
        return model.objective(np.asarray(th, dtype=float), reml)

    def run(start: np.ndarray) -> OptInfo:
        r = model.optimize(start, lower, reml, ctrl.xtol_abs, ctrl.ftol_abs, ctrl.xtol_rel,
                           ctrl.maxeval)
        return OptInfo(np.asarray(r["theta"]), float(r["fval"]), int(r["feval"]),
                       int(r["status"]))

    opt = run(re.theta0.copy() if start is None else np.array(start, dtype=float))
    if ctrl.restart_edge:
        bvals = np.flatnonzero(opt.theta == lower)
        if len(bvals):
            d0 = fn(opt.theta)
            bgrad = []
            for i in bvals:
                th = opt.theta.copy()
                th[i] = lower[i] + 1e-5
                bgrad.append((fn(th) - d0) / 1e-5)
            if any(g < 0 for g in bgrad):
                opt = run(opt.theta)
    derivs_at = opt.theta.copy()
    derivs_f = opt.fval
    if ctrl.boundary_tol > 0:
        bdiff = opt.theta - lower
        edge = (bdiff > 0) & (bdiff < ctrl.boundary_tol)
        if edge.any():
            th = opt.theta.copy()
            th[edge] = lower[edge]
            f = fn(th)
            if not opt.fval < f:
                opt.theta, opt.fval = th, f
    if opt.status < 0 or opt.status == 5:
        msg = f"convergence code {opt.status} from nloptwrap"
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    bounded = lower == 0
    if np.any(opt.theta[bounded] < ctrl.check_conv_singular_tol):
        opt.messages.append(SINGULAR_MESSAGE)
        return opt
    if not ctrl.calc_derivs:
        return opt
    opt.derivs = deriv12(fn, derivs_at, derivs_f)
    g, H = opt.derivs["gradient"], opt.derivs["Hessian"]
    if np.isnan(g).any():
        opt.messages.append("Gradient contains NAs")
        return opt
    try:
        R = np.linalg.cholesky(H).T  # R'R = H
        scgrad = np.linalg.solve(R, g)
        if np.isnan(scgrad).any():
            raise np.linalg.LinAlgError
        maxmin = float(np.max(np.minimum(np.abs(scgrad), np.abs(g))))
        if maxmin > ctrl.check_conv_grad_tol:
            opt.messages.append(
                f"Model failed to converge with max|grad| = {_fmt_g(maxmin)} "
                f"(tol = {_fmt_g(ctrl.check_conv_grad_tol)}, component 1)")
    except np.linalg.LinAlgError:
        opt.messages.append("unable to evaluate scaled gradient")
    opt.messages += _check_hess(H, ctrl.check_conv_hess_tol)
    return opt


def _fmt_g(x: float) -> str:
    """C's ``%g`` as R's ``gettextf`` uses it."""
    return f"{x:g}"


# ------------------------------------------------------------------------------------------
# The fit


def lmer(formula: str, data: pd.DataFrame, REML: bool = True, weights: Any = None,  # noqa: N803
         offset: Any = None, control: LmerControl | dict | None = None, subset: Any = None,
         na_action: str = "omit", data_name: str | None = None) -> LmerMod:
    """Fit a linear mixed model by REML (default) or maximum likelihood, as ``lme4::lmer``.

    ``formula`` is R's formula text with random-effect terms ``(lhs | g)``, ``(lhs || g)``,
    ``(1 | g1/g2)``, ``(1 | g1:g2)``; ``weights``/``offset`` are column names or arrays.
    ``data_name`` is what the printed ``Data:`` line shows (R shows the expression typed).
    Rank-deficient fixed-effect columns are dropped (with a :class:`RankDeficiencyWarning`), a
    singular fit gives a :class:`SingularFitWarning`, failed convergence checks a
    :class:`ConvergenceWarning`.
    """
    ctrl = control if isinstance(control, LmerControl) else LmerControl(**(control or {}))
    d = build_design(formula, data, weights=weights, offset=offset, subset=subset,
                     na_action=na_action, allow_bars=True)
    if d.y is None:
        raise FitError("'formula' must be a two-sided formula (lme4's check.formula.LHS)")
    if d.y.ndim != 1 or d.y_factor is not None:
        raise FitError("response must be a numeric vector")
    re = build_re_structure(d)
    X = np.asarray(d.X, dtype=float)
    columns = list(d.columns)
    fit_msgs: list = []
    if X.shape[1] > 0:
        qr = _core.qr_dqrdc2(np.asfortranarray(X), ctrl.check_rank_tol)
        rank = int(qr["rank"])
        if rank < X.shape[1]:
            keep = [int(i) for i in np.asarray(qr["pivot"])[:rank]]
            ndrop = X.shape[1] - rank
            msg = ("fixed-effect model matrix is rank deficient so dropping "
                   f"{ndrop} column{'s' if ndrop > 1 else ''} / "
                   f"coefficient{'s' if ndrop > 1 else ''}")
            fit_msgs.append(msg)
            warnings.warn(msg, RankDeficiencyWarning, stacklevel=2)
            X = X[:, keep]
            columns = [columns[i] for i in keep]
    if isinstance(weights, str):
        weights_label = weights
    else:
        weights_label = None if weights is None else "weights"
    call = {
        "formula": expanded_formula_text(formula),
        "data": data_name if data_name is not None else "data",
        "weights": weights_label,
        "offset": (offset if isinstance(offset, str) else
                   (None if offset is None else "offset")),
        "subset": None if subset is None else "subset",
    }
    return LmerMod._fit(d, re, X, columns, bool(REML), ctrl, call, fit_msgs)


class LmerMod:
    """A fitted linear mixed model (lme4's ``lmerMod``)."""

    def __init__(self) -> None:  # built by lmer() through _fit
        self.design: Any = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def _fit(cls, d: Any, re: ReStructure, X: np.ndarray, columns: list, reml: bool,
             ctrl: LmerControl, call: dict, fit_msgs: list) -> LmerMod:
        self = cls()
        self.design, self.re, self.REML, self.control = d, re, reml, ctrl
        self.call, self.fit_msgs = call, fit_msgs
        self.X = np.asfortranarray(X)
        self.columns = columns
        self.y = np.asarray(d.y, dtype=float)
        self.prior_weights = None if d.weights is None else np.asarray(d.weights, float)
        self.offset_values = None if d.offset is None else np.asarray(d.offset, float)
        empty = np.empty(0)
        self.model = _core.PlsModel(
            self.X, self.y,
            empty if self.prior_weights is None else self.prior_weights,
            empty if self.offset_values is None else self.offset_values,
            [t.codes for t in re.terms], [t.nlev for t in re.terms], [t.Z for t in re.terms],
            method=ctrl.pls_method)
        self.model.threads = ctrl.threads
        self.optinfo = optimize_lmer(self.model, re, reml, ctrl, default_start(re, self.y))
        for msg in self.optinfo.messages:
            cls_w = SingularFitWarning if msg == SINGULAR_MESSAGE else ConvergenceWarning
            warnings.warn(msg, cls_w, stacklevel=3)
        self._set_theta(self.optinfo.theta)
        return self

    def _set_theta(self, theta: np.ndarray) -> None:
        self.theta = np.asarray(theta, dtype=float)
        s = self.model.solve(self.theta)
        self._sol = s
        self.beta = np.asarray(s["beta"])
        self.b = np.asarray(s["b"])
        self.u = np.asarray(s["u"])
        self.RX = np.asarray(s["RX"])  # lower L with L L' = R_X'R_X
        self.cmp = {k: float(s[k]) for k in ("ldL2", "ldRX2", "pwrss", "ldW", "deviance", "REML")}
        self._condvar: list | None = None

    def devfun(self, theta: Sequence[float], REML: bool | None = None) -> float:  # noqa: N803
        """The profiled criterion at θ (lme4's ``as.function(fit)``): REML criterion for a REML
        fit, ML deviance otherwise."""
        reml = self.REML if REML is None else REML
        return float(self.model.objective(np.asarray(theta, dtype=float), reml))

    # -- sizes -----------------------------------------------------------------------------
    def nobs(self) -> int:
        return int(self.X.shape[0])

    @property
    def p(self) -> int:
        return int(self.X.shape[1])

    def ngrps(self) -> pd.Series:
        """Number of levels of each grouping factor (flist order)."""
        nl = {}
        for t in self.re.terms:
            nl.setdefault(t.group, t.nlev)
        return pd.Series(nl, dtype=int)

    def _npar(self) -> int:
        return self.p + len(self.theta) + 1

    def df_residual(self) -> int:
        return self.nobs() - self._npar()

    # -- criteria --------------------------------------------------------------------------
    def sigma(self) -> float:
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
        return self._npar()

    def AIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + 2 * self._npar()

    def BIC(self) -> float:  # noqa: N802
        return -2 * self.logLik() + math.log(self.nobs()) * self._npar()

    def isSingular(self, tol: float = 1e-4) -> bool:  # noqa: N802
        """True when a θ with lower bound 0 is below ``tol`` (lme4's ``isSingular``)."""
        b = self.re.lower == 0
        return bool(np.any(self.theta[b] < tol))

    # -- fixed effects ---------------------------------------------------------------------
    def fixef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.columns, dtype=float)

    def vcov(self) -> pd.DataFrame:
        """σ̂² (R_X'R_X)⁻¹."""
        return pd.DataFrame(self._vcov_matrix(), index=self.columns, columns=self.columns)

    def _vcov_matrix(self) -> np.ndarray:
        p = self.p
        if p == 0:
            return np.zeros((0, 0))
        Linv = np.linalg.solve(self.RX, np.eye(p)) if p else np.zeros((0, 0))
        return self.sigma() ** 2 * (Linv.T @ Linv)

    # -- random effects --------------------------------------------------------------------
    def getME_theta(self) -> pd.Series:  # noqa: N802
        return pd.Series(self.theta, index=self.re.theta_names)

    def _term_offsets(self) -> list:
        out, off = [], 0
        for t in self.re.terms:
            out.append(off)
            off += t.k * t.nlev
        return out

    def _cond_var(self) -> list:
        if self._condvar is None:
            blocks = self.model.cond_var_blocks(self.theta)
            s2 = self.sigma() ** 2
            self._condvar = [np.asarray(B) * s2 for B in blocks]
        return self._condvar

    def ranef(self, condVar: bool = True) -> dict:  # noqa: N803
        """Conditional modes b̂ per grouping factor (flist order): DataFrames with one row per
        level and one column per effect (terms of the same factor concatenated in term order).
        With ``condVar`` the conditional variances are in ``df.attrs["postVar"]`` as an array
        (nlevels, k, k) (block diagonal across terms of one factor)."""
        out = {}
        offs = self._term_offsets()
        cv = self._cond_var() if condVar else None
        for g in self.re.flist:
            idx = [i for i, t in enumerate(self.re.terms) if t.group == g]
            cols, names = [], []
            for i in idx:
                t = self.re.terms[i]
                vals = self.b[offs[i]: offs[i] + t.k * t.nlev].reshape(t.nlev, t.k)
                cols.append(vals)
                names += t.cnms
            levels = self.re.terms[idx[0]].levels
            df = pd.DataFrame(np.hstack(cols), index=list(levels), columns=names)
            if cv is not None:
                K = len(names)
                pv = np.zeros((len(levels), K, K))
                pos = 0
                for i in idx:
                    t = self.re.terms[i]
                    B = cv[i].reshape(t.k, t.nlev, t.k)
                    pv[:, pos:pos + t.k, pos:pos + t.k] = np.transpose(B, (1, 0, 2))
                    pos += t.k
                df.attrs["postVar"] = pv
            out[g] = df
        return out

    def coef(self) -> dict:
        """Per grouping factor: fixed effects plus the matching random effects (lme4's
        ``coef.merMod``; random-only effects are prepended with fixed part 0)."""
        fe = self.fixef()
        re = self.ranef(condVar=False)
        refnames = [c for df in re.values() for c in df.columns]
        missing = list(dict.fromkeys(c for c in refnames if c not in fe.index))
        base = pd.concat([pd.Series(0.0, index=missing), fe]) if missing else fe
        out = {}
        for g, df in re.items():
            val = pd.DataFrame(np.tile(base.to_numpy(), (len(df), 1)), index=df.index,
                               columns=list(base.index))
            for c in df.columns:
                val[c] = val[c] + df[c].to_numpy()
            out[g] = val
        return out

    def VarCorr(self) -> VarCorr:  # noqa: N802
        sig = self.sigma()
        groups = []
        for name, t, T in zip(self.re.vc_group_names(), self.re.terms,
                              self.re.templates(self.theta)):
            cov = sig**2 * (T @ T.T)
            groups.append((name, list(t.cnms), cov))
        return VarCorr(groups, sig)

    # -- fitted values ---------------------------------------------------------------------
    def _naresid(self, v: np.ndarray) -> np.ndarray:
        """R's ``naresid``/``napredict``: under ``na_action="exclude"`` the values are padded
        back to all rows of the data, NaN at the rows dropped for missing values."""
        d = self.design
        if getattr(d, "na_action", "omit") != "exclude" or len(d.na_dropped) == 0:
            return v
        out = np.full(d.n_data, np.nan)
        out[d.kept_sub] = v
        return out

    def _fitted(self) -> np.ndarray:
        return np.asarray(self._sol["fitted"])

    def _resid(self, type: str = "response", scaled: bool = False) -> np.ndarray:  # noqa: A002
        r = self.y - self._fitted()
        if type == "pearson" and self.prior_weights is not None:
            r = r * np.sqrt(self.prior_weights)
        elif type not in ("response", "pearson", "working"):
            raise ValueError(f"unknown residual type {type!r}")
        return r / self.sigma() if scaled else r

    def fitted(self) -> np.ndarray:
        """Fitted values Xβ̂ + Zb̂ + offset (NaN-padded under ``na_action="exclude"``, as
        lme4's ``fitted.merMod`` through ``napredict``)."""
        return self._naresid(self._fitted().copy())

    def residuals(self, type: str = "response", scaled: bool = False) -> np.ndarray:  # noqa: A002
        """``y − fitted`` ("response"), times √w ("pearson"); divided by σ̂ if ``scaled``
        (NaN-padded under ``na_action="exclude"``, as lme4's ``residuals.merMod``)."""
        return self._naresid(self._resid(type, scaled))

    def predict(self, newdata: pd.DataFrame | None = None, re_form: Any = None,
                allow_new_levels: bool = False) -> np.ndarray:
        """Predictions Xβ̂ + Zb̂ + offset; ``re_form`` of ``"~0"``, ``"NA"`` or ``np.nan``
        gives the population level Xβ̂ + offset. New levels raise unless ``allow_new_levels``,
        which gives them random effects 0 (lme4's ``predict.merMod``)."""
        population = _is_population(re_form)
        if newdata is None:  # napredict: NaN-padded under na_action="exclude"
            if not population:
                return self.fitted()
            off = 0 if self.offset_values is None else self.offset_values
            return self._naresid(self.X @ self.beta + off)
        Xall, _ok = self.design.spec.model_matrix(newdata)
        keep = [list(self.design.columns).index(c) for c in self.columns]
        eta = np.asarray(Xall)[:, keep] @ self.beta
        off = self.design.spec.offset(newdata)
        if off is not None:
            eta = eta + off
        if population:
            return eta
        offs = self._term_offsets()
        new_design = _NewDataGroups(newdata, self.design)
        for i, t in enumerate(self.re.terms):
            sub = build_design("~" + deparse(t.bar.lhs), self.design.kept_data(),
                               na_action="fail")
            Znew = np.asarray(sub.spec.model_matrix(newdata)[0])
            codes_new, levels_new = grouping_factor(new_design, t.bar.group)
            lookup = {lev: j for j, lev in enumerate(t.levels)}
            mapped = np.array([lookup.get(levels_new[c], -1) for c in codes_new], dtype=int)
            if (mapped < 0).any() and not allow_new_levels:
                bad = list(dict.fromkeys(levels_new[c] for c, m in zip(codes_new, mapped)
                                         if m < 0))
                raise DataError(f"new levels detected in newdata: {', '.join(bad)}")
            bt = self.b[offs[i]: offs[i] + t.k * t.nlev].reshape(t.nlev, t.k)
            contrib = np.einsum("ij,ij->i", Znew, bt[np.maximum(mapped, 0)])
            eta = eta + np.where(mapped >= 0, contrib, 0.0)
        return eta

    # -- influence -------------------------------------------------------------------------
    def hatvalues(self) -> np.ndarray:
        """Diagonal of the hat matrix of the penalized fit (lme4's ``hatvalues.merMod``):
        colSums(C_L²) + colSums(C_R²) with C_L = L⁻¹Λ'Z'W½, C_R = R_X'⁻¹(X'W½ − R_ZX'C_L).
        Computed densely (n·q must stay below 5e7)."""
        n, q = self.nobs(), self.re.q
        if n * q > 5e7:
            raise FitError("hatvalues: the dense computation is limited to n * q < 5e7")
        sw = np.ones(n) if self.prior_weights is None else np.sqrt(self.prior_weights)
        Z = np.zeros((n, q))
        Lam = np.zeros((q, q))
        off = 0
        for t, T in zip(self.re.terms, self.re.templates(self.theta)):
            for e in range(t.k):
                Z[np.arange(n), off + t.codes * t.k + e] = t.Z[:, e]
            for lev in range(t.nlev):
                sl = slice(off + lev * t.k, off + (lev + 1) * t.k)
                Lam[sl, sl] = T
            off += t.k * t.nlev
        ZL = (Z @ Lam) * sw[:, None]
        Xw = self.X * sw[:, None]
        L = np.linalg.cholesky(ZL.T @ ZL + np.eye(q))
        CL = np.linalg.solve(L, ZL.T)
        RZX = CL @ Xw
        RX = np.linalg.cholesky(Xw.T @ Xw - RZX.T @ RZX) if self.p else np.zeros((0, 0))
        CR = np.linalg.solve(RX, Xw.T - RZX.T @ CL) if self.p else np.zeros((0, n))
        return np.sum(CL**2, axis=0) + np.sum(CR**2, axis=0)

    def cooks_distance(self) -> np.ndarray:
        """lme4's ``cooks.distance.merMod``: (r/(1−h))² h / (σ̂² p), r Pearson residuals."""
        h = self.hatvalues()
        r = self._resid(type="pearson")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (r / (1 - h)) ** 2 * h / (self.sigma() ** 2 * self.p)
        out[np.isinf(out)] = np.nan
        return out

    def augment(self, newdata: pd.DataFrame | None = None) -> pd.DataFrame:
        """broom.mixed's ``augment.merMod``: the model frame with ``.fitted .resid .hat
        .cooksd .fixed .mu .offset .sqrtXwt .sqrtrwt .weights .wtres``; with ``newdata``,
        ``newdata`` and ``.fitted``."""
        if newdata is not None:
            out = newdata.copy()
            out[".fitted"] = self.predict(newdata)
            return out
        out = self.design.frame.copy().reset_index(drop=True)
        kept = self.design.kept_data()
        for name in _bar_variables(self.design.bars):
            if name not in out.columns and name in kept.columns:
                out[name] = kept[name].to_numpy()
        w = np.ones(self.nobs()) if self.prior_weights is None else self.prior_weights
        off = np.zeros(self.nobs()) if self.offset_values is None else self.offset_values
        out[".fitted"] = self._fitted()
        out[".resid"] = self._resid()
        out[".hat"] = self.hatvalues()
        out[".cooksd"] = self.cooks_distance()
        out[".fixed"] = self.X @ self.beta
        out[".mu"] = self._fitted()
        out[".offset"] = off
        out[".sqrtXwt"] = 1.0
        out[".sqrtrwt"] = np.sqrt(w)
        out[".weights"] = w
        out[".wtres"] = self._resid(type="pearson")
        return out

    # -- inference -------------------------------------------------------------------------
    def confint(self, parm: Any = None, level: float = 0.95,
                method: str = "profile") -> pd.DataFrame:
        """lme4's ``confint.merMod``. ``method="profile"`` (lme4's default): profile-likelihood
        intervals for the variance parameters (``.sig01 …``, ``.sigma``: standard deviations and
        correlations) and the fixed effects (see :mod:`rmodels.lmer_profile`).
        ``method="Wald"``: Wald intervals for the fixed effects, NaN rows for the variance
        parameters. ``parm``: names, 1-based positions, ``"theta_"`` or ``"beta_"``."""
        if method == "profile":
            from .profile import profile_confint

            return profile_confint(self, parm, level)
        if method != "Wald":
            raise FitError(f"method must be 'profile' or 'Wald', not {method!r}")
        a = (1 - level) / 2
        probs = (a, 1 - a)
        labels = [format_perc(p) for p in probs]
        vn = [f".sig{i + 1:02d}" for i in range(len(self.theta))] + [".sigma"]
        se = np.sqrt(np.diag(self._vcov_matrix()))
        z = stats.norm.ppf(probs)
        rows = np.vstack([np.full((len(vn), 2), np.nan),
                          self.beta[:, None] + se[:, None] * z[None, :]])
        out = pd.DataFrame(rows, index=vn + self.columns, columns=labels)
        if parm is not None:
            out = out.loc[[parm] if isinstance(parm, str) else list(parm)]
        return out

    def anova(self, *others: LmerMod, refit: bool = True,
              model_names: Sequence[str] | None = None) -> pd.DataFrame:
        """One fit: ``npar Sum Sq Mean Sq F value`` per fixed term. Several fits: likelihood
        ratio table ``npar AIC BIC logLik deviance Chisq Df Pr(>Chisq)`` (REML fits refitted
        by ML when ``refit``), models sorted by npar, as lme4's ``anova.merMod``."""
        if not others:
            return self._anova_single()
        fits = [self, *others]
        names = list(model_names) if model_names is not None else \
            [f"MODEL{i + 1}" for i in range(len(fits))]
        if refit and any(f.REML for f in fits):
            fits = [f.refitML() if f.REML else f for f in fits]
        npar = [f._npar() for f in fits]
        order = sorted(range(len(fits)), key=lambda i: npar[i])
        rows = []
        prev = None
        for i in order:
            f = fits[i]
            ll = f.logLik()
            dev = -2 * ll
            row = [npar[i], f.AIC(), f.BIC(), ll, dev, np.nan, np.nan, np.nan]
            if prev is not None:
                chisq = prev[4] - dev
                df = npar[i] - prev[0]
                row[5] = chisq
                row[6] = df
                row[7] = stats.chi2.sf(chisq, df) if df > 0 else np.nan
            rows.append(row)
            prev = row
        out = pd.DataFrame(rows, index=[names[i] for i in order],
                           columns=["npar", "AIC", "BIC", "logLik", "deviance", "Chisq", "Df",
                                    "Pr(>Chisq)"])
        return out

    def _anova_single(self) -> pd.DataFrame:
        ss = (self.RX.T @ self.beta) ** 2
        assign = np.asarray(self.design.assign)
        keep = [list(self.design.columns).index(c) for c in self.columns]
        asg = assign[keep]
        labels = list(self.design.term_labels)
        rows, names = [], []
        for a in dict.fromkeys(asg.tolist()):
            if a == 0:
                continue
            m = asg == a
            s = float(ss[m].sum())
            k = int(m.sum())
            rows.append([k, s, s / k, s / k / self.sigma() ** 2])
            names.append(labels[a - 1])
        return pd.DataFrame(rows, index=names, columns=["npar", "Sum Sq", "Mean Sq", "F value"])

    def refitML(self) -> LmerMod:  # noqa: N802
        """The same model fitted by maximum likelihood (lme4's ``refitML``)."""
        if not self.REML:
            return self
        return LmerMod._fit(self.design, self.re, self.X, self.columns, False, self.control,
                            self.call, self.fit_msgs)

    # -- broom -----------------------------------------------------------------------------
    def tidy(self, effects: Sequence[str] | str = ("ran_pars", "fixed"),
             scales: str | None = None, conf_int: bool = False,
             conf_level: float = 0.95, conf_method: str = "Wald") -> pd.DataFrame:
        """broom.mixed's ``tidy.merMod``: fixed rows first (``effect group term estimate
        std.error statistic``), then ``ran_pars`` rows ``sd__x``/``cor__x.y`` per group and
        ``sd__Observation``; ``ran_vals`` (conditional modes with conditional SDs) and
        ``ran_coefs`` (coef()) on request. ``conf_method``: ``"Wald"`` (intervals for the fixed
        effects only) or ``"profile"`` (profile intervals for the fixed effects and, by
        position, the ``ran_pars`` rows, as broom.mixed binds them)."""
        effects = [effects] if isinstance(effects, str) else list(effects)
        if conf_method not in ("Wald", "profile"):
            raise FitError(f"conf_method must be 'Wald' or 'profile', not {conf_method!r}")
        profile = conf_int and conf_method == "profile"
        parts = []
        if "fixed" in effects:
            se = np.sqrt(np.diag(self._vcov_matrix()))
            df = pd.DataFrame({"effect": "fixed", "group": None, "term": self.columns,
                               "estimate": self.beta, "std.error": se,
                               "statistic": self.beta / se})
            if profile:
                ci = self.confint(parm="beta_", level=conf_level)
                df["conf.low"] = ci.iloc[:, 0].to_numpy()
                df["conf.high"] = ci.iloc[:, 1].to_numpy()
            elif conf_int:
                z = stats.norm.ppf(0.5 + conf_level / 2)
                df["conf.low"] = self.beta - z * se
                df["conf.high"] = self.beta + z * se
            parts.append(df)
        if "ran_pars" in effects:
            rp = self.VarCorr()._tidy(scales or "sdcor")
            if profile:
                ci = self.confint(parm="theta_", level=conf_level)
                rp["conf.low"] = ci.iloc[:, 0].to_numpy()
                rp["conf.high"] = ci.iloc[:, 1].to_numpy()
            parts.append(rp)
        if "ran_vals" in effects:
            rows = []
            cv = self._cond_var()
            offs = self._term_offsets()
            for g in self.re.flist:
                for i, t in enumerate(self.re.terms):
                    if t.group != g:
                        continue
                    bt = self.b[offs[i]: offs[i] + t.k * t.nlev].reshape(t.nlev, t.k)
                    B = cv[i].reshape(t.k, t.nlev, t.k)
                    for e, nm in enumerate(t.cnms):
                        for lev_i, lev in enumerate(t.levels):
                            rows.append(("ran_vals", g, lev, nm, bt[lev_i, e],
                                         math.sqrt(B[e, lev_i, e])))
            parts.append(pd.DataFrame(rows, columns=["effect", "group", "level", "term",
                                                     "estimate", "std.error"]))
        if "ran_coefs" in effects:
            rows = []
            for g, df in self.coef().items():
                for c in df.columns:
                    for lev, v in zip(df.index, df[c]):
                        rows.append(("ran_coefs", g, lev, c, v))
            parts.append(pd.DataFrame(rows, columns=["effect", "group", "level", "term",
                                                     "estimate"]))
        if not parts:
            raise ValueError("no effects selected")
        # broom.mixed puts the fixed effects first
        parts.sort(key=lambda p: 0 if (len(p) and p["effect"].iloc[0] == "fixed") else 1)
        out = pd.concat(parts, ignore_index=True, sort=False)
        cols = ["effect", "group", "level", "term", "estimate", "std.error", "statistic",
                "conf.low", "conf.high"]
        return out[[c for c in cols if c in out.columns]]

    def glance(self) -> pd.DataFrame:
        crit = "REMLcrit" if self.REML else "deviance"
        return pd.DataFrame([{
            "nobs": self.nobs(), "sigma": self.sigma(), "logLik": self.logLik(),
            "AIC": self.AIC(), "BIC": self.BIC(),
            crit: self.cmp["REML"] if self.REML else self.cmp["deviance"],
            "df.residual": self.df_residual()}])

    # -- printing --------------------------------------------------------------------------
    def summary(self) -> LmerSummary:
        return LmerSummary(self)

    def _title(self) -> str:
        how = "REML" if self.REML else "maximum likelihood "
        return f"Linear mixed model fit by {how} ['lmerMod']\n"

    def _call_lines(self, long: bool = True) -> str:
        out = _cat_fill(["Formula:", self.call["formula"]])
        out += _cat_fill(["   Data:", self.call["data"]])
        if self.call.get("weights"):
            out += _cat_fill(["Weights:", self.call["weights"]])
        if self.call.get("offset"):
            out += _cat_fill([" Offset:", self.call["offset"]])
        if self.call.get("subset"):
            out += _cat_fill([" Subset:", self.call["subset"]])
        return out

    def _aictab(self, digits: int) -> str:
        if self.REML:
            v = round_r(self.cmp["REML"], digits)
            return f"REML criterion at convergence: {format_num([v], digits=7)[0].strip()}\n"
        vals = [self.AIC(), self.BIC(), self.logLik(), self.cmp["deviance"]]
        rounded = [round_r(v, digits) for v in vals]
        cells = format_num(rounded + [float(self.df_residual())], digits=7)[:4]
        cells.append(format_num([float(self.df_residual())], digits=7)[0])
        return print_named_vector(cells, ["AIC", "BIC", "logLik", "deviance", "df.resid"])

    def _grps_line(self) -> str:
        ng = self.ngrps()
        parts = "; ".join(f"{g}, {n}" for g, n in ng.items())
        return _cat_fill([f"Number of obs: {self.nobs()}, groups: ", parts])

    def _warn_lines(self, summary: bool) -> str:
        msgs = self.optinfo.messages
        if not msgs:
            return ""
        conv = "optimizer (nloptwrap) convergence code: 0 (OK)"
        if summary:
            return f"{conv} ; 0 optimizer warnings; {len(msgs)} lme4 warnings \n"
        # lme4 writes cat(convmsg, msgs, sep = "\n") then cat("\n"): R's output ends in an
        # empty line there
        return "\n".join([conv, *msgs]) + "\n\n"

    def _fit_msgs(self) -> str:
        if not self.fit_msgs:
            return ""
        return "fit warnings:\n" + "\n".join(self.fit_msgs) + "\n"

    def __str__(self) -> str:
        out = self._title() + self._call_lines(long=False) + self._aictab(4)
        out += "Random effects:\n" + self.VarCorr()._format(digits=4,
                                                            comp=("Std.Dev.",))
        out += self._grps_line()
        if self.p > 0:
            cells = format_num(self.beta, digits=4)
            out += "Fixed Effects:\n" + print_named_vector(cells, self.columns, gap=2)
        else:
            out += "No fixed effect coefficients\n"
        out += self._fit_msgs() + self._warn_lines(summary=True)
        return out

    def __repr__(self) -> str:
        return str(self)


def _bar_variables(bars: list) -> list:
    """Names of the data columns used by the random-effect bars, in order of appearance."""
    out: list = []

    def walk(e: Any) -> None:
        if isinstance(e, Name):
            if e.id not in out:
                out.append(e.id)
            return
        for attr in ("left", "right", "expr", "operand"):
            if hasattr(e, attr):
                walk(getattr(e, attr))
        for a in getattr(e, "args", ()):
            walk(a)

    for b in bars:
        walk(b.lhs)
        walk(b.group)
    return out


def _is_population(re_form: Any) -> bool:
    if re_form is None:
        return False
    if isinstance(re_form, float) and math.isnan(re_form):
        return True
    if isinstance(re_form, str) and re_form.replace(" ", "") in ("~0", "NA", "~-1"):
        return True
    raise ValueError("re_form must be None (all random effects) or '~0' / NA (none)")


class _NewDataGroups:
    """Evaluates grouping factors on new data with the design's interpreter."""

    def __init__(self, newdata: pd.DataFrame, design: Any) -> None:
        import dataclasses

        self._d = dataclasses.replace(design, _kept_data=newdata)

    def grouping_factor(self, expr: Any) -> tuple[np.ndarray, list]:
        return self._d.grouping_factor(expr)


def _cat_fill(items: list, width: int = 80) -> str:
    """``cat(..., fill = TRUE)``: items separated by spaces, a newline before an item that would
    pass ``width`` (R writes the separator first, so the broken line ends in a space), and a
    final newline."""
    lines: list = []
    cur = ""
    for it in items:
        if cur and len(cur) + 1 + len(it) > width:
            lines.append(cur + " ")
            cur = it
        else:
            cur = it if not cur else cur + " " + it
    lines.append(cur)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# VarCorr


class VarCorr:
    """Variance components per term (lme4's ``VarCorr.merMod``) and the residual SD."""

    def __init__(self, groups: list, sigma: float) -> None:
        self.groups = groups  # (name, effect names, covariance matrix)
        self.sigma = sigma

    def __getitem__(self, name: str) -> pd.DataFrame:
        for g, cn, cov in self.groups:
            if g == name:
                return pd.DataFrame(cov, index=cn, columns=cn)
        raise KeyError(name)

    def as_data_frame(self) -> pd.DataFrame:
        """``as.data.frame(VarCorr(fit))``: ``grp var1 var2 vcov sdcor``."""
        rows = []
        for g, cn, cov in self.groups:
            sd = np.sqrt(np.diag(cov))
            for i, nm in enumerate(cn):
                rows.append((g, nm, None, cov[i, i], sd[i]))
            for i in range(len(cn)):
                for j in range(i + 1, len(cn)):
                    rows.append((g, cn[i], cn[j], cov[i, j], cov[i, j] / (sd[i] * sd[j])))
        rows.append(("Residual", None, None, self.sigma**2, self.sigma))
        return pd.DataFrame(rows, columns=["grp", "var1", "var2", "vcov", "sdcor"])

    def _tidy(self, scales: str) -> pd.DataFrame:
        rows = []
        for g, cn, cov in self.groups:
            sd = np.sqrt(np.diag(cov))
            for i in range(len(cn)):
                if scales == "vcov":
                    rows.append(("ran_pars", g, f"var__{cn[i]}", cov[i, i]))
                else:
                    rows.append(("ran_pars", g, f"sd__{cn[i]}", sd[i]))
                for j in range(i + 1, len(cn)):
                    if scales == "vcov":
                        rows.append(("ran_pars", g, f"cov__{cn[i]}.{cn[j]}", cov[i, j]))
                    else:
                        rows.append(("ran_pars", g, f"cor__{cn[i]}.{cn[j]}",
                                     cov[i, j] / (sd[i] * sd[j])))
        last = ("var__Observation", self.sigma**2) if scales == "vcov" else \
            ("sd__Observation", self.sigma)
        rows.append(("ran_pars", "Residual", last[0], last[1]))
        return pd.DataFrame(rows, columns=["effect", "group", "term", "estimate"])

    def _format(self, digits: int, comp: Sequence[str]) -> str:
        """lme4's ``formatVC`` printed with ``quote = FALSE``."""
        sds, names, groups = [], [], []
        for g, cn, cov in self.groups:
            sd = np.sqrt(np.diag(cov))
            for i, nm in enumerate(cn):
                groups.append(g if i == 0 else "")
                names.append(nm)
                sds.append(sd[i])
        groups.append("Residual")
        names.append("")
        sds.append(self.sigma)
        sds_a = np.asarray(sds)
        colnames = ["Groups", "Name"]
        cols = [groups, names]
        if "Variance" in comp:
            colnames.append("Variance")
            cols.append(format_num(sds_a**2, digits=digits))
        if "Std.Dev." in comp:
            colnames.append("Std.Dev.")
            cols.append(format_num(sds_a, digits=digits))
        nr = len(groups)
        maxlen = max(len(cn) for _, cn, _ in self.groups)
        if maxlen > 1:
            dig = max(2, digits - 2)
            corr_rows = []
            for _, cn, cov in self.groups:
                k = len(cn)
                sd = np.sqrt(np.diag(cov))
                with np.errstate(invalid="ignore", divide="ignore"):
                    cor = cov / np.outer(sd, sd)
                cells = format_num(np.asarray(round_r(cor.ravel(), dig), dtype=float),
                                   digits=7, nsmall=dig, nan_is_na=False)
                cm = np.array(cells, dtype=object).reshape(k, k)
                for i in range(k):
                    row = [cm[i, j] if j < i else "" for j in range(k)]
                    row += [""] * (maxlen - k)
                    corr_rows.append(row[: maxlen - 1])
            while len(corr_rows) < nr:
                corr_rows.append([""] * (maxlen - 1))
            for j in range(maxlen - 1):
                colnames.append("Corr" if j == 0 else "")
                cols.append([r[j] for r in corr_rows])
        cells = [[cols[c][i] for c in range(len(cols))] for i in range(nr)]
        return print_matrix(cells, rownames=[""] * nr, colnames=colnames, right=False)

    def __str__(self) -> str:
        return self._format(digits=5, comp=("Std.Dev.",))

    def __repr__(self) -> str:
        return str(self)


# ------------------------------------------------------------------------------------------
# summary


class LmerSummary:
    """``summary(fit)``; ``str()`` is lme4's ``print(summary(fit))``."""

    def __init__(self, fit: LmerMod) -> None:
        self.fit = fit
        se = np.sqrt(np.diag(fit._vcov_matrix()))
        self.coefficients = pd.DataFrame({"Estimate": fit.beta, "Std. Error": se,
                                          "t value": fit.beta / se}, index=fit.columns)

    def __str__(self) -> str:
        f = self.fit
        out = f._title() + f._call_lines() + "\n" + f._aictab(1) + "\n"
        res = f._resid(type="pearson", scaled=True)
        q = zapsmall(quantile7(res), 5)
        out += "Scaled residuals: \n"
        out += print_named_vector(q, ["Min", "1Q", "Median", "3Q", "Max"], digits=4) + "\n"
        out += "Random effects:\n" + f.VarCorr()._format(digits=4,
                                                          comp=("Variance", "Std.Dev."))
        out += f._grps_line()
        p = f.p
        if p > 0:
            out += "\nFixed effects:\n"
            out += print_coefmat(self.coefficients.to_numpy(), list(self.coefficients.columns),
                                 f.columns, digits=4)
            if 1 < p <= 12:
                V = f._vcov_matrix()
                sd = np.sqrt(np.diag(V))
                cor = V / np.outer(sd, sd)
                cells = format_num([round_r(v, 3) for v in cor.ravel(order="F")], digits=7,
                                   nsmall=3)
                cm = np.array(cells, dtype=object).reshape(p, p, order="F")
                rn = abbreviate(f.columns, 11)
                cn = abbreviate(f.columns, 6)
                grid = [[cm[i, j] if i > j else "" for j in range(p - 1)] for i in range(1, p)]
                out += "\nCorrelation of Fixed Effects:\n"
                out += print_matrix(grid, rownames=rn[1:], colnames=cn[:-1], right=False)
        out += f._fit_msgs() + f._warn_lines(summary=False)
        return out

    def __repr__(self) -> str:
        return str(self)


# ------------------------------------------------------------------------------------------
# abbreviate


def _abbrev_one(s: str, minlength: int) -> str:
    """R's C routine behind ``abbreviate(use.classes = TRUE)`` for one string."""
    if len(s) <= minlength:
        return s
    b = list(s.strip())

    def length() -> int:
        return len(b) - sum(1 for c in b if c.isspace())

    def first_char(i: int) -> bool:
        return b[i - 1].isspace()

    def last_char(i: int) -> bool:
        return (not b[i - 1].isspace()) and (i + 1 >= len(b) or b[i + 1].isspace())

    def vowel(c: str) -> bool:
        return c in "aeiou"

    def done() -> bool:
        return length() <= minlength

    for test in (lambda i: vowel(b[i]) and last_char(i),
                 lambda i: vowel(b[i]) and not first_char(i),
                 lambda i: b[i].islower() and last_char(i),
                 lambda i: b[i].islower() and not first_char(i),
                 lambda i: not first_char(i) and not b[i].isspace()):
        if done():
            break
        i = len(b) - 1
        while i > 0:
            if i < len(b) and test(i):
                del b[i]
            if done():
                break
            i -= 1
    if len(b) > minlength:
        b = [c for k, c in enumerate(b) if k == 0 or not c.isspace()]
    return "".join(b)


def abbreviate(names: Sequence[str], minlength: int) -> list:
    """R's ``abbreviate(names, minlength)`` (``method = "left.kept"``, duplicates resolved by
    raising ``minlength`` for the clashing entries)."""
    names = list(names)
    x = list(names)
    dup = [True] * len(names)
    ml = minlength
    while True:
        for i, d in enumerate(dup):
            if d:
                x[i] = _abbrev_one(names[i], ml)
        seen: dict = {}
        dups = []
        for v in x:
            dups.append(v in seen)
            seen[v] = True
        if not any(dups):
            return x
        ml += 1
        clash = {x[i] for i, d in enumerate(dups) if d}
        dup = [d or (x[i] in clash) for i, d in enumerate(dups)]
