"""glmer_nb against live lme4 1.1-31's glmer.nb (grouseticks), glmer with MASS's
negative.binomial(θ) family, and the port of R's optimize (Brent's fmin).

lme4's glmer.nb refits each point of its θ search from the previous fit; its final log-likelihood
(-905.861242 here) is 4e-4 above what a fresh lme4 glmer gives at the same θ (-905.861667, equal
to ours), so the estimates are compared to glmer.nb's at 2e-3 and to a fresh lme4 fit at our θ
at the usual tolerances."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from rbridge import r, r_dataset, send_df
from rmodels import glmer, glmer_nb, negative_binomial
from rmodels.models.glmer.nb import brent_fmin

pytestmark = pytest.mark.r

FORMULA = "TICKS ~ YEAR + scale(HEIGHT) + (1 | LOCATION)"


@pytest.fixture(scope="module")
def fits():
    d = r_dataset("grouseticks", "lme4")
    send_df(d, "d")
    r(f"nb <- suppressWarnings(suppressMessages(glmer.nb({FORMULA}, data = d)))")
    ref_nb = {"theta": float(r("getME(nb, 'glmer.nb.theta')")[0]),
              "loglik": float(r("as.numeric(logLik(nb))")[0]),
              "fixef": r("unname(fixef(nb))"),
              "se": r("unname(sqrt(diag(as.matrix(vcov(nb)))))"),
              "sd": r("as.data.frame(VarCorr(nb))$sdcor"),
              "df": float(r("attr(logLik(nb), 'df')")[0])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer_nb(FORMULA, d, data_name="d")
    th = fit.family.theta
    r(f"gm <- suppressWarnings(glmer({FORMULA}, data = d, "
      f"family = MASS::negative.binomial({th!r})))")
    ref = {"loglik": float(r("as.numeric(logLik(gm))")[0]),
           "fixef": r("unname(fixef(gm))"),
           "se": r("unname(sqrt(diag(as.matrix(vcov(gm)))))"),
           "sd": r("as.data.frame(VarCorr(gm))$sdcor"),
           "aic": float(r("AIC(gm)")[0]), "bic": float(r("BIC(gm)")[0]),
           "df_resid": float(r("df.residual(gm)")[0]),
           "par": r("unname(c(getME(gm, 'theta'), fixef(gm)))"),
           "summary": "\n".join(r("capture.output(print(summary(gm)))")) + "\n",
           "print": "\n".join(r("capture.output(print(gm))")) + "\n",
           "tidy": r("as.data.frame(broom.mixed::tidy(gm))"),
           "glance": r("as.data.frame(broom.mixed::glance(gm))")}
    return fit, ref_nb, ref


def test_theta_and_loglik_as_glmer_nb(fits):
    fit, ref_nb, _ = fits
    np.testing.assert_allclose(fit.family.theta, ref_nb["theta"], rtol=1e-4)
    np.testing.assert_allclose(fit.logLik(), ref_nb["loglik"], rtol=1e-6)
    assert fit.logLik_df() == ref_nb["df"]
    np.testing.assert_allclose(fit.beta, ref_nb["fixef"], rtol=2e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov_matrix())), ref_nb["se"], rtol=2e-3)
    np.testing.assert_allclose(fit.VarCorr().as_data_frame()["sdcor"], ref_nb["sd"],
                               rtol=2e-3)
    assert fit.nevals > 3


def test_fit_at_theta_as_lme4_glmer(fits):
    """glmer with negative.binomial(θ) at our θ: lme4's criterion, estimates, npar (θ of the
    family counted), tables and printouts."""
    fit, _, ref = fits
    assert fit.logLik() >= ref["loglik"] - 1e-6 * abs(ref["loglik"])
    np.testing.assert_allclose(fit.logLik(), ref["loglik"], rtol=1e-8)
    np.testing.assert_allclose(fit.beta, ref["fixef"], rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov_matrix())), ref["se"], rtol=1e-3)
    np.testing.assert_allclose(fit.VarCorr().as_data_frame()["sdcor"], ref["sd"], rtol=1e-3)
    np.testing.assert_allclose([fit.AIC(), fit.BIC()], [ref["aic"], ref["bic"]], rtol=1e-8)
    assert fit.df_residual() == ref["df_resid"]
    at = fit.at_parameters(ref["par"])
    # the intercept/YEAR96 correlation is -0.5895 to 4 digits: the Hessian's last digits round
    # it either way, so the text is compared up to the correlation table
    cut = "Correlation of Fixed Effects:"
    ours = str(at.summary())
    assert ours[: ours.index(cut)] == ref["summary"][: ref["summary"].index(cut)]
    assert str(at) == ref["print"]
    t = fit.tidy()
    assert list(t.columns) == list(ref["tidy"].columns)
    np.testing.assert_allclose(t["estimate"].to_numpy(float),
                               ref["tidy"]["estimate"].to_numpy(float), rtol=1e-3)
    g = fit.glance()
    assert list(g.columns) == list(ref["glance"].columns)
    np.testing.assert_allclose(g.iloc[0].to_numpy(float),
                               ref["glance"].iloc[0].to_numpy(float), rtol=1e-4)


def test_fixed_theta_glmer_family():
    d = r_dataset("grouseticks", "lme4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer(FORMULA, d, family=negative_binomial(1.5))
    assert fit.npar() == 4 + 1 + 1 and fit.sigma() == 1.0
    assert not fit.use_sc


# (R function, the same in Python, interval, tol)
FMIN_CASES = [
    ("function(x) (x - 1/3)^2", lambda x: (x - 1 / 3) ** 2, 0, 1, 1e-8),
    ("function(x) sin(3 * x) + 0.1 * x^2", lambda x: np.sin(3 * x) + 0.1 * x**2, -2, 4, 5e-5),
    ("function(x) abs(x - 0.7) + 0.01 * x", lambda x: abs(x - 0.7) + 0.01 * x, -5, 5, 1e-6),
]


@pytest.mark.parametrize("rfun,fun,lo,hi,tol", FMIN_CASES)
def test_brent_fmin_as_r_optimize(rfun, fun, lo, hi, tol):
    """The minimum and the points evaluated, in order, as R's optimize() (which evaluates
    the function once more at the minimum it returns)."""
    pts = r(f"pts <- c(); f <- {rfun}; o <- optimize(function(x) {{pts <<- c(pts, x); f(x)}}, "
            f"c({lo}, {hi}), tol = {tol}); c(o$minimum, pts)")
    seen: list = []

    def traced(x: float) -> float:
        seen.append(x)
        return float(fun(x))

    xmin = brent_fmin(traced, lo, hi, tol)
    assert xmin == pytest.approx(pts[0], rel=1e-14, abs=1e-14)
    np.testing.assert_allclose(seen, pts[1:-1], rtol=1e-13, atol=1e-14)
