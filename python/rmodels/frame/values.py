"""frame, values: R's value types while a formula's variables are evaluated — ``Factor``
(R's factor: integer codes into levels), ``Mat`` (a matrix-valued variable such as ``poly(x, 2)``),
``Char`` (a character vector), ``Logical`` — the conversions R's ``factor()`` and
``as.character()`` make (sorted levels, 15-significant-digit labels), and how an evaluated value
becomes a variable of the model frame (``finish_variable``, ``variable_na``,
``variable_has_na``, ``take``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..collation import sort_levels
from ..errors import DataError


@dataclass
class Factor:
    """A factor: 0-based ``codes`` (−1 = NA) into ``levels``.

    ``kind`` is "factor" (a factor or pandas Categorical), "character" (a string column: its
    levels are recomputed from the rows kept, as model.matrix's ``factor()`` does) or "logical"
    (levels FALSE/TRUE always). ``contrasts`` is a contrast name or (matrix, colnames) set by
    ``C()``; None means the default for the factor's type.
    """

    codes: np.ndarray
    levels: list
    ordered: bool = False
    kind: str = "factor"
    contrasts: Any = None

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, idx: np.ndarray) -> Factor:
        return replace(self, codes=self.codes[idx])

    @property
    def na(self) -> np.ndarray:
        return self.codes < 0

    def drop_unused(self) -> Factor:
        nlev = len(self.levels)
        if len(self.codes) <= 64 and len(set(self.codes.tolist()) - {-1}) == nlev:
            return self  # short codes: every level used, settled without NumPy calls
        used = self.used_levels()
        if np.count_nonzero(used) == nlev:
            return self
        ok = self.codes >= 0
        remap = np.cumsum(used) - 1
        codes = np.where(ok, remap[np.where(ok, self.codes, 0)], -1).astype(np.int32)
        levels = [lv for lv, u in zip(self.levels, used) if u]
        return replace(self, codes=codes, levels=levels)

    def used_levels(self) -> np.ndarray:
        """Which levels some row holds. The rows are counted by blocks of growing length,
        stopping once every level is seen (in long data usually within the first block)."""
        nlev = len(self.levels)
        used = np.zeros(nlev, dtype=bool)
        start, step = 0, 4096
        while start < len(self.codes):
            block = self.codes[start:start + step]
            # counts per code, -1 (NA) first
            used |= np.bincount(block.astype(np.intp) + 1, minlength=nlev + 1)[1:nlev + 1] > 0
            if used.all():
                break
            start, step = start + step, 4 * step
        return used

    def labels(self) -> np.ndarray:
        lv = np.array(list(self.levels) + [None], dtype=object)
        return lv[self.codes]


@dataclass
class Mat:
    """A matrix-valued variable (poly, ns, bs, scale, cbind); ``colnames`` may be None."""

    values: np.ndarray
    colnames: Optional[list] = None

    def __len__(self) -> int:
        return self.values.shape[0]

    def take(self, idx: np.ndarray) -> Mat:
        return Mat(self.values[idx], self.colnames)

    @property
    def na(self) -> np.ndarray:
        return np.isnan(self.values).any(axis=1)


class Char:
    """A character vector (object array, None = NA) during evaluation. A data column arrives
    already factorised (``codes`` into ``uniques``, −1 = NA) and its object array is only built
    when an operation needs the strings."""

    def __init__(self, values: Optional[np.ndarray] = None, codes: Optional[np.ndarray] = None,
                 uniques: Optional[list] = None):
        self._values = values
        self.codes = codes
        self.uniques = uniques

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            lut = np.array(list(self.uniques) + [None], dtype=object)
            self._values = lut[self.codes]
        return self._values

    def __len__(self) -> int:
        return len(self.codes) if self.codes is not None else len(self._values)

    def to_factor(self, levels: Optional[list] = None) -> "Factor":
        """R's ``factor()`` of the strings: sorted levels, or the given ones (others → NA)."""
        if self.codes is None:
            return char_to_factor(self.values, levels)
        if levels is None:
            levels = sort_levels(self.uniques)
        pos = {lv: i for i, lv in enumerate(levels)}
        lut = np.array([pos.get(u, -1) for u in self.uniques] + [-1], dtype=np.int32)
        return Factor(lut[self.codes], list(levels), kind="character")


@dataclass
class Logical:
    """A logical vector during evaluation: float 0/1 with NaN for NA."""

    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class VarState:
    """Frozen state of a variable for new data: a transform state and/or factor levels."""

    transform: Any = None
    levels: Optional[list] = None


def char_to_factor(values: np.ndarray, levels: Optional[list] = None) -> Factor:
    """Character → factor with R's sorted levels (or the given levels; others → NA)."""
    isna = pd.isna(values)
    codes_raw, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = [str(u) for u in uniques]
    if levels is None:
        levels = sort_levels(uniques)
    pos = {lv: i for i, lv in enumerate(levels)}
    lut = np.array([pos.get(u, -1) for u in uniques] + [-1], dtype=np.int32)
    codes = lut[codes_raw]
    codes[isna] = -1
    return Factor(codes.astype(np.int32), list(levels), kind="character")


def format_number_label(v: float) -> str:
    """as.character() of a double as R prints it (15 significant digits)."""
    if math.isnan(v):
        return "NA"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        iv = int(v)
        s = str(iv)
        if len(s) <= 5:  # no scientific form ("1e+05") is shorter than 6 characters
            return s
        # R switches to scientific when it is shorter (e.g. 1e+05 for 100000).
        sci = _sci15(v)
        return sci if len(sci) < len(s) else s
    fixed = f"{v:.15g}"
    if "e" in fixed:
        return _sci15(v)
    sci = _sci15(v)
    return sci if len(sci) < len(fixed) else fixed


def _sci15(v: float) -> str:
    m, e = f"{v:.14e}".split("e")
    m = m.rstrip("0").rstrip(".")
    ei = int(e)
    return f"{m}e{'+' if ei >= 0 else '-'}{abs(ei):02d}"


def _integer_factor(x: np.ndarray, isna: np.ndarray) -> Factor | None:
    """factor() of whole numbers in a narrow range by counting (no sort); None otherwise."""
    has_na = bool(np.count_nonzero(isna))
    v = x[~isna] if has_na else x
    if len(v) == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    if not (abs(lo) < 2.0**52 and abs(hi) < 2.0**52 and hi - lo <= 4 * len(v) + 1024):
        return None
    if np.count_nonzero(v != np.floor(v)):  # not all whole numbers (tested before the
        return None                          # offset, which can round 1e-300 + 3 to 3)
    off = v - lo
    k = off.astype(np.int64)
    present = np.bincount(k) > 0
    lut = (np.cumsum(present) - 1).astype(np.int32)
    levels = [format_number_label(u + lo) for u in np.flatnonzero(present).tolist()]
    if not has_na:
        return Factor(lut[k], levels)
    codes = np.full(len(x), -1, dtype=np.int32)
    codes[~isna] = lut[k]
    return Factor(codes, levels)


def _short_factor(x: np.ndarray) -> Factor:
    """factor() of a short numeric vector with Python's set and dict (a few NumPy calls cost
    more than the work at this length): levels the sorted distinct non-NaN values."""
    vals = x.tolist()
    uniq = sorted({v for v in vals if v == v})
    pos = {v: i for i, v in enumerate(uniq)}
    codes = np.array([pos.get(v, -1) for v in vals], dtype=np.int32)
    return Factor(codes, [format_number_label(v) for v in uniq])


SHORT_FACTOR_LENGTH = 64


def numeric_to_factor(x: np.ndarray, levels: Optional[list] = None) -> Factor:
    if levels is None and len(x) <= SHORT_FACTOR_LENGTH:
        return _short_factor(x)
    isna = np.isnan(x)
    if levels is None:
        fast = _integer_factor(x, isna)
        if fast is not None:
            return fast
        uniq = np.unique(x[~isna])
        levels = [format_number_label(v) for v in uniq]
        codes = np.full(len(x), -1, dtype=np.int32)
        codes[~isna] = np.searchsorted(uniq, x[~isna]).astype(np.int32)
        return Factor(codes, levels)
    labels = np.array([format_number_label(v) for v in x], dtype=object)
    labels[isna] = None
    f = char_to_factor(labels, levels)
    f.kind = "factor"
    return f


def interaction_factor(f1: Factor, f2: Factor) -> Factor:
    """``f1:f2`` for factors: levels "a:b" with the first factor varying slowest (R's ':'),
    unused combinations dropped."""
    n2 = len(f2.levels)
    ok = (f1.codes >= 0) & (f2.codes >= 0)
    codes = np.where(ok, f1.codes.astype(np.int64) * n2 + f2.codes, -1)
    levels = [f"{a}:{b}" for a in f1.levels for b in f2.levels]
    return Factor(codes.astype(np.int32), levels).drop_unused()


def finish_variable(v, n: int, label: str):
    """Turn an evaluated value into a frame variable: float (n,), Mat, or Factor."""
    if _variable_length(v, n) != n:
        raise DataError(f"variable lengths differ (found for '{label}')")
    if isinstance(v, Char):
        return v.to_factor()
    if isinstance(v, Logical):
        x = v.values
        codes = np.where(np.isnan(x), -1, x).astype(np.int32)
        return Factor(codes, ["FALSE", "TRUE"], kind="logical")
    if isinstance(v, Factor):
        return v
    if isinstance(v, Mat):
        if v.values.shape[0] != n:
            raise DataError(f"variable lengths differ (found for '{label}')")
        return v
    if isinstance(v, (float, int, bool, str)) and not isinstance(v, np.ndarray):
        if n == 1:
            return finish_variable(np.array([float(v)]) if not isinstance(v, str)
                                   else Char(np.array([v], dtype=object)), n, label)
        raise DataError(f"variable lengths differ (found for '{label}')")
    if isinstance(v, list):
        raise DataError(f"invalid type (list) for variable '{label}'")
    arr = np.asarray(v, dtype=float)
    if arr.ndim == 2:
        return Mat(np.asfortranarray(arr), None)
    if arr.shape[0] != n:
        raise DataError(f"variable lengths differ (found for '{label}')")
    return arr


def _variable_length(v, n: int) -> int:
    """The number of rows a value has (a scalar counts as one row; None as zero)."""
    if v is None:
        return 0
    if isinstance(v, (Char, Logical)):
        return int(np.size(v.values)) if np.ndim(v.values) else 1
    if isinstance(v, Factor):
        return len(v.codes) if np.ndim(v.codes) else 1
    if isinstance(v, Mat):
        return v.values.shape[0] if np.ndim(v.values) else 1
    if isinstance(v, np.ndarray):
        return v.shape[0] if v.ndim else 1
    if isinstance(v, list):
        return n  # refused below with R's message for a list
    return 1


def variable_na(v) -> np.ndarray:
    if isinstance(v, (Factor, Mat)):
        return v.na
    return np.isnan(v)


LONG = 4096  # arrays longer than this take the tests that allocate nothing per element


def holds_nan(x: np.ndarray) -> bool:
    """Whether the floating-point array ``x`` holds a NaN. A long array is summed first: a sum
    is NaN whenever a term is (it may also be NaN from inf - inf, then the elements decide),
    one pass without the boolean temporary of ``np.isnan``."""
    if x.size > LONG:
        with np.errstate(all="ignore"):  # R's NA (a signalling NaN) or an overflow
            if not np.isnan(np.add.reduce(x, axis=None)):
                return False
    return bool(np.count_nonzero(np.isnan(x)))  # (cheaper than .any() on short arrays)


def variable_has_na(v) -> bool:
    """Whether a model-frame variable (or weights/offset) has a missing value in some row:
    ``variable_na(v).any()`` without building the mask when there is none."""
    if isinstance(v, Factor):
        return bool(v.codes.size) and int(v.codes.min()) < 0
    if isinstance(v, Mat):
        return holds_nan(v.values)
    return holds_nan(np.asarray(v))


def take(v, idx: np.ndarray):
    if isinstance(v, (Factor, Mat)):
        return v.take(idx)
    return v[idx]
