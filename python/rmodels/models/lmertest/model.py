"""lmerTest's fit class ``lmerModLmerTest``: an lmer fit whose ``summary``, ``anova`` and
``tidy`` default to lmerTest's choices (Satterthwaite's df, type III), with the (θ, σ)
derivatives computed when the fit is made (and lmerTest's warnings about them raised then).
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from ..lmer.model import LmerMod
from ..lmer.summary import LmerSummary, print_lmer
from .contest import satterthwaite_derivs
from .summary import OBJ_CLASS


class LmerModLmerTest(LmerMod):
    """lmerTest's ``lmerModLmerTest`` (built by :func:`rmodels.lmerTest.lmer`): an
    :class:`~rmodels.models.lmer.model.LmerMod` whose defaults are ``summary(ddf=
    "Satterthwaite")``, ``anova(type="III", ddf="Satterthwaite")`` and ``tidy(ddf=
    "Satterthwaite")`` (broom.mixed's ``ddf.method`` for lmerTest fits)."""

    @classmethod
    def from_lmer(cls, fit: LmerMod) -> LmerModLmerTest:
        """The lmerTest fit of an lme4 fit (lmerTest's ``as_lmerModLT``), sharing its state."""
        out = cls(fit.design, fit.re, fit.X, fit.columns, fit.REML, fit.control, fit.call,
                  fit.fit_msgs, fit.model, fit.optinfo)
        if hasattr(fit, "call_inputs"):
            out.call_inputs = fit.call_inputs  # what update() and compare_with_r read
        if out.p > 0:
            satterthwaite_derivs(out)
        return out

    def summary(self, ddf: str | None = "Satterthwaite") -> LmerSummary:
        """lmerTest's summary (``ddf="lme4"``: lme4's)."""
        return super().summary(ddf=ddf)

    def anova(self, *others: LmerMod, refit: bool = True,
              model_names: Sequence[str] | None = None, type: Any = "III",  # noqa: A002
              ddf: str | None = "Satterthwaite") -> pd.DataFrame:
        """lmerTest's table of one fit (type III, Satterthwaite by default); several fits:
        lme4's likelihood-ratio table."""
        return super().anova(*others, refit=refit, model_names=model_names, type=type,
                             ddf=ddf)

    def tidy(self, effects: Sequence[str] | str = ("ran_pars", "fixed"),
             scales: str | None = None, conf_int: bool = False,
             conf_level: float = 0.95, conf_method: str = "Wald",
             ddf: str | None = "Satterthwaite") -> pd.DataFrame:
        """broom.mixed's tidy of an lmerTest fit (``df`` and ``p.value`` by Satterthwaite's
        method; ``ddf=None`` leaves them out)."""
        return super().tidy(effects, scales, conf_int, conf_level, conf_method, ddf)

    def __str__(self) -> str:
        return print_lmer(self, OBJ_CLASS)
