"""Data from polars and pyarrow (through narwhals) give the numbers the same data gives as a
pandas DataFrame; date and date-time columns are R's Date (days) and POSIXct (seconds), checked
against live R's model.matrix and lm."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import rmodels
from rbridge import r, send_df
from rmodels import errors

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def pdf() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    g = rng.choice(["b", "a", "c"], n)
    x = rng.normal(size=n)
    mu = np.exp(0.5 + 0.3 * x)
    cnt = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    s = np.repeat(np.arange(6), 10)
    return pd.DataFrame({
        "y": 1.0 + 2.0 * x + (g == "a") * 0.5 + rng.normal(size=6)[s] + rng.normal(size=n),
        "x": x,
        "k": rng.integers(0, 5, n),          # integer column
        "g": g,                              # strings → character (sorted levels)
        "f": pd.Categorical(rng.choice(["lo", "mid", "hi"], n),
                            categories=["lo", "mid", "hi"]),  # level order kept
        "flag": rng.random(n) < 0.4,        # logical
        "cnt": cnt,
        "s": s.astype(str),
    })


def _as_polars(df: pd.DataFrame):
    out = pl.from_pandas(df)
    # a polars Enum is the way to give levels an order (replaces "f" where it stands)
    return out.with_columns(pl.Series("f", df["f"].astype(str), dtype=pl.Enum(["lo", "mid",
                                                                                   "hi"])))


def _as_arrow(df: pd.DataFrame):
    return pa.Table.from_pandas(df, preserve_index=False)


@pytest.fixture(scope="module", params=["polars", "arrow"])
def other(request, pdf):
    return _as_polars(pdf) if request.param == "polars" else _as_arrow(pdf)


FORMULAS = ["y ~ x + g", "y ~ x * f + flag", "y ~ poly(x, 2) + k + g:flag", "log(cnt + 1) ~ ."]


@pytest.mark.parametrize("formula", FORMULAS)
def test_model_matrix_equal(pdf, other, formula):
    want = rmodels.model_matrix(formula, pdf)
    got = rmodels.model_matrix(formula, other)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs


def test_lm_glm_lmer_equal(pdf, other):
    a, b = rmodels.lm("y ~ x * f + g", pdf), rmodels.lm("y ~ x * f + g", other)
    assert str(a.summary()) == str(b.summary())
    pd.testing.assert_series_equal(a.residuals(), b.residuals())
    a = rmodels.glm("cnt ~ x + g", pdf, family="poisson")
    b = rmodels.glm("cnt ~ x + g", other, family="poisson(link = log)")
    pd.testing.assert_series_equal(a.coef(), b.coef())
    assert str(a.summary()) == str(b.summary()).replace("poisson(link = log)", "poisson")
    a = rmodels.glm_nb("cnt ~ x", pdf)
    b = rmodels.glm_nb("cnt ~ x", other)
    pd.testing.assert_series_equal(a.coef(), b.coef())
    a, b = rmodels.lmer("y ~ x + (1 | s)", pdf), rmodels.lmer("y ~ x + (1 | s)", other)
    assert str(a.summary()) == str(b.summary())


def test_grouped_and_weights_equal(pdf, other):
    a = rmodels.lm("y ~ x", pdf, by="g", weights="cnt")
    b = rmodels.lm("y ~ x", other, by="g", weights="cnt")
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    a = rmodels.glm("flag ~ x", pdf, family="binomial", by="f")
    b = rmodels.glm("flag ~ x", other, family="binomial", by="f")
    pd.testing.assert_frame_equal(a.glance(), b.glance())


def test_fits_keep_a_pandas_frame(pdf, other):
    """A fit on polars/Arrow data keeps the pandas frame it was fitted on, so what reads the
    data again (sandwich's cluster columns, update, compare_with_r) sees pandas."""
    a = rmodels.lm("y ~ x", pdf)
    b = rmodels.lm("y ~ x", other)
    assert isinstance(b.data, pd.DataFrame)
    pd.testing.assert_frame_equal(rmodels.vcovCL(a, cluster="g"),
                                  rmodels.vcovCL(b, cluster="g"))


def test_predict_and_augment_newdata(pdf, other):
    fit = rmodels.lm("y ~ x + g", pdf)
    new_pd = pdf.iloc[:7].reset_index(drop=True)
    new_other = other.slice(0, 7)
    pd.testing.assert_series_equal(fit.predict(new_other), fit.predict(new_pd))
    pd.testing.assert_frame_equal(fit.augment(new_other).drop(columns=["f"]),
                                  fit.augment(new_pd).drop(columns=["f"]))
    g = rmodels.glm("cnt ~ x", pdf, family="poisson")
    pd.testing.assert_series_equal(g.predict(new_other, type="response"),
                                   g.predict(new_pd, type="response"))
    m = rmodels.lmer("y ~ x + (1 | s)", pdf)
    pd.testing.assert_series_equal(m.predict(new_other), m.predict(new_pd))


def test_missing_values_equal():
    pdf = pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0, 5.0, 3.0],
                        "x": [1.0, 3.0, 2.0, np.nan, 5.0, 4.0],
                        "g": ["a", None, "b", "a", "b", "b"],
                        "k": pd.array([1, 2, 3, 4, None, 6], dtype="Int64")})
    p = pl.DataFrame({"y": [1.0, 2.0, None, 4.0, 5.0, 3.0], "x": [1.0, 3.0, 2.0, None, 5.0, 4.0],
                      "g": ["a", None, "b", "a", "b", "b"], "k": [1, 2, 3, 4, None, 6]})
    want = rmodels.model_matrix("y ~ x + g + k", pdf)
    pd.testing.assert_frame_equal(rmodels.model_matrix("y ~ x + g + k", p), want)
    pd.testing.assert_frame_equal(rmodels.model_matrix("y ~ x + g + k", p.to_arrow()), want)


def test_polars_categorical_is_character():
    # polars' Categorical orders its categories as first seen: read as strings (R's sorted
    # levels); an Enum keeps its order, unordered (treatment contrasts)
    p = pl.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "c": ["z", "a", "m", "a"],
                      "e": ["z", "a", "m", "a"]},
                     schema_overrides={"c": pl.Categorical, "e": pl.Enum(["z", "m", "a"])})
    assert list(rmodels.model_matrix("y ~ c", p).columns) == ["(Intercept)", "cm", "cz"]
    assert list(rmodels.model_matrix("y ~ e", p).columns) == ["(Intercept)", "em", "ea"]


def test_not_a_frame():
    with pytest.raises(errors.DataError, match="'data' must be a pandas or polars"):
        rmodels.lm("y ~ x", {"y": [1, 2], "x": [3, 4]})
    fit = rmodels.lm("y ~ x", pd.DataFrame({"y": [1.0, 2.0, 4.0], "x": [3.0, 4.0, 6.0]}))
    with pytest.raises(errors.DataError, match="'newdata' must be"):
        fit.predict([[1.0]])


def test_pandas_frame_is_not_copied(pdf):
    from rmodels.frame import as_data_frame

    assert as_data_frame(pdf) is pdf


# --------------------------------------------------------------------------------------------
# Dates and date-times as R's Date and POSIXct


DAYS = [dt.date(2020, 1, 1), dt.date(2020, 3, 5), dt.date(1969, 12, 31), dt.date(2021, 7, 4),
        dt.date(2000, 2, 29), dt.date(1955, 6, 1), dt.date(2010, 10, 10)]
TIMES = [dt.datetime(2020, 1, 1, 12), dt.datetime(2020, 3, 5, 0, 0, 1),
         dt.datetime(1960, 1, 1), dt.datetime(2021, 7, 4, 23, 59, 59, 500000),
         dt.datetime(2000, 2, 29, 6, 30), dt.datetime(1999, 12, 31, 23, 59, 59),
         dt.datetime(2024, 2, 29, 1, 2, 3, 250000)]
Y = [1.0, 3.0, 2.0, 5.0, 4.0, 2.5, 3.5]
FORMULA = "y ~ d + t + d:t + log(as.numeric(d) + 20000) + scale(t)"


@pytest.fixture(scope="module")
def r_dates():
    days = [(d - dt.date(1970, 1, 1)).days for d in DAYS]
    secs = [(t - dt.datetime(1970, 1, 1)).total_seconds() for t in TIMES]
    send_df(pd.DataFrame({"y": Y, "dn": np.array(days, float), "tn": secs}), "dd")
    r('dd$d <- as.Date(dd$dn, origin = "1970-01-01"); '
      'dd$t <- as.POSIXct(dd$tn, origin = "1970-01-01", tz = "UTC")')
    assert r('class(dd$d)')[0] == "Date" and r('class(dd$t)')[0] == "POSIXct"
    return {"mm": r(f"unname(model.matrix({FORMULA}, dd))"),
            "names": r(f"colnames(model.matrix({FORMULA}, dd))"),
            "coef": r("coef(lm(y ~ d + t, dd))")}


def _date_frames():
    pdf = pd.DataFrame({"y": Y, "d": DAYS, "t": pd.to_datetime(TIMES)})
    pdf_tz = pdf.assign(t=pdf["t"].dt.tz_localize("UTC").dt.tz_convert("America/New_York"))
    p = pl.DataFrame({"y": Y, "d": DAYS, "t": TIMES})
    a = pa.table({"y": Y, "d": pa.array(DAYS, pa.date32()),
                  "t": pa.array(TIMES, pa.timestamp("us", tz="UTC"))})
    a64 = pa.table({"y": Y, "d": pa.array(DAYS, pa.date64()),
                    "t": pa.array(TIMES, pa.timestamp("ns"))})
    arrow_pd = a.to_pandas(types_mapper=pd.ArrowDtype)
    return {"pandas": pdf, "pandas-tz": pdf_tz, "polars": p, "arrow": a, "arrow64": a64,
            "pandas-arrow-dtypes": arrow_pd}


@pytest.mark.r
@pytest.mark.parametrize("kind", list(_date_frames()))
def test_dates_as_r(r_dates, kind):
    data = _date_frames()[kind]
    mm = rmodels.model_matrix(FORMULA, data)
    assert list(mm.columns) == r_dates["names"]
    np.testing.assert_allclose(mm.to_numpy(), r_dates["mm"], rtol=1e-14)
    fit = rmodels.lm("y ~ d + t", data)
    np.testing.assert_allclose(fit.coef().to_numpy(), r_dates["coef"], rtol=1e-8)


def test_date_missing_values():
    p = pl.DataFrame({"y": [1.0, 2.0, 3.0, 4.0],
                      "d": [dt.date(2020, 1, 1), None, dt.date(2020, 1, 3), dt.date(2020, 1, 6)]})
    mm = rmodels.model_matrix("y ~ d", p)
    assert list(mm.index) == [1, 3, 4]  # R's row names of the rows kept
    np.testing.assert_array_equal(mm["d"].to_numpy(), [18262.0, 18264.0, 18267.0])


def test_time_differences_refused():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "dt": pd.to_timedelta([1, 2, 4], unit="D")})
    with pytest.raises(errors.DataError, match="time differences"):
        rmodels.lm("y ~ dt", df)
