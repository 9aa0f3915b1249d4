"""The bootstrap of a fitted lm or glm as ``car::Boot`` (car 3.1) draws and computes it with
``boot::boot`` (boot 1.3): the resampling indices (drawn in place by R's generator, compiled),
the refits on threads (lm: ``_core.boot_lm_case``, lm.wfit in R's operation order; glm: the
grouped engine's compiled glm core) and the replicates; the summaries and intervals of the
result are in :mod:`.bootci`.

R's steps, reproduced here:

- n = ``nobs(fit)``; ``boot`` draws all indices at once, ``sample.int(n, n * R, replace =
  TRUE)``, filled by column into an R × n matrix: replicate r takes draws r, r + R, r + 2R, …
- method "case": replicate r refits the model on the rows ``indices[r, ]`` (car:
  ``update(fit, subset = indices)``), same formula, weights, offset and (glm) family and control;
  a replicate whose fit has a different rank from the original is all ``NA`` (``f0 * NA``).
- method "residual" (lm only, as car): with e = Pearson residuals / sqrt(1 − h), centred,
  replicate r refits the response ŷ + e[indices[r, ]] / sqrt(w) on the same model matrix.
- ``t0`` = f(fit); f = ``coef`` by default (compiled refits); another f is called on each
  refit made by ``update(fit, subset = indices[r, ])`` (car's boot.f).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pandas as pd

from .. import _core
from ..errors import DataError, FitError
from ..generics import coef
from ..models.glm import GLM, warning_class
from ..models.lm import LM
from ..models.workflow.update import update
from .bootci import BootResult
from .rrandom import RRandom, get_generator

__all__ = ["Boot", "BootProblem", "boot_problem", "bootstrap_indices", "case_replicates",
           "residual_replicates"]

NA_ACTION_MESSAGE = (
    "The Boot function in the 'car' package does not allow\n  missing values for lm or glm "
    "models.  Refit your model with rows \n  with missing values removed.  If you have a data "
    "frame called 'd', \n  then the argument data=na.omit(d) is likely to work.")
GLM_RESIDUAL_MESSAGE = (
    "Residual bootstrap is not implemented in the 'car' function 'Boot'.\n  Use the 'boot' "
    "function in the 'boot' package to write\n  your own version of residual bootstrap for a "
    "glm.")


@dataclass
class BootProblem:
    """What a refit needs from the original fit: the model matrix X (N × p, Fortran order), the
    response Y (N × 1, or N × 2 for a binomial ``cbind``), prior weights and offset (None when
    absent), the fit's rank and n = ``nobs``; ``glm``: the fit when it is a GLM."""

    X: np.ndarray
    Y: np.ndarray
    weights: Optional[np.ndarray]
    offset: Optional[np.ndarray]
    names: list
    intercept: bool
    rank: int
    n: int
    coef: np.ndarray
    tol: float = 1e-7
    glm: Optional[GLM] = None


def check_bootable(fit: Any) -> None:
    """car's refusals: not an lm/glm, rows dropped for NAs; and what rmodels cannot redo as R
    does (an mlm, a glm with ``start`` or ``subset=``)."""
    if not isinstance(fit, (LM, GLM)):
        raise FitError("Boot() needs an lm or glm fit")
    d = fit.design
    if len(d.na_dropped) > 0:
        raise DataError(NA_ACTION_MESSAGE)
    if isinstance(fit, LM) and fit.is_mlm:
        raise FitError("Boot() of a multivariate lm (cbind response) is not supported")
    if isinstance(fit, GLM) and fit.start is not None:
        raise FitError("Boot() of a glm fitted with 'start' is not supported")
    if d.subset_rows is not None and len(d.subset_rows) != d.n_data:
        raise FitError("Boot() of a fit with 'subset' is not supported (car's update(subset = "
                       "indices) replaces the subset)")


def boot_problem(fit: Any) -> BootProblem:
    """The arrays of ``fit`` a bootstrap refits (see :class:`BootProblem`)."""
    check_bootable(fit)
    d = fit.design
    X = np.asfortranarray(d.model_matrix_array(), dtype=np.float64)
    if isinstance(fit, LM):
        a = fit.arrays
        Y = np.asarray(d.y, dtype=np.float64).reshape(-1, 1)
        return BootProblem(X, np.asfortranarray(Y), a.weights, a.offset, list(fit.coef_names),
                           fit.intercept, int(fit.rank), int(fit.nobs()),
                           np.asarray(a.coefficients, dtype=np.float64).ravel(), fit.tol)
    weights = None if d.weights is None else np.asarray(fit.raw_weights, dtype=np.float64)
    offset = None if d.offset is None else np.asarray(fit.offset, dtype=np.float64)
    Y = np.asfortranarray(np.asarray(fit.response, dtype=np.float64).reshape(X.shape[0], -1))
    return BootProblem(X, Y, weights, offset, list(fit.names), bool(d.intercept),
                       int(fit.rank), int(fit.nobs()),
                       fit.coef().to_numpy(dtype=np.float64), glm=fit)


def bootstrap_indices(rng: RRandom, n: int, R: int) -> np.ndarray:
    """boot's ``ordinary.array``: ``sample.int(n, n * R, replace = TRUE)`` with ``dim = c(R,
    n)`` (filled by column); returned 0-based, R × n (int32, each draw written in its place,
    for n below 2^31)."""
    if n < 2**31:
        return rng.unif_index_matrix(n, R, n)
    draws = rng.sample_int(n, n * R, replace=True) - 1
    return np.ascontiguousarray(draws.reshape(n, R).T)


def stacked_groups(indices: np.ndarray, p: int) -> dict:
    """The grouped engine's description of R resamples: group r is the rows ``indices[r]``
    and all p columns."""
    R, n = indices.shape
    return dict(rows=indices.reshape(-1).astype(np.int64),
                row_ptr=np.arange(R + 1, dtype=np.int64) * n,
                cols=np.tile(np.arange(p, dtype=np.int64), R),
                col_ptr=np.arange(R + 1, dtype=np.int64) * p)


def case_replicates(prob: BootProblem, indices: np.ndarray, threads: int = 0) -> np.ndarray:
    """Coefficients of the refits on the resampled rows (R × p), all NaN where the refit's
    rank differs from the original's (car's ``f0 * NA``). lm: ``_core.boot_lm_case`` (lm.wfit
    in R's operation order); glm: the grouped glm engine."""
    if prob.glm is None:
        res = _core.boot_lm_case(prob.X, prob.Y[:, 0], prob.weights, prob.offset,
                                 np.asarray(indices, dtype=np.int32), float(prob.tol),
                                 int(threads))
        t = res["coefficients"]
    else:
        res = glm_batch(prob, stacked_groups(indices, prob.X.shape[1]), indices.shape[0],
                        threads)
        t = np.array(res["estimate"], dtype=np.float64)
    check_failures(res)
    t[np.asarray(res["rank"]) != prob.rank] = np.nan
    return t


def glm_batch(prob: BootProblem, g: dict, R: int, threads: int) -> dict:
    """The glm refits through ``_core.glm_batch_columns``; R's warnings issued once each."""
    fit = prob.glm
    fam = fit.family
    res = _core.glm_batch_columns(
        prob.X, prob.Y, prob.weights, prob.offset, g["rows"], g["row_ptr"], g["cols"],
        g["col_ptr"], fam.core, bool(fam.fixed_dispersion), float(fit.control["epsilon"]),
        int(fit.control["maxit"]), bool(prob.intercept), [0 if prob.intercept else -1] * R,
        False, int(threads))
    issue_replicate_warnings(res["warnings"], res["warning_kinds"], R)
    return res


def issue_replicate_warnings(messages: Any, kinds: Any, R: int) -> None:
    """R's glm.fit warnings of the refits, each distinct one once with its number of
    replicates."""
    counts: dict = {}
    for msgs, ks in zip(messages, kinds):
        for msg, kind in set(zip(msgs, ks)):
            counts[(msg, kind)] = counts.get((msg, kind), 0) + 1
    for (msg, kind), k in counts.items():
        warnings.warn(f"{msg} (in {k} of {R} bootstrap replicates)", warning_class(kind),
                      stacklevel=4)


def check_failures(res: dict) -> None:
    """A refit that fails stops the bootstrap, as an error inside boot() does in R."""
    status = np.asarray(res["status"])
    bad = np.flatnonzero(status != 0)
    if bad.size:
        raise FitError(f"bootstrap replicate {int(bad[0]) + 1}: {res['message'][bad[0]]}")


def bootstrap_residuals(fit: LM) -> np.ndarray:
    """car's residual-bootstrap residuals: Pearson residuals / sqrt(1 − h), centred."""
    pearson = fit.residuals(type="pearson").to_numpy(dtype=np.float64)
    h = fit.hatvalues().to_numpy(dtype=np.float64)
    e = pearson / np.sqrt(1.0 - h)
    return e - e.mean()


def residual_replicates(fit: LM, prob: BootProblem, indices: np.ndarray) -> np.ndarray:
    """Coefficients of the refits of ŷ + e[indices[r]] / sqrt(w) on the same model matrix
    (R × p; one least-squares solve for all replicates, the same decomposition R repeats)."""
    e = bootstrap_residuals(fit)
    fitted = fit.fitted().to_numpy(dtype=np.float64)
    if indices.shape[1] != fitted.shape[0]:
        raise FitError("the residual bootstrap needs every row to have a non-zero weight")
    w = np.ones_like(fitted) if prob.weights is None else prob.weights
    ystar = fitted[:, None] + (e[indices] / np.sqrt(w)).T
    res = _core.lm_wfit(prob.X, np.asfortranarray(ystar), prob.weights, prob.offset,
                        tol=float(prob.tol), overwrite_x=False)
    return np.asarray(res["coefficients"], dtype=np.float64).T.copy()


def Boot(fit: Any, f: Any = None, R: int = 999, method: str = "case",  # noqa: N802, N803
         seed: Optional[int] = None, threads: int = 0,
         rng: Optional[RRandom] = None) -> BootResult:
    """``car::Boot(fit, f = coef, R = R, method = method)`` for an lm or glm.

    ``f``: the statistic, a function of a fitted model returning a 1-D numeric vector (car's
    ``f``; None or :func:`rmodels.coef` is the coefficients, computed by the compiled refits).
    Another ``f`` refits each resample with ``update(fit, subset = indices)`` as car does and
    calls it (slow path; method "case" only); its names (a Series' index) label the columns,
    else V1, V2, … as car's labels for an unnamed vector. ``seed``: R's ``set.seed(seed)`` just
    before the call, so the replicates are R's; without one the module's stream
    (:mod:`rmodels.inference.rrandom`) is used, or ``rng``. ``threads``: worker threads for the
    refits (0 = all cores; results do not depend on it). Data-dependent transforms (poly,
    scale, ns, bs) keep the original fit's basis, as in R (``update(subset = )`` evaluates them
    on the whole data before subsetting). Differences from R: fits with ``subset=`` and a glm
    with ``start`` are refused.
    """
    R = check_replicates(R)
    if method not in ("case", "residual"):
        raise DataError("'arg' should be one of \u201ccase\u201d, \u201cresidual\u201d")
    if method == "residual" and isinstance(fit, GLM):
        raise FitError(GLM_RESIDUAL_MESSAGE)
    prob = boot_problem(fit)
    custom = not is_coef(f)
    if custom and method != "case":
        raise FitError("Boot(method = \"residual\") supports only f = coef")
    t0 = statistic_of(f, fit) if custom else pd.Series(prob.coef, index=pd.Index(prob.names))
    stream = RRandom(seed) if seed is not None else (rng or get_generator())
    indices = bootstrap_indices(stream, prob.n, R)
    if custom:
        t = custom_replicates(fit, f, indices, len(t0))
    elif method == "case":
        t = case_replicates(prob, indices, threads)
    else:
        t = residual_replicates(fit, prob, indices)
    return BootResult(t0=t0, t=t, indices=indices, method=method, seed=seed)


def is_coef(f: Any) -> bool:
    """Whether the statistic is the coefficients (None, :func:`rmodels.coef` or a function
    named ``coef``)."""
    return f is None or f is coef or getattr(f, "__name__", "") == "coef"


def statistic_of(f: Any, fit: Any) -> pd.Series:
    """``f(fit)`` as car reads it: a numeric vector, labelled by its names (a Series with its
    own index) or V1, V2, … (car's labels when ``names(f(object))`` does not fit)."""
    try:
        value = f(fit)
        values = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, AttributeError) as e:
        raise FitError(f"Boot(): f must return a numeric vector of the fitted model ({e})") \
            from e
    if values.ndim != 1:
        raise FitError("Boot(): f must return a numeric vector (1-D) of the fitted model")
    named = isinstance(value, pd.Series) and not isinstance(value.index, pd.RangeIndex)
    labels = [str(k) for k in value.index] if named else \
        [f"V{i + 1}" for i in range(len(values))]
    return pd.Series(values, index=pd.Index(labels))


def custom_replicates(fit: Any, f: Any, indices: np.ndarray, k: int) -> np.ndarray:
    """f of each refit ``update(fit, subset = indices[r])`` (R × k), all NaN where the refit's
    rank differs from the original's (car's ``f0 * NA``); the refits' warnings issued once each
    with the number of replicates."""
    R = indices.shape[0]
    t = np.full((R, k), np.nan)
    counts: dict = {}
    for r in range(R):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = update(fit, subset=np.asarray(indices[r], dtype=np.int64))
            if m.rank == fit.rank:
                t[r] = replicate_statistic(f, m, k, r)
        for w in {(str(w.message), w.category) for w in caught}:
            counts[w] = counts.get(w, 0) + 1
    for (msg, cls), c in counts.items():
        warnings.warn(f"{msg} (in {c} of {R} bootstrap replicates)", cls, stacklevel=3)
    return t


def replicate_statistic(f: Any, m: Any, k: int, r: int) -> np.ndarray:
    """f of replicate r's refit, checked to have the k values of f(fit) (boot's requirement)."""
    v = np.asarray(f(m), dtype=np.float64)
    if v.shape != (k,):
        raise FitError(f"bootstrap replicate {r + 1}: f returned {v.size} values, not {k}")
    return v


def check_replicates(R: Any) -> int:
    """R must be a whole number >= 2 (boot needs at least two replicates for its summaries)."""
    if isinstance(R, (bool, np.bool_)) or not isinstance(R, (int, np.integer)):
        raise DataError("'R' must be a whole number of bootstrap replicates")
    if R < 2:
        raise DataError("'R' must be at least 2")
    return int(R)
