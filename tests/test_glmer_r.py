"""glmer against live lme4 1.1-31: criterion, estimates, standard errors (finite-difference
Hessian), random-effect SDs, conditional modes, per-row values, printouts and broom.mixed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from rbridge import r, r_dataset, send_df
from rmodels import glmer
from rmodels.errors import RModelsWarning

pytestmark = pytest.mark.r


def _sim_slope() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(30), 12)
    x = rng.normal(size=g.size)
    b0 = rng.normal(scale=0.8, size=30)[g]
    b1 = rng.normal(scale=0.5, size=30)[g]
    p = 1 / (1 + np.exp(-(-0.3 + 0.7 * x + b0 + b1 * x)))
    y = (rng.uniform(size=g.size) < p).astype(float)
    return pd.DataFrame({"y": y, "x": x, "g": pd.Categorical([f"g{i:02d}" for i in g])})


def _data(name: str) -> pd.DataFrame:
    if name == "sim":
        return _sim_slope()
    df = r_dataset(name, "lme4")
    if name == "cbpp":
        df["prop"] = df["incidence"] / df["size"]
    return df


# (id, data, formula, family (R and ours), extra R args, our kwargs)
CASES = [
    ("cbpp", "cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd)",
     "binomial", "binomial", "", {}),
    ("cbpp_agq0", "cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd)",
     "binomial", "binomial", ", nAGQ = 0", {"nAGQ": 0}),
    ("cbpp_agq25", "cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd)",
     "binomial", "binomial", ", nAGQ = 25", {"nAGQ": 25}),
    ("cbpp_probit", "cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd)",
     "binomial(link = 'probit')", "probit", "", {}),
    ("cbpp_cloglog", "cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd)",
     "binomial(link = 'cloglog')", "cloglog", "", {}),
    ("cbpp_weights", "cbpp", "prop ~ period + (1 | herd)", "binomial", "binomial",
     ", weights = size", {"weights": "size"}),
    ("cbpp_offset", "cbpp", "incidence ~ period + offset(log(size)) + (1 | herd)",
     "poisson", "poisson", "", {}),
    ("grouse", "grouseticks",
     "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
     "poisson", "poisson", "", {}),
    ("verbagg", "VerbAgg", "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
     "binomial", "binomial", "", {}),
    ("slope", "sim", "y ~ x + (x | g)", "binomial", "binomial", "", {}),
]
IDS = [c[0] for c in CASES]


def _family(spec: str):
    from rmodels import binomial
    if spec in ("probit", "cloglog"):
        return binomial(link=spec)
    return spec


def _r_fit(case: tuple) -> dict:
    cid, dname, formula, rfam, _ofam, rargs, _kw = case
    send_df(_data(dname), "d")
    r(f"gm <- suppressWarnings(suppressMessages(glmer({formula}, data = d, family = {rfam}"
      f"{rargs})))")
    return {
        "loglik": float(r("as.numeric(logLik(gm))")[0]),
        "deviance": float(r("deviance(gm)")[0]),
        "fixef": r("unname(fixef(gm))"),
        "fixef_names": r("names(fixef(gm))"),
        "se": r("unname(sqrt(diag(as.matrix(vcov(gm)))))"),
        "theta": r("unname(getME(gm, 'theta'))"),
        "sds": r("as.data.frame(VarCorr(gm))$sdcor"),
        "ranef1": r("unname(ranef(gm)[[1]][, 1])"),
        "condvar1": r("unname(attr(ranef(gm, condVar = TRUE)[[1]], 'postVar')[1, 1, ])"),
        "fitted": r("unname(fitted(gm))"),
        "resid": {t: r(f"unname(residuals(gm, type = '{t}'))")
                  for t in ("deviance", "pearson", "working", "response")},
        "link": r("unname(predict(gm))"),
        "pop": r("unname(predict(gm, re.form = NA, type = 'response'))"),
        "aic": float(r("AIC(gm)")[0]),
        "bic": float(r("BIC(gm)")[0]),
        "df_resid": float(r("df.residual(gm)")[0]),
        "singular": bool(r("isSingular(gm)")[0]),
        "summary": "\n".join(r("capture.output(print(summary(gm)))")) + "\n",
        "print": "\n".join(r("capture.output(print(gm))")) + "\n",
        "tidy": r("as.data.frame(broom.mixed::tidy(gm))"),
        "ngrps": r("ngrps(gm)"),
        "ngrps_names": r("names(ngrps(gm))"),
        "glance": r("as.data.frame(broom.mixed::glance(gm))"),
        "augment_names": r("names(suppressWarnings(broom.mixed::augment(gm)))"),
        "influence": r("as.data.frame(suppressWarnings(broom.mixed::augment(gm)))"
                       "[, c('.hat', '.cooksd')]"),
        "augment": r("as.data.frame(suppressWarnings(broom.mixed::augment(gm)))"
                     "[, c('.fitted', '.resid', '.fixed', '.mu', '.offset', '.sqrtXwt', "
                     "'.sqrtrwt', '.weights', '.wtres', '.eta')]"),
        "par": r("unname(if (gm@devcomp$dims[['nAGQ']] == 0) getME(gm, 'theta') else "
                 "c(getME(gm, 'theta'), fixef(gm)))"),
    }


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def pair(request):
    case = request.param
    cid, dname, formula, _rfam, ofam, _rargs, kw = case
    ref = _r_fit(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer(formula, _data(dname), family=_family(ofam), data_name="d", **kw)
    return cid, fit, ref


def test_loglik_at_least_lme4(pair):
    cid, fit, ref = pair
    ll = fit.logLik()
    assert ll >= ref["loglik"] - 1e-6 * abs(ref["loglik"]), (cid, ll, ref["loglik"])


def test_fixef_and_se(pair):
    cid, fit, ref = pair
    assert list(fit.fixef().index) == list(ref["fixef_names"])
    np.testing.assert_allclose(fit.beta, ref["fixef"], rtol=1e-4, atol=1e-4)
    se = np.sqrt(np.diag(fit.vcov_matrix()))
    np.testing.assert_allclose(se, ref["se"], rtol=1e-3)


def test_random_effect_sds(pair):
    cid, fit, ref = pair
    sds = fit.VarCorr().as_data_frame()["sdcor"].to_numpy()
    np.testing.assert_allclose(sds, ref["sds"], rtol=1e-3, atol=1e-4)


def test_conditional_modes_and_variances(pair):
    cid, fit, ref = pair
    re1 = next(iter(fit.ranef().values()))
    np.testing.assert_allclose(re1.iloc[:, 0].to_numpy(), ref["ranef1"], rtol=2e-3, atol=2e-4)
    pv = re1.attrs["postVar"][:, 0, 0]
    np.testing.assert_allclose(pv, ref["condvar1"], rtol=2e-3, atol=1e-5)


def test_per_row_values(pair):
    cid, fit, ref = pair
    np.testing.assert_allclose(fit.fitted().to_numpy(), ref["fitted"], rtol=1e-3, atol=1e-5)
    for t, v in ref["resid"].items():
        np.testing.assert_allclose(fit.residuals(type=t).to_numpy(), v, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(fit.predict().to_numpy(), ref["link"], rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(fit.predict(type="response", re_form="~0").to_numpy(),
                               ref["pop"], rtol=1e-3, atol=1e-5)


def test_criteria(pair):
    cid, fit, ref = pair
    assert fit.df_residual() == ref["df_resid"]
    np.testing.assert_allclose(fit.AIC(), ref["aic"], rtol=1e-6)
    np.testing.assert_allclose(fit.BIC(), ref["bic"], rtol=1e-6)
    np.testing.assert_allclose(fit.deviance(), ref["deviance"], rtol=1e-4)
    assert fit.isSingular() == ref["singular"]
    ng = fit.ngrps()
    assert list(ng.index) == list(ref["ngrps_names"])
    np.testing.assert_array_equal(ng.to_numpy(), ref["ngrps"])
    assert fit.sigma() == 1.0


def test_glance_and_augment(pair):
    cid, fit, ref = pair
    g, rg = fit.glance(), ref["glance"]
    assert list(g.columns) == list(rg.columns)
    np.testing.assert_allclose(g.iloc[0].to_numpy(float), rg.iloc[0].to_numpy(float),
                               rtol=1e-4)
    with pytest.warns(RModelsWarning, match="the hat matrix may not make sense for GLMMs"):
        a = fit.augment()
    ra = ref["augment"]
    # (a cbind() response is one matrix column in R's frame, two columns here)
    assert [c for c in a.columns if c.startswith(".")] == \
        [c for c in ref["augment_names"] if c.startswith(".")]
    for c in ra.columns:
        np.testing.assert_allclose(a[c].to_numpy(float), ra[c].to_numpy(float), rtol=2e-3,
                                   atol=2e-4, err_msg=c)


def test_hat_and_cooks_distance(pair):
    """augment's .hat and .cooksd (lme4's hatvalues and cooks.distance) at lme4's estimates:
    where a hat value is near 1, Cook's distance magnifies the optima's difference."""
    cid, fit, ref = pair
    at = fit.at_parameters(ref["par"])
    with pytest.warns(RModelsWarning, match="the hat matrix may not make sense for GLMMs"):
        a = at.augment()
    for c in (".hat", ".cooksd"):
        np.testing.assert_allclose(a[c].to_numpy(float), ref["influence"][c].to_numpy(float),
                                   rtol=1e-4, atol=1e-8, err_msg=c)
    with pytest.warns(RModelsWarning, match="hat matrix"):
        np.testing.assert_array_equal(at.hatvalues().to_numpy(), a[".hat"].to_numpy())
    with pytest.warns(RModelsWarning, match="hat matrix"):
        np.testing.assert_array_equal(at.cooks_distance().to_numpy(), a[".cooksd"].to_numpy())


def test_tidy(pair):
    cid, fit, ref = pair
    ours = fit.tidy()
    theirs = ref["tidy"]
    assert list(ours.columns) == list(theirs.columns)
    assert list(ours["term"]) == list(theirs["term"])
    assert list(ours["effect"]) == list(theirs["effect"])
    np.testing.assert_allclose(ours["estimate"].to_numpy(float),
                               theirs["estimate"].to_numpy(float), rtol=1e-3, atol=1e-4)


# Standard errors from the finite-difference Hessian (step 1e-4) carry the PIRLS tolerance of
# each evaluation: at lme4's estimates they agree to ~3e-5 relative (VerbAgg), which can change
# the 5th printed digit; there the coefficient and correlation tables are compared by value
# (test_fixef_and_se) and the text up to them.
SE_DIGITS_UNSTABLE = {"verbagg"}


def _without_coef_table(text: str) -> str:
    return text[: text.index("Fixed effects:")]


def test_summary_text(pair):
    """The printouts at lme4's estimates (the optima differ in the 5th digit, where lme4's
    Nelder-Mead stops, which can change a rounded digit)."""
    cid, fit, ref = pair
    at = fit.at_parameters(ref["par"])
    ours, theirs = str(at.summary()), ref["summary"]
    if cid in SE_DIGITS_UNSTABLE:
        ours, theirs = _without_coef_table(ours), _without_coef_table(theirs)
    assert ours == theirs
    assert str(at) == ref["print"]
