"""Grouped fits, stage 1: the groups of rows, as R's ``split(data, data[by], lex.order = TRUE)``.

Each ``by`` column is coded as R's ``factor()`` codes it (a Categorical's category order, strings
by R's collation, numbers increasing, FALSE before TRUE) with ``pandas.factorize``; the combined
code orders the groups (the first column varies slowest) and one stable sort of the rows gives
every group's rows, in data order, as a slice of one array. Rows with a missing ``by`` value
belong to no group, as in ``split``. No per-group pandas object is made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..collation import sort_levels
from ..errors import DataError

__all__ = ["Groups", "split_groups", "as_by", "group_data", "slice_arg", "subset_mask"]


@dataclass
class Groups:
    """The groups of a grouped call, in R's split order.

    ``order`` holds the row positions of every group one after the other; group ``g``'s rows
    are ``order[bounds[g]:bounds[g + 1]]``. ``codes`` (G × len(by)) are the groups' level codes
    in ``levels`` (one list per ``by`` column); ``dtypes`` the dtype each ``by`` column keeps in
    the tables."""

    by: list
    levels: list
    codes: np.ndarray
    order: np.ndarray
    bounds: np.ndarray
    dtypes: dict

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def rows(self, g: int) -> np.ndarray:
        """Positions (in ``data``) of group ``g``'s rows."""
        return self.order[self.bounds[g]:self.bounds[g + 1]]

    def sizes(self) -> np.ndarray:
        return np.diff(self.bounds)

    @property
    def keys(self) -> list:
        """The group values as tuples (one value per ``by`` column)."""
        cols = [[lv[c] for c in self.codes[:, j]] for j, lv in enumerate(self.levels)]
        return list(zip(*cols)) if cols else []

    def key_columns(self, idx: Optional[np.ndarray] = None) -> dict:
        """The ``by`` columns' values of the groups ``idx`` (all when None), with their dtypes."""
        codes = self.codes if idx is None else self.codes[idx]
        out = {}
        for j, name in enumerate(self.by):
            lv = self.levels[j]
            dt = self.dtypes.get(name)
            if isinstance(dt, pd.CategoricalDtype):
                out[name] = pd.Categorical.from_codes(codes[:, j], dtype=dt)
                continue
            if isinstance(dt, np.dtype) and dt != np.dtype(object):
                out[name] = np.asarray(lv, dtype=dt)[codes[:, j]]
                continue
            values = np.empty(len(lv), dtype=object)
            values[:] = lv
            taken = values[codes[:, j]]
            if dt is not None and dt is not object:
                out[name] = pd.array(taken.tolist(), dtype=dt)
            else:
                out[name] = pd.array(taken, dtype=object)
        return out

    def frame(self, idx: Optional[np.ndarray] = None) -> pd.DataFrame:
        """One row per group (of ``idx``), one column per ``by`` column."""
        return pd.DataFrame(self.key_columns(idx))

    def index(self) -> pd.Index:
        """The groups as a pandas index: named by the ``by`` column, a MultiIndex for several."""
        g = self.frame()
        if len(self.by) == 1:
            return pd.Index(g.iloc[:, 0], name=self.by[0])
        return pd.MultiIndex.from_frame(g)

    def label(self, g: int) -> str:
        """``by1=value1, by2=value2`` for messages."""
        return ", ".join(f"{b}={v}" for b, v in zip(self.by, self.keys_of(g)))

    def keys_of(self, g: int) -> tuple:
        return tuple(lv[c] for lv, c in zip(self.levels, self.codes[g]))


def as_by(by: Union[str, Sequence[str]]) -> list:
    out = [by] if isinstance(by, str) else list(by)
    if not out:
        raise DataError("'by' must name at least one column")
    return out


def factor_codes(s: pd.Series) -> tuple[np.ndarray, list, Any]:
    """Codes (−1 = missing) and levels of one ``by`` column as R's ``factor()`` makes them,
    and the dtype the group column keeps."""
    if isinstance(s.dtype, pd.CategoricalDtype):  # the codes as pandas keeps them (no copy)
        return s.cat.codes.to_numpy(), s.cat.categories.tolist(), s.dtype
    if pd.api.types.is_integer_dtype(s.dtype) and isinstance(s.dtype, np.dtype):
        return (*_small_integer_codes(s.to_numpy()), s.dtype)
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        # factor() of numbers / logicals: sorted distinct values (FALSE before TRUE)
        codes, uniq = pd.factorize(s, sort=True, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniq).tolist(), s.dtype
    # factor() of strings: distinct values in R's collation order
    na = pd.isna(s).to_numpy()
    codes = np.full(len(s), -1, dtype=np.int64)
    fcodes, uniq = pd.factorize(pd.Series(s.to_numpy(dtype=object)[~na]).astype(str))
    levels = sort_levels(list(uniq))
    rank = {lv: i for i, lv in enumerate(levels)}
    remap = np.array([rank[u] for u in uniq], dtype=np.int64)
    codes[~na] = remap[fcodes]
    return codes, levels, object


def _small_integer_codes(x: np.ndarray) -> tuple[np.ndarray, list]:
    """factor() of integers: codes of the sorted distinct values (by counting when the range is
    small, else by sorting)."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64), []
    lo, hi = int(x.min()), int(x.max())
    if hi - lo > 4 * len(x) + 1024:
        uniq, codes = np.unique(x, return_inverse=True)
        return codes.astype(np.int64), uniq.tolist()
    present = np.bincount(x - lo, minlength=hi - lo + 1) > 0
    rank = np.cumsum(present) - 1
    return rank[x - lo].astype(np.int64), (np.flatnonzero(present) + lo).tolist()


def _combined_codes(data: pd.DataFrame, by: list) -> tuple:
    """The rows' group codes (the first ``by`` column varying slowest; one column's codes as
    they are), the mask of rows with a missing ``by`` value (None: no such row), and each
    column's levels and dtype."""
    combined: np.ndarray = np.zeros(len(data), dtype=np.int64)
    missing = None
    levels, dtypes = [], {}
    for name in by:
        if name not in data.columns:
            raise DataError(f"object '{name}' not found (by)")
        codes, lv, dt = factor_codes(data[name])
        if len(codes) and int(codes.min()) < 0:
            missing = codes < 0 if missing is None else missing | (codes < 0)
        combined = codes if len(by) == 1 else combined * max(len(lv), 1) + np.maximum(codes, 0)
        levels.append(lv)
        dtypes[name] = dt
    return combined, missing, levels, dtypes


def _group_rows(key: np.ndarray, rows_ok: Optional[np.ndarray],
                n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows in group order (stable) and every group's row count, from the group codes
    ``key`` of the rows ``rows_ok`` (all rows when None). Rows already in group order are
    counted by binary search, with no sort and no per-row pass beyond the order check."""
    if len(key) < 2 or bool((key[1:] >= key[:-1]).all()):
        order = np.arange(len(key)) if rows_ok is None else rows_ok
        # (group codes in the key's own dtype, which holds them all: no converted copy)
        starts = np.searchsorted(key, np.arange(n_groups, dtype=key.dtype), side="left")
        return order, np.diff(np.append(starts, len(key)))
    perm = np.argsort(key, kind="stable")
    order = perm if rows_ok is None else rows_ok[perm]
    return order, np.bincount(key, minlength=n_groups)


def split_groups(data: pd.DataFrame, by: list, drop: bool) -> Groups:
    """The groups of ``data`` by the ``by`` columns in R's split order; with ``drop=False``
    every combination of levels is a group (possibly empty)."""
    combined, missing, levels, dtypes = _combined_codes(data, by)
    sizes = [len(lv) for lv in levels]
    n_groups = int(np.prod(sizes)) if sizes else 0
    if missing is not None:
        rows_ok = np.flatnonzero(~missing)
        key = combined[rows_ok]
    else:
        rows_ok, key = None, combined
    order, counts = _group_rows(key, rows_ok, n_groups)
    gids = np.flatnonzero(counts > 0) if drop else np.arange(n_groups)
    bounds = np.concatenate([[0], np.cumsum(counts[gids])]).astype(np.int64)
    key_codes = np.zeros((len(gids), len(by)), dtype=np.int64)
    rem = gids.copy()
    for j in range(len(by) - 1, -1, -1):
        key_codes[:, j] = rem % max(sizes[j], 1)
        rem //= max(sizes[j], 1)
    return Groups(by=list(by), levels=levels, codes=key_codes, order=order, bounds=bounds,
                  dtypes=dtypes)


def group_data(data: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The group's rows with R's row names of ``split(data, ...)`` (the original ones)."""
    g = data.iloc[rows]
    idx = data.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        g = g.set_axis(pd.Index([str(k + 1) for k in rows]), axis=0)
    return g


def slice_arg(v: Any, rows: np.ndarray) -> Any:
    """A ``weights``/``offset``/``subset`` argument restricted to the group's rows (a column
    name stays a name)."""
    if v is None or isinstance(v, str):
        return v
    arr = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
    return arr[rows]


def subset_mask(subset: Any, n: int) -> Optional[np.ndarray]:
    """``subset`` (a boolean mask or 0-based positions over the rows of data) as a mask."""
    if subset is None:
        return None
    s = np.asarray(subset.to_numpy() if isinstance(subset, pd.Series) else subset)
    if s.dtype == bool:
        if len(s) != n:
            raise DataError("'subset' must have one entry per row of data")
        return s
    if s.dtype.kind in "iu":
        mask = np.zeros(n, dtype=bool)
        if (s < 0).any() or (s >= n).any():
            raise DataError("'subset' positions out of range")
        mask[s] = True
        return mask
    raise DataError("'subset' must be a boolean mask or integer positions")
