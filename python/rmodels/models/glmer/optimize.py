"""The optimizer of a glmer fit: lme4's ``glmerControl``, the two stages of ``glmer`` (θ with
β in PIRLS on the nAGQ = 0 criterion, then θ and β together on the Laplace or adaptive
Gauss-Hermite criterion), ``check.boundary``, the finite-difference derivatives of ``optwrap``
(``deriv12``) and ``checkConv``.

Both stages run NLopt's BOBYQA in the compiled core (``_core.GlmerModel.optimize``) where lme4
runs minqa's ``bobyqa`` and then its own ``Nelder_Mead``: the second stage starts from lme4's
Nelder-Mead steps ``0.2 (0.1, …, min(sd(β), 10))`` and stops at tighter tolerances, so its
deviance is at most lme4's. ``deriv12`` runs in the core as well, its evaluations on
``deriv_threads`` threads (each from lme4's stored linear predictor, so the same numbers for any
thread count). No Python runs per criterion evaluation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import ConvergenceWarning, FitError, SingularFitWarning
from ..lmer.optimize import SINGULAR_MESSAGE, check_conv_derivs
from ..lmer.terms import ReStructure


@dataclass
class GlmerControl:
    """lme4's ``glmerControl()`` settings that matter here, and the optimizer's tolerances."""

    tol_pwrss: float = 1e-7
    boundary_tol: float = 1e-5
    calc_derivs: bool = True
    check_conv_grad_tol: float = 2e-3
    check_conv_singular_tol: float = 1e-4
    check_conv_hess_tol: float = 1e-6
    check_rank_tol: float = 1e-7
    nagq0_init_step: bool = True
    # BOBYQA tolerances of the two stages (rmodels)
    stage1_xtol_rel: float = 1e-6
    stage1_ftol_abs: float = 1e-10
    stage2_xtol_rel: float = 1e-8
    stage2_ftol_abs: float = 1e-11
    xtol_abs: float = 1e-10
    maxeval: int = 100000
    # rmodels only: factorisation of the random-effects block ("auto", "blocked", "sparse") of
    # the conditional variances and R_X after the fit (PIRLS itself uses a sparse factor)
    pls_method: str = "auto"
    # rmodels only: threads of the finite-difference derivatives (the same numbers for any count)
    deriv_threads: int = 2


def glmerControl(**kwargs: Any) -> GlmerControl:  # noqa: N802 - R's name
    """Control settings of :func:`rmodels.glmer` (lme4's ``glmerControl``)."""
    return GlmerControl(**kwargs)


@dataclass
class GlmerOptInfo:
    par: np.ndarray  # θ (nAGQ = 0) or (θ, β)
    fval: float
    feval: int
    status: int
    stage1_feval: int = 0
    messages: list = field(default_factory=list)
    derivs: dict | None = None
    # lme4's lp0 (without offset) every evaluation at the end started PIRLS from: the
    # criterion depends on it (PIRLS stops at tolPwrss), so a model compiled again needs it
    lp0: np.ndarray | None = None


def gh_rule(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lme4's ``GHrule(k)``: nodes z and weights w (summing to 1) of the k-point Gauss-Hermite
    rule for the standard normal density, and log dnorm(z)."""
    if not 1 <= k <= 100:
        raise FitError("'nAGQ' must be between 1 and 100")
    z, w = np.polynomial.hermite_e.hermegauss(k)
    w = w / w.sum()
    return z, w, -0.5 * z * z - 0.5 * np.log(2 * np.pi)


def criterion(model: Any, par: np.ndarray, nagq: int) -> float:
    """The compiled criterion at ``par``: nAGQ = 0 (θ only), Laplace or AGQ ((θ, β)); PIRLS
    failures (lme4's pwrssUpdate errors) raise :class:`FitError` with lme4's message."""
    try:
        if nagq == 0:
            return float(model.deviance_agq0(np.asarray(par, dtype=float)))
        return float(model.deviance(np.asarray(par, dtype=float), nagq))
    except RuntimeError as e:
        raise FitError(str(e)) from None


def _snap_theta(fn: Any, par: np.ndarray, fval: float, lower: np.ndarray,
                tol: float) -> tuple[np.ndarray, float]:
    """lme4's ``check.boundary``: the θ_i within ``tol`` above their bound 0 put on it when that
    does not raise the criterion."""
    bdiff = par - lower
    edge = np.isfinite(lower) & (bdiff > 0) & (bdiff < tol)
    if not edge.any():
        return par, fval
    p2 = par.copy()
    p2[edge] = lower[edge]
    f2 = fn(p2)
    return (p2, f2) if not fval < f2 else (par, fval)


def unscaled_sd(RX: np.ndarray) -> np.ndarray:
    """sqrt(diag((R_X'R_X)⁻¹)) from the lower factor L (L L' = R_X'R_X)."""
    p = RX.shape[0]
    if p == 0:
        return np.zeros(0)
    Linv = np.linalg.solve(RX, np.eye(p))
    return np.sqrt(np.sum(Linv * Linv, axis=0))


def stage1(model: Any, re: ReStructure, nagq: int, ctrl: GlmerControl) -> GlmerOptInfo:
    """θ on the nAGQ = 0 criterion (β estimated with u in PIRLS); lme4 snaps θ to the boundary
    here only when nAGQ = 0. Leaves the model at the optimum, with its lp0 there."""
    empty = np.empty(0)
    r = model.optimize(re.theta0.copy(), re.lower, empty, -1, ctrl.xtol_abs,
                       ctrl.stage1_ftol_abs, ctrl.stage1_xtol_rel, ctrl.maxeval)
    par, fval = np.asarray(r["par"]), float(r["fval"])
    if nagq == 0 and ctrl.boundary_tol > 0:
        par, fval = _snap_theta(lambda x: criterion(model, x, 0), par, fval, re.lower,
                                ctrl.boundary_tol)
    fval = criterion(model, par, 0)
    return GlmerOptInfo(par, fval, int(r["feval"]), int(r["status"]), int(r["feval"]))


def stage2(model: Any, re: ReStructure, nagq: int, ctrl: GlmerControl,
           first: GlmerOptInfo) -> GlmerOptInfo:
    """(θ, β) on the Laplace / AGQ criterion from the first stage's θ and β, with lme4's
    initial steps; then check.boundary on θ."""
    st = model.state()
    beta = np.asarray(st["beta"])
    ntheta = len(first.par)
    x0 = np.concatenate([first.par, beta])
    lower = np.concatenate([re.lower, np.full(len(beta), -np.inf)])
    step = 0.2 * np.concatenate([np.full(ntheta, 0.1),
                                 np.minimum(unscaled_sd(np.asarray(st["RX"])), 10.0)])
    step[step == 0] = 0.02
    r = model.optimize(x0, lower, step, nagq, ctrl.xtol_abs, ctrl.stage2_ftol_abs,
                       ctrl.stage2_xtol_rel, ctrl.maxeval)
    par, fval = np.asarray(r["par"]), float(r["fval"])

    def fn(x: np.ndarray) -> float:
        return criterion(model, x, nagq)

    if ctrl.boundary_tol > 0:
        par, fval = _snap_theta(fn, par, fval, lower, ctrl.boundary_tol)
    return GlmerOptInfo(par, fval, int(r["feval"]), int(r["status"]), first.feval)


def derivatives(model: Any, par: np.ndarray, fval: float, nagq: int,
                ctrl: GlmerControl) -> dict:
    """lme4's ``deriv12`` of the criterion at ``par`` (central differences, step 1e-4), computed
    in the compiled core on ``ctrl.deriv_threads`` threads; PIRLS failures raise
    :class:`FitError` with lme4's message."""
    try:
        return model.deriv12(np.asarray(par, dtype=float), float(fval), nagq, 1e-4,
                             max(1, int(ctrl.deriv_threads)))
    except RuntimeError as e:
        raise FitError(str(e)) from None


def check_glmer_conv(model: Any, opt: GlmerOptInfo, lower: np.ndarray, nagq: int,
                     ctrl: GlmerControl) -> None:
    """optwrap's derivatives (``deriv12`` at the optimum, lme4's default ``calc.derivs``) and
    ``checkConv``: the singular-fit message, else the gradient and Hessian checks. Leaves the
    model evaluated at the optimum (optwrap's last ``fn(opt$par)``)."""
    if ctrl.calc_derivs:
        opt.derivs = derivatives(model, opt.par.copy(), opt.fval, nagq, ctrl)
    opt.fval = criterion(model, opt.par, nagq)
    bounded = lower == 0
    if np.any(opt.par[: len(lower)][bounded[: len(lower)]] < ctrl.check_conv_singular_tol):
        opt.messages.append(SINGULAR_MESSAGE)
        return
    if opt.derivs is not None:
        opt.messages += check_conv_derivs(opt.derivs["gradient"], opt.derivs["Hessian"], ctrl)


def optimize_glmer(model: Any, re: ReStructure, nagq: int, ctrl: GlmerControl,
                   offset: np.ndarray) -> GlmerOptInfo:
    """lme4's ``glmer`` optimisation: stage 1, then (nAGQ ≥ 1) stage 2 from the stage-1 linear
    predictor (lme4's ``lp0``, without ``offset``) and the convergence checks; lme4's messages
    are raised as warnings (:class:`SingularFitWarning`, :class:`ConvergenceWarning`)."""
    model.set_tolerance(ctrl.tol_pwrss)
    if nagq > 1:
        model.set_rule(*gh_rule(nagq))
    # mkGlmerDevfun: PIRLS at the starting θ from g(mustart); every evaluation of the first
    # stage starts from its linear predictor
    try:
        model.pirls_ubeta(re.theta0, model.lp0)
    except RuntimeError as e:
        raise FitError(str(e)) from None
    model.lp0 = np.asarray(model.state()["eta"]) - offset
    first = stage1(model, re, nagq, ctrl)
    if nagq == 0:
        opt = first
        if np.any(opt.par[re.lower == 0] < ctrl.check_conv_singular_tol):
            opt.messages.append(SINGULAR_MESSAGE)
    else:
        st = model.state()
        model.lp0 = np.asarray(st["eta"]) - offset
        opt = stage2(model, re, nagq, ctrl, first)
        check_glmer_conv(model, opt, np.concatenate([re.lower, np.full(len(opt.par) -
                                                                       len(re.lower),
                                                                       -np.inf)]), nagq, ctrl)
    opt.lp0 = np.array(model.lp0, dtype=float)
    if opt.status < 0 or opt.status == 5:
        warnings.warn(f"convergence code {opt.status} from bobyqa", ConvergenceWarning,
                      stacklevel=4)
    for msg in opt.messages:
        cls_w = SingularFitWarning if msg == SINGULAR_MESSAGE else ConvergenceWarning
        warnings.warn(msg, cls_w, stacklevel=4)
    return opt

