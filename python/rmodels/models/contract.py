"""The fit contract: what every model's results share.

- :class:`LogLik`: R's ``logLik`` object (a float with ``df`` and ``nobs``);
- :class:`AnovaTable`: a DataFrame whose ``str()`` is R's ``print.anova``;
- :func:`perc_labels`: confint's column labels (R's ``format.perc``);
- :func:`named_vector`: R's named numeric vector as a Series;
- :class:`RowLabels`: which rows of the user's data a fit used, and R's ``naresid`` /
  ``napredict`` rule for per-row results: a per-row result is indexed by the input DataFrame's
  own index labels (the rows used, or with ``na_action="exclude"`` every row of the (subsetted)
  data with NaN at the rows dropped for missing values), so ``df.assign(...)`` lines up.
  R's row names ("1".."n" for a default index) stay for printouts and broom's ``.rownames``.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .. import printing as rf
from ..printing.html import TableSpec, printout_html
from .anova_broom import tidy_anova

__all__ = ["LogLik", "AnovaTable", "perc_labels", "format_perc", "named_vector", "RowLabels"]


class LogLik(float):
    """R's ``logLik`` object: a float with ``df`` (number of estimated parameters, σ included)
    and ``nobs``; ``str()`` is R's ``print.logLik`` text."""

    df: int
    nobs: int

    def __new__(cls, value: float, df: int, nobs: int) -> "LogLik":
        obj = super().__new__(cls, value)
        obj.df = int(df)
        obj.nobs = int(nobs)
        return obj

    def __str__(self) -> str:
        return f"'log Lik.' {rf.format_scalar(float(self), digits=7)} (df={self.df})"

    def __repr__(self) -> str:
        return self.__str__()


class AnovaTable(pd.DataFrame):
    """An analysis-of-variance table: a DataFrame with R's columns and row labels whose
    ``str()`` is R's ``print.anova`` text (the ``heading`` lines, then the table).

    ``nan_is_na``: whether a NaN cell prints as R's NA (blank) — True where R stores NA, False
    where R holds a computed NaN (lm's tables of a perfect fit).
    """

    _metadata = ["heading", "nan_is_na"]

    @property
    def _constructor(self):
        return type(self)

    def __str__(self) -> str:
        return rf.print_anova(pd.DataFrame(self), heading=getattr(self, "heading", None),
                              nan_is_na=getattr(self, "nan_is_na", True))

    def __repr__(self) -> str:
        return self.__str__()

    def to_string(self, *args, **kwargs) -> str:  # type: ignore[override]
        return self.__str__()

    def _repr_html_(self) -> str:  # type: ignore[override]
        """R's printout for notebooks, the table as HTML with R's cells (not pandas')."""
        spec = TableSpec(list(map(str, self.columns)), list(map(str, self.index)))
        return printout_html(self.__str__(), [spec])

    def tidy(self) -> pd.DataFrame:
        """broom's ``tidy.anova`` (see :func:`~rmodels.models.anova_broom.tidy_anova`)."""
        return tidy_anova(self)


#: ``format(scientific = FALSE)``: R's penalty for scientific notation then (format.default).
NO_SCIENTIFIC = 100


def format_perc(p: float) -> str:
    """R's ``format.perc(p, 3)``: ``paste(format(100 * p, trim = TRUE, scientific = FALSE,
    digits = 3), "%")``."""
    return perc_labels([p])[0]


def perc_labels(probs: Sequence[float]) -> list[str]:
    """R's ``format.perc(probs, 3)`` over a vector (one ``format`` call, common digits, never
    scientific): ``"2.5 %"``, ``"97.5 %"``; ``"0.05 %"``, ``"99.95 %"``."""
    return [s + " %" for s in rf.format_num(100 * np.asarray(probs), digits=3, trim=True,
                                            scipen=NO_SCIENTIFIC)]


def named_vector(values: np.ndarray, names: Sequence[str]) -> pd.Series:
    """R's named numeric vector: float64 values indexed by the names."""
    return pd.Series(np.asarray(values, dtype=np.float64), index=pd.Index(list(names)))


class RowLabels:
    """The rows of the user's data behind a fit, for per-row results.

    ``index``: the input DataFrame's index; ``used``: positions (in the data) of the rows in
    the fit; ``pad_rows``: positions of the rows R's ``naresid.exclude`` pads to (the rows of the
    subsetted data, in the subset's order), or None when nothing is padded (``na_action`` other
    than "exclude", or no row dropped for missing values); ``pad_pos``: the position of each
    used row among ``pad_rows`` (a subset may come in any order and repeat rows, so this is
    kept, not searched for).
    """

    def __init__(self, index: pd.Index, used: np.ndarray, pad_rows: Optional[np.ndarray] = None,
                 pad_pos: Optional[np.ndarray] = None):
        self.index = index
        self.used = np.asarray(used, dtype=np.int64)
        self.pad_rows = None if pad_rows is None else np.asarray(pad_rows, dtype=np.int64)
        self.pad_pos = None if pad_pos is None else np.asarray(pad_pos, dtype=np.int64)
        if self.pad_rows is not None and self.pad_pos is None:
            raise ValueError("pad_rows needs pad_pos")
        self._used_index: Optional[pd.Index] = None

    @classmethod
    def from_design(cls, design) -> "RowLabels":
        """The rows of a :class:`~rmodels.design.Design` (built by ``build_design``)."""
        index = design.data_index if design.data_index is not None else pd.RangeIndex(design.n_data)
        if design.na_action == "exclude" and len(design.na_dropped):
            rows = design.subset_rows
            if rows is None:
                rows = np.arange(design.n_data)
            return cls(index, design.kept, rows, design.kept_sub)
        return cls(index, design.kept)

    @property
    def used_index(self) -> pd.Index:
        """The data's index labels of the rows in the fit."""
        if self._used_index is None:
            self._used_index = self.index[self.used]
        return self._used_index

    def naresid(self, values: np.ndarray, columns: Optional[Sequence[str]] = None,
                name: Optional[str] = None):
        """R's ``naresid``/``napredict`` of a per-row result: a Series (or a DataFrame with
        ``columns`` for 2-d values) on the data's index labels, padded with NaN at the rows
        dropped for missing values under ``na_action="exclude"``."""
        v = np.asarray(values)
        if self.pad_rows is None:
            idx = self.used_index
        else:
            out = np.full((len(self.pad_rows),) + v.shape[1:], np.nan,
                          dtype=np.result_type(v.dtype, np.float64))
            out[self.pad_pos] = v
            v, idx = out, self.index[self.pad_rows]
        if v.ndim == 2:
            return pd.DataFrame(v, index=idx, columns=None if columns is None
                                else pd.Index(list(columns)))
        return pd.Series(v, index=idx, name=name, copy=False)
