"""plot(fit): the panels' data against what R draws. R's plot.lm is run on a null device with
the display list on; its recorded calls (plot window, points and lines, labels) are the
reference: lowess lines, qqnorm positions, qqline, Cook's contours, the labelled rows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import rbridge  # noqa: E402
import rmodels as rm  # noqa: E402
from rmodels.datasets import load  # noqa: E402
from rmodels.errors import DataError  # noqa: E402
from rmodels.plots import plot  # noqa: E402
from rmodels.plots.caterpillar import as_frame, ranef_dots  # noqa: E402
from rmodels.plots.lowess import lowess  # noqa: E402
from rmodels.plots.pretty import pretty  # noqa: E402

pytestmark = pytest.mark.r

R_RECORD = """
.rm_record <- function(fit, k) {
  pdf(NULL); dev.control("enable")
  plot(fit, which = k)
  dl <- recordPlot()[[1]]
  dev.off()
  out <- list()
  for (e in dl) {
    f <- e[[2]][[1]]
    nm <- if (is.list(f)) f$name else ""
    a <- e[[2]]
    add <- switch(nm,
      C_plot_window = list(kind = "window", xlim = a[[2]], ylim = a[[3]]),
      C_plotXY = list(kind = a[[3]], x = a[[2]]$x, y = a[[2]]$y),
      C_text = list(kind = "text", x = a[[2]]$x, y = a[[2]]$y, labels = a[[3]]),
      C_abline = list(kind = "abline", a = a[[2]], b = a[[3]]),
      NULL)
    if (!is.null(add)) out[[length(out) + 1]] <- add
  }
  out
}
"""


def record(fit_code: str, k: int) -> list:
    rbridge.r_raw(R_RECORD)
    items = rbridge.r(f"local({{ fit <- {fit_code}; .rm_record(fit, {k}) }})")
    for it in items:
        it["kind"] = it["kind"][0] if isinstance(it["kind"], list) else it["kind"]
    return items


def of_kind(items: list, kind: str) -> list:
    return [it for it in items if it["kind"] == kind]


def gid_lines(ax, gid: str) -> list:
    return [ln for ln in ax.lines if ln.get_gid() == gid]


def labels_of(ax) -> tuple:
    texts = [t for t in ax.texts if t.get_gid() == "id"]
    return [t.get_text() for t in texts], np.array([t.xy for t in texts], dtype=float)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = load("listings").iloc[:400].copy()
    d.index = [f"r{i}" for i in range(len(d))]
    d.loc[d.index[[5, 17]], "stars"] = np.nan
    d["w"] = d["reviews"] + 0.5  # no zero weight: R mis-aligns h and w when both occur
    rbridge.send_df(d.assign(lab=d.index), "pd")
    rbridge.r_raw("rownames(pd) <- pd$lab; pd$lab <- NULL")
    return d


def check_window(ax, items: list) -> None:
    win = of_kind(items, "window")[0]
    xl = np.array(win["xlim"])
    yl = np.array(win["ylim"])
    dx, dy = 0.04 * (xl[1] - xl[0]), 0.04 * (yl[1] - yl[0])
    np.testing.assert_allclose(ax.get_xlim(), [xl[0] - dx, xl[1] + dx], rtol=1e-12)
    np.testing.assert_allclose(ax.get_ylim(), [yl[0] - dy, yl[1] + dy], rtol=1e-12)


def check_labels(ax, items: list, y_exact: bool = True) -> None:
    text = of_kind(items, "text")[-1]
    labs, xy = labels_of(ax)
    assert labs == list(text["labels"])
    np.testing.assert_allclose(xy[:, 0], text["x"], rtol=1e-12)
    if y_exact:  # R lowers the labels of negative points by a third of a line
        pos = np.asarray(text["y"]) >= 0
        np.testing.assert_allclose(xy[pos, 1], np.asarray(text["y"])[pos], rtol=1e-12)


def drawn(x, y, by_position: bool = True) -> np.ndarray:
    """The points drawn (R leaves NA pairs out: with na.exclude its vectors carry them),
    in drawing order, or sorted when ``by_position`` is false (ties may be ranked either
    way when two values differ in the last bit)."""
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    xy = xy[~np.isnan(xy).any(axis=1)]
    return xy if by_position else xy[np.lexsort((xy[:, 1], xy[:, 0]))]


def check_xy(line, item: dict, rtol: float = 1e-12, by_position: bool = True) -> None:
    mine = drawn(*line.get_xydata().T, by_position=by_position)
    theirs = drawn(item["x"], item["y"], by_position=by_position)
    np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=1e-13)


LM_CALL = "lm(price ~ stars + borough, pd, weights = w, na.action = na.exclude)"
GLM_CALL = "glm(booked ~ stars + room_type, binomial, pd)"


@pytest.fixture(scope="module")
def lm_fit(data):
    return rm.lm("price ~ stars + borough", data, weights="w", na_action="exclude")


@pytest.fixture(scope="module")
def glm_fit(data):
    return rm.glm("booked ~ stars + room_type", data, family="binomial")


@pytest.mark.parametrize("kind", ["lm", "glm"])
def test_residuals_vs_fitted_and_scale_location(kind, lm_fit, glm_fit):
    fit, call = (lm_fit, LM_CALL) if kind == "lm" else (glm_fit, GLM_CALL)
    fig = plot(fit, which=[1, 3])
    for ax, k in zip(fig.axes, (1, 3)):
        items = record(call, k)
        xy = of_kind(items, "p")
        check_xy(gid_lines(ax, "points")[0], xy[0])
        check_xy(gid_lines(ax, "smooth")[0], of_kind(items, "l")[0], rtol=1e-10)
        check_window(ax, items)
        check_labels(ax, items)


@pytest.mark.parametrize("kind", ["lm", "glm"])
def test_normal_qq(kind, lm_fit, glm_fit):
    fit, call = (lm_fit, LM_CALL) if kind == "lm" else (glm_fit, GLM_CALL)
    ax = plot(fit, which=2).axes[0]
    items = record(call, 2)
    check_xy(gid_lines(ax, "points")[0], of_kind(items, "p")[0], by_position=False)
    ab = of_kind(items, "abline")[0]
    qx, qy = gid_lines(ax, "qqline")[0].get_xydata().T
    slope = (qy[1] - qy[0]) / (qx[1] - qx[0])
    np.testing.assert_allclose([qy[0] - slope * qx[0], slope], [ab["a"][0], ab["b"][0]],
                               rtol=1e-10)
    check_window(ax, items)
    check_labels(ax, items)


@pytest.mark.parametrize("kind", ["lm", "glm"])
def test_cooks_distance_and_leverage(kind, lm_fit, glm_fit):
    fit, call = (lm_fit, LM_CALL) if kind == "lm" else (glm_fit, GLM_CALL)
    fig = plot(fit, which=[4, 5])
    ax4, ax5 = fig.axes[:2]
    items4 = record(call, 4)
    segs = [c for c in ax4.collections if c.get_gid() == "points"][0].get_segments()
    h = of_kind(items4, "h")[0]
    np.testing.assert_allclose(drawn([s[1][0] for s in segs], [s[1][1] for s in segs]),
                               drawn(np.arange(1, len(h["y"]) + 1), h["y"]), rtol=1e-12)
    check_window(ax4, items4)
    check_labels(ax4, items4)
    items5 = record(call, 5)
    lines = of_kind(items5, "l")
    check_xy(gid_lines(ax5, "smooth")[0], lines[0], rtol=1e-10)
    contours = gid_lines(ax5, "cook 0.5") + gid_lines(ax5, "cook 1")
    assert len(contours) == 4
    for mine, theirs in zip(contours, lines[1:]):
        check_xy(mine, theirs, rtol=1e-10)
    check_window(ax5, items5)
    check_labels(ax5, items5)


def test_default_panels_and_which_errors(lm_fit):
    fig = plot(lm_fit)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["Residuals vs Fitted", "Normal Q-Q", "Scale-Location",
                      "Residuals vs Leverage"]
    with pytest.raises(DataError, match="1:6"):
        plot(lm_fit, which=7)


@pytest.mark.parametrize("n,it,seed", [(9, 3, 1), (60, 3, 2), (500, 3, 3), (120, 0, 4)])
def test_lowess_matches_r(n, it, seed):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), 1)  # ties
    y = np.cos(x) + rng.standard_t(2, size=n)
    rbridge.send_df(pd.DataFrame({"x": x, "y": y}), "lw")
    r_x = rbridge.r(f"lowess(lw$x, lw$y, iter = {it})$x")
    r_y = rbridge.r(f"lowess(lw$x, lw$y, iter = {it})$y")
    sm = lowess(x, y, iter=it)
    np.testing.assert_array_equal(sm.x, r_x)
    np.testing.assert_allclose(sm.y, r_y, rtol=1e-12, atol=1e-13)


def test_caterpillar_matches_lme4(data):
    fit = rm.lmer("price ~ stars + (stars | neighborhood)", data)
    frame = as_frame(ranef_dots(fit)[0])
    r = rbridge.r("""local({
      fit <- lme4::lmer(price ~ stars + (stars | neighborhood), pd)
      ss <- lme4:::asDf0(lme4::ranef(fit, condVar = TRUE), "neighborhood")
      ord <- order(ss$ind, as.integer(ss$.nn))
      list(level = as.character(ss$.nn[ord]), values = ss$values[ord], se = ss$se[ord])
    })""")
    assert frame["level"].tolist() == r["level"]
    np.testing.assert_allclose(frame["mode"], r["values"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(frame["se"], r["se"], rtol=1e-5)
    fig = plot(fit)
    assert [ax.get_title() for ax in fig.axes] == ["(Intercept)", "stars"]


def test_glmer_caterpillar_matches_lme4():
    cbpp = rbridge.r_dataset("cbpp", "lme4")
    fit = rm.glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp,
                   family="binomial")
    frame = as_frame(ranef_dots(fit)[0])
    r = rbridge.r("""local({
      fit <- lme4::glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp,
                         family = binomial)
      ss <- lme4:::asDf0(lme4::ranef(fit, condVar = TRUE), "herd")
      ord <- order(ss$ind, as.integer(ss$.nn))
      list(level = as.character(ss$.nn[ord]), values = ss$values[ord], se = ss$se[ord])
    })""")
    assert frame["level"].tolist() == r["level"]
    np.testing.assert_allclose(frame["mode"], r["values"], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(frame["se"], r["se"], rtol=1e-3)
    assert [ax.get_title() for ax in plot(fit).axes] == ["(Intercept)"]


def test_constant_leverage_panel():
    d = load("listings").iloc[:40].copy()
    d["g"] = ["a", "b", "c", "d"] * 10
    d["h"] = pd.Categorical((["u"] * 4 + ["v"] * 4) * 5, categories=["v", "u"])
    rbridge.send_df(d, "cl")
    ax = plot(rm.lm("price ~ g * h", d), which=5).axes[0]
    items = record("lm(price ~ g * h, cl)", 5)
    assert ax.get_title() == "Constant Leverage:\n Residuals vs Factor Levels"
    check_xy(gid_lines(ax, "points")[0], of_kind(items, "p")[0])
    check_xy(gid_lines(ax, "smooth")[0], of_kind(items, "l")[0], rtol=1e-10)
    check_window(ax, items)
    check_labels(ax, items)


def test_pretty_matches_r():
    rng = np.random.default_rng(11)
    cases = [rng.normal(size=int(rng.integers(1, 15))) * 10 ** rng.uniform(-5, 5)
             for _ in range(40)] + [np.array([0.0]), np.array([2.0, 2.0]), np.array([0.0, 1.0])]
    for x in cases:
        rbridge.send_df(pd.DataFrame({"x": x}), "px")
        for n in (5, 3):
            np.testing.assert_allclose(pretty(x, n), rbridge.r(f"pretty(px$x, {n})"),
                                       rtol=1e-13)


@pytest.mark.parametrize("kind", ["lm", "glm"])
def test_cooks_distance_vs_leverage(kind, lm_fit, glm_fit):
    fit, call = (lm_fit, LM_CALL) if kind == "lm" else (glm_fit, GLM_CALL)
    ax = plot(fit, which=6).axes[0]
    items = record(call, 6)
    check_xy(gid_lines(ax, "points")[0], of_kind(items, "p")[0])
    check_xy(gid_lines(ax, "smooth")[0], of_kind(items, "l")[0], rtol=1e-10)
    check_window(ax, items)
    check_labels(ax, items)
    # R's lines of constant Cook's distance: abline(0, b^2) or a segment at slope b^2 / p
    slopes_r = [it["b"][0] for it in of_kind(items, "abline")]
    slopes_r += [it["y"][1] / it["x"][1] for it in of_kind(items, "l")[1:]]
    mine = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("cook level")]
    slopes = [ln._slope if hasattr(ln, "_slope") and ln._slope is not None
              else ln.get_ydata()[1] / ln.get_xdata()[1] for ln in mine]
    np.testing.assert_allclose(sorted(slopes), sorted(slopes_r), rtol=1e-12)
