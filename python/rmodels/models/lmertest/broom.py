"""broom.mixed's fixed-effect rows of ``tidy.merMod`` with ``ddf.method`` (lmerTest's
``coef(summary(fit, ddf = ))``): the ``df`` and ``p.value`` columns after ``statistic``, and
Wald intervals with t quantiles on those df.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .contest import coef_table, t_quantile


def lmertest_fixed(fit: Any, fixed: pd.DataFrame, ddf: str, conf_int: bool,
                   conf_level: float) -> pd.DataFrame:
    """The fixed rows of broom.mixed's tidy with ``std.error``, ``statistic``, ``df`` and
    ``p.value`` from lmerTest's coefficient table; with ``conf_int`` the intervals
    estimate ± qt((1 + level)/2, df)·SE (broom.mixed's ``cifun`` with ``ddf.method``)."""
    tab = coef_table(fit, ddf)
    out = fixed.copy()
    # Kenward-Roger's standard errors are the adjusted ones
    out["std.error"] = tab["Std. Error"].to_numpy()
    out["statistic"] = tab["t value"].to_numpy()
    pos = list(out.columns).index("statistic") + 1
    out.insert(pos, "df", tab["df"].to_numpy())
    out.insert(pos + 1, "p.value", tab["Pr(>|t|)"].to_numpy())
    if conf_int:
        mult = t_quantile((1 + conf_level) / 2, tab["df"].to_numpy())
        est, se = tab["Estimate"].to_numpy(), tab["Std. Error"].to_numpy()
        out["conf.low"] = est - mult * se
        out["conf.high"] = est + mult * se
    return out
