"""`make demo`: an R-session-like tour of rmodels on the bundled ``listings`` data.

Run with ``python -m rmodels.demo``.
"""

from __future__ import annotations

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


def main() -> None:
    df = load("listings")
    print("listings: a synthetic data set shipped with rmodels")
    print(df.head())
    tour_model_matrix(df)
    for name in ("tour_lm", "tour_glm", "tour_lmer"):
        fn = globals().get(name)
        if fn is not None:
            fn(df)


if __name__ == "__main__":
    main()
