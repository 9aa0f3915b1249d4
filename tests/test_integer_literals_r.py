"""Integer constants (``2L``) as R shows them: model-frame names, printed calls, the anova
heading and lme4's Formula line keep the ``L`` (R's deparse), term labels drop it."""

from __future__ import annotations

import pandas as pd
import pytest
import rmodels as rm
from rbridge import r, r_dataset, send_df

pytestmark = pytest.mark.r

D = pd.DataFrame({"y": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], "x": [2.0, 4, 3, 5, 1, 7]})


def _r_text(code: str) -> str:
    return r(f"paste(capture.output({code}), collapse = '\\n')")[0]


@pytest.fixture(scope="module")
def rd():
    send_df(D, "dint")
    return D


def test_lm_print_anova_and_frame(rd):
    m = rm.lm("I(2L*y) ~ I(3L*x)", rd, data_name="dint")
    assert str(m).strip("\n") == _r_text("print(lm(I(2L*y) ~ I(3L*x), dint))").strip("\n")
    assert str(m.anova()).strip("\n") == _r_text(
        "print(anova(lm(I(2L*y) ~ I(3L*x), dint)))").strip("\n")
    names = list(r("names(model.frame(I(2L*y) ~ I(3L*x), dint))"))
    assert list(rm.model_frame("I(2L*y) ~ I(3L*x)", rd).columns) == names
    cols = list(r("colnames(model.matrix(I(2L*y) ~ I(3L*x), dint))"))
    assert list(rm.model_matrix("I(2L*y) ~ I(3L*x)", rd).columns) == cols


def test_glm_print(rd):
    m = rm.glm("I(2L*y) ~ I(3L*x)", rd, family="poisson", data_name="dint")
    assert str(m).strip("\n") == _r_text(
        "print(glm(I(2L*y) ~ I(3L*x), poisson, dint))").strip("\n")


def test_lmer_formula_line():
    d = r_dataset("sleepstudy", "lme4")
    m = rm.lmer("Reaction ~ I(2L*Days) + (1|Subject)", d, data_name="sleepstudy")
    text = _r_text("print(lme4::lmer(Reaction ~ I(2L*Days) + (1|Subject), lme4::sleepstudy))")
    ours = [ln for ln in str(m).splitlines() if ln.startswith("Formula:")]
    assert ours == [ln for ln in text.splitlines() if ln.startswith("Formula:")]
