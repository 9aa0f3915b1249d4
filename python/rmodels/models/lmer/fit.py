"""``lmer()``: formula and data → design (fixed-effect model matrix, random-effect terms) →
lme4's checks → the optimised fit (:class:`.model.LmerMod`), as ``lme4::lmer`` (1.1-31).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ... import _core
from ...design import build_design
from ...errors import DataError, FitError, RankDeficiencyWarning
from .model import LmerMod
from .optimize import LmerControl
from .terms import build_re_structure, expanded_formula_text


def lmer(formula: str, data: pd.DataFrame, REML: bool = True, weights: Any = None,  # noqa: N803
         offset: Any = None, control: LmerControl | dict | None = None, subset: Any = None,
         na_action: str = "omit", data_name: str | None = None) -> LmerMod:
    """Fit a linear mixed model by REML (default) or maximum likelihood, as ``lme4::lmer``.

    ``formula`` is R's formula text with random-effect terms ``(lhs | g)``, ``(lhs || g)``,
    ``(1 | g1/g2)``, ``(1 | g1:g2)``; ``weights``/``offset`` are column names or arrays.
    ``data_name`` is what the printed ``Data:`` line shows (R shows the expression typed).
    Rank-deficient fixed-effect columns are dropped (with a :class:`RankDeficiencyWarning`), a
    singular fit gives a :class:`SingularFitWarning`, failed convergence checks a
    :class:`ConvergenceWarning`. With ``na_action="exclude"`` the per-row results (fitted,
    residuals, predict, hatvalues, cooks_distance) have every row of the data, NaN at the rows
    dropped for missing values; they are indexed by the data's own index.
    """
    ctrl = control if isinstance(control, LmerControl) else LmerControl(**(control or {}))
    d = build_design(formula, data, weights=weights, offset=offset, subset=subset,
                     na_action=na_action, allow_bars=True)
    if d.y is None:
        raise FitError("'formula' must be a two-sided formula (lme4's check.formula.LHS)")
    if d.y.ndim != 1 or d.y_factor is not None:
        raise FitError("response must be a numeric vector")
    check_finite(d)
    re = build_re_structure(d)
    X, columns, fit_msgs = drop_rank_deficient(np.asarray(d.X, dtype=float), list(d.columns),
                                               ctrl.check_rank_tol)
    if (REML and X.shape[0] <= X.shape[1]) or cross_product_overflows(X, d.weights):
        # the REML criterion has log(n - p), and an overflowing X'WX makes the criterion NaN:
        # nloptr stops at its first evaluation
        raise FitError("objective in x0 returns NA")
    call = printed_call(formula, data_name, weights, offset, subset)
    out = LmerMod.from_design(d, re, X, columns, bool(REML), ctrl, call, fit_msgs)
    out.call_inputs = ("lmer", dict(formula=formula, data=data, REML=REML, weights=weights,
                                    offset=offset, control=control, subset=subset,
                                    na_action=na_action, data_name=data_name))  # for update()
    return out


def check_finite(d: Any) -> None:
    """lme4's refusals of non-finite data, with R's messages (the response is checked by
    lm.wfit's "NA/NaN/Inf in 'y'", the fixed-effect matrix by the QR's foreign call)."""
    if not np.isfinite(np.asarray(d.y, dtype=float)).all():
        raise DataError("NA/NaN/Inf in 'y'")
    if not np.isfinite(np.asarray(d.model_matrix_array(), dtype=float)).all():
        raise DataError("NA/NaN/Inf in foreign function call (arg 1)")
    if d.weights is not None:
        w = np.asarray(d.weights, dtype=float)
        if not (w >= 0).all():  # zero weights are fitted: the criterion is then Inf
            raise DataError("all(weights >= 0) is not TRUE")


def cross_product_overflows(X: np.ndarray, weights: Any) -> bool:
    """Whether X'WX (lme4's VtV) has an infinite entry: a fixed-effect column near the top
    of the double range, where lme4's criterion is NaN at every θ."""
    Xw = X if weights is None else X * np.sqrt(np.asarray(weights, dtype=float))[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        return not np.isfinite(Xw.T @ Xw).all()


def drop_rank_deficient(X: np.ndarray, columns: list, tol: float) -> tuple[np.ndarray, list,
                                                                             list]:
    """lme4's ``chkRank.drop.cols``: the columns of X kept by R's pivoted QR (``qr(X, tol)``,
    LINPACK's dqrdc2 rule), their names, and lme4's message (also warned) when some are
    dropped."""
    if X.shape[1] == 0:
        return X, columns, []
    qr = _core.qr_dqrdc2(np.asfortranarray(X), tol)
    rank = int(qr["rank"])
    if rank == X.shape[1]:
        return X, columns, []
    keep = [int(i) for i in np.asarray(qr["pivot"])[:rank]]
    ndrop = X.shape[1] - rank
    msg = ("fixed-effect model matrix is rank deficient so dropping "
           f"{ndrop} column{'s' if ndrop > 1 else ''} / "
           f"coefficient{'s' if ndrop > 1 else ''}")
    warnings.warn(msg, RankDeficiencyWarning, stacklevel=3)
    return X[:, keep], [columns[i] for i in keep], [msg]


def printed_call(formula: str, data_name: str | None, weights: Any, offset: Any,
                 subset: Any) -> dict:
    """What lme4's ``.prt.call`` shows: the formula with ``||`` expanded, the data's name, and
    the names given for weights, offset and subset (column names as typed, else a
    placeholder)."""
    if isinstance(weights, str):
        weights_label = weights
    else:
        weights_label = None if weights is None else "weights"
    return {
        "formula": expanded_formula_text(formula),
        "data": data_name if data_name is not None else "data",
        "weights": weights_label,
        "offset": (offset if isinstance(offset, str) else
                   (None if offset is None else "offset")),
        "subset": None if subset is None else "subset",
    }
