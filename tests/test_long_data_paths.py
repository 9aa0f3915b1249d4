"""The long-data paths of the design and of the grouped fits' groups, without R, against plain
NumPy references: the missing-value test by a sum (inf - inf, R's NA pattern, a NaN in the last
row), unused factor levels counted by blocks (a level first seen late, missing codes), the rows
kept with and without a missing value, and the groups of rows already in order counted by binary
search (pandas' int8 and int16 codes, empty groups, missing ``by`` values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rmodels.batch.groups import split_groups
from rmodels.design import build_design
from rmodels.errors import DataError
from rmodels.frame import Factor, variable_has_na
from rmodels.frame.values import LONG, holds_nan

N = 3 * LONG + 17


def r_na() -> float:
    """R's NA_real_: a NaN with the payload 1954 (signalling on some platforms)."""
    return float(np.array([0x7FF00000000007A2], dtype=np.uint64).view(np.float64)[0])


@pytest.mark.parametrize("n", [10, N])
def test_holds_nan_matches_isnan(n):
    x = np.random.default_rng(1).standard_normal(n)
    assert not holds_nan(x)
    x[0], x[1] = np.inf, -np.inf  # a NaN sum without a NaN element
    assert not holds_nan(x)
    x[-1] = r_na()
    assert holds_nan(x)
    x[-1] = np.nan
    assert holds_nan(x)
    x[:] = 1e308  # the sum overflows, no NaN
    assert not holds_nan(x)


def test_variable_has_na_of_factors_and_matrices():
    codes = np.zeros(N, dtype=np.int32)
    assert not variable_has_na(Factor(codes, ["a"]))
    codes[-1] = -1
    assert variable_has_na(Factor(codes, ["a"]))
    assert not variable_has_na(Factor(np.zeros(0, dtype=np.int32), ["a"]))


@pytest.mark.parametrize("late", [5, LONG + 3, N - 1])
def test_unused_levels_counted_by_blocks(late):
    codes = np.random.default_rng(2).integers(-1, 2, N).astype(np.int32)
    codes[late] = 3  # level "d" only here; level "c" never
    f = Factor(codes, ["a", "b", "c", "d"])
    ref = np.bincount(codes[codes >= 0], minlength=4) > 0
    assert f.used_levels().tolist() == ref.tolist()
    dropped = f.drop_unused()
    assert dropped.levels == ["a", "b", "d"]
    remap = np.array([0, 1, -1, 2])
    assert np.array_equal(dropped.codes, np.where(codes >= 0, remap[codes], -1))


def test_kept_rows_with_and_without_missing_values():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.standard_normal(N), "x": rng.standard_normal(N),
                       "k": rng.integers(0, 5, N)})
    d = build_design("y ~ x + k", df)
    assert np.array_equal(d.kept, np.arange(N)) and len(d.na_dropped) == 0
    df.loc[N - 1, "x"] = np.nan
    df.loc[7, "y"] = r_na()
    d = build_design("y ~ x + k", df)
    assert d.na_dropped.tolist() == [7, N - 1]
    assert np.array_equal(d.kept, np.setdiff1d(np.arange(N), [7, N - 1]))
    assert np.array_equal(d.X[:, 1], np.delete(df["x"].to_numpy(), [7, N - 1]))
    with pytest.raises(DataError, match="missing values in object"):
        build_design("y ~ x + k", df, na_action="fail")
    sub = np.arange(N) < N - 1  # the subset leaves the row with a missing x out
    d = build_design("y ~ x + k", df, subset=sub)
    assert d.na_dropped.tolist() == [7]


def groups_reference(codes: np.ndarray, n_levels: int, drop: bool) -> tuple:
    """(order, bounds) by a stable argsort and bincount of the non-missing codes."""
    rows = np.flatnonzero(codes >= 0)
    key = codes[rows].astype(np.int64)
    order = rows[np.argsort(key, kind="stable")]
    counts = np.bincount(key, minlength=n_levels)
    if drop:
        counts = counts[counts > 0]
    return order, np.concatenate([[0], np.cumsum(counts)])


@pytest.mark.parametrize("n_levels", [128, 300])  # pandas' int8 and int16 codes
@pytest.mark.parametrize("drop", [False, True])
@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("missing", [False, True])
def test_split_groups_matches_sort_and_count(n_levels, drop, shuffled, missing):
    rng = np.random.default_rng(n_levels)
    codes = np.sort(rng.integers(0, n_levels, N))
    codes = codes[(codes != 5) & (codes != n_levels - 2)]  # empty groups, the last one used
    codes[-1] = n_levels - 1
    if shuffled:
        codes = rng.permutation(codes)
    if missing:
        codes[::97] = -1
    cat = pd.Categorical.from_codes(codes, [f"g{k:04d}" for k in range(n_levels)])
    g = split_groups(pd.DataFrame({"g": cat}), ["g"], drop)
    order, bounds = groups_reference(codes, n_levels, drop)
    assert np.array_equal(g.order, order)
    assert np.array_equal(g.bounds, bounds)
    assert len(g) == (len(np.unique(codes[codes >= 0])) if drop else n_levels)
