"""What ``drop1``/``add1`` share: the fits on column subsets of a model matrix (R's
``lm.wfit``/``glm.fit`` on ``x[, jj]``), the scopes (``drop.scope``/``add.scope``) and the
columns of the single-term tables (AIC by ``extractAIC``, R's F and χ² tests)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ...errors import RModelsError
from ..glm import GLM, NegBinGLM
from ..glm.fit import glm_fit_matrix
from ..lm import LM
from ..lm.distributions import pf_upper
from ..lm.wfit import lm_wfit

__all__ = ["ModelData", "model_data", "subset_fit", "subset_glm", "rao_score", "drop_scope",
           "add_scope", "term_label_key", "lm_aic", "glm_loglik", "f_test", "chisq_p",
           "check_kind"]


class ModelData:
    """A fit's model matrix with its ``assign``, term labels and the response, weights,
    offset (and, for a GLM, family and control) that a refit on a column subset takes."""

    def __init__(self, X: np.ndarray, assign: np.ndarray, term_labels: list, y: np.ndarray,
                 weights: Optional[np.ndarray], offset: Optional[np.ndarray], glm: Any = None):
        self.X, self.assign, self.term_labels = X, np.asarray(assign), list(term_labels)
        self.y, self.weights, self.offset, self.glm = y, weights, offset, glm

    @property
    def n(self) -> int:
        return self.X.shape[0]


def check_kind(fit: Any, verb: str) -> str:
    """"lm" or "glm"; the package's error for fits ``verb`` does not handle."""
    if isinstance(fit, NegBinGLM):
        raise RModelsError(f"{verb}() of a glm.nb fit is not implemented")
    if isinstance(fit, GLM):
        return "glm"
    if isinstance(fit, LM) and not fit.is_mlm:
        return "lm"
    raise RModelsError(f"no applicable method for '{verb}' applied to an object of class "
                       f"\"{type(fit).__name__}\"")


def model_data(fit: Any) -> ModelData:
    """The model matrix and response of an lm (y = residuals + fitted, as ``drop1.lm``) or a
    glm (the response as glm.fit took it, prior weights, offset)."""
    d = fit.design
    X = np.asarray(d.model_matrix_array(), dtype=float)
    if isinstance(fit, LM):
        a = fit.arrays
        return ModelData(X, d.assign, d.term_labels, a.residuals + a.fitted_values, a.weights,
                         a.offset)
    return ModelData(X, d.assign, d.term_labels, fit.response, fit.raw_weights,
                     None if d.offset is None else fit.offset, glm=fit)


def subset_fit(md: ModelData, cols: np.ndarray) -> tuple[int, float]:
    """(rank, deviance) of the fit on the columns ``cols`` of the model matrix: RSS = Σ w e²
    of ``lm.wfit`` or the deviance of ``glm.fit`` (same family and control)."""
    if md.glm is None:
        z = lm_wfit(np.asfortranarray(md.X[:, cols]), md.y, md.weights, md.offset, 1e-7)
        r = z["residuals"]
        rss = float(np.sum(r * r) if md.weights is None else np.sum(md.weights * r * r))
        return int(z["rank"]), rss
    z = subset_glm(md, cols)
    return int(z.rank), float(z.deviance)


def subset_glm(md: ModelData, cols: np.ndarray) -> Any:
    """``glm.fit(x[, cols], y, weights, offset, family, control)`` of a glm's model data."""
    g = md.glm
    return glm_fit_matrix(np.asfortranarray(md.X[:, cols]), md.y, g.family, weights=md.weights,
                          offset=md.offset, epsilon=g.control["epsilon"],
                          maxit=g.control["maxit"])


def rao_score(X: np.ndarray, z: Any, offset: Optional[np.ndarray]) -> float:
    """Rao's score statistic of drop1.glm/add1.glm: ``glm.fit(X, r, w, offset)`` (gaussian)
    of the working residuals r on X with the working weights w of the fit ``z``; the
    null deviance Σ w (r − r̄_w)² minus the deviance Σ w (r − offset − Xb)²."""
    w = np.asarray(z.working_weights, dtype=float)
    r = np.where(w > 0, np.asarray(z.working_residuals, dtype=float), 0.0)
    null = float(np.sum(w * (r - np.sum(w * r) / np.sum(w)) ** 2))
    fit = lm_wfit(np.array(X, dtype=float, order="F"), r, w, offset, 1e-7)  # X is overwritten
    e = fit["residuals"]
    return null - float(np.sum(w * e * e))


def term_label_key(label: str) -> str:
    """A term label with its variables sorted (R's workaround for ``a:b`` written ``b:a``)."""
    return ":".join(sorted(label.split(":")))


def drop_scope(terms: Any) -> list[str]:
    """R's ``drop.scope``: the terms no other term of the model contains (marginality)."""
    sets = [set(t) for t in terms.terms]
    if len(sets) <= 1:
        return list(terms.term_labels)
    return [lab for i, (lab, s) in enumerate(zip(terms.term_labels, sets))
            if not any(s <= o for j, o in enumerate(sets) if j != i)]


def add_scope(terms: Any, upper: Any) -> list[str]:
    """R's ``add.scope``: the terms of ``upper`` not in the model whose margins (the terms of
    ``upper`` they contain) are all in the model."""
    have = {term_label_key(x) for x in terms.term_labels}
    usets = [frozenset(upper.variable_labels[i] for i in t) for t in upper.terms]
    out = []
    for lab, s in zip(upper.term_labels, usets):
        if term_label_key(lab) in have:
            continue
        inner = [lab2 for lab2, s2 in zip(upper.term_labels, usets) if s2 < s]
        if all(term_label_key(x) in have for x in inner):
            out.append(lab)
    return out


def lm_aic(rss: np.ndarray, dfs: np.ndarray, n: int, scale: float, k: float) -> np.ndarray:
    """``extractAIC.lm`` per row: n log(RSS/n) + k·edf, or RSS/scale − n + k·edf (Cp)."""
    if scale > 0:
        return rss / scale - n + k * dfs
    with np.errstate(divide="ignore"):
        return n * np.log(rss / n) + k * dfs


def glm_loglik(fit: Any, dev: np.ndarray, n: int, scale: float) -> tuple[np.ndarray, float]:
    """drop1.glm's −2 log-likelihood up to a constant (n log(dev/n) for gaussian, dev /
    dispersion otherwise) and the dispersion used."""
    dispersion = fit.dispersion() if scale == 0 else scale
    if fit.family.family == "gaussian":
        if scale > 0:
            return dev / scale - n, dispersion
        with np.errstate(divide="ignore"):
            return n * np.log(dev / n), dispersion
    return dev / dispersion, dispersion


def f_test(fs: np.ndarray, df1: np.ndarray, df2: Any) -> np.ndarray:
    """R's ``safe_pf(Fs, df1, df2, lower.tail = FALSE)`` where Fs is not NA."""
    df2 = np.broadcast_to(np.asarray(df2, dtype=float), fs.shape)
    return np.array([pf_upper(f, a, b) if not np.isnan(f) else f
                     for f, a, b in zip(fs, df1, df2)])


def chisq_p(stat: np.ndarray, df: Sequence[float]) -> np.ndarray:
    """R's ``safe_pchisq(stat, df, lower.tail = FALSE)`` where the statistic is not NA."""
    from scipy import stats as sps
    out = np.asarray(stat, dtype=float).copy()
    df = np.asarray(df, dtype=float)
    ok = ~np.isnan(out) & ~np.isnan(df)
    out[ok] = sps.chi2.sf(out[ok], df[ok])
    return out
