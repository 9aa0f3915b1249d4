"""The test bridge itself: send_df round trips, empty frames included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rbridge import r, send_df

pytestmark = pytest.mark.r


def test_send_df_keeps_types_and_bits():
    df = pd.DataFrame({"x": [0.1, np.nan, 1e300], "s": ["a", None, "c d"],
                       "f": pd.Categorical(["b", None, "a"], categories=["b", "a"]),
                       "lg": [True, False, True]})
    send_df(df, "bridge_df")
    assert list(r("sapply(bridge_df, class)")) == ["numeric", "character", "factor", "logical"]
    assert list(r("levels(bridge_df$f)")) == ["b", "a"]
    assert list(r("is.na(bridge_df$x)")) == [False, True, False]
    assert float(r("bridge_df$x[3]")[0]) == 1e300
    assert list(r("is.na(bridge_df$s)")) == [False, True, False]


def test_send_df_empty_frames():
    df = pd.DataFrame({"x": np.array([], float), "s": pd.Series([], dtype=object),
                       "f": pd.Categorical([], categories=["a", "b"]),
                       "lg": pd.Series([], dtype=bool)})
    send_df(df, "bridge_e0")
    assert r("paste(nrow(bridge_e0), ncol(bridge_e0))")[0] == "0 4"
    assert list(r("sapply(bridge_e0, class)")) == ["numeric", "character", "factor", "logical"]
    send_df(pd.DataFrame(index=range(3)), "bridge_e1")
    assert r("paste(nrow(bridge_e1), ncol(bridge_e1))")[0] == "3 0"
