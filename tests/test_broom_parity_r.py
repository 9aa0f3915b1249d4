"""broom parity against live R: ``tidy(glm)`` keeps aliased terms as NA rows (broom joins
``coef(x)``), with and without intervals and exponentiation; broom.mixed's NA ``group`` of
the fixed effects (lmer and glmer) is NaN."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, r_dataset, send_df
from rmodels import errors
from test_glm_r import DATA

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def gd():
    send_df(DATA, "gd")
    return DATA


@pytest.mark.parametrize("opts", [{}, {"conf_int": True}, {"conf_int": True,
                                                            "exponentiate": True}])
def test_tidy_glm_keeps_aliased_terms(gd, opts):
    m = rmodels.glm("yc ~ x1 + x3 + x2 + f", DATA, family="poisson")
    t = rmodels.tidy(m, **opts)
    ropts = "".join(f", {k.replace('_', '.')} = TRUE" for k in opts)
    rt = r(f"as.data.frame(tidy(glm(yc ~ x1 + x3 + x2 + f, poisson, gd){ropts}))")
    assert list(t.columns) == list(rt.columns)
    assert list(t["term"]) == list(rt["term"])
    assert t.loc[t["term"] == "x2", "estimate"].isna().all()
    np.testing.assert_allclose(t.iloc[:, 1:].to_numpy(float), rt.iloc[:, 1:].to_numpy(float),
                               rtol=1e-6, equal_nan=True)


def test_tidy_lmer_group_is_nan():
    d = r_dataset("sleepstudy", "lme4")
    send_df(d, "sl")
    fit = rmodels.lmer("Reaction ~ Days + (Days | Subject)", d)
    t = rmodels.tidy(fit)
    rt = r("as.data.frame(tidy(lmer(Reaction ~ Days + (Days | Subject), sl)))")
    r_na = [isinstance(v, float) and np.isnan(v) for v in rt["group"]]
    assert list(pd.isna(t["group"])) == r_na
    fixed = t.loc[t["effect"] == "fixed", "group"]
    assert all(isinstance(v, float) and np.isnan(v) for v in fixed)
    assert list(t.loc[~pd.isna(t["group"]), "group"]) == [v for v, na in zip(rt["group"], r_na)
                                                          if not na]
    with warnings.catch_warnings():
        warnings.simplefilter("error", errors.RModelsWarning)
        rmodels.tidy(fit, effects="fixed")


def test_tidy_glmer_group_is_nan():
    d = r_dataset("cbpp", "lme4")
    send_df(d, "cb")
    fit = rmodels.glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", d,
                        family="binomial")
    t = rmodels.tidy(fit)
    rt = r("as.data.frame(tidy(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), "
           "cb, family = binomial)))")
    r_na = [isinstance(v, float) and np.isnan(v) for v in rt["group"]]
    assert list(pd.isna(t["group"])) == r_na
    fixed = t.loc[t["effect"] == "fixed", "group"]
    assert all(isinstance(v, float) and np.isnan(v) for v in fixed)
