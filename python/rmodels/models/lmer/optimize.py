"""The optimizer of an lmer fit: lme4's ``lmerControl``, the profiled criterion minimised by
NLopt's BOBYQA over θ (lme4's ``optwrap`` with ``nloptwrap``), then ``optimizeLmer``'s
post-processing (restart at the edge, boundary snapping) and ``checkConv`` (singular fit
message, gradient and Hessian checks).

For each θ the compiled core (``_core.PlsModel``) solves the penalized least squares problem
through a blocked Cholesky factor of Λ'Z'WZΛ + I (with X and y appended) and returns the
profiled criteria

    ML deviance:   ldL2 − ldW + n (1 + log(2π pwrss / n))
    REML:          ldL2 − ldW + ldRX2 + (n − p)(1 + log(2π pwrss / (n − p)))
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import _core
from ...errors import ConvergenceWarning, FitError, SingularFitWarning
from .terms import ReStructure, default_start

SINGULAR_MESSAGE = "boundary (singular) fit: see help('isSingular')"
#: checkConv returns this one without warning (it is only printed with the fit)
GRADIENT_NA_MESSAGE = "Gradient contains NAs"


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
    """checkConv's Hessian messages: negative, near-zero or widely spread eigenvalues."""
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
    if ctrl.restart_edge and _descends_from_bound(fn, opt.theta, lower):
        opt = run(opt.theta)
    derivs_at = opt.theta.copy()
    derivs_f = opt.fval
    if ctrl.boundary_tol > 0:
        _snap_to_boundary(fn, opt, lower, ctrl.boundary_tol)
    if opt.status < 0 or opt.status == 5:
        msg = f"convergence code {opt.status} from nloptwrap"
        warnings.warn(msg, ConvergenceWarning, stacklevel=5)
    bounded = lower == 0
    if np.any(opt.theta[bounded] < ctrl.check_conv_singular_tol):
        opt.messages.append(SINGULAR_MESSAGE)
        return opt
    if not ctrl.calc_derivs:
        return opt
    opt.derivs = deriv12(fn, derivs_at, derivs_f)
    opt.messages += check_conv_derivs(opt.derivs["gradient"], opt.derivs["Hessian"], ctrl)
    return opt


def _descends_from_bound(fn: Any, theta: np.ndarray, lower: np.ndarray) -> bool:
    """``restart_edge``: whether the criterion decreases (one-sided difference quotient, step
    1e-5) from some θ_i sitting exactly on its bound."""
    bvals = np.flatnonzero(theta == lower)
    if not len(bvals):
        return False
    d0 = fn(theta)
    bgrad = []
    for i in bvals:
        th = theta.copy()
        th[i] = lower[i] + 1e-5
        bgrad.append((fn(th) - d0) / 1e-5)
    return any(g < 0 for g in bgrad)


def _snap_to_boundary(fn: Any, opt: OptInfo, lower: np.ndarray, tol: float) -> None:
    """``boundary.tol``: put the θ_i within ``tol`` above their bound on the bound when that
    does not raise the criterion."""
    bdiff = opt.theta - lower
    edge = (bdiff > 0) & (bdiff < tol)
    if edge.any():
        th = opt.theta.copy()
        th[edge] = lower[edge]
        f = fn(th)
        if not opt.fval < f:
            opt.theta, opt.fval = th, f


def check_conv_derivs(g: np.ndarray, H: np.ndarray, ctrl: LmerControl) -> list:
    """lme4's ``checkConv`` on the finite-difference gradient ``g`` and Hessian ``H``: the
    scaled gradient ``solve(chol(H), g)`` (max of min(|scaled|, |g|) against
    ``check_conv_grad_tol``), then the Hessian's eigenvalues."""
    if np.isnan(g).any():
        return [GRADIENT_NA_MESSAGE]
    out = []
    try:
        R = np.linalg.cholesky(H).T  # R'R = H
        scgrad = np.linalg.solve(R, g)
        if np.isnan(scgrad).any():
            raise np.linalg.LinAlgError
        maxmin = float(np.max(np.minimum(np.abs(scgrad), np.abs(g))))
        if maxmin > ctrl.check_conv_grad_tol:
            out.append(
                f"Model failed to converge with max|grad| = {_fmt_g(maxmin)} "
                f"(tol = {_fmt_g(ctrl.check_conv_grad_tol)}, component 1)")
    except np.linalg.LinAlgError:
        out.append("unable to evaluate scaled gradient")
    return out + _check_hess(H, ctrl.check_conv_hess_tol)


def _fmt_g(x: float) -> str:
    """C's ``%g`` as R's ``gettextf`` uses it."""
    return f"{x:g}"


def pls_model(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None,
              offset: np.ndarray | None, re: ReStructure, ctrl: LmerControl) -> Any:
    """The compiled penalized least squares model (``_core.PlsModel``) of y = Xβ + Zb + offset
    with prior weights (lme4's ``mkLmerDevfun``): evaluates the profiled criterion at any θ."""
    empty = np.empty(0)
    model = _core.PlsModel(
        X, y, empty if weights is None else weights, empty if offset is None else offset,
        [t.codes for t in re.terms], [t.nlev for t in re.terms], [t.Z for t in re.terms],
        method=ctrl.pls_method)
    model.threads = ctrl.threads
    return model


def fit_pls(model: Any, re: ReStructure, y: np.ndarray, reml: bool,
            ctrl: LmerControl) -> OptInfo:
    """Minimise the profiled criterion from lme4's starting θ (:func:`optimize_lmer`) and
    raise lme4's convergence messages as warnings (singular fit: :class:`SingularFitWarning`,
    the others :class:`ConvergenceWarning`, except "Gradient contains NAs", which lme4 only
    prints with the fit); lme4's error when some θ left the downdated X'X
    not positive definite (a fixed-effect column whose squares underflow)."""
    optinfo = optimize_lmer(model, re, reml, ctrl, default_start(re, y))
    if model.rx_failed:  # lme4 stops at the evaluation that finds it
        raise FitError("Downdated VtV is not positive definite")
    for msg in optinfo.messages:
        if msg == GRADIENT_NA_MESSAGE:
            continue
        cls_w = SingularFitWarning if msg == SINGULAR_MESSAGE else ConvergenceWarning
        warnings.warn(msg, cls_w, stacklevel=4)
    return optinfo
