"""Grouped ("by") fitting: ``lm(formula, data, by="g")`` is R's
``lapply(split(data, data$g), function(s) lm(formula, s))``, every group's fit the fit R gives for
that group's rows alone (``drop.unused.levels`` and data-dependent transforms per group), all
groups fitted in one compiled call.

The stages, one module each: :mod:`~rmodels.batch.groups` (the groups of rows, R's split order),
:mod:`~rmodels.batch.designs` (every group's design, stacked), :mod:`~rmodels.batch.compiled`
(the fits and their coefficient tables as arrays), :mod:`~rmodels.batch.tables` (tidy, glance,
coef over the arrays), :mod:`~rmodels.batch.results` (:class:`FitList`, fit objects on demand),
:mod:`~rmodels.batch.group_warnings` (R's warnings once per distinct message, with the number of
groups) and :mod:`~rmodels.batch.progress` (the progress bar).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ..design import Design
from ..errors import DataError, FitError
from ..frame import as_data_frame
from ..models import Family, as_family
from ..models.glm import GLM, glm_control, response_matrix, warning_class
from ..models.glm import glm as glm_single
from ..models.lm import LM
from ..models.lm import lm as lm_single
from .compiled import expected_fit_seconds, fit_glm_columns, fit_lm_columns
from .designs import stack_designs
from .groups import as_by, split_groups, subset_mask
from .progress import Progress
from .results import FitList, GroupRefit

__all__ = ["lm", "glm"]

MAX_THREADS = 4096


def checked_threads(threads: Any) -> int:
    """``threads`` as a count of worker threads (0 = all cores), refused unless a whole number
    from 0 to :data:`MAX_THREADS`."""
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, (int, np.integer)) \
            or not 0 <= int(threads) <= MAX_THREADS:
        raise DataError(f"'threads' must be a whole number from 0 (all cores) to {MAX_THREADS}, "
                        f"not {threads!r}")
    return int(threads)


def lm_response(d: Design) -> np.ndarray:
    """lm()'s response of a design (R's messages for none or a factor)."""
    if d.y is None:
        raise DataError("lm() needs a response: the formula has no left-hand side")
    if d.y_factor is not None:
        raise DataError(f"the response '{d.response_name}' is a factor; lm() needs a numeric "
                        "response")
    return np.asarray(d.y, dtype=np.float64)


def lm(formula: str, data: pd.DataFrame, weights: Any = None, subset: Any = None,
       offset: Any = None, na_action: str = "omit", tol: float = 1e-7,
       singular_ok: bool = True, contrasts: Optional[dict] = None, data_name: str = "data",
       *, by: Union[str, Sequence[str], None] = None, threads: int = 0,
       drop: bool = False, progress: Optional[bool] = None) -> Union[LM, FitList]:
    """R's ``lm()``; with ``by`` one fit per group, as
    ``lapply(split(data, data[by]), function(s) lm(formula, s, ...))``.

    ``by``: a column name or a list of names; groups are ordered as R's ``split(...,
    lex.order = TRUE)`` (the first column varies slowest); with ``drop=False`` (R's default)
    every combination of levels is a group, an empty one failing with "0 (non-NA) cases".
    ``weights``/``offset``: column names or arrays over all rows of ``data``; ``subset``: a
    boolean mask (or positions) over the rows of ``data``, applied within each group.
    ``threads``: worker threads for the fits (0 = all cores); results do not depend on it.
    ``progress``: a progress bar (tqdm) on standard error; None shows it for work expected to
    take more than about two seconds when standard error is a terminal.
    Returns a :class:`FitList`; other arguments as :func:`rmodels.models.lm.lm`.
    """
    data = as_data_frame(data)
    if by is None:
        return lm_single(formula, data, weights=weights, subset=subset, offset=offset,
                         na_action=na_action, tol=tol, singular_ok=singular_ok,
                         contrasts=contrasts, data_name=data_name)
    if not isinstance(data, pd.DataFrame):
        raise DataError("'data' must be a pandas DataFrame")
    threads = checked_threads(threads)
    groups = split_groups(data, as_by(by), drop)
    mask = subset_mask(subset, len(data))
    refit = GroupRefit(lm_single, formula, data, dict(
        na_action=na_action, tol=tol, singular_ok=singular_ok, contrasts=contrasts,
        data_name=data_name), weights=weights, offset=offset, mask=mask)
    args = dict(weights=weights, offset=offset, na_action=na_action, contrasts=contrasts)
    with Progress(progress, "lm by group") as bar:
        sd = stack_designs(formula, data, groups, args, mask, lm_response, bar,
                           lambda n, p: expected_fit_seconds(n, p, False, threads))
        if sd.response_ndim > 1:  # cbind(...) responses: each group's mlm fit on demand
            sd.warnings.issue(groups.label)
            return FitList(groups, refit, "lm", column_order=sd.full_columns)
        cols = fit_lm_columns(sd, tol, singular_ok, threads, bar)
    sd.warnings.issue(groups.label)
    return FitList(groups, refit, "lm", cols, column_order=sd.full_columns)


def glm(formula: str, data: pd.DataFrame, family: Union[str, Family, None] = None,
        weights: Any = None, subset: Any = None, offset: Any = None, na_action: str = "omit",
        start: Sequence[float] | None = None, etastart: Any = None, mustart: Any = None,
        control: dict | None = None, *, data_name: str = "data",
        by: Union[str, Sequence[str], None] = None, threads: int = 0,
        drop: bool = False, progress: Optional[bool] = None) -> Union[GLM, FitList]:
    """R's ``glm()``; with ``by`` one fit per group, as
    ``lapply(split(data, data[by]), function(s) glm(formula, family, s, ...))``.

    Grouping, ``weights``/``offset``/``subset``, ``threads``, ``drop`` and ``progress`` as
    :func:`lm`; ``start``/``etastart``/``mustart`` are not available with ``by``. Returns a
    :class:`FitList`; other arguments as :func:`rmodels.models.glm.glm`.
    """
    data = as_data_frame(data)
    if by is None:
        return glm_single(formula, data, family=family, weights=weights, subset=subset,
                          offset=offset, na_action=na_action, start=start, etastart=etastart,
                          mustart=mustart, control=control, data_name=data_name)
    if start is not None or etastart is not None or mustart is not None:
        raise FitError("start, etastart and mustart are not available with 'by'")
    if not isinstance(data, pd.DataFrame):
        raise DataError("'data' must be a pandas DataFrame")
    threads = checked_threads(threads)
    fam = as_family("gaussian" if family is None else family)
    ctrl, _ = glm_control(control)
    groups = split_groups(data, as_by(by), drop)
    mask = subset_mask(subset, len(data))
    refit = GroupRefit(glm_single, formula, data, dict(
        family=family, na_action=na_action, control=control, data_name=data_name),
        weights=weights, offset=offset, mask=mask)
    args = dict(weights=weights, offset=offset, na_action=na_action, contrasts=None)
    keep_rows = fam.family not in ("binomial", "poisson", "gaussian") and not fam.is_quasi
    with Progress(progress, "glm by group") as bar:
        sd = stack_designs(formula, data, groups, args, mask,
                           lambda d: response_matrix(d, fam), bar,
                           lambda n, p: expected_fit_seconds(n, p, True, threads),
                           by_sources=True)
        cols = fit_glm_columns(sd, fam, ctrl, threads, bar, keep_rows)
    sd.warnings.add_kinds(cols.extra["warnings"], cols.extra["warning_kinds"], warning_class)
    sd.warnings.issue(groups.label)
    return FitList(groups, refit, "glm", cols, family=fam, column_order=sd.full_columns,
                   row_bounds=sd.row_ptr)
