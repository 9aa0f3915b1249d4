"""R's ``step``: choose a model by AIC in a stepwise algorithm (``stats::step``): at each step
the single-term deletions (``drop1``) and additions (``add1``) allowed by the scope are
compared, the best change by AIC is made with ``update``, until no change lowers the AIC."""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import pandas as pd

from ... import printing as rf
from ...errors import FitError, RModelsError
from ...formula import terms
from ..contract import AnovaTable
from .add1 import add1
from .drop1 import drop1, extract_aic_glm
from .formula_update import update_formula
from .term_fits import check_kind, term_label_key
from .update import formula_lines, model_formula, update

__all__ = ["step", "extract_aic", "factor_scope"]

NA = rf.NA_REAL


def extract_aic(fit: Any, scale: float = 0, k: float = 2) -> tuple[float, float]:
    """R's ``extractAIC``: (edf, AIC) with edf = n − df.residual over every row of the fit;
    lm: n log(RSS/n) + k·edf (RSS/scale − n + k·edf with ``scale``); glm: aic + (k − 2)·edf."""
    if check_kind(fit, "extractAIC") == "glm":
        return float(len(fit.core.y) - fit.df_residual()), extract_aic_glm(fit, k)
    n = len(fit.arrays.residuals)
    edf = float(n - fit.df_residual())
    rss = float(fit.deviance())
    with np.errstate(divide="ignore"):
        dev = rss / scale - n if scale > 0 else n * np.log(rss / n)
    return edf, float(dev + k * edf)


def _term_sets(t: Any) -> list[tuple[str, frozenset]]:
    return [(lab, frozenset(t.variable_labels[i] for i in tt))
            for lab, tt in zip(t.term_labels, t.terms)]


def _check_within(which: str, missing: list) -> None:
    """R's factor.scope errors: "lower scope has term(s) … not included in model" (a lower
    term not in the model) and "upper scope has term(s) … not included in model" (R's text
    for a model term missing from the upper scope)."""
    if missing:
        s = "s" if len(missing) > 1 else ""
        quoted = ", ".join(f"\u2018{x}\u2019" for x in missing)
        raise RModelsError(f"{which} scope has term{s} {quoted} not included in model")


def factor_scope(model: Any, lower: Optional[Any], upper: Optional[Any]) -> tuple[list, list]:
    """R's ``factor.scope``: (terms that may be dropped, terms that may be added). Dropping:
    the model's terms not in ``lower`` that no other such term contains; adding: the terms of
    ``upper`` not in the model that contain no other such term (marginality)."""
    have = _term_sets(model)
    hk = {term_label_key(lab) for lab, _ in have}
    low = set() if lower is None else {term_label_key(x) for x in lower.term_labels}
    _check_within("lower", [x for x in (lower.term_labels if lower else [])
                                      if term_label_key(x) not in hk])
    cand = [(lab, s) for lab, s in have if term_label_key(lab) not in low]
    drop = [lab for lab, s in cand if not any(s <= o for lab2, o in cand if lab2 != lab)]
    add: list = []
    if upper is not None:
        ukeys = {term_label_key(x) for x in upper.term_labels}
        _check_within("upper", [lab for lab, _ in have
                                                       if term_label_key(lab) not in ukeys])
        ucand = [(lab, s) for lab, s in _term_sets(upper) if term_label_key(lab) not in hk]
        add = [lab for lab, s in ucand if not any(o < s for _, o in ucand)]
    return drop, add


def _scope_terms(fit: Any, scope: Any) -> tuple[Any, Any]:
    """(lower, upper) terms of step's ``scope``: a formula (upper), or a dict with "lower"
    and/or "upper" formulas; each updates the model's formula as R's ``update.formula``."""
    def as_terms(f: Optional[str]) -> Any:
        return None if f is None else terms(update_formula(model_formula(fit), f), random=False)

    if isinstance(scope, dict):
        return as_terms(scope.get("lower")), as_terms(scope.get("upper"))
    return None, as_terms(scope)


def _nobs(fit: Any) -> int:
    return int(fit.nobs()) if hasattr(fit, "nobs") else int(fit.df_residual() + fit.rank)


def _start_text(label: str, aic: float, fit: Any) -> str:
    val = rf.format_num([rf.round_r(aic, 2)], digits=7)[0]
    return f"{label}:  AIC={val}\n" + "\n".join(formula_lines(fit)) + "\n\n"


def _candidates(fit: Any, drop_scope: list, add_scope: list, backward: bool, forward: bool,
                scale: float, k: float) -> tuple[Optional[pd.DataFrame], Optional[str]]:
    """One step's table of changes (R's ``aod``, rows "<none>", "- term", "+ term") and a
    change forced by a zero-Df deletion (else None)."""
    aod = None
    if backward and drop_scope:
        aod = pd.DataFrame(drop1(fit, drop_scope, scale=scale, k=k))
        aod.index = ["<none>"] + ["- " + x for x in aod.index[1:]]
        zdf = aod["Df"].to_numpy() == 0
        if zdf.any():
            return aod, [x for x, z in zip(aod.index, zdf) if z][-1]
    if forward and add_scope:
        aodf = pd.DataFrame(add1(fit, add_scope, scale=scale, k=k))
        aodf.index = ["<none>"] + ["+ " + x for x in aodf.index[1:]]
        aod = aodf if aod is None else pd.concat([aod, aodf.iloc[1:]])
    return aod, None


def _directions(direction: Optional[str], scope: Any) -> tuple[bool, bool]:
    """(backward, forward) for step's ``direction``; without a scope and without a direction
    only backward steps (R's ``if (md) forward <- FALSE``)."""
    if direction is None:
        return True, scope is not None
    if direction not in ("both", "backward", "forward"):
        raise RModelsError("'arg' should be one of 'both', 'backward', 'forward'")
    return direction in ("both", "backward"), direction in ("both", "forward")


def _best_change(aod: Optional[pd.DataFrame], trace: int) -> tuple[Any, Optional[str]]:
    """The rows with a non-zero Df sorted by AIC (Cp), printed when tracing, and the best
    change (None when ``<none>`` is best or there is nothing to compare)."""
    if aod is None:
        return aod, None
    aod = aod[aod["Df"].isna() | (aod["Df"] != 0)]
    crit = "Cp" if "Cp" in aod.columns else "AIC"
    if crit not in aod.columns:
        return aod, None
    order = np.argsort(aod[crit].to_numpy(), kind="stable")
    if trace:
        print(str(AnovaTable(aod.iloc[order])), end="")
    return aod, None if order[0] == 0 else str(aod.index[order[0]])


def step(fit: Any, scope: Union[None, str, dict] = None, scale: float = 0,
         direction: Optional[str] = None, trace: int = 1, steps: int = 1000,
         k: float = 2) -> Any:
    """R's ``step(object, scope, scale = 0, direction = "both", trace = 1, steps = 1000,
    k = 2)`` for lm and glm fits; returns the chosen fit with the path in ``.step_anova``
    (R's ``fit$anova``: ``Step``, ``Df``, ``Deviance``, ``Resid. Df``, ``Resid. Dev``,
    ``AIC``).

    ``scope``: an upper formula (``"~ . + x + z"``) or ``{"lower": ..., "upper": ...}``;
    without it only backward steps are made (unless ``direction`` says otherwise, as R).
    ``trace``: R's printed trace on standard output (``Start:  AIC=…``, each step's table
    sorted by AIC, ``Step:  AIC=…``); 0 is quiet.
    """
    check_kind(fit, "step")
    backward, forward = _directions(direction, scope)
    lower, upper = _scope_terms(fit, scope)
    n = _nobs(fit)
    edf, b_aic = extract_aic(fit, scale, k)
    if np.isnan(b_aic):
        raise FitError("AIC is not defined for this model, so 'step' cannot proceed")
    if b_aic == -np.inf:
        raise FitError("AIC is -infinity for this model, so 'step' cannot proceed")
    if trace:
        print(_start_text("Start", b_aic, fit), end="")
    models = [(float(fit.deviance()), n - edf, "", b_aic)]
    start = fit
    using_cp = False
    while steps > 0:
        steps -= 1
        aic = b_aic
        drop_sc, add_sc = factor_scope(fit.design.terms, lower, upper)
        aod, change = _candidates(fit, drop_sc, add_sc, backward, forward, scale, k)
        if change is None:
            aod, change = _best_change(aod, trace)
            if change is None:
                break
        using_cp = "Cp" in aod.columns
        fit = update(fit, "~ . " + change)
        if _nobs(fit) != n:
            raise FitError("number of rows in use has changed: remove missing values?")
        edf, b_aic = extract_aic(fit, scale, k)
        if trace:
            print("\n" + _start_text("Step", b_aic, fit), end="")
        if b_aic >= aic + 1e-7:
            break
        models.append((float(fit.deviance()), n - edf, change, b_aic))
    fit.step_anova = step_path(models, start, fit, using_cp)
    return fit


def step_path(models: list, start: Any, fit: Any, using_cp: bool) -> pd.DataFrame:
    """R's ``step.results``: the path table with its heading in ``.attrs["heading"]``."""
    rd = np.array([m[0] for m in models])
    rdf = np.array([m[1] for m in models], dtype=float)
    out = pd.DataFrame({
        "Step": [m[2] for m in models],
        "Df": np.concatenate([[NA], np.diff(rdf)]),
        "Deviance": np.concatenate([[NA], np.abs(np.diff(rd))]),
        "Resid. Df": rdf, "Resid. Dev": rd,
        "Cp" if using_cp else "AIC": [m[3] for m in models],
    }, index=pd.Index([str(i + 1) for i in range(len(models))]))
    out.attrs["heading"] = ["Stepwise Model Path \nAnalysis of Deviance Table",
                            "\nInitial Model:", *formula_lines(start), "\nFinal Model:",
                            *formula_lines(fit), "\n"]
    return out
