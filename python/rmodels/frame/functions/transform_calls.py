"""frame functions, transform calls: ``poly``, ``scale``, ``ns`` and ``bs`` in a formula.

On training data they compute the transform and, for a whole formula variable (``top``), record
its state under the variable's deparsed call (R's ``makepredictcall``/``predvars``); on new data
(``env.states`` filled, ``env.record`` False) they replay the recorded state.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...errors import DataError
from ...formula.ast import Bool, Call, Num
from ...formula.deparse import deparse
from ...limits import LIMITS
from .. import transforms as tr
from ..interpreter import Env, as_numeric, eval_constant, evaluate, formula_error, match_args
from ..values import Mat


def _fn_scale(node: Call, env: Env, top: bool, label):
    """R's ``scale(x, center = TRUE, scale = TRUE)``."""
    # R's makepredictcall freezes scale() only under its bare name (base::scale(x) is
    # re-evaluated on new data); poly/ns/bs are recognised namespaced too.
    top = top and node.fun == "scale"
    key = deparse(node)
    state = env.states.get(key) if top else None
    a = match_args(node, env, ["x", "center", "scale"])
    x = as_numeric(evaluate(a["x"], env), env, a["x"])
    if state is not None:
        return Mat(np.asfortranarray(state.apply(x)), None)
    center = eval_constant(a["center"], env) if "center" in a else True
    scl = eval_constant(a["scale"], env) if "scale" in a else True
    m, st = tr.scale(np.asarray(x, dtype=float), center=center, scale=scl)
    if top and env.record:
        env.states[key] = st
    return Mat(np.asfortranarray(np.asarray(m).reshape(len(x), -1)), None)


def _poly_arguments(node: Call, env: Env) -> tuple[list, int, bool, bool]:
    """The data arguments, ``degree``, ``raw`` and ``simple`` of ``poly(x, ..., degree = 1,
    raw = FALSE, simple = FALSE)``: a trailing number / TRUE-FALSE among several positional
    arguments is the degree / raw, as R's matching gives them."""
    opts = dict(node.kwargs)
    data_args = list(node.args)
    degree = 1
    raw = False
    if "degree" in opts:
        degree = int(eval_constant(opts.pop("degree"), env))
    elif len(data_args) >= 2 and isinstance(data_args[-1], Num):
        degree = int(data_args.pop().value)
    simple = bool(eval_constant(opts.pop("simple"), env)) if "simple" in opts else False
    if "raw" in opts:
        raw = bool(eval_constant(opts.pop("raw"), env))
    elif len(data_args) >= 2 and isinstance(data_args[-1], Bool):
        raw = bool(data_args.pop().value)
    if "x" in opts:
        data_args.insert(0, opts.pop("x"))
    if opts:
        k = next(iter(opts))
        raise formula_error(env, f"unused argument ({k}) in poly()", node)
    if not data_args:
        raise formula_error(env, 'argument "x" is missing, with no default', node)
    return data_args, degree, raw, simple


def _fn_poly(node: Call, env: Env, top: bool, label):
    """R's ``poly(x, ..., degree, raw, simple)`` (``polym`` for several variables)."""
    key = deparse(node)
    state = env.states.get(key) if top else None
    data_args, degree, raw, simple = _poly_arguments(node, env)
    if degree > LIMITS.poly_degree:
        raise DataError(f"poly(): 'degree' = {degree} is above the limit "
                        f"{LIMITS.poly_degree} (rmodels.limits)")
    arrays = [np.asarray(as_numeric(evaluate(d, env), env, d), dtype=float) for d in data_args]
    if state is not None:
        m, names = state.apply(*arrays), state.colnames
    else:
        m, names, st = tr.poly(*arrays, degree=degree, raw=raw)
        # simple = TRUE drops the coefs attribute, so R re-evaluates on new data
        if top and env.record and not simple:
            env.states[key] = st
    return Mat(np.asfortranarray(m), list(names))


_SPLINE_ARGS = {
    "ns": ["x", "df", "knots", "intercept", "Boundary.knots"],
    "bs": ["x", "df", "knots", "degree", "intercept", "Boundary.knots"],
}


def _spline_options(a: dict, names: list, env: Env) -> dict:
    """The evaluated optional arguments of ``ns``/``bs`` as keywords of the transform."""
    kw: dict = {}
    for k in names[1:]:
        if k in a:
            v = eval_constant(a[k], env)
            if k in ("df", "degree"):
                v = int(v)
                if v > LIMITS.spline_df:
                    raise DataError(f"'{k}' = {v} is above the spline limit {LIMITS.spline_df} "
                                    "(rmodels.limits)")
            elif k == "intercept":
                v = bool(v)
            else:
                v = np.atleast_1d(np.asarray(v, dtype=float))
                if k == "knots" and len(v) > LIMITS.spline_df:
                    raise DataError(f"{len(v)} knots are above the spline limit "
                                    f"{LIMITS.spline_df} (rmodels.limits)")
            kw[k.replace(".", "_")] = v
    return kw


def _spline(kind: str) -> Callable:
    """R's ``splines::ns`` / ``splines::bs`` in a formula."""
    names = _SPLINE_ARGS[kind]
    basis = tr.ns if kind == "ns" else tr.bs

    def impl(node: Call, env: Env, top: bool, label):
        key = deparse(node)
        state = env.states.get(key) if top else None
        a = match_args(node, env, names)
        x = np.asarray(as_numeric(evaluate(a["x"], env), env, a["x"]), dtype=float)
        if state is not None:
            return Mat(np.asfortranarray(state.apply(x)), list(state.colnames))
        m, colnames, st = basis(x, **_spline_options(a, names, env))
        if top and env.record:
            env.states[key] = st
        return Mat(np.asfortranarray(m), list(colnames))

    return impl


#: R's name -> implementation (node, env, top, label) -> value
FUNCTIONS: dict[str, Callable] = {
    "poly": _fn_poly,
    "scale": _fn_scale,
    "ns": _spline("ns"),
    "bs": _spline("bs"),
}
