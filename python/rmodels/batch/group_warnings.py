"""Grouped fits: R's warnings of the groups, collected while the designs are built and the fits
run, then issued once per distinct (class, message) with the number of groups that gave it."""

from __future__ import annotations

import warnings
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import BoundaryWarning, ConvergenceWarning, FittedValuesWarning, RModelsWarning

__all__ = ["GroupWarnings", "caught_pairs", "glm_warning_class"]


def caught_pairs(caught: Iterable[warnings.WarningMessage]) -> list:
    """Recorded warnings as (category, message) pairs."""
    return [(c.category, str(c.message)) for c in caught]


def glm_warning_class(message: str) -> type:
    """The warning class of one of glm.fit's messages."""
    if "did not converge" in message:
        return ConvergenceWarning
    if "fitted probabilities" in message or "fitted rates" in message:
        return FittedValuesWarning
    if "boundary value" in message:
        return BoundaryWarning
    return RModelsWarning


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

    def add_messages(self, per_group: Sequence[Sequence[str]],
                     classify: Callable[[str], type]) -> None:
        """Messages of the compiled fits, one list per group."""
        for g, msgs in enumerate(per_group):
            if msgs:
                self.add_group(g, [(classify(m), m) for m in msgs])

    def issue(self, label: Callable[[int], str], stacklevel: int = 3) -> None:
        """Warn once per distinct warning: ``message [in k of G groups; first: by=value]``."""
        met = [(np.unique(np.concatenate(parts)), pair) for pair, parts in self._groups.items()]
        met.sort(key=lambda item: int(item[0][0]))  # stable: a group's own order kept
        for groups, (cat, msg) in met:
            warnings.warn(f"{msg} [in {len(groups)} of {self.n_groups} groups; first: "
                          f"{label(int(groups[0]))}]", cat, stacklevel=stacklevel + 1)
