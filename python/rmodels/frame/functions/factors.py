"""frame functions, factors: R's factor functions callable in a formula — ``factor``,
``as.factor``, ``ordered``, ``relevel``, ``C`` (with ``contr.xxx(...)`` calls), ``droplevels``,
``interaction`` and ``cut``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

import numpy as np

from ...errors import DataError
from ...formula.ast import (
    Call,
    Name,
    Str,
)
from ...formula.deparse import deparse
from ...limits import LIMITS
from ...printing import formatC
from .. import transforms as tr
from ..interpreter import (
    Env,
    as_factor,
    as_numeric,
    eval_constant,
    evaluate,
    formula_error,
    match_args,
)
from ..values import (
    Char,
    Factor,
    Logical,
    Mat,
    char_to_factor,
    format_number_label,
    numeric_to_factor,
)


def _levels_arg(v) -> list:
    out = _levels_list(v)
    seen: set = set()
    for k, lev in enumerate(out):
        if lev in seen:  # R's factor(): 'factor level [2] is duplicated'
            raise DataError(f"factor level [{k + 1}] is duplicated")
        seen.add(lev)
    return out


def _levels_list(v) -> list:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [str(x) for x in v]
    if isinstance(v, np.ndarray):
        return [format_number_label(x) for x in v]
    if isinstance(v, float):
        return [format_number_label(v)]
    raise DataError("invalid 'levels' argument")


def _fn_factor(node, env, top, label, ordered_default: bool = False):
    a = match_args(node, env, ["x", "levels", "labels", "exclude", "ordered"], required=0)
    if "x" not in a:
        raise formula_error(env, 'argument "x" is missing, with no default', node)
    x = evaluate(a["x"], env)
    levels = _levels_arg(eval_constant(a["levels"], env)) if "levels" in a else None
    ordered = bool(eval_constant(a["ordered"], env)) if "ordered" in a else ordered_default
    if isinstance(x, Factor):
        if levels is None:
            f = replace(x.drop_unused(), kind="factor", contrasts=None)
        else:
            f = char_to_factor(x.labels(), levels)
    elif isinstance(x, Char):
        f = x.to_factor(levels)
    elif isinstance(x, Logical):
        if levels is None:
            f = as_factor(x)
        else:
            lab = np.where(np.isnan(x.values), None,
                           np.where(x.values == 1, "TRUE", "FALSE")).astype(object)
            f = char_to_factor(lab, levels)
    elif isinstance(x, np.ndarray):
        f = numeric_to_factor(x, levels)
    else:
        raise DataError(f"cannot make a factor of '{deparse(a['x'])}'")
    if "labels" in a:
        labs = _levels_arg(eval_constant(a["labels"], env))
        if len(labs) == len(f.levels):
            f = replace(f, levels=labs)
        elif len(labs) == 1:
            f = replace(f, levels=[f"{labs[0]}{i + 1}" for i in range(len(f.levels))])
        else:
            raise DataError(f"invalid 'labels'; length {len(labs)} should be 1 or "
                            f"{len(f.levels)}")
    if f.kind == "factor" and f.ordered == ordered and f.contrasts is None:
        return f  # a new Factor already (never x itself) with the fields asked for
    return replace(f, kind="factor", ordered=ordered, contrasts=None)


def _fn_as_factor(node, env, top, label):
    a = match_args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if isinstance(x, Factor) and x.kind == "factor":
        return x
    return replace(as_factor(x), kind="factor")


def _fn_ordered(node, env, top, label):
    return _fn_factor(node, env, top, label, ordered_default=True)


def _fn_relevel(node, env, top, label):
    a = match_args(node, env, ["x", "ref"], required=2)
    x = evaluate(a["x"], env)
    if not isinstance(x, Factor) or x.kind != "factor" or x.ordered:
        raise DataError("'relevel' only for (unordered) factors")
    ref = eval_constant(a["ref"], env)
    if isinstance(ref, float):
        idx = int(ref) - 1
        if idx < 0 or idx >= len(x.levels):
            raise DataError(f"ref = {int(ref)} must be in 1L:{len(x.levels)}")
    else:
        ref = str(ref if not isinstance(ref, list) else ref[0])
        if ref not in x.levels:
            raise DataError("'ref' must be an existing level")
        idx = x.levels.index(ref)
    order = [idx] + [i for i in range(len(x.levels)) if i != idx]
    inv = np.empty(len(order), dtype=np.int32)
    inv[order] = np.arange(len(order), dtype=np.int32)
    codes = np.where(x.codes >= 0, inv[np.maximum(x.codes, 0)], -1).astype(np.int32)
    return replace(x, codes=codes, levels=[x.levels[i] for i in order], contrasts=None)


_CONTRAST_NAMES = ("contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS")


_SHORT_CONTRASTS = {"treatment": "contr.treatment", "sum": "contr.sum",
                    "helmert": "contr.helmert", "poly": "contr.poly", "SAS": "contr.SAS"}


def _contrast_call(node: Call, env: Env, n_levels: Optional[float] = None,
                   dots: Optional[dict] = None) -> tuple:
    """Evaluate ``contr.xxx(n, base =, scores =, contrasts =)`` as R: ``n`` a number (levels
    "1".."n", so columns are named by numbers) or a vector of level names."""
    fun = node.fun.split("::")[-1]
    names = ["n", "base", "contrasts", "sparse"] if fun == "contr.treatment" else \
        ["n", "scores", "contrasts", "sparse"] if fun == "contr.poly" else \
        ["n", "contrasts", "sparse"]
    a = match_args(node, env, names, required=0) if node.args or node.kwargs else {}
    kw = {k: eval_constant(v, env) for k, v in a.items()}
    kw.update(dots or {})
    n = kw.pop("n", n_levels)
    if n is None:
        raise formula_error(env, 'argument "n" is missing, with no default', node)
    levels = _levels_arg(n) if not isinstance(n, float) else [str(i + 1) for i in range(int(n))]
    if isinstance(n, float) and n < 2:
        raise DataError("not enough degrees of freedom to define contrasts")
    kw.pop("sparse", None)
    if kw.pop("contrasts", True) is False:
        M, names_ = tr.full_dummy_matrix(levels)
        return M, names_
    opts = {}
    if "base" in kw:
        opts["base"] = int(kw.pop("base"))
    if "scores" in kw:
        opts["scores"] = np.atleast_1d(np.asarray(kw.pop("scores"), dtype=float))
    if kw:
        raise formula_error(env, f"unused argument ({next(iter(kw))}) in {fun}()", node)
    return tr.contrast_matrix(fun, levels, **opts)


def _c_arguments(node: Call, env: Env) -> tuple[dict, dict]:
    """Match ``C(object, contr, how.many, ...)``: the named formals and the ``...`` arguments
    (unevaluated)."""
    pos_names = ["object", "contr", "how.many"]
    a: dict = {}
    dots: dict = {}
    for k, v in node.kwargs:
        if k in pos_names:
            a[k] = v
        else:
            dots[k] = v
    free = [nm for nm in pos_names if nm not in a]
    for nm, v in zip(free, node.args):
        a[nm] = v
    if len(node.args) > len(free):
        raise formula_error(env, "too many arguments to C()", node.args[len(free)])
    if "object" not in a:
        raise formula_error(env, 'argument "object" is missing, with no default', node)
    return a, dots


def _c_contrast(cn, f: Factor, env: Env) -> tuple[str, Any]:
    """What ``contr`` of ``C()`` names: ("name", "contr.xxx") for a contrast applied by name,
    ("func", "contr.xxx") for a contrast function, ("matrix", (M, names)) for a call."""
    if cn is None:
        return "name", "contr.poly" if f.ordered else "contr.treatment"
    if isinstance(cn, Name) and cn.id in _SHORT_CONTRASTS:
        return "name", _SHORT_CONTRASTS[cn.id]
    if isinstance(cn, Name) and cn.id in _CONTRAST_NAMES:
        return "func", cn.id
    if isinstance(cn, Str) and cn.value in _CONTRAST_NAMES:
        return "name", cn.value
    if isinstance(cn, Call) and cn.fun.split("::")[-1] in _CONTRAST_NAMES:
        return "matrix", _contrast_call(cn, env)
    raise formula_error(env, "C(): 'contr' must be a contrast such as contr.sum or "
                             "contr.treatment(3, base = 2)", cn)


def _fn_C(node, env, top, label):
    """R's ``C(object, contr, how.many, ...)``: set a factor's contrasts. A contrast given by
    name (``treatment``, ``"contr.sum"``) is applied to the factor's levels at model-matrix
    time (columns named by level where the contrast names them); a contrast function
    (``contr.sum``), a call (``contr.treatment(3, base = 2)``), ``how.many`` or extra arguments
    make R compute the matrix for 1..nlevels, so columns are named by number."""
    a, dots = _c_arguments(node, env)
    x = evaluate(a["object"], env)
    if isinstance(x, (np.ndarray, float, Mat)):
        raise DataError("object not interpretable as a factor")
    f = as_factor(x) if not isinstance(x, Factor) else x
    L = len(f.levels)
    kind, value = _c_contrast(a.get("contr"), f, env)
    how_many = None
    if "how.many" in a:
        how_many = int(eval_constant(a["how.many"], env))
    dot_vals = {k: eval_constant(v, env) for k, v in dots.items()}
    if how_many is None and not dot_vals:
        if kind == "name":
            return replace(f, kind="factor", contrasts=value)
        if kind == "func":
            M, names = tr.contrast_matrix(value, [str(i + 1) for i in range(L)])
        else:
            M, names = value
    else:
        if kind in ("name", "func"):
            M, names = _contrast_call(Call(value, ()), env, n_levels=float(L), dots=dot_vals)
        else:
            M, names = value
    M = np.asarray(M, dtype=float)
    if M.shape[0] != L:
        raise DataError("wrong number of contrast matrix rows")
    n1 = L - 1 if how_many is None else how_many
    if n1 < M.shape[1]:
        M = M[:, :n1]
        names = None if names is None else list(names)[:n1]
    elif n1 > M.shape[1]:
        raise DataError("C(): 'how.many' larger than the number of contrast columns is "
                        "not supported")
    return replace(f, kind="factor", contrasts=(M, names))


def _fn_droplevels(node, env, top, label):
    a = match_args(node, env, ["x"])
    x = evaluate(a["x"], env)
    if not isinstance(x, Factor):
        raise DataError("no applicable method for 'droplevels'")
    return x.drop_unused()


def _fn_interaction(node, env, top, label):
    """R's ``interaction(f1, f2, ..., sep = ".", drop = FALSE)``: levels with the first factor
    varying fastest (lex.order = FALSE)."""
    facs = [as_factor(evaluate(x, env)) for x in node.args]
    opts = {k: eval_constant(v, env) for k, v in node.kwargs}
    sep = str(opts.pop("sep", "."))
    drop = bool(opts.pop("drop", False))
    if opts:
        raise formula_error(env, f"unused argument ({next(iter(opts))}) in interaction()", node)
    if not facs:
        raise formula_error(env, "No factors specified", node)
    codes = facs[0].codes.astype(np.int64)
    levels = list(facs[0].levels)
    ok = codes >= 0
    for f in facs[1:]:
        codes = codes + len(levels) * np.maximum(f.codes, 0)
        ok &= f.codes >= 0
        levels = [f"{a}{sep}{b}" for b in f.levels for a in levels]
    out = Factor(np.where(ok, codes, -1).astype(np.int32), levels)
    return out.drop_unused() if drop else out


def _cut_breaks(x: np.ndarray, br) -> np.ndarray:
    """``cut``'s breaks: a number of intervals gives equal-width breaks over the finite range,
    the outer ones moved out by 1/1000 of it (R's rule); a vector is sorted."""
    if isinstance(br, float):
        nb = int(br)
        if nb < 2:
            raise DataError("invalid number of intervals")
        if nb > LIMITS.cut_breaks:
            raise DataError(f"cut(): {nb} intervals are above the limit {LIMITS.cut_breaks} "
                            "(rmodels.limits)")
        if not np.isfinite(x).any():
            raise DataError("cut(): no finite values to find the range of 'x'")
        fin = x[np.isfinite(x)]
        lo, hi = float(fin.min()), float(fin.max())
        dx = hi - lo
        if dx == 0:
            dx = abs(lo)
            breaks = np.linspace(lo - dx / 1000, hi + dx / 1000, nb + 1)
        else:
            breaks = np.linspace(lo, hi, nb + 1)
            breaks[0] = lo - dx / 1000
            breaks[-1] = hi + dx / 1000
    else:
        breaks = np.sort(np.asarray(br, dtype=float))
    if len(breaks) < 2:
        raise DataError("invalid number of intervals")
    if len(np.unique(breaks)) != len(breaks):
        raise DataError("'breaks' are not unique")
    return breaks


def _cut_labels(breaks: np.ndarray, right: bool, incl: bool, dig: int) -> list:
    """``cut``'s default labels "(a,b]" / "[a,b)": ``formatC(breaks, digits = d, width = 1)``
    with the least d >= dig.lab that tells all breaks apart (at most 12)."""
    nb = len(breaks)
    for d in range(dig, max(12, dig) + 1):
        formatted = [formatC(float(b), digits=d, width=1) for b in breaks]
        if len(set(formatted)) == nb:
            break
    formatted = [s.strip() for s in formatted]
    if right:
        labels = [f"({formatted[i]},{formatted[i + 1]}]" for i in range(nb - 1)]
        if incl:
            labels[0] = "[" + labels[0][1:]
    else:
        labels = [f"[{formatted[i]},{formatted[i + 1]})" for i in range(nb - 1)]
        if incl:
            labels[-1] = labels[-1][:-1] + "]"
    return labels


def _cut_codes(x: np.ndarray, breaks: np.ndarray, right: bool, incl: bool) -> np.ndarray:
    """The interval of each value (0-based; -1 outside the breaks or NA)."""
    nb = len(breaks)
    codes = np.full(len(x), -1, dtype=np.int32)
    ok = ~np.isnan(x)
    xv = x[ok]
    if right:
        idx = np.searchsorted(breaks, xv, side="left") - 1
        inside = (xv > breaks[0]) & (xv <= breaks[-1])
        if incl:
            inside |= xv == breaks[0]
            idx = np.where(xv == breaks[0], 0, idx)
    else:
        idx = np.searchsorted(breaks, xv, side="right") - 1
        inside = (xv >= breaks[0]) & (xv < breaks[-1])
        if incl:
            inside |= xv == breaks[-1]
            idx = np.where(xv == breaks[-1], nb - 2, idx)
    codes[np.flatnonzero(ok)] = np.where(inside, idx, -1)
    return codes


def _fn_cut(node, env, top, label):
    """R's ``cut(x, breaks, labels = NULL, include.lowest = FALSE, right = TRUE,
    dig.lab = 3, ordered_result = FALSE)``."""
    a = match_args(node, env, ["x", "breaks", "labels", "include.lowest", "right", "dig.lab",
                               "ordered_result"], required=2)
    x = np.asarray(as_numeric(evaluate(a["x"], env), env, a["x"]), dtype=float)
    br = eval_constant(a["breaks"], env)
    right = bool(eval_constant(a["right"], env)) if "right" in a else True
    incl = bool(eval_constant(a["include.lowest"], env)) if "include.lowest" in a else False
    dig = int(eval_constant(a["dig.lab"], env)) if "dig.lab" in a else 3
    ordered = bool(eval_constant(a["ordered_result"], env)) if "ordered_result" in a else False
    breaks = _cut_breaks(x, br)
    if "labels" in a:
        lab = eval_constant(a["labels"], env)
        if lab is False:
            raise DataError("cut(labels = FALSE) gives integer codes; use as.numeric(cut(...))")
        labels = _levels_arg(lab)
    else:
        labels = _cut_labels(breaks, right, incl, dig)
    if len(labels) != len(breaks) - 1:
        raise DataError("number of intervals and length of 'labels' differ")
    return Factor(_cut_codes(x, breaks, right, incl), labels, ordered=ordered)


#: R's name -> implementation (node, env, top, label) -> value
FUNCTIONS: dict[str, Callable] = {
    "factor": _fn_factor,
    "as.factor": _fn_as_factor,
    "ordered": _fn_ordered,
    "as.ordered": _fn_ordered,
    "relevel": _fn_relevel,
    "C": _fn_C,
    "droplevels": _fn_droplevels,
    "interaction": _fn_interaction,
    "cut": _fn_cut,
}
