"""rmodels.lm without R: argument checks, errors and the shapes of the results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rmodels.errors import DataError, FitError, RModelsError
from rmodels.models.contract import AnovaTable, LogLik
from rmodels.models.lm import LM, lm


@pytest.fixture
def d() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 30
    out = pd.DataFrame({"x": rng.normal(size=n), "g": pd.Categorical(rng.choice(list("abc"), n)),
                        "off": rng.uniform(size=n), "w": rng.uniform(0.5, 2.0, size=n)})
    out["y"] = 1 + 2 * out["x"] + rng.normal(size=n)
    out["ch"] = np.where(out["y"] > 1, "hi", "lo")
    return out


def test_basic_types(d):
    m = lm("y ~ x + g", d)
    assert isinstance(m, LM)
    assert list(m.coef().index) == ["(Intercept)", "x", "gb", "gc"]
    assert m.nobs() == 30 and m.df_residual() == 26 and m.rank == 4
    assert isinstance(m.logLik(), LogLik) and m.logLik().df == 5
    assert isinstance(m.anova(), AnovaTable)
    assert list(m.anova().columns) == ["Df", "Sum Sq", "Mean Sq", "F value", "Pr(>F)"]
    pr = m.predict(d.head(3))
    assert isinstance(pr, pd.Series) and pr.index.equals(d.head(3).index)
    assert str(m).startswith("\nCall:\nlm(formula = y ~ x + g, data = data)\n")


def test_fitted_plus_residuals_is_response(d):
    m = lm("y ~ x + g", d, weights="w", offset="off")
    np.testing.assert_allclose(m.fitted().to_numpy() + m.residuals().to_numpy(), d["y"],
                               rtol=1e-13)


def test_errors(d):
    with pytest.raises(DataError, match="factor"):
        lm("ch ~ x", d)
    bad = d.copy()
    bad["w"] = 0.0
    with pytest.raises(FitError, match="all weights are zero"):
        lm("y ~ x", bad, weights="w")
    bad["w"] = -1.0
    with pytest.raises(DataError, match="missing or negative weights not allowed"):
        lm("y ~ x", bad, weights="w")
    with pytest.raises(RModelsError):
        lm("y ~ x + nothere", d)


def test_offset_array_needs_column_for_newdata(d):
    m = lm("y ~ x", d, offset=d["off"].to_numpy())
    assert "offset = offset" in m.call
    with pytest.raises(DataError, match="column name"):
        m.predict(d.head(2))
    m2 = lm("y ~ x", d, offset="off")
    np.testing.assert_allclose(m2.predict(d), m2.fitted().to_numpy(), rtol=1e-12)


def test_interval_argument_checked(d):
    m = lm("y ~ x", d)
    with pytest.raises(ValueError):
        m.predict(d, interval="bogus")
