"""The compiled design kernel ``_core.fill_term`` against a plain NumPy reference."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rmodels import _core


def reference_term(n: int, components: list) -> np.ndarray:
    """R's interaction columns in NumPy: products of the components' columns, first component
    fastest, multiplied left to right; a missing factor code (-1) gives NaN."""
    blocks = []
    for comp in components:
        if comp[0] == "num":
            M = np.asarray(comp[1], dtype=float)
            M = M[:, None] if M.ndim == 1 else M
        else:
            codes, C = comp[1], comp[2]
            M = np.where((codes < 0)[:, None], np.nan, C[np.maximum(codes, 0)])
        blocks.append(M)
    if not blocks:
        return np.ones((n, 1))
    if n == 0:
        return np.zeros((0, int(np.prod([b.shape[1] for b in blocks]))))
    widths = [b.shape[1] for b in blocks]
    cols = []
    for idx in itertools.product(*[range(w) for w in reversed(widths)]):
        idx = idx[::-1]  # first component varies fastest
        v = blocks[0][:, idx[0]].copy()
        for b, j in zip(blocks[1:], idx[1:]):
            v = v * b[:, j]
        cols.append(v)
    return np.column_stack(cols)


def random_components(rng: np.random.Generator, n: int, kinds: str) -> list:
    comps = []
    for kind in kinds:
        if kind == "n":
            k = int(rng.integers(1, 4))
            M = np.asfortranarray(rng.normal(size=(n, k)))
            M[rng.random((n, k)) < 0.05] = np.nan
            comps.append(("num", M))
        else:
            L = int(rng.integers(2, 6))
            codes = rng.integers(-1, L, size=n).astype(np.int32)
            C = rng.normal(size=(L, int(rng.integers(1, L + 1))))
            comps.append(("fac", codes, C))
    return comps


@pytest.mark.parametrize("kinds", ["", "n", "f", "nf", "fn", "ff", "fnf", "nnf", "ffff", "nfnf"])
@pytest.mark.parametrize("n", [0, 1, 7, 2049, 5000])
def test_fill_term_matches_reference(kinds: str, n: int) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{kinds}-{n}".encode()))
    comps = random_components(rng, n, kinds)
    ref = reference_term(n, comps)
    offset = 2
    X = np.full((n, ref.shape[1] + offset + 1), -7.0, order="F")
    width = _core.fill_term(X, offset, comps)
    assert width == ref.shape[1]
    np.testing.assert_array_equal(X[:, offset:offset + width], ref)
    # columns outside the term are untouched
    assert (X[:, :offset] == -7.0).all() and (X[:, offset + width:] == -7.0).all()


def test_missing_code_gives_nan_row() -> None:
    codes = np.array([0, -1, 2, 1], dtype=np.int32)
    C = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    x = np.array([1.0, 2.0, 3.0, 4.0])
    X = np.zeros((4, 2), order="F")
    _core.fill_term(X, 0, [("num", x), ("fac", codes, C)])
    np.testing.assert_array_equal(X, [[0, 0], [np.nan, np.nan], [0, 3], [4, 0]])


def test_column_order_is_first_fastest() -> None:
    a = np.array([0, 1, 2, 0, 1, 2], dtype=np.int32)
    b = np.array([0, 0, 0, 1, 1, 1], dtype=np.int32)
    X = np.zeros((6, 6), order="F")
    _core.fill_term(X, 0, [("fac", a, np.eye(3)), ("fac", b, np.eye(2))])
    # a1:b1, a2:b1, a3:b1, a1:b2, a2:b2, a3:b2 -> identity in this row order
    np.testing.assert_array_equal(X, np.eye(6))


def test_results_do_not_depend_on_threads() -> None:
    rng = np.random.default_rng(5)
    n = 50_001
    comps = random_components(rng, n, "nff")
    width = reference_term(8, [(c[0], c[1][:8]) if c[0] == "num" else (c[0], c[1][:8], c[2])
                               for c in comps]).shape[1]
    outs = []
    for threads in (1, 2, 3, 7, 0):
        X = np.zeros((n, width), order="F")
        _core.fill_term(X, 0, comps, threads=threads)
        outs.append(X)
    for X in outs[1:]:
        np.testing.assert_array_equal(X, outs[0])
    np.testing.assert_array_equal(outs[0], reference_term(n, comps))


def test_strided_inputs_without_copy() -> None:
    rng = np.random.default_rng(2)
    big = rng.normal(size=(20, 6))              # C-ordered, then a strided column slice
    M = big[::2, 1:4]
    codes = np.arange(10, dtype=np.int32)[::-1].copy() % 3
    C = np.asfortranarray(rng.normal(size=(3, 2)))
    X = np.zeros((10, 6), order="F")
    _core.fill_term(X, 0, [("num", M), ("fac", codes, C)])
    np.testing.assert_array_equal(X, reference_term(10, [("num", M), ("fac", codes, C)]))
    # a column block of a larger Fortran array is written in place
    Y = np.zeros((10, 9), order="F")
    view = Y[:, 2:8]
    _core.fill_term(view, 0, [("num", M), ("fac", codes, C)])
    np.testing.assert_array_equal(Y[:, 2:8], X)


@pytest.mark.parametrize("bad", [
    np.zeros((4, 2)),                               # C-ordered
    np.zeros((4, 2), dtype=np.float32, order="F"),  # wrong dtype
])
def test_output_layout_is_checked(bad: np.ndarray) -> None:
    with pytest.raises(TypeError):
        _core.fill_term(bad, 0, [("num", np.ones(4))])


def test_bad_components_raise() -> None:
    X = np.zeros((4, 3), order="F")
    with pytest.raises(TypeError):
        _core.fill_term(X, 0, [("num", np.ones(4, dtype=np.int64))])
    with pytest.raises(TypeError):
        _core.fill_term(X, 0, [("fac", np.zeros(4, dtype=np.int64), np.eye(2))])
    with pytest.raises(ValueError):
        _core.fill_term(X, 0, [("num", np.ones(5))])
    with pytest.raises(ValueError):
        _core.fill_term(X, 0, [("fac", np.array([0, 1, 2, 0], dtype=np.int32), np.eye(2))])
    with pytest.raises(ValueError):
        _core.fill_term(X, 2, [("num", np.ones((4, 2), order="F"))])
    with pytest.raises(ValueError):
        _core.fill_term(X, 0, [("xyz", np.ones(4))])


def test_factor_codes() -> None:
    levels = np.array([-1.5, 0.0, 2.0, 10.0])
    vals = np.array([2.0, np.nan, -1.5, 3.0, 10.0, 0.0, -0.0])
    codes = _core.factor_codes(vals, levels)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, [2, -1, 0, -2, 3, 1, 1])
    with pytest.raises(ValueError):
        _core.factor_codes(vals, np.array([1.0, 1.0]))


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 300), kinds=st.text(alphabet="nf", max_size=4),
       seed=st.integers(0, 2**32 - 1), layout=st.sampled_from(["F", "C", "strided"]),
       threads=st.integers(0, 4))
def test_fill_term_property(n: int, kinds: str, seed: int, layout: str, threads: int) -> None:
    """Any mix of components, input layouts and thread counts gives the reference result."""
    rng = np.random.default_rng(seed)
    comps = random_components(rng, n, kinds)
    if layout != "F":
        relaid = []
        for c in comps:
            if c[0] == "num":
                M = np.ascontiguousarray(c[1]) if layout == "C" else \
                    np.repeat(c[1], 2, axis=0)[::2]
                relaid.append(("num", M))
            else:
                codes = c[1] if layout == "C" else np.repeat(c[1], 3)[::3]
                relaid.append(("fac", codes, np.asfortranarray(c[2])))
        comps = relaid
    ref = reference_term(n, comps)
    X = np.zeros((n, ref.shape[1]), order="F")
    assert _core.fill_term(X, 0, comps, threads=threads) == ref.shape[1]
    np.testing.assert_array_equal(X, ref)
