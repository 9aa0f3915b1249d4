"""R's ``update.formula``: the new formula's ``.`` replaced by the old formula's sides, then
simplified as ``formula(terms.formula(tmp, simplify = TRUE))`` writes it back.

The simplified right-hand side is the expanded term labels joined by ``+`` (R's order: by
order of interaction, then as written), the ``offset(...)`` terms after them, and ``- 1`` last
when there is no intercept (``1`` when nothing else is left): ``update(y ~ a*b, . ~ . + c)`` is
``y ~ a + b + c + a:b``.
"""

from __future__ import annotations

from typing import Optional, Union

from ...formula import (
    BinOp,
    Call,
    Dot,
    Expr,
    Formula,
    Num,
    Paren,
    UnaryOp,
    deparse,
    parse_formula,
    terms,
)

__all__ = ["update_formula", "substitute_dot"]


def substitute_dot(e: Optional[Expr], value: Optional[Expr], wrap: bool) -> Optional[Expr]:
    """R's ``C_updateform`` on one side: every ``.`` in ``e`` becomes ``value`` (in parentheses
    on the right-hand side, ``wrap=True``, so that ``.^2`` squares the whole old side)."""
    if e is None or value is None:
        return e
    if isinstance(e, Dot):
        return Paren(value, e.pos) if wrap else value
    if isinstance(e, BinOp):
        return BinOp(e.op, substitute_dot(e.left, value, wrap),
                     substitute_dot(e.right, value, wrap), e.pos)
    if isinstance(e, UnaryOp):
        return UnaryOp(e.op, substitute_dot(e.operand, value, wrap), e.pos)
    if isinstance(e, Paren):
        return Paren(substitute_dot(e.expr, value, wrap), e.pos)
    if isinstance(e, Call):
        return Call(e.fun, tuple(substitute_dot(a, value, wrap) for a in e.args),
                    tuple((k, substitute_dot(v, value, wrap)) for k, v in e.kwargs), e.pos,
                    e.named_at)
    return e


def _as_variable(e: Expr) -> Expr:
    """A variable as R's deparse writes it inside ``+``/``:`` (operators in parentheses)."""
    return Paren(e, e.pos) if isinstance(e, (BinOp, UnaryOp)) else e


def _join(parts: list, op: str) -> Expr:
    out = parts[0]
    for p in parts[1:]:
        out = BinOp(op, out, p)
    return out


def simplified_rhs(f: Formula) -> Expr:
    """The right-hand side of ``formula(terms.formula(f, simplify = TRUE))``."""
    t = terms(f, random=False)
    parts: list = [_join([_as_variable(t.variables[i]) for i in term], ":") for term in t.terms]
    parts += [t.variables[i] for i in t.offsets]
    rhs = _join(parts, "+") if parts else Num(1.0, "1")
    if not t.intercept:
        rhs = BinOp("-", rhs, Num(1.0, "1"))
    return rhs


def update_formula(old: Union[str, Formula], new: Union[str, Formula]) -> str:
    """R's ``update(old, new)`` of two formulas, as R prints the result.

    ``.`` on the new left-hand side is the old response, ``.`` on the new right-hand side the
    old right-hand side; a new formula without a left-hand side keeps the old one. The result
    is simplified as R does (``update(y ~ x + z, . ~ . - z)`` is ``y ~ x``).
    """
    fo = parse_formula(old) if isinstance(old, str) else old
    fn = parse_formula(new) if isinstance(new, str) else new
    lhs = fo.lhs if fn.lhs is None else substitute_dot(fn.lhs, fo.lhs, wrap=False)
    rhs = substitute_dot(fn.rhs, fo.rhs, wrap=True)
    text = deparse(Formula(lhs, rhs, ""), cutoff=None)
    tmp = Formula(lhs, rhs, text)
    return deparse(Formula(lhs, simplified_rhs(tmp), text), cutoff=None)
