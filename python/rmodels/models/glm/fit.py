"""glm stage "core fit": R's ``glm.fit`` on a model matrix, and what glm() checks before it.

The fit itself is the compiled IRLS of cpp/glm/irls.cpp (R's ``glm.fit``: family ``initialize``,
working weights ``W = w mu'(eta)^2 / V(mu)``, the dqrdc2 pivoted QR with tolerance
``min(1e-7, epsilon/1000)`` at every step, step halving, convergence
``|dev - dev_old| / (|dev| + 0.1) < epsilon``). This module converts the response as R's
``family$initialize`` expects it (:func:`response_matrix`), checks ``glm.control``
(:func:`glm_control`), calls the core (:func:`glm_fit_matrix`, :func:`fit_design`) and turns the
core's error and warning kinds into the package's classes (:func:`error_class`,
:func:`warning_class`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ... import _core
from ... import printing as rf
from ...errors import (
    BoundaryWarning,
    ConvergenceWarning,
    DataError,
    FitError,
    FittedValuesWarning,
    RModelsWarning,
)
from ..families import Family, as_family

__all__ = ["GlmCoreFit", "error_class", "warning_class", "emit_r_warnings",
           "glm_control",
           "glm_fit_matrix", "response_matrix", "check_prior_weights", "start_vectors",
           "fit_design", "trace_text"]

# glm.control's defaults
DEFAULT_CONTROL = {"epsilon": 1e-8, "maxit": 25}


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


# ---------------------------------------------------------------------------------------------
# R's conditions


_WARNING_CLASSES: dict = {
    _core.GlmWarningKind.NotConverged: ConvergenceWarning,
    _core.GlmWarningKind.NullDevianceNotConverged: ConvergenceWarning,
    _core.GlmWarningKind.FittedProbabilitiesZeroOne: FittedValuesWarning,
    _core.GlmWarningKind.FittedRatesZero: FittedValuesWarning,
    _core.GlmWarningKind.Boundary: BoundaryWarning,
}
_DATA_ERRORS = (_core.GlmErrorKind.ResponseValues, _core.GlmErrorKind.ResponseShape)


def warning_class(kind: _core.GlmWarningKind) -> type:
    """The package's warning class for one of glm.fit's warnings, by the core's kind."""
    return _WARNING_CLASSES.get(kind, RModelsWarning)


def error_class(kind: _core.GlmErrorKind) -> type:
    """DataError for the family's checks of the response, FitError for the rest."""
    return DataError if kind in _DATA_ERRORS else FitError


def emit_r_warnings(messages: Sequence[tuple[type, str]], stacklevel: int = 3) -> None:
    """Issue R's warnings of a fit, in R's order: (warning class, message) pairs."""
    for cls, msg in messages:
        warnings.warn(msg, cls, stacklevel=stacklevel)


def glm_control(control: Optional[dict]) -> tuple[dict, bool]:
    """R's ``glm.control(epsilon = 1e-8, maxit = 25, trace = FALSE)``: the checked
    ``{"epsilon", "maxit"}`` and the trace flag."""
    ctrl = dict(DEFAULT_CONTROL)
    if control:
        unknown = set(control) - {"epsilon", "maxit", "trace"}
        if unknown:
            raise FitError(f"unknown glm.control arguments: {sorted(unknown)}")
        ctrl.update({k: v for k, v in control.items() if k != "trace"})
    if not (ctrl["epsilon"] > 0):
        raise FitError("value of 'epsilon' must be > 0")
    if not (ctrl["maxit"] > 0):
        raise FitError("maximum number of iterations must be > 0")
    return ctrl, bool(control and control.get("trace"))


# ---------------------------------------------------------------------------------------------
# glm.fit


def glm_fit_matrix(X: Optional[np.ndarray], Y: np.ndarray, family: Union[str, Family] = "gaussian",
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
    # glm.fit's QR of sqrt(w) X meets a non-finite X or prior weight first
    if not np.isfinite(w).all() or (rows is None and not np.isfinite(X).all()):
        raise DataError("NA/NaN/Inf in 'x'")
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
        emit_r_warnings(fit.classified_warnings(), stacklevel=3)
    return fit


# ---------------------------------------------------------------------------------------------
# glm()'s checks of its arguments


def response_matrix(d: Any, fam: Family) -> np.ndarray:
    """The response of a design as glm.fit takes it: a vector, or the (n, 2) matrix of
    ``cbind(successes, failures)``; a two-level factor as 0/1 (every level but the first is a
    success). Only the binomial families accept a matrix or factor response."""
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
        y = (y != 0).astype(float)
    return y


def check_prior_weights(w: Optional[np.ndarray]) -> None:
    """glm.fit's ``if (any(weights < 0)) stop("negative weights not allowed")``."""
    if w is not None and np.any(np.asarray(w) < 0):
        raise DataError("negative weights not allowed")


def start_vectors(data: pd.DataFrame, kept: np.ndarray, etastart: Any = None,
                  mustart: Any = None) -> dict:
    """``etastart``/``mustart`` (column names of data or arrays) on the rows of the fit: an
    array of len(data) is taken at the rows kept, any other length as given."""
    starts = {}
    for key, v in (("etastart", etastart), ("mustart", mustart)):
        if v is None:
            continue
        arr = np.asarray(data[v] if isinstance(v, str) else v, dtype=float)
        starts[key] = arr[kept] if len(arr) == len(data) else arr
    return starts


def fit_design(d: Any, Y: np.ndarray, fam: Family, ctrl: dict,
               start: Optional[np.ndarray] = None, starts: Optional[dict] = None) -> GlmCoreFit:
    """glm()'s call of glm.fit on a design: a tall, mostly-zero design is fitted from its rows
    without the dense matrix (built later if something asks for it); the dense matrix when a
    step needs dqrdc2's pivoting. R's warnings are issued once, after the fit that stands."""
    starts = starts or {}
    intercept_col = d.columns.index("(Intercept)") if "(Intercept)" in d.columns else -1
    rows = d.design_rows() if d.n * len(d.columns) >= 200_000 else None
    fit_args = dict(weights=d.weights, offset=d.offset, start=start,
                    etastart=starts.get("etastart"), mustart=starts.get("mustart"),
                    epsilon=ctrl["epsilon"], maxit=ctrl["maxit"], intercept=d.intercept,
                    intercept_col=intercept_col, has_offset=d.offset is not None, emit=False)
    core = None
    if rows is not None:
        core = glm_fit_matrix(None, Y, fam, rows=rows, **fit_args)
    if core is None:
        core = glm_fit_matrix(d.model_matrix_array(), Y, fam, **fit_args)
    return core


def trace_text(lines: Sequence[str]) -> str:
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
