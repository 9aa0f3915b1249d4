"""Grouped fits, stage 5: the result of a grouped call, :class:`FitList`.

It keeps every group's results as arrays (:class:`~rmodels.batch.compiled.GroupColumns`); its
``tidy``/``glance``/``coef`` are computed over them (:mod:`rmodels.batch.tables`). A group's own
fit object (:class:`~rmodels.models.lm.LM` / :class:`~rmodels.models.glm.GLM`) is built only when
asked for (indexing, :meth:`FitList.get`, iteration), by fitting the single model on the group's
rows (a :class:`GroupRefit`), and is then kept; a failed group is a :class:`FailedFit`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np
import pandas as pd

from ..errors import DataError, FitError, RModelsError
from ..models import Family
from . import tables
from .compiled import GroupColumns
from .designs import STATUS_DATA
from .groups import Groups, group_data, slice_arg

__all__ = ["FitList", "FailedFit", "GroupRefit"]


class FailedFit:
    """A group whose fit failed: ``error`` is the exception, ``status`` its message (R's)."""

    def __init__(self, group: dict, error: Exception) -> None:
        self.group = group
        self.error = error
        self.status = str(error)

    def __repr__(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.group.items())
        return f"<FailedFit {key}: {self.status}>"


@dataclass
class GroupRefit:
    """How to fit one group alone: ``single(formula, group's rows of data, **args)`` with the
    ``weights``/``offset`` arrays and the ``subset`` mask restricted to the group's rows (column
    names stay names), R's row names of ``split``; warnings already issued by the grouped call
    are not repeated."""

    single: Callable[..., Any]
    formula: str
    data: pd.DataFrame
    args: dict = field(default_factory=dict)
    weights: Any = None
    offset: Any = None
    mask: Optional[np.ndarray] = None

    def fit(self, rows: np.ndarray) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.single(
                self.formula, group_data(self.data, rows),
                weights=slice_arg(self.weights, rows), offset=slice_arg(self.offset, rows),
                subset=None if self.mask is None else self.mask[rows], **self.args)


class FitList:
    """The fits of a grouped call, one per group in R's ``split`` order.

    ``by`` lists the grouping columns, ``keys`` the group values as tuples, :meth:`groups` them
    as a DataFrame. ``fits[k]``, :meth:`get` and iteration give a group's fit object (built on
    first use; see the module doc) with a ``group`` attribute ``{by column: value}``, or a
    :class:`FailedFit`. :meth:`tidy` and :meth:`glance` stack the groups' tables with the group
    columns first and a ``status`` column ("ok" or the error message); :meth:`coef` is a
    DataFrame with one row per group. ``status`` is a pandas Series indexed by the group keys
    (the index of :meth:`coef`).
    """

    def __init__(self, groups: Groups, refit: GroupRefit, kind: str,
                 columns: Optional[GroupColumns] = None, family: Optional[Family] = None,
                 column_order: Optional[list] = None,
                 row_bounds: Optional[np.ndarray] = None) -> None:
        self._groups = groups
        self._refit = refit
        self._kind = kind
        self._columns = columns
        self._family = family
        self._column_order = list(column_order or [])
        self._fits: dict = {}
        self._key_index: Optional[dict] = None
        self._keys: Optional[list] = None
        self._row_bounds = row_bounds  # each group's rows in the stacked rows (glm's AIC)

    # -- groups -------------------------------------------------------------------------------

    @property
    def by(self) -> list:
        return list(self._groups.by)

    @property
    def keys(self) -> list:
        """The group values, one tuple per group (one value per ``by`` column)."""
        if self._keys is None:
            self._keys = self._groups.keys
        return self._keys

    def groups(self) -> pd.DataFrame:
        """The group values, one row per group, one column per ``by`` column."""
        return self._groups.frame()

    def __len__(self) -> int:
        return len(self._groups)

    def _messages(self) -> np.ndarray:
        if self._columns is not None:
            c = self._columns
            return np.where(c.ok, "ok", c.message).astype(object)
        return np.array([f.status if isinstance(f, FailedFit) else "ok"
                         for f in (self[i] for i in range(len(self)))], dtype=object)

    @property
    def status(self) -> pd.Series:
        """Per group: "ok" or the message of the error that stopped its fit; indexed by the
        group keys (as :meth:`coef`)."""
        return pd.Series(self._messages(), index=self._groups.index(), name="status")

    # -- the groups' fit objects --------------------------------------------------------------

    def __getitem__(self, k: Union[int, slice]) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        i = int(k)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("group index out of range")
        if i not in self._fits:
            self._fits[i] = self._build(i)
        return self._fits[i]

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def get(self, *key: Any) -> Any:
        """The fit of the group with these ``by`` values (one value per ``by`` column)."""
        if self._key_index is None:
            self._key_index = {k: i for i, k in enumerate(self.keys)}
        try:
            return self[self._key_index[tuple(key)]]
        except (KeyError, TypeError):
            raise KeyError(key) from None

    def _build(self, i: int) -> Any:
        group = dict(zip(self.by, self._groups.keys_of(i)))
        c = self._columns
        if c is not None and not c.ok[i]:
            cls = DataError if c.status[i] == STATUS_DATA else FitError
            return FailedFit(group, cls(c.message[i]))
        try:
            fit = self._refit.fit(self._groups.rows(i))
        except RModelsError as exc:
            if c is not None:  # the group fitted in the grouped call: a bug, not R's error
                raise
            return FailedFit(group, exc)  # (multiple-response fits: no columns kept)
        fit.group = group
        return fit

    # -- stacked tables -----------------------------------------------------------------------

    def _stack_frames(self, body: pd.DataFrame, counts: np.ndarray) -> pd.DataFrame:
        gid = np.repeat(np.arange(len(self)), counts)
        cols = self._groups.key_columns(gid)
        for c in body.columns:
            cols[c] = body[c].array
        code, uniq = pd.factorize(self._messages())
        cols["status"] = tables.take_strings(list(uniq), code[gid])
        return pd.DataFrame(cols, copy=False)  # one frame of new arrays, no column inserts

    def _stack_objects(self, method: str, kwargs: dict) -> pd.DataFrame:
        """Every group's own ``method(**kwargs)`` stacked (a failed group: one NaN row)."""
        parts, counts, columns = [], [], None
        for f in self:
            if isinstance(f, FailedFit):
                parts.append(None)
                counts.append(1)
                continue
            t = getattr(f, method)(**kwargs)
            columns = list(t.columns) if columns is None else columns
            parts.append(t)
            counts.append(len(t))
        columns = columns or []
        filled = [pd.DataFrame({c: [np.nan] for c in columns}) if p is None else p
                  for p in parts]
        body = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=columns)
        return self._stack_frames(body, np.asarray(counts, dtype=np.int64))

    def tidy(self, conf_int: bool = False, conf_level: float = 0.95,
             **kwargs: Any) -> pd.DataFrame:
        """Every group's ``tidy()`` stacked: group columns, broom's columns, ``status`` (a
        failed group has one row with NaN values). Computed over the groups' arrays, except
        for glm's profile-likelihood intervals (``conf_int``) and ``exponentiate``, which take
        each group's fit object."""
        c = self._columns
        if c is not None and self._kind == "lm" and not kwargs:
            return self._stack_frames(*tables.lm_tidy(c, conf_int, conf_level))
        if c is not None and self._kind == "glm" and not conf_int and \
                not kwargs.get("exponentiate"):
            return self._stack_frames(*tables.glm_tidy(c, self._family))
        if conf_int:
            kwargs.update(conf_int=True, conf_level=conf_level)
        return self._stack_objects("tidy", kwargs)

    def glance(self, **kwargs: Any) -> pd.DataFrame:
        """Every group's ``glance()`` row stacked: group columns, broom's columns, ``status``."""
        c = self._columns
        if c is not None and not kwargs and self._kind == "lm":
            return self._stack_frames(*tables.lm_glance(c))
        if c is not None and not kwargs and self._kind == "glm":
            return self._stack_frames(*tables.glm_glance(c, self._family, self._row_bounds))
        return self._stack_objects("glance", kwargs)

    def coef(self) -> pd.DataFrame:
        """Coefficients, one row per group (indexed by the group values), one column per
        coefficient name met in any group; NaN where a group has no such coefficient, for
        aliased coefficients and for failed groups."""
        if self._columns is not None:
            M, names = tables.coef_matrix(self._columns, self._column_order)
        else:
            M, names = self._coef_of_objects()
        return pd.DataFrame(M, index=self._groups.index(), columns=pd.Index(names))

    coefficients = coef

    def _coef_of_objects(self) -> tuple[np.ndarray, list]:
        names, seen, series = list(self._column_order), set(self._column_order), []
        for f in self:
            if isinstance(f, FailedFit):
                series.append(None)
                continue
            cf = f.coef()
            if isinstance(cf, pd.DataFrame):
                raise FitError("coef() of a FitList needs single-response fits")
            for nm in cf.index:
                if nm not in seen:
                    seen.add(nm)
                    names.append(nm)
            series.append(cf)
        pos = {nm: j for j, nm in enumerate(names)}
        M = np.full((len(self), len(names)), np.nan)
        met = np.zeros(len(names), dtype=bool)
        for i, cf in enumerate(series):
            if cf is not None:
                at = [pos[nm] for nm in cf.index]
                M[i, at] = cf.to_numpy(dtype=float)
                met[at] = True
        return M[:, met], [nm for nm, k in zip(names, met) if k]

    def __repr__(self) -> str:
        ok = int((self._messages() == "ok").sum())
        return f"<FitList: {len(self)} groups by {', '.join(self.by)}; {ok} fitted>"
