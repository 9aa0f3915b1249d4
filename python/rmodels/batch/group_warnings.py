"""Grouped fits: R's warnings of the groups, collected while the designs are built and the fits
run, then issued once per distinct (class, message) with the number of groups that gave it."""

from __future__ import annotations

import warnings
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = ["GroupWarnings", "caught_pairs"]


def caught_pairs(caught: Iterable[warnings.WarningMessage]) -> list:
    """Recorded warnings as (category, message) pairs."""
    return [(c.category, str(c.message)) for c in caught]


class GroupWarnings:
    """(category, message) → the groups that gave it, in the order first met."""

    def __init__(self, n_groups: int) -> None:
        self.n_groups = n_groups
        self._groups: dict = {}

    def add_group(self, g: int, pairs: Sequence[tuple]) -> None:
        """The warnings of group ``g`` (a message counted once per group)."""
        for pair in dict.fromkeys(pairs):
            self._groups.setdefault(pair, []).append(np.array([g], dtype=np.int64))

    def add_many(self, groups: np.ndarray, pairs: Sequence[tuple]) -> None:
        """The same warnings for all of ``groups`` (e.g. those of the whole-data design)."""
        if len(groups) == 0:
            return
        for pair in dict.fromkeys(pairs):
            self._groups.setdefault(pair, []).append(np.asarray(groups, dtype=np.int64))

    def add_kinds(self, per_group: Sequence[Sequence[str]], kinds: Sequence[Sequence],
                  classify: Callable[[object], type]) -> None:
        """Messages of the compiled fits, one list per group, with the core's kind of each."""
        for g, (msgs, ks) in enumerate(zip(per_group, kinds)):
            if msgs:
                self.add_group(g, [(classify(k), m) for k, m in zip(ks, msgs)])

    def issue(self, label: Callable[[int], str], stacklevel: int = 3) -> None:
        """Warn once per distinct warning: ``message [in k of G groups; first: by=value]``."""
        met = [(np.unique(np.concatenate(parts)), pair) for pair, parts in self._groups.items()]
        met.sort(key=lambda item: int(item[0][0]))  # stable: a group's own order kept
        for groups, (cat, msg) in met:
            warnings.warn(f"{msg} [in {len(groups)} of {self.n_groups} groups; first: "
                          f"{label(int(groups[0]))}]", cat, stacklevel=stacklevel + 1)
