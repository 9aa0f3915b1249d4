"""Grouped fits: the progress bar (tqdm) for grouped work expected to take longer than about
two seconds, shown when standard error is a terminal (``progress=True`` / ``False`` forces or
silences it)."""

from __future__ import annotations

import sys
from typing import Any, Optional

__all__ = ["Progress", "SHOW_AFTER_SECONDS"]

SHOW_AFTER_SECONDS = 2.0


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """A bar over the grouped call's steps (own designs built, groups fitted), or nothing.
    ``progress``: None (automatic: when the estimate exceeds two seconds and standard error is
    a terminal), True or False."""

    def __init__(self, progress: Optional[bool], desc: str) -> None:
        self._progress = progress
        self._desc = desc
        self._bar: Any = None

    def start(self, total: int, expected_seconds: float) -> None:
        """Open the bar for ``total`` steps if the call is expected to be long."""
        show = self._progress if self._progress is not None else (
            expected_seconds > SHOW_AFTER_SECONDS and _stderr_is_terminal())
        if show and total > 0 and self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=self._desc, unit="group", file=sys.stderr,
                             leave=False)

    @property
    def active(self) -> bool:
        return self._bar is not None

    def tick(self, k: int) -> None:
        if self._bar is not None:
            self._bar.update(k)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
