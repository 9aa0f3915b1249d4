"""Robust covariances and coefficient tests of grouped fits (``lm(..., by=)``): one result per
group, computed on each group's own fit object (which equals the single fit on the group's
rows), so every group's numbers are sandwich's for that group.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pandas as pd

from ..batch import FitList
from ..batch.results import FailedFit

__all__ = ["GroupedMatrices", "is_grouped", "is_failed", "per_group", "stack_tables"]


def is_grouped(fit: Any) -> bool:
    return isinstance(fit, FitList)


def is_failed(fit: Any) -> bool:
    """A group whose fit failed (a :class:`~rmodels.batch.results.FailedFit`)."""
    return isinstance(fit, FailedFit)


class GroupedMatrices:
    """One k × k covariance DataFrame per group of a grouped fit (None for a group whose fit
    failed). ``keys`` are the group values (tuples, one value per ``by`` column); index by a
    position (``m[0]``) or look up by group values with :meth:`get`."""

    def __init__(self, fits: FitList, values: list) -> None:
        self.by = fits.by
        self.keys = fits.keys
        self.values = values
        self.status = fits.status

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: int) -> Any:
        return self.values[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def get(self, *key: Any) -> Any:
        """The result of the group with these ``by`` values."""
        try:
            return self.values[self.keys.index(tuple(key))]
        except ValueError:
            raise KeyError(key) from None

    def items(self) -> list:
        return list(zip(self.keys, self.values))

    def __repr__(self) -> str:
        return f"<GroupedMatrices: {len(self)} groups by {', '.join(self.by)}>"


def per_group(fits: FitList, fn: Callable[..., Any], **kwargs: Any) -> GroupedMatrices:
    """``fn(group fit, **kwargs)`` for every group (None for a failed group)."""
    values = [None if is_failed(f) else fn(f, **kwargs) for f in fits]
    return GroupedMatrices(fits, values)


def stack_tables(fits: FitList, tables: list, status: list) -> pd.DataFrame:
    """Per-group tables stacked with the group columns first and a ``status`` column (a failed
    group: one row of NaN)."""
    groups = fits.groups()
    columns = next((list(t.columns) for t in tables if t is not None), [])
    parts = []
    for i, t in enumerate(tables):
        body = pd.DataFrame({c: [float("nan")] for c in columns}) if t is None \
            else t.reset_index(drop=True)
        key = groups.iloc[[i] * len(body)].reset_index(drop=True)
        part = pd.concat([key, body], axis=1)
        part["status"] = status[i]
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=list(groups.columns) + columns + ["status"])
    return pd.concat(parts, ignore_index=True)
