"""Large tall lm fits whose QR factor the core defers (``LM.qr`` / full ``effects`` computed on
first use), against live R and against the factor written at fit time.

The designs are large enough (2 N p² > 1e8 flops) for the core's reconstruction path: sparse
ones (factor dummies, an interaction) and a dense one, unweighted and with weights (some zero)
and an offset. Checked: the fit-time results need no n × p factor (summary, vcov, confint,
predict with intervals, anova, tidy/glance, influence measures leave it deferred); influence
measures computed from the design (hᵢ = ‖xᵢ'R⁻¹‖²) and from a materialised factor equal R's;
the deferred factor and effects equal, bit for bit, those of ``_core.lm_wfit`` without
deferral.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df
from rmodels import _core
from rmodels.models.lm import LM, lm

pytestmark = pytest.mark.r

RTOL = 1e-8
N_SPARSE = 40_000
N_DENSE = 60_000
P_DENSE = 30


def _sparse_data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f1 = rng.integers(0, 25, n)
    f2 = rng.integers(0, 8, n)
    x1, x2 = rng.standard_normal((2, n))
    y = 1 + 0.5 * x1 - 0.2 * x2 + np.linspace(-1, 1, 25)[f1] + 0.3 * f2 * x1 \
        + rng.standard_normal(n)
    i = np.arange(n)
    w = 0.5 + (i % 4) / 2
    w[i % 97 == 5] = 0.0
    return pd.DataFrame({
        "y": y, "y2": y * 0.5 + rng.standard_normal(n), "x1": x1, "x2": x2,
        "f1": pd.Categorical.from_codes(f1, [f"a{k:02d}" for k in range(25)]),
        "f2": pd.Categorical.from_codes(f2, [f"b{k}" for k in range(8)]),
        "w": w, "off": (i % 5) / 10,
    })


def _dense_data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, P_DENSE))
    df = pd.DataFrame(z, columns=[f"z{j + 1}" for j in range(P_DENSE)])
    df["y"] = z @ np.linspace(-1, 1, P_DENSE) + rng.standard_normal(n)
    return df


SPARSE_F = "y ~ x1 + x2 + f1 + f2 + x1:f2"
DENSE_F = "y ~ " + " + ".join(f"z{j + 1}" for j in range(P_DENSE))

CASES = {
    "sparse": ("ds", SPARSE_F, None, None),
    "sparse_weighted": ("ds", SPARSE_F, "w", "off"),
    "dense": ("dd", DENSE_F, None, None),
}


@pytest.fixture(scope="module")
def data() -> dict:
    ds = _sparse_data(N_SPARSE, 1)
    dd = _dense_data(N_DENSE, 2)
    send_df(ds, "ds")
    send_df(dd, "dd")
    return {"ds": ds, "dd": dd}


def _r_args(w, off) -> str:
    return (f", weights = {w}" if w else "") + (f", offset = {off}" if off else "")


@pytest.fixture(scope="module")
def r_results(data) -> dict:
    out = {}
    for key, (dname, f, w, off) in CASES.items():
        pw = f", weights = nd${w}" if w else ""
        out[key] = r(f"""local({{
          m <- lm({f}, data = {dname}{_r_args(w, off)})
          s <- summary(m)
          nd <- {dname}[11:16, ]
          pr <- predict(m, nd, interval = "prediction", se.fit = TRUE{pw})
          po <- predict(m, interval = "confidence", se.fit = TRUE)
          list(coef = unname(coef(m)), se = unname(s$coefficients[, 2]), sigma = s$sigma,
               r2 = s$r.squared, fstat = unname(s$fstatistic),
               ci = unname(confint(m)), anova = unname(as.matrix(anova(m))[, 1:4]),
               pfit = unname(pr$fit), pse = unname(pr$se.fit),
               ofit = unname(po$fit), ose = unname(po$se.fit),
               hat = unname(hatvalues(m)), cooks = unname(cooks.distance(m)),
               rstd = unname(rstandard(m)), rstu = unname(rstudent(m)),
               sig = unname(influence(m, do.coef = FALSE)$sigma),
               effects = unname(m$effects), qr = unname(m$qr$qr), qraux = m$qr$qraux,
               reml = as.numeric(logLik(m, REML = TRUE)))
        }})""")
    return out


def _close(got, want, rtol: float = RTOL, what: str = "") -> None:
    got = np.asarray(got, dtype=float).ravel()
    want = np.asarray(want, dtype=float).ravel()
    assert got.shape == want.shape, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
    ok = np.isfinite(want)
    scale = np.max(np.abs(want[ok]))
    np.testing.assert_allclose(got[ok], want[ok], rtol=rtol, atol=rtol * 1e-2 * scale,
                               err_msg=what)


def _fit(data, key: str) -> LM:
    dname, f, w, off = CASES[key]
    return lm(f, data[dname], weights=w, offset=off)


def _deferred(m: LM) -> bool:
    return m.arrays.qr.is_deferred


@pytest.mark.parametrize("key", list(CASES))
def test_results_without_the_factor(key, data, r_results):
    m = _fit(data, key)
    want = r_results[key]
    assert m.arrays.qr.deferred is not None and _deferred(m)
    _close(m.coef(), want["coef"], what="coef")
    s = m.summary()
    str(s)
    _close(m.tidy()["std.error"], want["se"], what="se")
    _close(m.sigma(), want["sigma"], what="sigma")
    g = m.glance()
    _close(g["r.squared"], want["r2"], what="r2")
    _close(g[["statistic", "df", "df.residual"]].to_numpy(), want["fstat"], what="F")
    _close(m.confint().to_numpy(), want["ci"], what="confint")
    _close(m.anova().iloc[:, :4].to_numpy(), want["anova"], what="anova")
    nd = data[CASES[key][0]].iloc[10:16]
    w = CASES[key][2]
    pr = m.predict(nd, interval="prediction", se_fit=True,
                   weights=None if w is None else nd[w].to_numpy())
    _close(pr["fit"], want["pfit"][:, 0], what="predict fit")
    _close(pr["lwr"], want["pfit"][:, 1], what="predict lwr")
    _close(pr["se_fit"], want["pse"], what="se.fit")
    _close(float(m.logLik(REML=True)), want["reml"], what="REML logLik")
    po = m.predict(interval="confidence", se_fit=True)  # the fit's own rows
    _close(po[["fit", "lwr", "upr"]].to_numpy(), want["ofit"], what="own-rows fit")
    _close(po["se_fit"], want["ose"], what="own-rows se.fit")
    m.vcov()
    assert _deferred(m), "fit-time results must not materialise the factor"
    # influence measures from the design (h_i = ||x_i' R^-1||^2)
    _close(m.hatvalues(), want["hat"], what="hat")
    _close(m.cooks_distance(), want["cooks"], what="cooks")
    _close(m.rstandard(), want["rstd"], what="rstandard")
    _close(m.rstudent(), want["rstu"], rtol=1e-7, what="rstudent")
    _close(m.influence_sigma(), want["sig"], what="influence sigma")
    m.augment()
    assert _deferred(m), "influence measures must not materialise the factor"
    # the factor and the effects on request, as R's
    _close(m.effects, want["effects"], rtol=1e-10, what="effects")
    assert not _deferred(m)
    _close(m.qr, want["qr"], rtol=1e-10, what="qr")
    _close(m.qraux, want["qraux"], rtol=1e-10, what="qraux")


@pytest.mark.parametrize("key", list(CASES))
def test_hat_values_after_materialising(key, data, r_results):
    """Influence measures read the materialised factor once it exists; still R's values."""
    m = _fit(data, key)
    assert m.qr.shape == (len(r_results[key]["hat"]), len(m.coef_names))
    assert not _deferred(m)
    want = r_results[key]
    _close(m.hatvalues(), want["hat"], what="hat")
    _close(m.cooks_distance(), want["cooks"], what="cooks")


def _undeferred(m: LM, y: np.ndarray) -> dict:
    X = np.array(m.design.model_matrix_array(), dtype=np.float64, order="F", copy=True)
    ym = np.asfortranarray(y.reshape(len(y), -1), dtype=np.float64)
    return _core.lm_wfit(X, ym, m.arrays.weights, m.arrays.offset, m.tol, defer_factor=False)


@pytest.mark.parametrize("key", list(CASES) + ["mlm"])
def test_deferred_factor_is_bit_identical(key, data):
    if key == "mlm":
        m = lm("cbind(y, y2) ~ x1 + x2 + f1 + f2 + x1:f2", data["ds"], weights="w")
        y = np.asarray(m.design.y, dtype=float)
    else:
        m = _fit(data, key)
        y = np.asarray(m.design.y, dtype=float)
    assert m.arrays.qr.deferred is not None
    ref = _undeferred(m, y)
    assert ref["algorithm"] == "reconstructed"
    p = m.rank
    if m.arrays.qr.from_rows:
        # X'X summed from the design's rows (another summation order than the dense pass):
        # the same factor to rounding
        def same(a, b):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * np.max(np.abs(b)))
    else:
        same = np.testing.assert_array_equal
    same(m.arrays.qr.top, ref["qr"][:p])
    eff_ref = ref["effects"] if m.is_mlm else ref["effects"][:, 0]
    same(m.arrays.qr.effects_head(p), eff_ref[:p])
    assert _deferred(m)
    same(m.qr, ref["qr"])
    same(m.arrays.qr.effects, eff_ref)
    same(m.qraux, ref["qraux"])
    np.testing.assert_array_equal(m.pivot, ref["pivot"])


def test_small_fits_are_not_deferred(data):
    """Below the reconstruction path's size the factor is written at fit time, as before."""
    m = lm(SPARSE_F, data["ds"].iloc[:3000])
    assert m.arrays.qr.deferred is None and not m.arrays.qr.is_deferred
    assert m.qr.shape == (3000, len(m.coef_names))


def test_pickle_materialises(data):
    import pickle

    m = _fit(data, "sparse")
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.arrays.qr.deferred is None
    np.testing.assert_array_equal(m2.qr, m.qr)
    np.testing.assert_array_equal(m2.hatvalues(), m.hatvalues())


def test_concurrent_requests(data):
    """Threads asking for the factor and the hat values at once get one consistent factor."""
    from concurrent.futures import ThreadPoolExecutor

    m = _fit(data, "sparse")
    ref = _undeferred(m, np.asarray(m.design.y, dtype=float))
    h_ref = _core.qr_hat(ref["qr"], ref["qraux"], ref["rank"])
    with ThreadPoolExecutor(4) as ex:
        dq = m.arrays.qr.deferred
        jobs = [ex.submit(dq.qr if i % 2 else dq.hat) for i in range(8)]
        out = [j.result() for j in jobs]
    # a fit from the design's rows sums X'X in another order than the dense reference: the
    # threads must agree with each other exactly, and with the reference to rounding
    qr_ref = np.asarray(m.qr) if m.arrays.qr.from_rows else ref["qr"]
    for i, v in enumerate(out):
        if i % 2:
            np.testing.assert_array_equal(v, qr_ref)
        else:
            np.testing.assert_allclose(v, h_ref, rtol=1e-10)
    np.testing.assert_allclose(m.qr, ref["qr"], rtol=1e-10, atol=1e-12)
