"""`make demo`: an R-session-like tour of rmodels on the bundled ``listings`` data.

Run with ``python -m rmodels.demo``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import rmodels as rm
from rmodels.datasets import load


def _section(title: str) -> None:
    print()
    print("=" * 78)
    print(title)
    print("=" * 78)


def tour_model_matrix(df: pd.DataFrame) -> None:
    _section('model_matrix("price ~ stars + borough + stars:room_type", listings)')
    mm = rm.model_matrix("price ~ stars + borough + stars:room_type", df)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(mm.head(6))
    print("assign:", mm.attrs["assign"])
    print("contrasts:", mm.attrs["contrasts"])
    print(f"rows kept: {len(mm)} of {len(df)} (rows with a missing star rating are dropped)")
    _section('model_matrix("~ poly(reviews, 2) + C(borough, contr.sum)", listings) — column names')
    mm2 = rm.model_matrix("~ poly(reviews, 2) + C(borough, contr.sum)", df)
    print(list(mm2.columns))


def tour_lm(df: pd.DataFrame) -> None:
    _section('fit <- lm(price ~ stars + borough, listings); summary(fit)')
    fit = rm.lm("price ~ stars + borough", df, data_name="listings")
    print(rm.summary(fit))
    _section("tidy(fit, conf_int=True)")
    print(_wide(rm.tidy(fit, conf_int=True)))
    _section("glance(fit)")
    print(_wide(rm.glance(fit)))
    _section("anova(fit0, fit): does room_type add to stars + borough?")
    fit1 = rm.lm("price ~ stars + borough + room_type", df, data_name="listings")
    print(rm.anova(fit, fit1))
    _section('predict(fit1, newdata, interval="prediction")')
    new = pd.DataFrame({"stars": [3.5, 4.5, 5.0], "borough": ["Bronx", "Manhattan", "Queens"],
                        "room_type": ["Private room", "Entire home/apt", "Shared room"]})
    print(_wide(pd.concat([new, rm.predict(fit1, new, interval="prediction")], axis=1)))
    _section('df.assign(resid=residuals(fit), fitted=fitted(fit))  # aligned on the data\'s index;'
             ' na_action="exclude" pads the dropped rows with NaN')
    fit_x = rm.lm("price ~ stars + borough", df, na_action="exclude")
    shown = df.index[:3].append(df.index[df["stars"].isna()][:2])
    print(_wide(df[["price", "stars", "borough"]].assign(
        resid=rm.residuals(fit_x), fitted=rm.fitted(fit_x)).loc[shown]))
    _section('one fit per borough, one compiled call: lm(price ~ stars + room_type, by="borough")')
    fits = rm.lm("price ~ stars + room_type", df, by="borough")
    print(_wide(fits.tidy().head(8)))


def tour_glm(df: pd.DataFrame) -> None:
    _section('logit <- glm(booked ~ stars + price + room_type, binomial, listings)')
    fit = rm.glm("booked ~ stars + price + room_type", df, family="binomial",
                 data_name="listings")
    print(rm.summary(fit))
    _section("tidy(logit, exponentiate=True, conf_int=True)  # odds ratios, profile intervals")
    print(_wide(rm.tidy(fit, exponentiate=True, conf_int=True)))
    _section('fitted probabilities: predict(logit, newdata, type="response")')
    new = pd.DataFrame({"stars": [3.0, 4.0, 5.0], "price": [150.0, 100.0, 80.0],
                        "room_type": ["Entire home/apt", "Private room", "Private room"]})
    print(_wide(new.assign(prob=rm.predict(fit, new, type="response"))))
    _section("Poisson: glm(reviews ~ stars + borough, poisson, listings)")
    pois = rm.glm("reviews ~ stars + borough", df, family=rm.poisson(), data_name="listings")
    print(pois)
    print(rm.anova(pois, test="Chisq"))


def tour_lmer(df: pd.DataFrame) -> None:
    _section("mixed <- lmer(price ~ stars + room_type + (1 + stars | neighborhood), listings)")
    fit = rm.lmer("price ~ stars + room_type + (1 + stars | neighborhood)", df,
                  data_name="listings")
    print(rm.summary(fit))
    _section("tidy(mixed)  # broom.mixed's names")
    print(_wide(rm.tidy(fit)))
    _section("ranef(mixed)$neighborhood (first rows)")
    print(_wide(rm.ranef(fit)["neighborhood"].head()))
    _section("confint(mixed)  # lme4's default: profile likelihood")
    print(_wide(rm.confint(fit)))


def tour_lmertest(df: pd.DataFrame) -> None:
    from .lmerTest import lmer as lmer_test

    _section("library(lmerTest); mixed <- lmer(price ~ stars * room_type + "
             "(1 | neighborhood), listings)")
    fit = lmer_test("price ~ stars * room_type + (1 | neighborhood)", df, data_name="listings")
    print(rm.summary(fit))
    _section("anova(mixed)  # type III, Satterthwaite's denominator df")
    print(rm.anova(fit))
    _section('anova(mixed, type="I", ddf="Kenward-Roger")')
    print(rm.anova(fit, type="I", ddf="Kenward-Roger"))
    _section("contest(mixed, L)  # one F test of the room_type effects at stars = 0")
    L = [[1.0 if c == name else 0.0 for c in fit.columns]
         for name in fit.columns if name.startswith("room_type") and ":" not in name]
    print(_wide(rm.contest(fit, L)))
    _section("tidy(mixed, effects='fixed')  # broom.mixed's df and p.value")
    print(_wide(rm.tidy(fit, effects="fixed")))


def tour_glmer(df: pd.DataFrame) -> None:
    _section("mixed logit <- glmer(booked ~ stars + room_type + (1 | neighborhood), binomial, "
             "listings)")
    fit = rm.glmer("booked ~ stars + room_type + (1 | neighborhood)", df, family="binomial",
                   data_name="listings")
    print(rm.summary(fit))
    _section("odds ratios: exp(fixef(mixed logit)) with Wald 95% intervals")
    ci = fit.confint(method="Wald").loc[fit.columns]
    odds = pd.DataFrame({"odds ratio": np.exp(fit.beta), "2.5 %": np.exp(ci.iloc[:, 0]),
                         "97.5 %": np.exp(ci.iloc[:, 1])}, index=fit.columns)
    print(_wide(odds))


def _wide(df: pd.DataFrame) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        return str(df)


def main() -> None:
    df = load("listings")
    print("listings: a synthetic data set shipped with rmodels")
    print(df.head())
    tour_model_matrix(df)
    tour_lm(df)
    tour_glm(df)
    tour_lmer(df)
    tour_lmertest(df)
    tour_glmer(df)


if __name__ == "__main__":
    main()
