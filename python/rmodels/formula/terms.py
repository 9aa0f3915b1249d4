"""R's ``terms()``: expansion of a model formula into variables and terms.

Reproduces ``stats:::terms.formula`` (C function ``termsform``) of R 4.2:

1. *Variables.* The response (the whole left-hand side) gets index 0; then every distinct
   right-hand-side expression that is not a formula operator gets the next index, in order of
   first appearance -- including variables that only occur in deleted terms (``- b``) and
   ``offset(...)`` calls. Two expressions are the same variable when they deparse identically.
2. *Expansion.* Each sub-formula is encoded as an ordered list of terms, a term being a set of
   variable indices: ``A + B`` appends B to A; ``A:B`` (and ``A %in% B``) takes the union of every
   pair; ``A*B = A + B + A:B``; ``A/B = A + (union of all of A):B``; ``A^n`` interacts A with itself
   n-1 times; ``A - B`` deletes B's terms from A. Repeated and empty terms are dropped (first
   occurrence kept). ``1``/``TRUE`` set the intercept, ``0``/``FALSE`` remove it, and inside the
   right operand of ``-`` this meaning flips (so ``- 0`` restores the intercept).
3. Terms containing an ``offset(...)`` variable are removed; the offsets' indices are recorded.
4. Terms are stably sorted by order (number of variables) unless ``keep_order``.
5. A term's label lists its variables in index order joined by ``:``.
6. ``factors[v, t]`` is 0 if variable v is not in term t, 1 if the term without v is empty or is
   contained in some earlier term (contrast coding), else 2 (full indicator coding) -- R's
   ``TermCode``; model.matrix applies the no-intercept adjustment on top (§B2 step 3).

Random-effect bars ``(lhs | g)`` / ``(lhs || g)`` added with ``+`` to the right-hand side are
taken out first (as lme4's ``findbars``/``nobars``) and the fixed part is expanded as above.

A response that also appears on the right-hand side (``y ~ y + x``) is kept as a term, as R's
``terms()`` does; ``lm`` later drops it with R's warning "the response appeared on the
right-hand side and was dropped".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence, Union

import numpy as np

from ..errors import FormulaError
from ..limits import LIMITS
from .ast import (
    BinOp,
    Bool,
    Call,
    Dot,
    Expr,
    Formula,
    Name,
    Null,
    Num,
    Paren,
    Str,
    UnaryOp,
    left_spine,
)
from .deparse import deparse
from .parser import parse_formula

Term = frozenset  # a term is a set of variable indices

__all__ = ["RandomBar", "Terms", "terms", "find_bars"]


@dataclass(frozen=True)
class RandomBar:
    """A random-effect term ``(lhs | group)`` (``double`` for ``||``), as lme4's findbars
    returns it before ``||`` and ``/`` are expanded; ``text`` is its deparse, e.g.
    ``"Days | Subject"``."""

    lhs: Expr
    group: Expr
    double: bool
    text: str


@dataclass
class Terms:
    """The result of :func:`terms`, mirroring the attributes of R's ``terms`` object.

    ``variables`` lists the response first (if any) and then the right-hand-side variables;
    ``terms[j]`` is a sorted tuple of variable indices; ``factors`` has shape
    ``(len(variables), len(terms))``; ``response`` is 0 for a two-sided formula, else None.
    """

    formula: Formula
    variables: list[Expr]
    variable_labels: list[str]
    response: int | None
    terms: list[tuple[int, ...]]
    term_labels: list[str]
    order: list[int]
    intercept: bool
    offsets: list[int]
    factors: np.ndarray
    bars: list[RandomBar] = field(default_factory=list)
    fixed_formula_text: str = ""
    fixed_formula: Formula | None = None
    keep_order: bool = False
    #: the variables' names in R's model frame (deparsed keeping integer constants' ``L``)
    frame_labels: list[str] = field(default_factory=list)

    @property
    def formula_text(self) -> str:
        """The (dot-expanded) formula as R deparses it."""
        return deparse(self.formula)

    def copy(self) -> Terms:
        """A copy whose lists and ``factors`` array the caller may change (the AST nodes it
        shares are immutable)."""
        out = object.__new__(Terms)  # copy.copy's work without its reduce protocol
        out.__dict__.update(self.__dict__)
        out.variables = list(self.variables)
        out.variable_labels = list(self.variable_labels)
        out.terms = list(self.terms)
        out.term_labels = list(self.term_labels)
        out.order = list(self.order)
        out.offsets = list(self.offsets)
        out.factors = self.factors.copy()
        out.bars = list(self.bars)
        out.frame_labels = list(self.frame_labels)
        return out

    def delete_response(self) -> Terms:
        """R's ``delete.response()`` (used by ``predict`` on new data): the response variable,
        its factors row and the formula's left-hand side are removed; later variable indices
        shift down by one. Term labels, order and intercept are unchanged."""
        if self.response is None:
            return self
        y = self.response
        fixed = self.fixed_formula
        return Terms(
            formula=Formula(None, self.formula.rhs, self.formula.text),
            variables=self.variables[:y] + self.variables[y + 1 :],
            variable_labels=self.variable_labels[:y] + self.variable_labels[y + 1 :],
            frame_labels=self.frame_labels[:y] + self.frame_labels[y + 1 :],
            response=None,
            terms=[tuple(i - 1 for i in t if i != y) for t in self.terms],
            term_labels=list(self.term_labels),
            order=list(self.order),
            intercept=self.intercept,
            offsets=[i - 1 if i > y else i for i in self.offsets],
            factors=np.delete(self.factors, y, axis=0),
            bars=list(self.bars),
            fixed_formula_text=deparse(Formula(None, fixed.rhs, fixed.text)) if fixed else "",
            fixed_formula=Formula(None, fixed.rhs, fixed.text) if fixed else None,
            keep_order=self.keep_order,
        )


def frame_label(expr: Expr) -> str:
    """Name of a variable in R's model frame: bare symbol names, deparsed calls (R's deparse
    defaults: integer constants keep their ``L``)."""
    return expr.id if isinstance(expr, Name) else deparse(expr, keep_integer=True)


# ------------------------------------------------------------------------------------------
# random-effect bars


def _is_bar(e: Expr) -> bool:
    return isinstance(e, BinOp) and e.op in ("|", "||")


def _contains_bar(e: Expr) -> bool:
    """Whether a bar occurs in the formula structure of ``e`` (not inside calls)."""
    stack = [e]
    while stack:
        x = stack.pop()
        if _is_bar(x):
            return True
        if isinstance(x, BinOp) and x.op in _FORMULA_OPS:
            stack += [x.left, x.right]
        elif isinstance(x, UnaryOp) and x.op in ("+", "-"):
            stack.append(x.operand)
        elif isinstance(x, Paren):
            stack.append(x.expr)
    return False


def find_bars(rhs: Expr, text: str) -> tuple[Expr | None, list[RandomBar]]:
    """Split a right-hand side into its fixed part and its random-effect bars.

    Bars are found through ``+``, parentheses and the left operand of ``-`` (as lme4's
    ``findbars``); the fixed part is what ``nobars`` leaves (None if nothing is left). A bar under
    any other formula operator (``a:(1 | g)``, ``x - (1 | g)``) is an error.
    """
    bars: list[RandomBar] = []

    def walk(e: Expr) -> Expr | None:
        if _is_bar(e):
            assert isinstance(e, BinOp)
            bars.append(RandomBar(e.left, e.right, e.op == "||", deparse(e)))
            return None
        if isinstance(e, Paren):
            inner = walk(e.expr)
            return None if inner is None else (e if inner is e.expr else Paren(inner, e.pos))
        if isinstance(e, BinOp) and e.op in ("+", "-"):
            if not _contains_bar(e):
                return e
            leftmost, spine = left_spine(e, frozenset({"+", "-"}))
            acc = walk(leftmost)
            for b in spine:
                if b.op == "+":
                    right = walk(b.right)
                    if acc is None or right is None:
                        acc = right if acc is None else acc
                    else:
                        acc = BinOp("+", acc, right, b.pos)
                    continue
                if _contains_bar(b.right):
                    raise FormulaError(
                        "a random-effect term '(... | g)' must be added to the formula with '+'",
                        text, _bar_pos(b.right))
                # `x + (1 | g) - 1`: lme4's nobars keeps `x - 1` (and `(1 | g) - 1` becomes `1`)
                acc = b.right if acc is None else BinOp("-", acc, b.right, b.pos)
            return acc
        if isinstance(e, UnaryOp) and e.op == "+":
            inner = walk(e.operand)
            return None if inner is None else UnaryOp("+", inner, e.pos)
        if _contains_bar(e):
            raise FormulaError(
                "a random-effect term '(... | g)' must be added to the formula with '+'",
                text, _bar_pos(e))
        return e

    return walk(rhs), bars


def _bar_pos(e: Expr) -> int:
    if _is_bar(e):
        return e.pos
    for child in _children(e):
        if _contains_bar(child):
            return _bar_pos(child)
    return e.pos


def _children(e: Expr) -> list[Expr]:
    if isinstance(e, BinOp):
        return [e.left, e.right]
    if isinstance(e, UnaryOp):
        return [e.operand]
    if isinstance(e, Paren):
        return [e.expr]
    return []


# ------------------------------------------------------------------------------------------
# '.' expansion

_FORMULA_OPS = frozenset({"+", "-", "*", "/", ":", "^", "%in%"})


def _has_dot(e: Expr) -> Dot | None:
    """The first ``.`` in the formula structure of ``e`` (not inside calls or exponents)."""
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, Dot):
            return x
        if isinstance(x, BinOp) and x.op in _FORMULA_OPS:
            stack += [x.left] if x.op == "^" else [x.right, x.left]
        elif isinstance(x, UnaryOp) and x.op in ("+", "-"):
            stack.append(x.operand)
        elif isinstance(x, Paren):
            stack.append(x.expr)
    return None


def _lhs_symbols(e: Expr | None) -> set[str]:
    """Every symbol of the left-hand side, function names included (R's ``CheckRHS``)."""
    out: set[str] = set()
    if e is None:
        return out
    if isinstance(e, Name):
        out.add(e.id)
    elif isinstance(e, Call):
        for sep in (":::", "::"):
            if sep in e.fun:
                out.update(e.fun.split(sep))
                break
        else:
            out.add(e.fun)
        for a in e.args:
            out |= _lhs_symbols(a)
        for _, v in e.kwargs:
            out |= _lhs_symbols(v)
    else:
        for child in _children(e):
            out |= _lhs_symbols(child)
    return out


def _dot_columns(lhs: Expr | None, data_columns: Sequence[str]) -> list[str]:
    excluded = _lhs_symbols(lhs)
    return [c for c in data_columns if c not in excluded]


def _expand_dots(e: Expr, value: Expr | None) -> Expr:
    """Replace ``.`` by ``value`` as R's ``ExpandDots`` writes the formula: bare as the left
    operand of ``+``, inside parentheses or on its own, else wrapped in parentheses when it is
    a sum of several columns."""
    if value is None:
        return e

    def wrapped() -> Expr:
        return Paren(value, value.pos) if isinstance(value, BinOp) else value

    def sub(x: Expr, bare: bool) -> Expr:
        if isinstance(x, Dot):
            return value if bare else wrapped()
        return _expand_dots(x, value)

    if isinstance(e, Dot):
        return value
    if isinstance(e, Paren):
        return Paren(sub(e.expr, True), e.pos)
    if isinstance(e, UnaryOp) and e.op in ("+", "-"):
        return UnaryOp(e.op, sub(e.operand, False), e.pos)
    if isinstance(e, BinOp) and e.op in _FORMULA_OPS:
        right = e.right if e.op == "^" else sub(e.right, False)
        return BinOp(e.op, sub(e.left, e.op == "+"), right, e.pos)
    return e


def _dot_value(columns: list[str]) -> Expr | None:
    if not columns:
        return None
    value: Expr = Name(columns[0])
    for c in columns[1:]:
        value = BinOp("+", value, Name(c))
    return value


# ------------------------------------------------------------------------------------------
# the encoder (R's ExtractVars / EncodeVars)


class _Encoder:
    def __init__(self, text: str, lhs: Expr | None, dot_columns: list[str] | None = None):
        self.text = text
        self.variables: list[Expr] = []
        self.labels: list[str] = []
        self.index: dict[str, int] = {}
        self.intercept = True
        self.parity = True
        # The columns '.' stands for (None: no data); once a '.' has been walked, R's
        # ExtractVars leaves bare names to EncodeVars, which appends them when it meets them.
        self.dot_columns = dot_columns
        self.seen_dot = False
        if lhs is not None:
            self.install(lhs)

    def install(self, e: Expr) -> int:
        label = deparse(e)
        idx = self.index.get(label)
        if idx is None:
            idx = len(self.variables)
            self.index[label] = idx
            self.variables.append(e)
            self.labels.append(label)
        return idx

    # R's ExtractVars: collect the variables in order of appearance and validate.
    def extract(self, e: Expr) -> None:
        if _is_zero_one(e) is not None or isinstance(e, Null):
            return
        if isinstance(e, (Num, Str)):
            raise FormulaError("invalid model formula in ExtractVars: a constant other than "
                               "0 or 1 cannot be a term", self.text, e.pos)
        if isinstance(e, BinOp) and e.op in _FORMULA_OPS:
            # R's pre-order walk: every exponent on the left spine is checked on the way down,
            # then the leftmost operand, then the right operands from the inside out
            leftmost, spine = left_spine(e, _FORMULA_OPS)
            for b in reversed(spine):
                if b.op == "^":
                    self.power(b)
            self.extract(leftmost)
            for b in spine:
                if b.op != "^":
                    self.extract(b.right)
            return
        if isinstance(e, UnaryOp) and e.op in ("+", "-"):
            self.extract(e.operand)
            return
        if isinstance(e, Paren):
            self.extract(e.expr)
            return
        if isinstance(e, Dot):
            if self.dot_columns is None:
                raise FormulaError("'.' in formula and no 'data' argument", self.text, e.pos)
            self.seen_dot = True
            for c in self.dot_columns:
                self.install(Name(c))
            return
        if isinstance(e, Name) and self.seen_dot:
            return
        self.install(e)

    def power(self, e: BinOp) -> int:
        """The exponent of ``A^n`` as R's ``asInteger`` reads it (> 1 required)."""
        exp = e.right
        if isinstance(exp, Num):
            v = exp.value
        elif isinstance(exp, Bool):
            v = 1.0 if exp.value else 0.0
        else:
            raise FormulaError("invalid power in formula: the exponent must be a number",
                               self.text, exp.pos)
        if v != v or abs(v) >= 2147483648.0 or int(v) <= 1:
            raise FormulaError("invalid power in formula: the exponent must be at least 2",
                               self.text, exp.pos)
        return int(v)

    # R's EncodeVars: the term list of a sub-formula.
    def encode(self, e: Expr | None) -> list[Term]:
        if e is None or isinstance(e, Null):
            return []
        zo = _is_zero_one(e)
        if zo is not None:
            self.intercept = self.parity if zo == 1 else not self.parity
            return []
        if isinstance(e, Paren):
            return self.encode(e.expr)
        if isinstance(e, UnaryOp) and e.op == "+":
            return self.encode(e.operand)
        if isinstance(e, UnaryOp) and e.op == "-":
            return self.delete([], e.operand)
        if isinstance(e, BinOp) and e.op in _FORMULA_OPS:
            leftmost, spine = left_spine(e, _FORMULA_OPS)
            acc = self.encode(leftmost)
            seen = set(acc)
            for b in spine:
                if b.op == "+":
                    # encoded lists are already free of repeats: appending is linear
                    for t in self.encode(b.right):
                        if t and t not in seen:
                            seen.add(t)
                            acc.append(t)
                else:
                    acc = self.combine(b, acc)
                    seen = set(acc)
            return acc
        return [frozenset({self.install(e)})]

    def combine(self, e: BinOp, left: list[Term]) -> list[Term]:
        """Apply the formula operator of ``e`` to the already encoded left operand."""
        op = e.op
        if op == "+":
            return _trim(left + self.encode(e.right))
        if op == "-":
            return self.delete(left, e.right)
        if op == "^":
            n = self.power(e)
            right = left
            for _ in range(n - 1):
                # the powers stop changing once every term holds all it can: R's loop of
                # n - 1 steps (43 s for x^1e9) ends there with the same terms
                product = self.interact(left, right, e)
                if product == right:
                    break
                right = product
            return right
        right = self.encode(e.right)
        if op == ":":
            return self.interact(left, right, e)
        if op == "*":
            return _trim(left + right + self.interact(left, right, e))
        if op == "/":
            allleft = frozenset().union(*left) if left else frozenset()
            return _trim(left + [allleft | rt for rt in right])
        # %in%
        allright = frozenset().union(*right) if right else frozenset()
        return _trim([lt | allright for lt in left])

    def interact(self, left: list[Term], right: list[Term], e: BinOp) -> list[Term]:
        """Every pairwise union of a left and a right term (R's ``InteractTerms``), refused
        up front when the product or a term's order passes the limits."""
        if len(left) * len(right) > LIMITS.terms:
            raise FormulaError(f"the formula expands to too many terms ({len(left)} x "
                               f"{len(right)}; the limit is {LIMITS.terms})", self.text, e.pos)
        out = _trim([lt | rt for lt in left for rt in right])
        if out and max(len(t) for t in out) > LIMITS.interaction_order:
            raise FormulaError("interaction of too high an order (more than "
                               f"{LIMITS.interaction_order} variables)", self.text, e.pos)
        return out

    def delete(self, kept: list[Term], right: Expr) -> list[Term]:
        """R's DeleteTerms: remove ``right``'s terms from ``kept``; ``right`` is encoded with
        the intercept meaning flipped (parity)."""
        self.parity = not self.parity
        removed = self.encode(right)
        self.parity = not self.parity
        for t in removed:
            if not t:
                self.intercept = False
            kept = [k for k in kept if k != t]
        return kept


def _is_zero_one(e: Expr) -> int | None:
    """1 or 0 for the constants R's ``isOne``/``isZero`` accept (numbers and logicals)."""
    if isinstance(e, Num):
        if e.value == 1:
            return 1
        if e.value == 0:
            return 0
    if isinstance(e, Bool):
        return 1 if e.value else 0
    return None


def _trim(terms: list[Term]) -> list[Term]:
    """Drop empty and repeated terms, keeping first occurrences (R's ``TrimRepeats``)."""
    seen: set[Term] = set()
    out: list[Term] = []
    for t in terms:
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _term_codes(terms: list[tuple[int, ...]], nvar: int) -> np.ndarray:
    """R's ``TermCode``: 1 (contrasts) if the term without the variable is empty or contained in
    an earlier term, else 2 (all indicator columns)."""
    fac = np.zeros((nvar, len(terms)), dtype=np.int64)
    sets = [frozenset(t) for t in terms]
    for j, t in enumerate(sets):
        for v in t:
            rest = t - {v}
            if not rest or any(rest <= sets[k] for k in range(j)):
                fac[v, j] = 1
            else:
                fac[v, j] = 2
    return fac


#: Expansions of formula texts, per (text, data columns, keep_order, random); cleared when full.
_TERMS_CACHE: dict = {}
_TERMS_CACHE_SIZE = 512


def terms(
    formula: Union[str, Formula],
    data_columns: Sequence[str] | None = None,
    keep_order: bool = False,
    random: bool = True,
) -> Terms:
    """Expand a model formula as R's ``terms(formula, data = data, keep.order = keep_order)``.

    ``data_columns`` are the column names of ``data`` (taken as ``str``; needed only to expand
    ``.``: every column whose name is not a symbol of the left-hand side, in column order).
    Random-effect bars are removed into ``Terms.bars`` before expansion. Raises
    :class:`FormulaError` for R's formula errors ("invalid power in formula", "'.' in formula
    and no 'data' argument", a constant other than 0/1 as a term, duplicated column names with
    ``.``).

    With ``random=False`` bars are not treated as random effects: ``(1 | g)`` is then an ordinary
    variable ``1 | g`` (a logical "or"), exactly as R's ``terms()`` and ``lm`` see it.

    The expansion of a formula text depends only on the text, the column names and the options,
    so it is computed once and kept; every call returns its own copy (:meth:`Terms.copy`).
    """
    if not isinstance(formula, str):
        return expand_terms(formula, _column_names(data_columns), keep_order, random)
    if "." in formula:
        columns = _column_names(data_columns)
        key: tuple = (formula, None if columns is None else tuple(columns), keep_order, random)
    else:  # no '.' to expand: the columns play no part (and are not even listed)
        key = (formula, keep_order, random)
    cached = _TERMS_CACHE.get(key)
    if cached is None:
        cached = expand_terms(formula, _column_names(data_columns), keep_order, random)
        if len(_TERMS_CACHE) >= _TERMS_CACHE_SIZE:
            _TERMS_CACHE.clear()
        _TERMS_CACHE[key] = cached
    return cached.copy()


def _column_names(data_columns) -> list[str] | None:
    return None if data_columns is None else [str(c) for c in data_columns]


def _expand_dot(f: Formula, fixed_rhs: Expr, data_columns: Sequence[str] | None
                ) -> tuple[Expr, Expr, Expr]:
    """R's ``.`` on the right-hand side: (rhs, fixed rhs) with ``.`` replaced by the data's
    columns not on the left-hand side, and the fixed rhs to encode (a ``.`` that found no
    usable column contributes nothing)."""
    rhs = f.rhs
    dot = _has_dot(fixed_rhs)
    if dot is not None and data_columns is not None:
        cols = _dot_columns(f.lhs, data_columns)
        seen: set[str] = set()
        for c in cols:
            if c in seen:
                raise FormulaError(f"duplicated name '{c}' in data frame using '.'", f.text,
                                   dot.pos)
            seen.add(c)
        value = _dot_value(cols)
        if value is not None:
            rhs = _expand_dots(rhs, value)
            fixed_rhs = _expand_dots(fixed_rhs, value)
    # with data but no usable column R's '.' contributes nothing (and stays in the formula)
    encoded_rhs = fixed_rhs
    if data_columns is not None and _has_dot(fixed_rhs) is not None:
        encoded_rhs = _drop_dots(fixed_rhs)
    return rhs, fixed_rhs, encoded_rhs


def expand_terms(
    formula: Union[str, Formula],
    data_columns: Sequence[str] | None = None,
    keep_order: bool = False,
    random: bool = True,
) -> Terms:
    """:func:`terms` computed afresh (no cache)."""
    f = parse_formula(formula) if isinstance(formula, str) else formula
    text = f.text
    fixed_rhs, bars = find_bars(f.rhs, text) if random else (f.rhs, [])
    if fixed_rhs is None:
        fixed_rhs = Num(1.0, "1", f.rhs.pos)

    written_rhs = fixed_rhs  # before '.' is expanded
    rhs, fixed_rhs, encoded_rhs = _expand_dot(f, fixed_rhs, data_columns)

    dot_cols = _dot_columns(f.lhs, data_columns) if data_columns is not None else None
    enc = _Encoder(text, f.lhs, dot_cols)
    # R's ExtractVars walks the formula with its '.' (bare names after it wait for EncodeVars)
    enc.extract(written_rhs if dot_cols is not None else encoded_rhs)
    # (R then notes "'varlist' has changed ... after EncodeVars() -- should no longer happen!"
    # when EncodeVars appended names; that bookkeeping note is not repeated here.)
    term_sets = enc.encode(encoded_rhs)
    response = 0 if f.lhs is not None else None

    nvar = len(enc.variables)
    first_rhs = 1 if response is not None else 0
    offsets = [i for i in range(first_rhs, nvar) if enc.labels[i].startswith("offset(")]
    if offsets:
        off = set(offsets)
        term_sets = [t for t in term_sets if not (t & off)]
    if not keep_order:
        term_sets = sorted(term_sets, key=len)  # stable
    term_tuples = [tuple(sorted(t)) for t in term_sets]
    labels = [":".join(enc.labels[i] for i in t) for t in term_tuples]
    fixed = Formula(f.lhs, fixed_rhs, text)
    return Terms(
        formula=Formula(f.lhs, rhs, text),
        variables=list(enc.variables),
        variable_labels=list(enc.labels),
        frame_labels=[frame_label(e) for e in enc.variables],
        response=response,
        terms=term_tuples,
        term_labels=labels,
        order=[len(t) for t in term_tuples],
        intercept=enc.intercept,
        offsets=offsets,
        factors=_term_codes(term_tuples, nvar),
        bars=bars,
        fixed_formula_text=deparse(fixed),
        fixed_formula=fixed,
        keep_order=keep_order,
    )


def _drop_dots(e: Expr) -> Expr:
    """With data but no usable column, R's ``.`` contributes no terms: encode it as NULL."""
    if isinstance(e, Dot):
        return Null(e.pos)
    if isinstance(e, Paren):
        return Paren(_drop_dots(e.expr), e.pos)
    if isinstance(e, UnaryOp) and e.op in ("+", "-"):
        return UnaryOp(e.op, _drop_dots(e.operand), e.pos)
    if isinstance(e, BinOp) and e.op in _FORMULA_OPS:
        right = e.right if e.op == "^" else _drop_dots(e.right)
        return BinOp(e.op, _drop_dots(e.left), right, e.pos)
    return e
