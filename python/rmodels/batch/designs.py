"""Grouped fits, stage 2: every group's design, stacked for one compiled call.

The model matrix of the whole data is built once. A group whose rows contain every level of
every factor of the model frame, with a formula made only of element-wise functions, has exactly
those rows of it as its own model matrix (R's ``drop.unused.levels`` drops nothing), so it is
described by row positions alone. Any other group (a level missing, a data-dependent transform
such as ``poly``, ``scale``, ``ns``, ``cut`` in the formula) gets its design from its own rows
with :func:`rmodels.design.build_design`, as R does.

The result, :class:`StackedDesign`, is the input of the compiled call: one source matrix (the
whole-data model matrix, and the own designs below it), and for group ``g`` its rows
``rows[row_ptr[g]:row_ptr[g+1]]`` and its columns ``cols[col_ptr[g]:col_ptr[g+1]]`` in the union
of the groups' coefficient names (whole-data columns first, then names met in group order).
For glm, when every group takes its rows of the whole-data design and each of its terms is a
numeric variable or a factor, the whole-data matrix is not built: the compiled fit builds each
group's matrix from the columns' sources (:func:`column_sources`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from .. import _core
from ..design import Design, build_design
from ..design.fill import term_components
from ..errors import DataError, RModelsError
from ..formula.ast import BinOp, Bool, Call, Name, Num, Paren, Str, UnaryOp
from .group_warnings import GroupWarnings, caught_pairs
from .groups import Groups, group_data, slice_arg
from .progress import Progress

__all__ = ["StackedDesign", "stack_designs", "POINTWISE", "STATUS_OK", "STATUS_FIT",
           "STATUS_DATA"]

STATUS_OK, STATUS_FIT, STATUS_DATA = 0, 1, 2
OWN_DESIGN_SECONDS = 3e-3  # rough time to build one group's design from its own rows

# Functions whose value at a row depends on that row only (given their constant arguments):
# the whole-data model frame restricted to a group's rows is then the group's own model frame,
# once every factor level is present in the group. Everything else (poly, scale, ns, bs, cut,
# mean, ...) makes the groups' designs be built from their own rows.
POINTWISE = frozenset({
    "I", "log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "abs", "sin", "cos", "tan",
    "atan", "tanh", "floor", "ceiling", "trunc", "sign", "round", "factor", "as.factor",
    "ordered", "as.ordered", "relevel", "C", "as.numeric", "as.double", "as.integer", "offset",
    "cbind", "ifelse", "droplevels", "interaction", "as.logical", "as.character", "pmin",
    "pmax"})


def pointwise(expr: Any, functions: Optional[frozenset] = None) -> bool:
    """Whether a formula variable is an element-wise function of the data's columns (of the
    functions in ``functions``, by default :data:`POINTWISE`)."""
    if functions is None:
        functions = POINTWISE
    if isinstance(expr, (Name, Num, Str, Bool)):
        return True
    if isinstance(expr, BinOp):
        return pointwise(expr.left, functions) and pointwise(expr.right, functions)
    if isinstance(expr, UnaryOp):
        return pointwise(expr.operand, functions)
    if isinstance(expr, Paren):
        return pointwise(expr.expr, functions)
    if isinstance(expr, Call):
        return expr.fun in functions and all(pointwise(a, functions) for a in expr.args) and \
            all(pointwise(a, functions) for _, a in expr.kwargs)
    return False


# A model's response as the compiled fit takes it (lm: y; glm: the response matrix); raises
# RModelsError with R's message when the design cannot be fitted by that model.
Response = Callable[[Design], np.ndarray]


@dataclass
class StackedDesign:
    """The groups' problems over one source (see the module doc). ``status``/``message``:
    groups whose design already failed (``STATUS_FIT`` / ``STATUS_DATA`` and R's message).
    With ``sources`` (see :func:`column_sources`), ``X`` only gives the shape: an untouched
    ``np.zeros`` (no memory is used), each group's model matrix built by the compiled fit."""

    X: np.ndarray
    Y: np.ndarray
    weights: Optional[np.ndarray]
    offset: Optional[np.ndarray]
    rows: np.ndarray
    row_ptr: np.ndarray
    cols: np.ndarray
    col_ptr: np.ndarray
    names: list
    intercept: bool
    intercept_pos: np.ndarray
    status: np.ndarray
    message: np.ndarray
    warnings: GroupWarnings
    response_ndim: int = 1
    formula_text: str = ""
    full_columns: list = field(default_factory=list)
    sources: Optional[list] = None  # X's columns by what they are made of (X then not built)


@dataclass
class _Own:
    """Designs built from a group's own rows (or the error that stopped them)."""

    designs: dict = field(default_factory=dict)  # group -> (Design, Y)
    errors: dict = field(default_factory=dict)  # group -> RModelsError


def _design_of(formula: str, data: pd.DataFrame, **kwargs: Any) -> tuple[Any, list]:
    """build_design with its warnings recorded as (category, message) pairs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            d: Any = build_design(formula, data, **kwargs)
        except RModelsError as exc:
            d = exc
    return d, caught_pairs(caught)


def _full_design(formula: str, data: pd.DataFrame, args: dict) -> tuple[Optional[Design], list]:
    """The whole-data design when its rows are the groups' designs (pointwise formula); its
    model matrix is built when first asked for."""
    d, caught = _design_of(formula, data, materialize=False, **args)
    if isinstance(d, Exception) or d.bars or not all(pointwise(e) for e in d.terms.variables):
        return None, []
    return d, caught


def segment_counts(flags: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The number of true ``flags`` in each segment ``bounds[g]:bounds[g + 1]``."""
    if flags.all():
        return np.diff(bounds)
    c = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    return c[bounds[1:]] - c[bounds[:-1]]


def _complete_groups(full: Design, groups: Groups, design_pos: np.ndarray) -> np.ndarray:
    """Groups with at least one design row whose rows hold every level of every factor (and
    every distinct string) of the whole-data model frame: one compiled pass over the design
    rows in group order per factor."""
    every = design_pos is groups.order  # every row is a design row (no −1 to count)
    ok = (groups.sizes() if every else segment_counts(design_pos >= 0, groups.bounds)) > 0
    if not full.xlevels and full.y_factor is None:
        return ok  # no factor in the model frame
    pos = np.ascontiguousarray(design_pos, dtype=np.int64)
    for codes, L in full.frame_factor_codes():
        ok &= _core.groups_with_all_levels(np.ascontiguousarray(codes), int(L), pos,
                                           groups.bounds)
    return ok


def _design_positions(full: Design, groups: Groups, n_data: int,
                      mask: Optional[np.ndarray]) -> np.ndarray:
    """For every row of ``groups.order``: its row in the whole-data design, or −1 (dropped for
    NA or outside ``subset``)."""
    if mask is None and len(full.kept) == n_data:  # every row is in the design, in order
        return groups.order
    where = np.full(n_data, -1, dtype=np.int64)
    where[np.asarray(full.kept, dtype=np.int64)] = np.arange(len(full.kept))
    pos = where[groups.order]
    if mask is not None:
        pos[~mask[groups.order]] = -1
    return pos


def _own_designs(formula: str, data: pd.DataFrame, groups: Groups, todo: np.ndarray,
                 args: dict, mask: Optional[np.ndarray], response: Response,
                 warn: GroupWarnings, tick: Callable[[int], None]) -> _Own:
    own = _Own()
    for g in todo:
        rows = groups.rows(int(g))
        d, caught = _design_of(
            formula, group_data(data, rows), subset=None if mask is None else mask[rows],
            weights=slice_arg(args["weights"], rows), offset=slice_arg(args["offset"], rows),
            na_action=args["na_action"], contrasts=args["contrasts"])
        warn.add_group(int(g), caught)
        tick(1)
        if isinstance(d, Exception):
            own.errors[int(g)] = d
            continue
        try:
            own.designs[int(g)] = (d, response(d))
        except RModelsError as exc:
            own.errors[int(g)] = exc
    return own


def _status_of(exc: Exception) -> int:
    return STATUS_DATA if isinstance(exc, DataError) else STATUS_FIT


class _Stacker:
    """Assembles the source arrays and the per-group row / column lists."""

    def __init__(self, G: int) -> None:
        self.names: list = []
        self.pos: dict = {}
        self.blocks: list = []  # (X, Y, w, o, column positions)
        self.n_src = 0
        self.row_parts: list = [None] * G
        self.col_parts: list = [None] * G

    def columns(self, names: list) -> np.ndarray:
        for nm in names:
            if nm not in self.pos:
                self.pos[nm] = len(self.names)
                self.names.append(nm)
        return np.array([self.pos[nm] for nm in names], dtype=np.int64)

    def add_block(self, X: np.ndarray, Y: np.ndarray, w: Any, o: Any, names: list) -> tuple:
        cols = self.columns(names)
        start = self.n_src
        self.blocks.append((X, Y, w, o, cols))
        self.n_src += X.shape[0]
        return start, cols

    def source(self, k: int) -> tuple:
        """The stacked X (Fortran), Y (n × k), weights and offset over all blocks."""
        P = len(self.names)
        if len(self.blocks) == 1 and len(self.blocks[0][4]) == P and \
                np.array_equal(self.blocks[0][4], np.arange(P)):
            X, Y, w, o, _ = self.blocks[0]
            return (np.asfortranarray(X, dtype=np.float64), Y.reshape(len(Y), k), w, o)
        X = np.zeros((self.n_src, P), order="F")
        Y = np.zeros((self.n_src, k), order="F")
        any_w = any(b[2] is not None for b in self.blocks)
        any_o = any(b[3] is not None for b in self.blocks)
        w = np.ones(self.n_src) if any_w else None
        o = np.zeros(self.n_src) if any_o else None
        a = 0
        for Xb, Yb, wb, ob, cols in self.blocks:
            b = a + Xb.shape[0]
            X[a:b, cols] = Xb
            Y[a:b] = Yb.reshape(len(Yb), k)
            if wb is not None:
                w[a:b] = wb
            if ob is not None:
                o[a:b] = ob
            a = b
        return X, Y, w, o


@dataclass
class _WholeData:
    """The whole-data design and the groups that take their rows of it ("fast" groups)."""

    design: Optional[Design] = None
    Y: Optional[np.ndarray] = None
    positions: Optional[np.ndarray] = None  # design row of each row of groups.order, or -1
    fast: Optional[np.ndarray] = None


def _whole_data(formula: str, data: pd.DataFrame, groups: Groups, args: dict,
                mask: Optional[np.ndarray], response: Response, status: np.ndarray,
                message: np.ndarray, warn: GroupWarnings) -> _WholeData:
    """The whole-data design, which groups can use its rows, and its response (a response
    error fails those groups with R's message)."""
    out = _WholeData(fast=np.zeros(len(groups), dtype=bool))
    full, caught = _full_design(formula, data, dict(args, subset=mask))
    if full is None:
        return out
    out.design = full
    out.positions = _design_positions(full, groups, len(data), mask)
    out.fast = _complete_groups(full, groups, out.positions)
    try:
        out.Y = response(full)
    except RModelsError as exc:
        status[out.fast] = _status_of(exc)
        message[out.fast] = str(exc)
        out.fast[:] = False
    warn.add_many(np.flatnonzero(out.fast), caught)
    return out


def column_sources(d: Design) -> Optional[list]:
    """The model matrix's columns by what they are made of, as the compiled glm fit takes them
    (``("ones",)``, ``("num", values)``, ``("coding", codes, coding column)``: the same values
    as the built matrix), or None when a term is an interaction or a matrix of another kind."""
    sp = d.spec
    out: list = [("ones",)] if sp.intercept else []
    vals = dict(enumerate(d.frame_parts[0]))
    for _, width, comps in term_components(d.n, sp.codings, vals, sp.contrast_mats):
        if not width:
            continue
        if len(comps) != 1:
            return None
        kind, *arrays = comps[0]
        if kind == "num":
            out += [("num", np.ascontiguousarray(arrays[0][:, j]))
                    for j in range(arrays[0].shape[1])]
        else:
            codes, coding = arrays
            out += [("coding", codes, np.ascontiguousarray(coding[:, j]))
                    for j in range(coding.shape[1])]
    return out if len(out) == len(d.columns) else None


def _place_fast(whole: _WholeData, groups: Groups, st: _Stacker, sizes: np.ndarray,
                ncols: np.ndarray, X: np.ndarray) -> tuple:
    """The fast groups' rows of the whole-data design (model matrix ``X``): (their design
    rows in group order, the design's columns in the union)."""
    full, fast = whole.design, whole.fast
    _, full_cols = st.add_block(X, whole.Y, full.weights, full.offset, full.columns)
    # the rows kept: design rows (all when the positions are the groups' order) of fast groups
    keep = None if whole.positions is groups.order else whole.positions >= 0
    if not fast.all():
        in_fast = np.repeat(fast, groups.sizes())
        keep = in_fast if keep is None else keep & in_fast
    rows = whole.positions if keep is None or keep.all() else whole.positions[keep]
    sizes[fast] = (groups.sizes() if keep is None else segment_counts(keep, groups.bounds))[fast]
    ncols[fast] = len(full_cols)
    return rows, full_cols


def _place_own(own: _Own, st: _Stacker, sizes: np.ndarray, ncols: np.ndarray) -> tuple:
    """The own designs below the whole-data block: each group's source rows and columns."""
    own_rows, own_cols = {}, {}
    for g, (d, Y) in own.designs.items():
        X = d.model_matrix_array()
        start, cols = st.add_block(X, Y, d.weights, d.offset, d.columns)
        own_rows[g] = np.arange(start, start + X.shape[0], dtype=np.int64)
        own_cols[g] = cols
        sizes[g], ncols[g] = X.shape[0], len(cols)
    return own_rows, own_cols


def stack_designs(formula: str, data: pd.DataFrame, groups: Groups, args: dict,
                  mask: Optional[np.ndarray], response: Response,
                  progress: Progress, fit_seconds: Callable[[int, int], float],
                  by_sources: bool = False) -> StackedDesign:
    """Every group's design (see the module doc). ``args``: build_design's ``weights``,
    ``offset``, ``na_action``, ``contrasts``; ``mask``: the subset over data's rows. The
    progress bar is started here (its steps: own designs, then fits), with the estimate
    ``fit_seconds(rows, columns)`` of the fits' time. ``by_sources``: when every group takes
    its rows of the whole-data design, describe that design by its column sources instead of
    building its matrix (for a compiled fit that takes them)."""
    G = len(groups)
    warn = GroupWarnings(G)
    status = np.zeros(G, dtype=np.int64)
    message = np.full(G, "", dtype=object)
    whole = _whole_data(formula, data, groups, args, mask, response, status, message, warn)
    full, fast = whole.design, whole.fast
    todo = np.flatnonzero(~fast)
    progress.start(len(todo) + G, OWN_DESIGN_SECONDS * len(todo) + fit_seconds(
        int(groups.sizes().sum()), len(full.columns) if full is not None else 4))
    own = _own_designs(formula, data, groups, todo, args, mask, response, warn, progress.tick)
    for g, exc in own.errors.items():
        if status[g] == STATUS_OK:
            status[g], message[g] = _status_of(exc), str(exc)
    st = _Stacker(G)
    sizes, ncols = np.zeros(G, dtype=np.int64), np.zeros(G, dtype=np.int64)
    fast_rows = full_cols = sources = None
    if fast.any():
        if by_sources and not own.designs:
            sources = column_sources(full)
        X = full.model_matrix_array() if sources is None else \
            np.zeros((full.n, len(full.columns)), order="F")
        fast_rows, full_cols = _place_fast(whole, groups, st, sizes, ncols, X)
    own_rows, own_cols = _place_own(own, st, sizes, ncols)
    ok = status == STATUS_OK
    sizes[~ok], ncols[~ok] = 0, 0
    row_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    col_ptr = np.concatenate([[0], np.cumsum(ncols)]).astype(np.int64)
    if own_rows:
        rows, cols = _interleave(G, fast & ok, own_rows, own_cols, row_ptr, fast_rows,
                                 full_cols)
    elif fast_rows is not None:
        rows, cols = fast_rows, np.tile(full_cols, int(fast.sum()))
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
    out = _stacked(st, rows, cols, row_ptr, col_ptr, status, message, warn, formula,
                   full if full is not None else next(
                       (d for d, _ in own.designs.values()), None),
                   list(full.columns) if full is not None else [])
    out.sources = sources
    return out


def _stacked(st: _Stacker, rows: np.ndarray, cols: np.ndarray, row_ptr: np.ndarray,
             col_ptr: np.ndarray, status: np.ndarray, message: np.ndarray, warn: GroupWarnings,
             formula: str, d0: Optional[Design], full_columns: list) -> StackedDesign:
    k = 1
    if st.blocks:
        Yb = st.blocks[0][1]
        k = 1 if Yb.ndim == 1 else Yb.shape[1]
        X, Y, w, o = st.source(k)
    else:
        X, Y, w, o = np.zeros((0, 0), order="F"), np.zeros((0, k), order="F"), None, None
    return StackedDesign(
        X=X, Y=np.asfortranarray(Y.reshape(len(Y), -1), dtype=np.float64),
        weights=None if w is None else np.ascontiguousarray(w, dtype=np.float64),
        offset=None if o is None else np.ascontiguousarray(o, dtype=np.float64),
        rows=np.ascontiguousarray(rows, dtype=np.int64), row_ptr=row_ptr,
        cols=np.ascontiguousarray(cols, dtype=np.int64), col_ptr=col_ptr, names=st.names,
        intercept=bool(d0.intercept) if d0 is not None else False,
        intercept_pos=_intercept_positions(st.names, cols, col_ptr), status=status,
        message=message, warnings=warn, response_ndim=k,
        formula_text=(d0.formula_text if d0 is not None else "") or formula,
        full_columns=full_columns)


def _interleave(G: int, fast: np.ndarray, own_rows: dict, own_cols: dict, row_ptr: np.ndarray,
                fast_rows: Optional[np.ndarray], full_cols: Optional[np.ndarray]) -> tuple:
    """Rows and columns of every group in group order, fast groups and own designs mixed."""
    rparts, cparts = [], []
    fast_bounds = np.concatenate([[0], np.cumsum(np.diff(row_ptr)[fast])])
    f = 0
    for g in range(G):
        if fast[g]:
            rparts.append(fast_rows[fast_bounds[f]:fast_bounds[f + 1]])
            cparts.append(full_cols)
            f += 1
        elif g in own_rows:
            rparts.append(own_rows[g])
            cparts.append(own_cols[g])
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(rparts) if rparts else empty,
            np.concatenate(cparts) if cparts else empty)


def _intercept_positions(names: list, cols: np.ndarray, col_ptr: np.ndarray) -> np.ndarray:
    """Each group's position of "(Intercept)" among its columns, or −1."""
    G = len(col_ptr) - 1
    out = np.full(G, -1, dtype=np.int64)
    if "(Intercept)" not in names:
        return out
    j = names.index("(Intercept)")
    hit = np.flatnonzero(cols == j)
    gid = np.searchsorted(col_ptr, hit, side="right") - 1
    out[gid] = hit - col_ptr[gid]
    return out
