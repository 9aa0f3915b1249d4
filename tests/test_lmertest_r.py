"""lmerTest's tests for lmer fits against live lmerTest 3.1-3 / pbkrtest 0.5.2 / broom.mixed:
Satterthwaite and Kenward-Roger t tests (summary), anova types I, II, III, contest with one-
and multi-row contrasts, tidy's df/p.value, and the printed summary and anova tables, on REML
and ML fits of unbalanced data (anova also of types "marginal" and "2b", and R's
matching of the type) (sleepstudy with rows removed, ChickWeight), cake (ordered
factor: type III remade under treatment contrasts) and a crossed unbalanced design.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, r_dataset, send_df
from rmodels.errors import ConvergenceWarning, FitError, RankDeficiencyWarning
from rmodels.lmerTest import lmer as lmertest_lmer

pytestmark = pytest.mark.r

RTOL = 1e-4
TYPES = ("I", "II", "III", "marginal", "2b")


def sleep_removed() -> pd.DataFrame:
    d = r_dataset("sleepstudy", "lme4")
    return d.drop(index=d.index[[3, 10, 50, 51, 100, 120, 121, 150]]).reset_index(drop=True)


def crossed_design() -> pd.DataFrame:
    """Subjects crossed with items, about 30% of the cells missing; a 3-level item factor and
    a numeric covariate with an interaction."""
    rng = np.random.default_rng(11)
    cells = [(s, i) for s in range(24) for i in range(16) if rng.random() > 0.3]
    s = np.array([a for a, _ in cells])
    it = np.array([b for _, b in cells])
    x = rng.normal(size=len(cells))
    y = (1 + 0.5 * (it % 3) + 0.3 * x + 0.2 * x * (it % 3 == 1) + 0.8 * rng.normal(size=24)[s]
         + 0.5 * rng.normal(size=16)[it] + rng.normal(size=len(cells)))
    return pd.DataFrame({
        "y": y, "A": pd.Categorical(np.array(["a1", "a2", "a3"])[it % 3]), "x": x,
        "subj": pd.Categorical([f"s{v:02d}" for v in s]),
        "item": pd.Categorical([f"i{v:02d}" for v in it])})


CASES = {
    "sleep": (sleep_removed, "Reaction ~ Days + (Days | Subject)"),
    "chick": (lambda: r_dataset("ChickWeight", "datasets"),
              "weight ~ Time * Diet + (Time | Chick)"),
    "cake": (lambda: r_dataset("cake", "lme4"),
             "angle ~ recipe * temperature + (1 | recipe:replicate)"),
    "crossed": (crossed_design, "y ~ A * x + (1 | subj) + (1 | item)"),
}
# ChickWeight: lme4's and our optimizers stop ~2e-7 apart in θ on a flat criterion (lme4 warns
# about the gradient), which moves the df by ~2e-5: the printed tables, to the last digit, are
# compared at lme4's θ (the numbers at our θ within 1e-4)
AT_R_THETA = {"chick"}
FITS = [(c, reml) for c in CASES for reml in (True, False)]


def contrasts_for(p: int) -> tuple[np.ndarray, np.ndarray]:
    """A one-row contrast (difference of the last two coefficients) and a multi-row one (the
    coefficients 2 … min(p, 4))."""
    one = np.zeros(p)
    one[-1], one[-2] = 1.0, -1.0
    multi = np.eye(p)[1:min(p, 4)]
    return one, multi


def r_matrix(M: np.ndarray) -> str:
    return (f"matrix(c({', '.join(repr(float(v)) for v in M.ravel(order='F'))}), "
            f"nrow = {M.shape[0]})")


def r_results(name: str, formula: str, reml: bool, p: int) -> dict:
    """Everything lmerTest, pbkrtest and broom.mixed give for one fit (one R call)."""
    one, multi = contrasts_for(p)
    ddfs = ["Satterthwaite", "Kenward-Roger"] if reml else ["Satterthwaite"]
    code = [f"m <- lmerTest::lmer({formula}, d, REML = {'TRUE' if reml else 'FALSE'})",
            f"L1 <- {r_matrix(one[None, :])}; LM <- {r_matrix(multi)}", "out <- list()"]
    for ddf in ddfs:
        code += [
            f"out[['coef_{ddf}']] <- coef(summary(m, ddf = '{ddf}'))",
            f"out[['sumtext_{ddf}']] <- capture.output(summary(m, ddf = '{ddf}'))",
            f"out[['c1_{ddf}']] <- as.matrix(contest(m, L1, ddf = '{ddf}'))",
            f"out[['cm_{ddf}']] <- as.matrix(contest(m, LM, ddf = '{ddf}'))",
            f"out[['cmt_{ddf}']] <- as.matrix(contest(m, LM, joint = FALSE, ddf = '{ddf}'))",
            f"out[['cmrhs_{ddf}']] <- as.matrix(contest(m, LM, rhs = 0.5, ddf = '{ddf}'))",
            f"out[['cmtrhs_{ddf}']] <- as.matrix(contest(m, LM, rhs = 0.5, joint = FALSE, "
            f"level = 0.9, ddf = '{ddf}'))",
            f"out[['tidy_{ddf}']] <- as.data.frame(broom.mixed::tidy(m, ddf.method = '{ddf}',"
            " conf.int = TRUE))"]
        for t in TYPES:
            code += [f"a <- anova(m, type = '{t}', ddf = '{ddf}')",
                     f"out[['anova_{t}_{ddf}']] <- as.matrix(a)",
                     f"out[['anovanames_{t}_{ddf}']] <- rownames(a)",
                     f"out[['anovatext_{t}_{ddf}']] <- capture.output(a)"]
    code.append("out[['theta']] <- getME(m, 'theta'); out")
    return r("suppressMessages(library(lmerTest)); local({" + "; ".join(code) + "})")


@pytest.fixture(scope="module", params=FITS, ids=[f"{c}-{'REML' if m else 'ML'}"
                                                  for c, m in FITS])
def case(request) -> dict:
    name, reml = request.param
    make, formula = CASES[name]
    data = make()
    send_df(data, "d")
    with warnings.catch_warnings():
        # the ChickWeight fits end with lme4's gradient message, as in R
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = rmodels.lmer(formula, data, REML=reml, data_name="d")
        drop_in = lmertest_lmer(formula, data, REML=reml, data_name="d")
    res = r_results(name, formula, reml, fit.p)
    if name in AT_R_THETA:
        drop_in.set_theta(np.asarray(res["theta"]))
    return {"fit": fit, "drop_in": drop_in, "reml": reml, "name": name, "R": res}


def text_lines(case: dict, text: str | list) -> list:
    """Printed lines; for the fits compared at lme4's θ, lme4's gradient message left out (its
    value is that of the optimizer's own end point)."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    if case["name"] in AT_R_THETA:
        lines = [x for x in lines if not x.startswith("Model failed to converge with max|grad|")]
    return lines


def ddfs(case: dict) -> list:
    return ["Satterthwaite", "Kenward-Roger"] if case["reml"] else ["Satterthwaite"]


def close(mine: np.ndarray, theirs: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(mine, dtype=float), np.asarray(theirs, dtype=float),
                               rtol=RTOL, atol=1e-12)


def test_coefficient_t_tests(case):
    fit = case["fit"]
    for ddf in ddfs(case):
        tab = fit.summary(ddf=ddf).coefficients
        assert list(tab.columns) == ["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"]
        assert list(tab.index) == list(fit.columns)
        close(tab.to_numpy(), case["R"][f"coef_{ddf}"])


@pytest.mark.parametrize("type_", TYPES)
def test_anova_types(case, type_):
    fit = case["fit"]
    for ddf in ddfs(case):
        tab = fit.anova(type=type_, ddf=ddf)
        assert list(tab.columns) == ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]
        assert list(tab.index) == case["R"][f"anovanames_{type_}_{ddf}"]
        close(tab.to_numpy(), case["R"][f"anova_{type_}_{ddf}"])


def test_anova_printed(case):
    fit = case["drop_in"]
    for ddf in ddfs(case):
        for t in TYPES:
            assert str(fit.anova(type=t, ddf=ddf)).splitlines() == \
                case["R"][f"anovatext_{t}_{ddf}"]


def test_summary_printed(case):
    fit = case["drop_in"]
    for ddf in ddfs(case):
        assert text_lines(case, str(fit.summary(ddf=ddf))) == \
            text_lines(case, case["R"][f"sumtext_{ddf}"])


def test_contest_one_and_multi_row(case):
    fit = case["fit"]
    one, multi = contrasts_for(fit.p)
    for ddf in ddfs(case):
        c1 = fit.contest(one, ddf=ddf)
        assert list(c1.columns) == ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]
        close(c1.to_numpy(), case["R"][f"c1_{ddf}"])
        close(rmodels.contest(fit, multi, ddf=ddf).to_numpy(), case["R"][f"cm_{ddf}"])
        ct = fit.contest(multi, joint=False, ddf=ddf)
        assert list(ct.columns) == ["Estimate", "Std. Error", "df", "t value", "lower",
                                    "upper", "Pr(>|t|)"]
        close(ct.to_numpy(), case["R"][f"cmt_{ddf}"])


def test_contest_with_rhs(case):
    fit = case["fit"]
    _, multi = contrasts_for(fit.p)
    for ddf in ddfs(case):
        close(fit.contest(multi, rhs=0.5, ddf=ddf).to_numpy(), case["R"][f"cmrhs_{ddf}"])
        close(fit.contest(multi, rhs=0.5, joint=False, level=0.9, ddf=ddf).to_numpy(),
              case["R"][f"cmtrhs_{ddf}"])


def test_tidy_df_and_p_value(case):
    fit = case["fit"]
    for ddf in ddfs(case):
        mine = fit.tidy(ddf=ddf, conf_int=True)
        theirs = case["R"][f"tidy_{ddf}"]
        assert list(mine.columns) == list(theirs.columns)
        fixed = mine["effect"] == "fixed"
        for col in ("estimate", "std.error", "statistic", "df", "p.value", "conf.low",
                    "conf.high"):
            close(mine.loc[fixed, col].to_numpy(), theirs[col].to_numpy()[fixed.to_numpy()])
        assert mine.loc[~fixed, ["df", "p.value"]].isna().all().all()


def test_drop_in_defaults(case):
    """rmodels.lmerTest.lmer: lmerTest's defaults (Satterthwaite, type III)."""
    fit = case["drop_in"]
    assert text_lines(case, str(fit.summary())) == \
        text_lines(case, case["R"]["sumtext_Satterthwaite"])
    close(fit.anova().to_numpy(), case["R"]["anova_III_Satterthwaite"])
    assert str(fit.anova()).splitlines() == case["R"]["anovatext_III_Satterthwaite"]
    tidy = fit.tidy()
    assert "df" in tidy.columns and "p.value" in tidy.columns
    assert str(fit).splitlines()[0].endswith("['lmerModLmerTest']")


def test_kenward_roger_needs_reml(case):
    if case["reml"]:
        pytest.skip("REML fit")
    with pytest.raises(FitError, match="only available for REML model fits"):
        case["fit"].summary(ddf="Kenward-Roger")
    assert r("tryCatch(summary(lmerTest::lmer(Reaction ~ Days + (1 | Subject), "
             "lme4::sleepstudy, REML = FALSE), ddf = 'Kenward-Roger'), "
             "error = function(e) conditionMessage(e))") == \
        ["Kenward-Roger's method is only available for REML model fits"]


def sleep_extra() -> pd.DataFrame:
    """sleepstudy with a collinear column, two 2-level factors and some cells thinned."""
    d = r_dataset("sleepstudy", "lme4")
    d["Days2"] = 2 * d["Days"]
    d["grp"] = pd.Categorical(np.where(d["Subject"].cat.codes.to_numpy() < 9, "g1", "g2"))
    d["dd"] = pd.Categorical(np.where(d["Days"] < 5, "early", "late"))
    return d[~((d["grp"] == "g2") & (d["dd"] == "late") & (d["Days"] > 6))].reset_index(drop=True)


@pytest.fixture(scope="module")
def sleep_extra_data() -> pd.DataFrame:
    d = sleep_extra()
    send_df(d, "dx")
    return d


@pytest.mark.parametrize("formula", [
    "Reaction ~ Days + Days2 + (1 | Subject)",  # a column dropped: its term is an NA row
    "Reaction ~ 0 + Days + grp + (1 | Subject)",  # no intercept
    "Reaction ~ grp * dd + Days + (1 | Subject)",
    "Reaction ~ log(Days + 1) * grp + (1 | Subject)",  # transformed variable
    "Reaction ~ poly(Days, 2) + (1 | Subject)",  # matrix variable
])
def test_anova_types_other_designs(sleep_extra_data, formula):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rank-deficiency warning of the first formula
        fit = rmodels.lmer(formula, sleep_extra_data)
    for t in TYPES:
        theirs = r("suppressMessages(library(lmerTest)); m <- suppressWarnings(suppressMessages("
                   f"lmerTest::lmer({formula}, dx))); tryCatch({{a <- suppressMessages(anova(m, "
                   f"type = '{t}')); list(as.matrix(a), rownames(a))}}, error = function(e) "
                   "conditionMessage(e))")
        if isinstance(theirs[0], str):  # lmerTest fails (type 2b with a dropped column)
            with pytest.raises(FitError) as err:
                fit.anova(type=t)
            assert str(err.value) == theirs[0]
            continue
        mine = fit.anova(type=t)
        assert list(mine.index) == theirs[1]
        close(mine.to_numpy(), theirs[0])


def test_prior_weights_both_methods():
    """Prior weights: Satterthwaite through the weighted criterion; Kenward-Roger as pbkrtest
    (its Σ leaves the weights out, and so do we)."""
    d = r_dataset("sleepstudy", "lme4")
    d["w"] = np.random.default_rng(3).uniform(0.5, 2, len(d))
    send_df(d, "dw")
    fit = rmodels.lmer("Reaction ~ Days + (Days | Subject)", d, weights="w")
    for ddf in ("Satterthwaite", "Kenward-Roger"):
        theirs = r("suppressMessages(library(lmerTest)); m <- lmerTest::lmer(Reaction ~ Days + "
                   f"(Days | Subject), dw, weights = w); coef(summary(m, ddf = '{ddf}'))")
        close(fit.summary(ddf=ddf).coefficients.to_numpy(), theirs)


def test_anova_type_matching():
    """lmerTest's ``match.arg(type)``: a unique prefix ("mar", "2b" against "2"), numbers, and
    R's message listing its nine choices; "yates" is refused."""
    d = r_dataset("cake", "lme4")
    send_df(d, "dk")
    fit = rmodels.lmer("angle ~ recipe * temperature + (1 | recipe:replicate)", d)
    theirs = r("suppressMessages(library(lmerTest)); m <- lmerTest::lmer(angle ~ recipe * "
               "temperature + (1 | recipe:replicate), dk); list(capture.output(anova(m, type = "
               "'mar')), capture.output(anova(m, type = 2)), tryCatch(anova(m, type = 'IV'), "
               "error = function(e) conditionMessage(e)))")
    assert str(fit.anova(type="mar")).splitlines() == theirs[0]
    assert str(fit.anova(type=2)).splitlines() == theirs[1]
    assert str(fit.anova(type=2.0)).splitlines() == theirs[1]
    with pytest.raises(FitError) as err:
        fit.anova(type="IV")
    assert str(err.value) == theirs[2][0]
    with pytest.raises(FitError, match="yates"):
        fit.anova(type="yates")


def test_contest_rank_deficient():
    """A contrast matrix with dependent rows: pbkrtest tests its row space (our Kenward-Roger
    solve failed on the singular L Φ L'); with rhs ≠ 0 lmerTest warns, and when the rows reduce
    to one its Satterthwaite test takes the first rhs entry (contest1D)."""
    d = r_dataset("sleepstudy", "lme4")
    send_df(d, "ds")
    fit = rmodels.lmer("Reaction ~ Days + (Days | Subject)", d)
    L2 = np.array([[0.0, 1.0], [0.0, 2.0]])
    L3 = np.array([[1.0, 1.0], [2.0, 2.0], [1.0, 0.0]])
    for ddf in ("Kenward-Roger", "Satterthwaite"):
        theirs = r("suppressMessages(library(lmerTest)); m <- lmerTest::lmer(Reaction ~ Days + "
                   f"(Days | Subject), ds); L2 <- {r_matrix(L2)}; L3 <- {r_matrix(L3)}; "
                   f"list(as.matrix(contest(m, L2, ddf = '{ddf}')), as.matrix(contest(m, L3, "
                   f"ddf = '{ddf}')), as.matrix(suppressWarnings(contest(m, L2, rhs = c(3, 6), "
                   f"ddf = '{ddf}'))), tryCatch(contest(m, L2, rhs = c(3, 6), ddf = '{ddf}'), "
                   "warning = function(w) conditionMessage(w)))")
        close(fit.contest(L2, ddf=ddf).to_numpy(), theirs[0])
        close(fit.contest(L3, ddf=ddf).to_numpy(), theirs[1])
        with pytest.warns(RankDeficiencyWarning) as rec:
            close(fit.contest(L2, rhs=[3.0, 6.0], ddf=ddf).to_numpy(), theirs[2])
        assert str(rec[0].message) == theirs[3][0]
