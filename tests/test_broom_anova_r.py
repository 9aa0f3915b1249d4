"""broom's ``tidy()`` of every anova table against live R (broom 1.0.3): lm sequential and
nested, glm sequential and nested, drop1/add1, lmer's fixed-term and likelihood-ratio tables;
and lme4's printed ``anova(lmer0, lmer1)``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, r_dataset, send_df
from rmodels import errors

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def mt():
    d = r_dataset("mtcars").reset_index(drop=True)
    send_df(d, "mt")
    return d


@pytest.fixture(scope="module")
def sleep():
    d = r_dataset("sleepstudy", "lme4")
    send_df(d, "sl")
    return d


def _r_tidy(expr: str) -> pd.DataFrame:
    return r(f"suppressWarnings(as.data.frame(tidy({expr})))")


def _same(py: pd.DataFrame, rt: pd.DataFrame) -> None:
    assert list(py.columns) == list(rt.columns)
    for c in py.columns:
        if c == "term":
            assert [str(x) for x in py[c]] == [str(x) for x in rt[c]]
        else:
            np.testing.assert_allclose(py[c].to_numpy(float), np.asarray(rt[c], float),
                                       rtol=1e-8, equal_nan=True)


def test_tidy_anova_lm(mt):
    m1 = rmodels.lm("mpg ~ wt", mt)
    m2 = rmodels.lm("mpg ~ wt + hp + qsec", mt)
    r("m1 <- lm(mpg ~ wt, mt); m2 <- lm(mpg ~ wt + hp + qsec, mt)")
    _same(rmodels.tidy(rmodels.anova(m2)), _r_tidy("anova(m2)"))
    _same(rmodels.tidy(rmodels.anova(m1, m2)), _r_tidy("anova(m1, m2)"))
    _same(rmodels.tidy(rmodels.drop1(m2, test="F")), _r_tidy("drop1(m2, test = 'F')"))
    _same(rmodels.tidy(rmodels.add1(m1, "~ . + hp + qsec", test="F")),
          _r_tidy("add1(m1, ~ . + hp + qsec, test = 'F')"))


def test_tidy_anova_glm(mt):
    g1 = rmodels.glm("am ~ wt", mt, family="binomial")
    g2 = rmodels.glm("am ~ wt + hp", mt, family="binomial")
    r("g1 <- glm(am ~ wt, binomial, mt); g2 <- glm(am ~ wt + hp, binomial, mt)")
    with pytest.warns(errors.RModelsWarning, match="not recognized or transformed: Deviance"):
        t = rmodels.tidy(rmodels.anova(g2, test="Chisq"))
    _same(t, _r_tidy("anova(g2, test = 'Chisq')"))
    with pytest.warns(errors.RModelsWarning, match="Resid..Df, Resid..Dev, Deviance"):
        t = rmodels.tidy(rmodels.anova(g1, g2, test="Chisq"))
    _same(t, _r_tidy("anova(g1, g2, test = 'Chisq')"))
    with pytest.warns(errors.RModelsWarning, match="Deviance"):
        t = rmodels.tidy(rmodels.drop1(g2, test="Chisq"))
    _same(t, _r_tidy("drop1(g2, test = 'Chisq')"))


def test_anova_lmer(sleep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.RModelsWarning)
        l0 = rmodels.lmer("Reaction ~ 1 + (1 | Subject)", sleep, data_name="sl")
        l1 = rmodels.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sl")
    r("l0 <- lmer(Reaction ~ 1 + (1 | Subject), sl); "
      "l1 <- lmer(Reaction ~ Days + (1 | Subject), sl)")
    a = rmodels.anova(l0, l1, model_names=["l0", "l1"])
    rtext = r("paste(capture.output(print(suppressMessages(anova(l0, l1)))), collapse = '\\n')")
    assert str(a).rstrip("\n") == rtext[0].rstrip("\n")
    _same(rmodels.tidy(a), _r_tidy("suppressMessages(anova(l0, l1))"))
    _same(rmodels.tidy(rmodels.anova(l1)), _r_tidy("anova(l1)"))
