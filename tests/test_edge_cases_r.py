"""Degenerate fits that once raised Python errors: they must give R's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rmodels as rm
from rbridge import r, send_df


@pytest.mark.r
def test_gaussian_glm_perfect_fit_matches_r():
    """A saturated gaussian glm: R's sigma is NaN (0/0) and its AIC -Inf (log of a zero
    deviance); rmodels used to raise a math domain error here."""
    d = pd.DataFrame({"y": [1.0, 2.0], "x": [1.0, 2.0]})
    send_df(d, "edge_d")
    fit = rm.glm("y ~ x", d, data_name="edge_d")
    want_sigma = r("sigma(glm(y ~ x, data = edge_d))")[0]
    want_aic = r("AIC(glm(y ~ x, data = edge_d))")[0]
    want_coef = r("coef(glm(y ~ x, data = edge_d))")
    assert np.isnan(fit.sigma()) and np.isnan(want_sigma)
    assert fit.AIC() == want_aic == -np.inf
    np.testing.assert_allclose(fit.coef().to_numpy(), want_coef, rtol=1e-12, atol=1e-14)
