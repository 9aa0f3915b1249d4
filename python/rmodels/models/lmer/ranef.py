"""Random effects of an lmer fit: the conditional modes b̂ = Λ_θ û per term and grouping
factor (lme4's ``ranef.merMod``), their conditional variances σ² (Λ'Z'WZΛ + I)⁻¹ blocks
(``condVar``), and the per-level coefficients β̂ + b̂ (``coef.merMod``).

``b`` is laid out term by term (lme4's order); within a term, level by level with the term's
k effects of a level together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .terms import ReStructure


def term_offsets(re: ReStructure) -> list:
    """Position in ``b`` of each term's first random effect."""
    out, off = [], 0
    for t in re.terms:
        out.append(off)
        off += t.k * t.nlev
    return out


def term_modes(b: np.ndarray, re: ReStructure, i: int) -> np.ndarray:
    """The conditional modes of term ``i`` as an (nlev, k) array: one row per level."""
    t = re.terms[i]
    off = term_offsets(re)[i]
    return b[off: off + t.k * t.nlev].reshape(t.nlev, t.k)


def conditional_variance_blocks(model: Any, theta: np.ndarray, sigma: float) -> list:
    """Per term the (k, nlev, k) conditional covariances σ² [(Λ'Z'WZΛ + I)⁻¹] of its random
    effects at θ (the diagonal blocks, one k x k block per level), from the compiled model."""
    s2 = sigma ** 2
    return [np.asarray(B) * s2 for B in model.cond_var_blocks(theta)]


def ranef_frames(b: np.ndarray, re: ReStructure, cond_var: list | None) -> dict:
    """lme4's ``ranef``: per grouping factor (flist order) a DataFrame with one row per level
    and one column per effect (terms of the same factor side by side, in term order); with
    ``cond_var`` the conditional variances in ``df.attrs["postVar"]``, an (nlevels, K, K)
    array, block diagonal across the terms of one factor."""
    out = {}
    for g in re.flist:
        idx = [i for i, t in enumerate(re.terms) if t.group == g]
        names = [nm for i in idx for nm in re.terms[i].cnms]
        levels = re.terms[idx[0]].levels
        df = pd.DataFrame(np.hstack([term_modes(b, re, i) for i in idx]), index=list(levels),
                          columns=names)
        if cond_var is not None:
            df.attrs["postVar"] = _post_var(re, idx, cond_var, len(levels), len(names))
        out[g] = df
    return out


def _post_var(re: ReStructure, idx: list, cond_var: list, nlev: int, K: int) -> np.ndarray:
    """The (nlev, K, K) conditional variances of the terms ``idx`` of one grouping factor."""
    pv = np.zeros((nlev, K, K))
    pos = 0
    for i in idx:
        t = re.terms[i]
        B = cond_var[i].reshape(t.k, t.nlev, t.k)
        pv[:, pos:pos + t.k, pos:pos + t.k] = np.transpose(B, (1, 0, 2))
        pos += t.k
    return pv


def coef_frames(fixef: pd.Series, ranef: dict) -> dict:
    """lme4's ``coef.merMod``: per grouping factor the fixed effects plus the matching random
    effects of each level; effects that are random only are prepended with fixed part 0."""
    refnames = [c for df in ranef.values() for c in df.columns]
    missing = list(dict.fromkeys(c for c in refnames if c not in fixef.index))
    base = pd.concat([pd.Series(0.0, index=missing), fixef]) if missing else fixef
    out = {}
    for g, df in ranef.items():
        val = pd.DataFrame(np.tile(base.to_numpy(), (len(df), 1)), index=df.index,
                           columns=list(base.index))
        for c in df.columns:
            val[c] = val[c] + df[c].to_numpy()
        out[g] = val
    return out
