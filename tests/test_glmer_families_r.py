"""glmer with the families that have a dispersion parameter (Gamma, inverse.gaussian, gaussian
with a non-identity link) against live lme4 1.1-31: the Laplace criterion with the family's aic,
lme4's sigma (√(pwrss / n)), the variance components scaled by σ̂², the summary's "t value" and
Residual row, broom.mixed's tables; lme4's refusal of quasi families and its gaussian-identity
shortcut to lmer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, r_dataset, send_df
from rmodels import Gamma, gaussian, glmer, inverse_gaussian
from rmodels.errors import FitError, RModelsWarning

pytestmark = pytest.mark.r


def _sim() -> pd.DataFrame:
    """30 groups of 10: Gamma (log and inverse link), inverse Gaussian and normal responses."""
    rng = np.random.default_rng(20261207)
    g = np.repeat(np.arange(30), 10)
    x = rng.uniform(size=g.size)
    b = rng.normal(scale=0.3, size=30)[g]
    mu = np.exp(1 + 0.8 * x + b)
    return pd.DataFrame({
        "x": x, "g": pd.Categorical([f"g{i:02d}" for i in g]),
        "yg": rng.gamma(5.0, mu / 5.0),
        "yi": rng.gamma(5.0, 1 / (5.0 * (0.4 + 0.3 * x + 0.05 * b))),
        "yn": mu + rng.normal(scale=0.5, size=g.size),
    })


def _sim_ig() -> pd.DataFrame:
    """30 groups of 10, an inverse Gaussian response with a log-linear mean."""
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(30), 10)
    x = rng.uniform(size=g.size)
    b = rng.normal(scale=0.3, size=30)[g]
    mu = np.exp(1 + 0.8 * x + b)
    return pd.DataFrame({"x": x, "g": pd.Categorical([f"g{i:02d}" for i in g]),
                         "yig": rng.wald(mu, 20.0)})


def _data(name: str) -> pd.DataFrame:
    if name == "sim":
        return _sim()
    return _sim_ig() if name == "sim_ig" else r_dataset(name, "lme4")


# (id, data, formula, R family, our family[, nAGQ])
CASES = [
    ("gamma_log", "sim", "yg ~ x + (1 | g)", "Gamma(link = 'log')", Gamma(link="log")),
    ("gamma_log_agq5", "sim", "yg ~ x + (1 | g)", "Gamma(link = 'log')", Gamma(link="log"), 5),
    ("gamma_inverse", "sim", "yi ~ x + (1 | g)", "Gamma", Gamma()),
    ("invgauss_log", "sim_ig", "yig ~ x + (1 | g)", "inverse.gaussian(link = 'log')",
     inverse_gaussian(link="log")),
    ("gaussian_log", "sim", "yn ~ x + (1 | g)", "gaussian(link = 'log')", gaussian(link="log")),
    ("sleep_gamma_slope", "sleepstudy", "Reaction ~ Days + (Days | Subject)",
     "Gamma(link = 'log')", Gamma(link="log")),
    ("sleep_gamma_identity", "sleepstudy", "Reaction ~ Days + (1 | Subject)",
     "Gamma(link = 'identity')", Gamma(link="identity")),
]
IDS = [c[0] for c in CASES]

AUGMENT_COLUMNS = [".fitted", ".resid", ".hat", ".cooksd", ".fixed", ".mu", ".offset",
                   ".sqrtXwt", ".sqrtrwt", ".weights", ".wtres", ".eta"]


def _r_fit(case: tuple) -> dict:
    _cid, dname, formula, rfam, _fam, *agq = case
    send_df(_data(dname), "d")
    nagq = agq[0] if agq else 1
    r(f"gm <- suppressWarnings(glmer({formula}, data = d, family = {rfam}, nAGQ = {nagq}))")
    aug_cols = ", ".join(f"'{c}'" for c in AUGMENT_COLUMNS)
    return {
        "loglik": float(r("as.numeric(logLik(gm))")[0]),
        "loglik_df": float(r("attr(logLik(gm), 'df')")[0]),
        "deviance": float(r("deviance(gm)")[0]),
        "fixef": r("unname(fixef(gm))"),
        "se": r("unname(sqrt(diag(as.matrix(vcov(gm)))))"),
        "se_rx": r("unname(sqrt(diag(as.matrix(suppressWarnings(vcov(gm, "
                   "use.hessian = FALSE))))))"),
        "sigma": float(r("sigma(gm)")[0]),
        "sds": r("as.data.frame(VarCorr(gm))$sdcor"),
        "vc_grp": r("as.data.frame(VarCorr(gm))$grp"),
        "ranef1": r("unname(ranef(gm)[[1]][, 1])"),
        "condvar1": r("unname(attr(ranef(gm, condVar = TRUE)[[1]], 'postVar')[1, 1, ])"),
        "fitted": r("unname(fitted(gm))"),
        "resid": {t: r(f"unname(residuals(gm, type = '{t}'))")
                  for t in ("deviance", "pearson", "working", "response")},
        "link": r("unname(predict(gm))"),
        "pop": r("unname(predict(gm, re.form = NA, type = 'response'))"),
        "new": r("unname(predict(gm, newdata = d[c(1, 2, 3), ], type = 'response'))"),
        "aic": float(r("AIC(gm)")[0]),
        "bic": float(r("BIC(gm)")[0]),
        "df_resid": float(r("df.residual(gm)")[0]),
        "summary": "\n".join(r("capture.output(print(summary(gm)))")) + "\n",
        "print": "\n".join(r("capture.output(print(gm))")) + "\n",
        "coef_names": r("colnames(coef(summary(gm)))"),
        "tidy": r("as.data.frame(broom.mixed::tidy(gm))"),
        "glance": r("as.data.frame(broom.mixed::glance(gm))"),
        "augment_names": r("names(suppressWarnings(broom.mixed::augment(gm)))"),
        "augment": r(f"as.data.frame(suppressWarnings(broom.mixed::augment(gm)))[, c({aug_cols})]"),
        "par": r("unname(c(getME(gm, 'theta'), fixef(gm)))"),
    }


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def pair(request):
    case = request.param
    cid, dname, formula, _rfam, fam, *agq = case
    ref = _r_fit(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer(formula, _data(dname), family=fam, data_name="d",
                    nAGQ=agq[0] if agq else 1)
    return cid, fit, ref


def test_loglik_at_least_lme4(pair):
    cid, fit, ref = pair
    ll = fit.logLik()
    assert ll >= ref["loglik"] - 1e-6 * abs(ref["loglik"]), (cid, ll, ref["loglik"])
    np.testing.assert_allclose(ll, ref["loglik"], rtol=1e-6)
    assert fit.logLik_df() == ref["loglik_df"]


# Gamma(identity) on sleepstudy has θ ≈ 191: the finite-difference Hessian (step 1e-4 on every
# parameter, each point a PIRLS solve to relative tolerance 1e-7) differs from lme4's by 1.4% in
# the intercept's SE, also at lme4's estimates; there the RX-based vcov is compared
# (test_vcov_fallback_is_sigma2_unscaled) and the summary up to the fixed effects.
HESSIAN_UNSTABLE = {"sleep_gamma_identity"}


def test_fixef_se_sigma(pair):
    cid, fit, ref = pair
    np.testing.assert_allclose(fit.beta, ref["fixef"], rtol=1e-4, atol=1e-4)
    if cid not in HESSIAN_UNSTABLE:
        np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov_matrix())), ref["se"], rtol=1e-3)
    np.testing.assert_allclose(fit.sigma(), ref["sigma"], rtol=1e-4)


def test_vcov_fallback_is_sigma2_unscaled(pair):
    """vcov(use.hessian = FALSE): σ̂² (R_X'R_X)⁻¹, at lme4's estimates."""
    cid, fit, ref = pair
    at = fit.at_parameters(ref["par"])
    at._vcov = None
    at.optinfo.derivs = None
    np.testing.assert_allclose(np.sqrt(np.diag(at.vcov_matrix())), ref["se_rx"], rtol=1e-4)


def test_random_effects(pair):
    cid, fit, ref = pair
    vc = fit.VarCorr().as_data_frame()
    assert list(vc["grp"]) == list(ref["vc_grp"])
    np.testing.assert_allclose(vc["sdcor"].to_numpy(), ref["sds"], rtol=1e-3, atol=1e-4)
    re1 = next(iter(fit.ranef().values()))
    np.testing.assert_allclose(re1.iloc[:, 0].to_numpy(), ref["ranef1"], rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(re1.attrs["postVar"][:, 0, 0], ref["condvar1"], rtol=2e-3)


def test_per_row_values_and_predictions(pair):
    cid, fit, ref = pair
    np.testing.assert_allclose(fit.fitted().to_numpy(), ref["fitted"], rtol=1e-3)
    for t, v in ref["resid"].items():
        np.testing.assert_allclose(fit.residuals(type=t).to_numpy(), v, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(fit.predict().to_numpy(), ref["link"], rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(fit.predict(type="response", re_form="~0").to_numpy(),
                               ref["pop"], rtol=1e-3)
    new = fit.data.iloc[[0, 1, 2]]
    np.testing.assert_allclose(fit.predict(new, type="response").to_numpy(), ref["new"],
                               rtol=1e-3)


def test_criteria(pair):
    cid, fit, ref = pair
    assert fit.df_residual() == ref["df_resid"]
    np.testing.assert_allclose(fit.AIC(), ref["aic"], rtol=1e-6)
    np.testing.assert_allclose(fit.BIC(), ref["bic"], rtol=1e-6)
    np.testing.assert_allclose(fit.deviance(), ref["deviance"], rtol=1e-4)


def test_summary_and_print_text(pair):
    """The printouts at lme4's estimates (its Nelder-Mead stops in the 5th digit)."""
    cid, fit, ref = pair
    at = fit.at_parameters(ref["par"])
    assert list(at.summary().coefficients.columns) == list(ref["coef_names"])
    ours, theirs = str(at.summary()), ref["summary"]
    if cid in HESSIAN_UNSTABLE:
        ours, theirs = ours[: ours.index("Fixed effects:")], theirs[: theirs.index("Fixed eff")]
    assert ours == theirs
    assert str(at) == ref["print"]


def test_tidy_glance(pair):
    cid, fit, ref = pair
    ours, theirs = fit.tidy(), ref["tidy"]
    assert list(ours.columns) == list(theirs.columns)
    for c in ("effect", "group", "term"):
        assert [None if pd.isna(v) else v for v in ours[c]] == \
            [None if pd.isna(v) else v for v in theirs[c]], c
    for c in (("estimate",) if cid in HESSIAN_UNSTABLE else
              ("estimate", "std.error", "statistic", "p.value")):
        np.testing.assert_allclose(ours[c].to_numpy(float), theirs[c].to_numpy(float),
                                   rtol=2e-3, atol=1e-10, err_msg=c)
    g, rg = fit.glance(), ref["glance"]
    assert list(g.columns) == list(rg.columns)
    np.testing.assert_allclose(g.iloc[0].to_numpy(float), rg.iloc[0].to_numpy(float),
                               rtol=1e-4)


def test_augment_hat_cooksd(pair):
    cid, fit, ref = pair
    with pytest.warns(RModelsWarning, match="the hat matrix may not make sense for GLMMs"):
        a = fit.augment()
    assert list(a.columns) == list(ref["augment_names"])
    for c in AUGMENT_COLUMNS:
        np.testing.assert_allclose(a[c].to_numpy(float), ref["augment"][c].to_numpy(float),
                                   rtol=2e-3, atol=2e-5, err_msg=c)


# -- families lme4 refuses or redirects ------------------------------------------------------

@pytest.mark.parametrize("rfam,fam", [("quasipoisson", "quasipoisson"),
                                      ("quasibinomial", "quasibinomial"),
                                      ("quasi(link = 'log', variance = 'mu')",
                                       'quasi(link = "log", variance = "mu")')])
def test_quasi_families_refused(rfam, fam):
    send_df(_sim(), "d")
    msg = r(f"tryCatch(glmer(yg ~ x + (1 | g), data = d, family = {rfam}), "
            "error = function(e) conditionMessage(e))")[0]
    with pytest.raises(FitError) as e:
        glmer("yg ~ x + (1 | g)", _sim(), family=fam)
    assert str(e.value) == msg


def test_gaussian_identity_goes_to_lmer():
    send_df(_sim(), "d")
    msg = r("tryCatch(glmer(yn ~ x + (1 | g), data = d, family = gaussian), "
            "warning = function(w) conditionMessage(w))")[0]
    cls = r("class(suppressWarnings(glmer(yn ~ x + (1 | g), data = d, family = gaussian)))")[0]
    ll = float(r("as.numeric(logLik(suppressWarnings(glmer(yn ~ x + (1 | g), data = d, "
                 "family = gaussian))))")[0])
    with pytest.warns(RModelsWarning) as w:
        fit = glmer("yn ~ x + (1 | g)", _sim(), family="gaussian")
    assert [str(x.message) for x in w] == [msg]
    assert cls == "lmerMod" and type(fit).__name__ == "LmerMod"
    np.testing.assert_allclose(fit.logLik(), ll, rtol=1e-8)
