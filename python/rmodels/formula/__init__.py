"""R's formula language: parsing (:func:`parse_formula`), deparsing (:func:`deparse`) and
R's ``terms()`` expansion (:func:`terms`)."""

from __future__ import annotations

from .ast import (  # noqa: F401
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
)
from .deparse import deparse, deparse_name, format_real, is_syntactic_name  # noqa: F401
from .parser import parse_expression, parse_formula  # noqa: F401
from .terms import RandomBar, Terms, find_bars, terms  # noqa: F401

__all__ = [
    "BinOp", "Bool", "Call", "Dot", "Expr", "Formula", "Name", "Null", "Num", "Paren", "Str",
    "UnaryOp", "RandomBar", "Terms", "deparse", "deparse_name", "find_bars", "format_real",
    "is_syntactic_name", "parse_expression", "parse_formula", "terms",
]
