"""Abstract syntax tree of R's formula language.

Every node records ``pos``, the 0-based offset of its first character in the formula text, so
that errors can point at it. Nodes are immutable and hashable; two variables are the same
variable when their deparsed labels are equal (as in R, where ``terms`` matches expressions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple, Union


@dataclass(frozen=True)
class Name:
    """A symbol: ``x`` or a backticked ``\\`my var\\```; ``id`` is the bare name."""

    id: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Num:
    """A numeric constant; ``text`` is the literal as written (``1e6``, ``2L``)."""

    value: float
    text: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Str:
    """A string constant (single or double quotes in the source)."""

    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Bool:
    """``TRUE``/``FALSE`` (also ``T``/``F`` are left as Names, as R does)."""

    value: bool
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Null:
    """``NULL``."""

    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Dot:
    """``.``: all data columns not on the left-hand side."""

    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """``fun(arg, ..., name = arg)``; ``fun`` may be namespaced (``splines::ns``)."""

    fun: str
    args: Tuple["Expr", ...]
    kwargs: Tuple[Tuple[str, "Expr"], ...] = ()
    pos: int = field(default=0, compare=False)
    # Where the named arguments stand among all the arguments as written (R allows
    # ``f(a = 1, x)``); empty when they all follow the positional ones.
    named_at: Tuple[int, ...] = ()

    def items(self) -> list:
        """``(name or None, value)`` of every argument, in the order written."""
        if not self.named_at:
            return [(None, a) for a in self.args] + list(self.kwargs)
        named = set(self.named_at)
        pos_args, kw_args = iter(self.args), iter(self.kwargs)
        return [next(kw_args) if k in named else (None, next(pos_args))
                for k in range(len(self.args) + len(self.kwargs))]


@dataclass(frozen=True)
class BinOp:
    """Binary operator: ``~ + - * / : ^ %in% | || == != < > <= >= & && %% %/%`` (``**`` → ``^``)."""

    op: str
    left: "Expr"
    right: "Expr"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class UnaryOp:
    """Unary ``-``, ``+``, ``!`` or a one-sided ``~``."""

    op: str
    operand: "Expr"
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Paren:
    """``( expr )``: kept so that deparsing reproduces R's labels (``I((x + 1)^2)``)."""

    expr: "Expr"
    pos: int = field(default=0, compare=False)


Expr = Union[Name, Num, Str, Bool, Null, Dot, Call, BinOp, UnaryOp, Paren]


@dataclass(frozen=True)
class Formula:
    """A parsed formula: ``lhs`` is None for a one-sided formula ``~ rhs``."""

    lhs: Optional[Expr]
    rhs: Expr
    text: str


def left_spine(e: BinOp, ops: Optional[frozenset] = None) -> Tuple[Expr, list]:
    """Unwind a left-deep chain ``((x1 op x2) op x3) ...`` of binary nodes (whose operator is in
    ``ops``, any operator if None): (the leftmost operand, the nodes from the innermost
    outwards). Walkers use it so that a sum of thousands of terms does not recurse as deep."""
    spine: list = []
    node: Expr = e
    while isinstance(node, BinOp) and (ops is None or node.op in ops):
        spine.append(node)
        node = node.left
    spine.reverse()
    return node, spine
