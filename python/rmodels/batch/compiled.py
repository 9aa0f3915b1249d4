"""Grouped fits, stage 3: every group's fit in one compiled call.

``_core.lm_batch_columns`` (R's ``lm.wfit`` + ``summary.lm``'s table) and
``_core.glm_batch_columns`` (R's ``glm.fit`` + ``summary.glm``'s table) fit all groups of a
:class:`~rmodels.batch.designs.StackedDesign` on a pool of threads, each group statically assigned
to one thread and fitted single-threaded, so the results do not depend on the number of threads.
They return the groups' results as arrays (:class:`GroupColumns`). When a progress bar is shown,
the groups are passed in a few consecutive chunks (the same per-group computation) so that the
bar can move.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import _core
from ..models import Family
from .designs import STATUS_FIT, STATUS_OK, StackedDesign
from .progress import Progress

__all__ = ["GroupColumns", "fit_lm_columns", "fit_glm_columns", "expected_fit_seconds"]

# Rough single-core costs per row and (columns + 1)^2, measured on the benchmarks' problems
# (10,000 x 50 lm: about 4e-9; 1,000 x 1,000 logistic glm: about 7e-9), to decide whether a
# progress bar is worth showing.
LM_SECONDS_PER_ROW = 5e-9
GLM_SECONDS_PER_ROW = 1e-8
_CHUNKS = 50


@dataclass
class GroupColumns:
    """Every group's results (G groups, P coefficient names in the union ``names``).

    ``estimate``, ``std_error``, ``statistic`` (G × P): NaN where the group has no such
    coefficient, for aliased ones and for failed groups; ``pivot`` (G × P) each group's pivot
    (local positions, −1 padding); ``cols``/``col_ptr``: the union positions of each group's
    columns, in its own order. ``status`` (G,): 0 ok, 1 fit error, 2 data error, ``message``
    R's message of a failed group. ``extra``: the model's own per-group arrays (lm: rss, mss,
    deviance, sum_log_w, n_used; glm: deviance, null_deviance, dispersion, aic_family, ...)."""

    names: list
    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    pivot: np.ndarray
    rank: np.ndarray
    df_residual: np.ndarray
    cols: np.ndarray
    col_ptr: np.ndarray
    status: np.ndarray
    message: np.ndarray
    intercept: bool
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.status)

    @property
    def ok(self) -> np.ndarray:
        return self.status == STATUS_OK

    def fail(self, groups: np.ndarray, status: int, message: str) -> None:
        """Mark ``groups`` as failed: no numbers, R's message."""
        self.status[groups] = status
        self.message[groups] = message
        for a in (self.estimate, self.std_error, self.statistic):
            a[groups] = np.nan


_COMMON = ("estimate", "std_error", "statistic", "pivot", "rank", "df_residual", "status",
           "message")


def _run_chunked(call: Callable[[np.ndarray], dict], G: int, progress: Progress) -> dict:
    """``call(group_range_bounds)`` once (no bar) or over consecutive chunks, concatenated."""
    if not progress.active or G < 2:
        out = call(np.arange(G + 1))
        progress.tick(G)
        return out
    edges = np.unique(np.linspace(0, G, min(_CHUNKS, G) + 1).astype(np.int64))
    parts = []
    for a, b in zip(edges[:-1], edges[1:]):
        parts.append(call(np.arange(a, b + 1)))
        progress.tick(int(b - a))
    out: dict = {}
    for key, v in parts[0].items():
        if isinstance(v, list):
            out[key] = [x for p in parts for x in p[key]]
        else:
            out[key] = np.concatenate([p[key] for p in parts], axis=0)
    return out


def _columns(sd: StackedDesign, res: dict, extra_keys: tuple) -> GroupColumns:
    message = np.array(res["message"], dtype=object)
    status = np.asarray(res["status"], dtype=np.int64).copy()
    failed = sd.status != STATUS_OK  # the design stage's failure comes first
    status[failed] = sd.status[failed]
    message[failed] = sd.message[failed]
    cols = GroupColumns(
        names=list(sd.names), estimate=np.array(res["estimate"], dtype=np.float64),
        std_error=np.array(res["std_error"], dtype=np.float64),
        statistic=np.array(res["statistic"], dtype=np.float64),
        pivot=np.asarray(res["pivot"], dtype=np.int64), rank=np.asarray(res["rank"]),
        df_residual=np.asarray(res["df_residual"]), cols=sd.cols, col_ptr=sd.col_ptr,
        status=status, message=message, intercept=sd.intercept,
        extra={k: res[k] for k in extra_keys if k in res})
    for a in (cols.estimate, cols.std_error, cols.statistic):
        a[failed] = np.nan
    return cols


def fit_lm_columns(sd: StackedDesign, tol: float, singular_ok: bool, threads: int,
                   progress: Progress) -> GroupColumns:
    """R's lm on every group (one response column)."""
    def call(ptr: np.ndarray) -> dict:
        return dict(_core.lm_batch_columns(
            sd.X, sd.Y, sd.weights, sd.offset, sd.rows, sd.row_ptr[ptr], sd.cols,
            sd.col_ptr[ptr], float(tol), bool(sd.intercept), int(threads)))

    res = _run_chunked(call, len(sd.status), progress)
    cols = _columns(sd, res, ("rss", "mss", "deviance", "sum_log_w", "n_used"))
    if not singular_ok:
        ncols = np.diff(sd.col_ptr)
        bad = np.flatnonzero(cols.ok & (cols.rank < ncols))
        cols.fail(bad, STATUS_FIT, "singular fit encountered")
    return cols


def fit_glm_columns(sd: StackedDesign, family: Family, control: dict, threads: int,
                    progress: Progress, keep_rows: bool) -> GroupColumns:
    """R's glm on every group with one family and control."""
    icol = [int(v) for v in sd.intercept_pos]

    def call(ptr: np.ndarray) -> dict:
        return dict(_core.glm_batch_columns(
            sd.X, sd.Y, sd.weights, sd.offset, sd.rows, sd.row_ptr[ptr], sd.cols,
            sd.col_ptr[ptr], family.core, bool(family.fixed_dispersion), float(control["epsilon"]),
            int(control["maxit"]), bool(sd.intercept), icol[ptr[0]:ptr[-1]], keep_rows,
            int(threads), sd.sources))

    res = _run_chunked(call, len(sd.status), progress)
    extra = ("deviance", "null_deviance", "dispersion", "aic_family", "sum_log_w", "n_ok",
             "n_loglik", "n_rows", "iter", "converged", "boundary", "warnings", "warning_kinds",
             "y", "mu",
             "prior_weights", "n_trials")
    return _columns(sd, res, extra)


def expected_fit_seconds(rows: int, p: int, glm: bool, threads: int) -> float:
    """A rough estimate of the fits' time (for the progress bar's decision)."""
    per_row = GLM_SECONDS_PER_ROW if glm else LM_SECONDS_PER_ROW
    workers = threads if threads > 0 else (os.cpu_count() or 1)
    return per_row * rows * (p + 1) ** 2 / workers
