"""Random-effect terms of an lmer formula: expansion, evaluation, lme4's ordering and Λ(θ) layout.

Follows lme4 1.1-31 (``findbars``, ``expandDoubleVerts``, ``expandSlash``, ``mkReTrms``):

* ``(e || g)`` becomes one uncorrelated term per column group of ``e``: ``(1 | g)`` if ``e`` has
  an intercept, then ``(0 + t | g)`` for each term label ``t`` of ``~ e``;
* ``(e | g1/g2)`` becomes ``(e | g2:g1)`` then ``(e | g1)``; deeper nesting recurses the same way;
* the terms are reordered by decreasing number of levels of their grouping factor, ties in
  reverse formula order (``rev(order(nl))``), unless the numbers are already non-increasing;
* a term with k effects owns the k(k+1)/2 entries of a lower-triangular template T, taken
  column-wise; Λ = blockdiag over terms of I_nlev ⊗ T, θ starts at 1 on the diagonal and 0
  below it, with lower bounds 0 on the diagonal and -Inf below it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import pandas as pd

from ...errors import DataError, FitError
from ...formula.ast import BinOp, Expr, Formula, Name, Num, Paren, UnaryOp
from ...formula.deparse import deparse
from ...formula.parser import parse_expression, parse_formula
from ...formula.terms import terms as make_terms
from ...frame import Env, Factor, evaluate, finish_variable, numeric_to_factor


@dataclass(frozen=True)
class Bar:
    """One expanded random-effect term ``lhs | group`` (no ``||`` and no ``/`` left)."""

    lhs: Expr
    group: Expr
    double: bool = False

    @property
    def text(self) -> str:
        return f"{deparse(self.lhs)} | {deparse(self.group)}"


@dataclass
class ReTerm:
    """One random-effect term evaluated on the fitted rows.

    ``Z`` (n, k) holds the columns of the term's left-hand side (``model.matrix(~ lhs)``);
    ``codes`` (n,) the 0-based level of the grouping factor of each row.
    """

    bar: Bar
    group: str
    cnms: list
    Z: np.ndarray
    codes: np.ndarray
    levels: list

    @property
    def k(self) -> int:
        return self.Z.shape[1]

    @property
    def nlev(self) -> int:
        return len(self.levels)

    @property
    def ntheta(self) -> int:
        return self.k * (self.k + 1) // 2


@dataclass
class ReStructure:
    """All random-effect terms in lme4's order with the θ layout."""

    terms: list
    theta0: np.ndarray
    lower: np.ndarray
    theta_names: list
    flist: list = field(default_factory=list)  # unique grouping-factor labels, first use order

    @property
    def q(self) -> int:
        return sum(t.k * t.nlev for t in self.terms)

    def theta_slices(self) -> list:
        out, off = [], 0
        for t in self.terms:
            out.append(slice(off, off + t.ntheta))
            off += t.ntheta
        return out

    def group_levels(self) -> pd.Series:
        """Number of levels of each grouping factor (flist order): lme4's ``ngrps``."""
        nl: dict = {}
        for t in self.terms:
            nl.setdefault(t.group, t.nlev)
        return pd.Series(nl, dtype=int)

    def vc_group_names(self) -> list:
        """Group names as VarCorr and broom.mixed print them: ``g``, ``g.1``, ``g.2`` …"""
        seen: dict = {}
        out = []
        for t in self.terms:
            c = seen.get(t.group, 0)
            out.append(t.group if c == 0 else f"{t.group}.{c}")
            seen[t.group] = c + 1
        return out

    def templates(self, theta: np.ndarray) -> list:
        """The lower-triangular k x k template T of each term at θ (column-wise fill)."""
        out = []
        for t, sl in zip(self.terms, self.theta_slices()):
            T = np.zeros((t.k, t.k))
            vals = iter(theta[sl])
            for c in range(t.k):
                for r in range(c, t.k):
                    T[r, c] = next(vals)
            out.append(T)
        return out


# ------------------------------------------------------------------------------------------
# Expansion of the bars


def _lhs_term_labels(lhs: Expr) -> tuple[list, bool]:
    """Term labels and intercept of ``~ lhs`` (R's ``terms``), for ``||`` expansion."""
    t = make_terms("~" + deparse(lhs))
    return list(t.term_labels), bool(t.intercept)


def expand_double_vert(lhs: Expr, group: Expr) -> list:
    """lme4's ``expandDoubleVert``: ``(e || g)`` → ``(1 | g)``, ``(0 + t | g)`` for each term."""
    labels, intercept = _lhs_term_labels(lhs)
    pieces: list = [Num(1.0, "1")] if intercept else []
    pieces += [parse_expression("0 + " + lab) for lab in labels]
    if not pieces:  # (0 || g): lme4 pastes "0+" and no term, and parses "~( 0+|g )"
        parse_formula(f"~( 0+|{deparse(group)} )")
    return [(p, group) for p in pieces]


def _strip(e: Expr) -> Expr:
    while isinstance(e, Paren):
        e = e.expr
    return e


def _slash_terms(e: Expr) -> Union[Expr, list]:
    e = _strip(e)
    if isinstance(e, BinOp) and e.op == "/":
        return [_slash_terms(e.left), _slash_terms(e.right)]
    return e


def _make_interaction(x: Union[Expr, list]) -> Union[Expr, list]:
    if not isinstance(x, list):
        return x
    trm1 = _make_interaction(x[0])
    trm11 = trm1[0] if isinstance(trm1, list) else trm1
    second = x[1] if not isinstance(x[1], list) else _flatten(_make_interaction(x[1]))[0]
    # R's deparse of the substituted call `:`(c, `:`(b, a)) reads "c:(b:a)"
    inner = Paren(trm11) if isinstance(trm11, BinOp) else trm11
    return [BinOp(":", second, inner), trm1]


def _flatten(x: Any) -> list:
    if not isinstance(x, list):
        return [x]
    out: list = []
    for v in x:
        out += _flatten(v)
    return out


def expand_slash(group: Expr) -> list:
    """lme4's ``expandSlash``: ``g1/g2`` → ``[g2:g1, g1]``; ``g1/g2/g3`` → ``[g3:(g2:g1),
    g2:g1, g1]``."""
    st = _slash_terms(group)
    if not isinstance(st, list):
        return [group]
    return _flatten(_make_interaction(st))


def expand_bars(bars: list) -> list:
    """Expand the bars of a formula (``||`` first, then ``/``) in lme4's order."""
    out: list = []
    for bar in bars:
        pieces = (expand_double_vert(bar.lhs, bar.group) if getattr(bar, "double", False)
                  else [(bar.lhs, bar.group)])
        for lhs, g in pieces:
            for gg in expand_slash(g):
                out.append(Bar(lhs, gg))
    return out


def expanded_formula_text(formula: Union[str, Formula]) -> str:
    """The formula as lme4 prints it (``Formula:`` line): deparsed with ``||`` expanded."""

    if isinstance(formula, str):
        return _expanded_formula_text_cached(formula)
    return _expanded_formula_text(formula)


@functools.lru_cache(maxsize=256)
def _expanded_formula_text_cached(text: str) -> str:
    return _expanded_formula_text(parse_formula(text))


def _expanded_formula_text(f: Formula) -> str:

    def rewrite(e: Expr) -> Expr:
        if isinstance(e, BinOp) and e.op == "||":
            pieces = expand_double_vert(e.left, e.right)
            parts = [Paren(BinOp("|", lhs, g)) for lhs, g in pieces]
            acc: Expr = parts[0]
            for p in parts[1:]:
                acc = BinOp("+", acc, p)
            return acc
        if isinstance(e, BinOp):
            return BinOp(e.op, rewrite(e.left), rewrite(e.right))
        if isinstance(e, Paren):
            return Paren(rewrite(e.expr))
        if isinstance(e, UnaryOp):
            return UnaryOp(e.op, rewrite(e.operand))
        return e

    return deparse(Formula(f.lhs, rewrite(f.rhs), f.text), keep_integer=True)


# ------------------------------------------------------------------------------------------
# Evaluation and ordering


def order_terms(nlevels: list) -> list:
    """lme4's term order: unchanged if non-increasing, else ``rev(order(nl))`` (ties reversed)."""
    nl = list(nlevels)
    if all(nl[i] >= nl[i + 1] for i in range(len(nl) - 1)):
        return list(range(len(nl)))
    asc = sorted(range(len(nl)), key=lambda i: (nl[i], i))  # R's order(): stable
    return asc[::-1]


def grouping_factor(data: pd.DataFrame, formula_text: str,
                    expr: Expr) -> tuple[np.ndarray, list]:
    """Codes and levels of a grouping expression evaluated on ``data`` (the fit's rows, or new
    data); ``g1:g2`` is R's factor interaction (levels ``a1:b1, a1:b2, …``, first factor
    slowest) with unused combinations dropped, as lme4's ``factor(g1:g2)``; other expressions
    are converted with ``factor()`` and their unused levels dropped."""
    e = _strip(expr)
    if isinstance(e, BinOp) and e.op == ":":
        c1, l1 = grouping_factor(data, formula_text, e.left)
        c2, l2 = grouping_factor(data, formula_text, e.right)
        combined = c1.astype(np.int64) * len(l2) + c2
        used, codes = np.unique(combined, return_inverse=True)
        levels = [f"{l1[u // len(l2)]}:{l2[u % len(l2)]}" for u in used]
        return codes.astype(np.int32), levels
    fast = _categorical_column(data, e)
    if fast is not None:
        return fast
    return _evaluated_factor(data, formula_text, e)


def _evaluated_factor(data: pd.DataFrame, formula_text: str,
                      e: Expr) -> tuple[np.ndarray, list]:
    """``factor(e)`` with unused levels dropped, ``e`` evaluated by the frame's interpreter;
    missing values are an error (the grouping factors of the fit's rows are complete)."""
    env = Env(data, formula_text, states={}, record=False)
    v = evaluate(e, env)
    if isinstance(v, np.ndarray):
        f = numeric_to_factor(v)
    elif isinstance(v, Factor):
        f = v
    else:
        f = finish_variable(v, env.n, deparse(e))
        if not isinstance(f, Factor):
            raise DataError(f"invalid grouping factor '{deparse(e)}'")
    f = f.drop_unused()
    if (f.codes < 0).any():
        raise DataError(f"missing values in grouping factor '{deparse(e)}'")
    return f.codes.astype(np.int32), list(f.levels)


def _data_column(data: pd.DataFrame, e: Expr) -> Any:
    """The column of ``data`` named by ``e`` (a syntactic name), or None."""
    if not isinstance(e, Name) or deparse(e) != e.id or e.id not in data.columns:
        return None
    return data[e.id]


def _categorical_column(data: pd.DataFrame, e: Expr) -> tuple[np.ndarray, list] | None:
    """Fast path of ``factor(g)`` for a column that is a Categorical of strings: its codes with
    unused levels dropped (None when a code is missing: the general path reports it)."""
    col = _data_column(data, e)
    if col is None or not isinstance(col.dtype, pd.CategoricalDtype):
        return None
    cats = col.cat.categories
    if not (pd.api.types.is_object_dtype(cats.dtype) or pd.api.types.is_string_dtype(cats.dtype)):
        return None
    codes = col.cat.codes.to_numpy()
    if len(codes) == 0 or codes.min() < 0:
        return None
    used = np.zeros(len(cats), dtype=bool)
    used[codes] = True
    remap = np.cumsum(used) - 1
    levels = [str(v) for v, u in zip(cats, used) if u]
    return remap[codes].astype(np.int32), levels


def bar_matrix(design: Any, bar: Any) -> tuple[np.ndarray, list]:
    """Model matrix of the bar's left-hand side (``model.matrix(~ lhs)``). Sums of ``1``/``0``
    and plain numeric columns are built directly; anything else goes through the design."""
    items: list = []

    def flatten(x: Expr) -> bool:
        x = _strip(x)
        if isinstance(x, BinOp) and x.op == "+":
            return flatten(x.left) and flatten(x.right)
        items.append(x)
        return True

    flatten(bar.lhs)
    intercept = True
    names: list = []
    cols: list = []
    for it in items:
        if isinstance(it, Num) and it.value in (0.0, 1.0):
            intercept = it.value == 1.0
            continue
        col = _data_column(design.kept_data(), it)
        if col is None or not pd.api.types.is_numeric_dtype(col.dtype) or \
                pd.api.types.is_bool_dtype(col.dtype) or isinstance(col.dtype, pd.CategoricalDtype):
            return design.bar_matrix(bar)
        if it.id not in names:
            names.append(it.id)
            cols.append(col.to_numpy(dtype=float))
    n = design.n
    if intercept:
        names.insert(0, "(Intercept)")
        cols.insert(0, np.ones(n))
    if not cols:
        return design.bar_matrix(bar)
    return np.column_stack(cols), names


def build_re_structure(design: Any, bars: list | None = None,
                       check_nobs: bool = True) -> ReStructure:
    """Evaluate the random-effect terms of ``design`` (a :class:`rmodels.design.Design`).

    Raises :class:`FitError` with lme4's messages for grouping factors with a single level or
    as many levels as observations (only with ``check_nobs``: glmerControl's defaults ignore
    it), and for terms with at least as many random effects as rows (more, without
    ``check_nobs``: glmer's ``allow.n``).
    """
    bars = expand_bars(design.bars if bars is None else bars)
    if not bars:
        raise FitError("No random effects terms specified in formula")
    n = design.n
    raw: list = []
    for bar in bars:
        Z, cn = bar_matrix(design, bar)
        codes, levels = grouping_factor(design.kept_data(), design.formula_text, bar.group)
        raw.append(ReTerm(bar, deparse(bar.group), list(cn),
                          np.asfortranarray(np.asarray(Z, dtype=float)),
                          np.ascontiguousarray(codes, dtype=np.int32), list(levels)))
    # a term with no columns, (0 | g), has no variance parameters: lme4 fits the others
    # (and stops at "length(theta) > 0L is not TRUE" when none is left)
    raw = [t for t in raw if t.k > 0]
    if not raw:
        raise FitError("length(theta) > 0L is not TRUE")
    problems = [t.group for t in raw if not t.nlev < n] if check_nobs else []
    if problems:
        raise FitError("number of levels of each grouping factor must be < number of "
                       f"observations (problems: {', '.join(dict.fromkeys(problems))})")
    if any(t.nlev <= 1 for t in raw):
        raise FitError("grouping factors must have > 1 sampled level")
    for t in raw:
        check_random_effects_count(t, n, allow_n=not check_nobs)
    return _layout(raw)


def check_random_effects_count(t: ReTerm, n: int, allow_n: bool) -> None:
    """lme4's ``checkZdims`` (``check.nobs.vs.nRE = "stop"``): a term with more random effects
    than observations (as many, too, unless ``allow_n``: glmer, which has no residual
    variance) stops the fit."""
    nre = t.nlev * t.k
    if nre > n or (nre == n and not allow_n):
        cmp, resid = ("<", "") if allow_n else (
            "<=", " and the residual variance (or scale parameter)")
        raise FitError(
            f"number of observations (={n}) {cmp} number of random effects (={nre}) "
            f"for term ({t.bar.text}); the random-effects parameters{resid} are probably "
            "unidentifiable")


def structure_from_arrays(terms: list) -> ReStructure:
    """A :class:`ReStructure` from already evaluated terms (for callers that build Z themselves):
    each item is ``(group, cnms, Z, codes, levels)``; lme4's reordering is applied."""
    raw = [ReTerm(Bar(Name("."), Name(g)), g, list(cn), np.asfortranarray(Z, dtype=float),
                  np.ascontiguousarray(codes, dtype=np.int32), list(lev))
           for g, cn, Z, codes, lev in terms]
    return _layout(raw)


def _layout(raw: list) -> ReStructure:
    """Order the terms as lme4 and lay out θ: names ``g.e`` (diagonal), ``g.e_r.e_c`` (below)."""
    terms = [raw[i] for i in order_terms([t.nlev for t in raw])]
    theta0, lower, names = [], [], []
    for t in terms:
        for c in range(t.k):
            for r in range(c, t.k):
                theta0.append(1.0 if r == c else 0.0)
                lower.append(0.0 if r == c else -np.inf)
                names.append(f"{t.group}.{t.cnms[r]}" if r == c
                             else f"{t.group}.{t.cnms[r]}.{t.cnms[c]}")
    flist = list(dict.fromkeys(t.group for t in terms))
    return ReStructure(terms, np.array(theta0), np.array(lower), names, flist)


def _r_mean_ld(x: np.ndarray) -> np.longdouble:
    """R's ``mean()`` of a double vector: long double sum / n, then one correction pass."""
    n = len(x)
    xl = x.astype(np.longdouble)
    s = xl.sum() / n
    return s + (xl - s).sum() / n


def _r_var_ld(x: np.ndarray) -> float:
    """R's ``var()`` of a double vector (two-pass, long double accumulation, n - 1 divisor)."""
    xl = x.astype(np.longdouble)
    m = _r_mean_ld(x)
    return float(((xl - m) ** 2).sum() / (len(x) - 1))


def default_start(re: ReStructure, y: np.ndarray) -> np.ndarray:
    """The starting θ of lme4's ``mkLmerDevfun`` (1.1-31).

    When every term is a scalar random intercept and no two terms share a grouping factor,
    lme4 starts from the relative standard deviations of the group means: with
    v_i = var(ave(y, f_i)) (the variance of each observation's group mean) and
    v_e = var(y) − Σ v_i, θ_i = sqrt(v_i / v_e) provided v_e > 0. Otherwise (and when v_e ≤ 0)
    it starts from θ = 1 on the diagonal and 0 below it.
    """
    theta0 = re.theta0.copy()
    y = np.asarray(y, dtype=float)
    if not all(t.cnms == ["(Intercept)"] for t in re.terms):
        return theta0
    if len(re.flist) != len(re.lower) or len(y) < 2:
        return theta0
    v = []
    for t in re.terms:
        codes = np.asarray(t.codes)
        order = np.argsort(codes, kind="stable")
        cs = codes[order]
        starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
        counts = np.diff(np.r_[starts, len(y)])
        yl = y[order].astype(np.longdouble)
        m = np.add.reduceat(yl, starts) / counts  # R's mean() per group, with its correction
        m = m + np.add.reduceat(yl - np.repeat(m, counts), starts) / counts
        ave = np.empty(len(y))
        ave[order] = np.repeat(m.astype(float), counts)
        v.append(_r_var_ld(ave))
    v_e = _r_var_ld(y) - float(np.sum(np.array(v, dtype=np.longdouble)))
    if not (np.isfinite(v_e) and v_e > 0):
        return theta0
    rel = np.array(v) / v_e
    if np.all(rel >= re.lower ** 2):
        return np.sqrt(rel)
    return theta0
