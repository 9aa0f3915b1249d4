"""Recursive-descent / precedence-climbing parser for R's formula language.

Operator precedence and associativity follow R's grammar (``?Syntax``), from loosest to tightest:

====  ==========================  =============
 1    ``~`` (binary and unary)    left
 2    ``|`` ``||``                left
 3    ``&`` ``&&``                left
 4    ``!`` (unary)
 5    ``== != < > <= >=``         non-associative
 6    ``+ -``                     left
 7    ``* /``                     left
 8    ``%any%`` (incl. ``%in%``)  left
 9    ``:``                       left
10    unary ``+ -``
11    ``^`` (``**``)              right
12    ``$ @``                     left
13    ``::`` ``:::``, calls
====  ==========================  =============

A prefix operator takes as its operand everything that binds tighter than itself, exactly as R's
yacc grammar resolves it: ``-a:b`` is ``(-a):b``, ``-a^2`` is ``-(a^2)``, ``a^-1`` is ``a^(-1)``,
``!a == b`` is ``!(a == b)``. Nothing is ever evaluated.
"""

from __future__ import annotations

import math

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
)
from .lexer import RESERVED, Token, tokenize

_BINARY_PREC = {
    "~": 1,
    "|": 2, "||": 2,
    "&": 3, "&&": 3,
    "==": 5, "!=": 5, "<": 5, ">": 5, "<=": 5, ">=": 5,
    "+": 6, "-": 6,
    "*": 7, "/": 7,
    ":": 9,
    "^": 11,
    "$": 12, "@": 12,
}
_SPECIAL_PREC = 8
_COMPARISON = frozenset({"==", "!=", "<", ">", "<=", ">="})
_RIGHT_ASSOC = frozenset({"^"})
_UNARY_OPERAND_PREC = {"-": 11, "+": 11, "!": 5, "~": 2}
_CONSTANTS = {
    "Inf": math.inf, "NaN": math.nan, "NA": math.nan, "NA_integer_": math.nan,
    "NA_real_": math.nan,
}
_UNSUPPORTED = {
    "<-": "assignment", "<<-": "assignment", "->": "assignment", "->>": "assignment",
    "=": "'=' outside a function call", "|>": "the pipe operator", "[": "indexing",
    "{": "braces", "?": "'?'", ";": "';'", "\\": "function definitions",
}


def describe(tok: Token) -> str:
    """R-style description of a token for 'unexpected ...' messages."""
    if tok.kind == "eof":
        return "end of formula"
    if tok.kind == "num":
        return f"numeric constant {tok.value}"
    if tok.kind == "str":
        return "string constant"
    if tok.kind == "name":
        if not tok.quoted and tok.value in RESERVED:
            return f"'{tok.value}'"
        return f"symbol {tok.value}"
    if tok.kind == "special":
        return f"SPECIAL {tok.value}"
    return f"'{tok.value}'"


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.open_parens: list[Token] = []
        self.call_depth = 0
        self.tildes: list[int] = []  # offsets of '~' operators outside function calls
        self.depth = 0  # nesting of expr() (left-associative chains are built in a loop)

    # -- token helpers ---------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, message: str, pos: int) -> FormulaError:
        return FormulaError(message, self.text, pos)

    def unexpected(self, tok: Token) -> FormulaError:
        if tok.kind == "eof":
            if self.open_parens:
                opener = self.open_parens[-1]
                return self.error(f"unbalanced parentheses: '{opener.value}' is never closed",
                                  opener.pos)
            prev = self.toks[self.i - 1] if self.i > 0 else None
            if prev is not None and prev.kind in ("op", "special"):
                return self.error(f"unexpected end of formula after '{prev.value}'", prev.pos)
            return self.error("unexpected end of formula", tok.pos)
        if tok.kind == "op" and tok.value == ")" and not self.open_parens:
            return self.error("unbalanced parentheses: unexpected ')'", tok.pos)
        if tok.kind == "op" and tok.value in _UNSUPPORTED:
            return self.error(
                f"unexpected '{tok.value}': {_UNSUPPORTED[tok.value]} is not supported in "
                "formulas", tok.pos)
        return self.error(f"unexpected {describe(tok)}", tok.pos)

    def expect_op(self, value: str) -> Token:
        tok = self.peek()
        if tok.kind == "op" and tok.value == value:
            return self.advance()
        raise self.unexpected(tok)

    # -- grammar ---------------------------------------------------------------------------
    def binary_prec(self, tok: Token) -> int | None:
        if tok.kind == "special":
            return _SPECIAL_PREC
        if tok.kind == "op":
            return _BINARY_PREC.get(tok.value)
        return None

    def expr(self, min_prec: int) -> Expr:
        self.depth += 1
        if self.depth > LIMITS.nesting_depth:
            raise self.error(f"formula nested too deeply (more than {LIMITS.nesting_depth} "
                             "levels of operators and calls)", self.peek().pos)
        try:
            return self.operators(min_prec)
        finally:
            self.depth -= 1

    def open_context(self, tok: Token) -> None:
        """Push a bracket or call onto the context stack, refused past R's parser's 50."""
        if len(self.open_parens) >= LIMITS.context_depth:
            raise self.error("contextstack overflow: more than "
                             f"{LIMITS.context_depth} nested parentheses or calls", tok.pos)
        self.open_parens.append(tok)

    def operators(self, min_prec: int) -> Expr:
        left = self.prefix()
        while True:
            tok = self.peek()
            prec = self.binary_prec(tok)
            if prec is None or prec < min_prec:
                return left
            self.advance()
            if tok.value == "~" and self.call_depth == 0:
                self.tildes.append(tok.pos)
            if tok.value in ("$", "@"):
                rhs_tok = self.advance()
                if rhs_tok.kind == "name":
                    right: Expr = Name(rhs_tok.value, rhs_tok.pos)
                elif rhs_tok.kind == "str":
                    right = Str(rhs_tok.value, rhs_tok.pos)
                else:
                    self.i -= 1
                    raise self.unexpected(rhs_tok)
                left = BinOp(tok.value, left, right, _start(left))
                continue
            next_min = prec if tok.value in _RIGHT_ASSOC else prec + 1
            right = self.expr(next_min)
            left = BinOp(tok.value, left, right, _start(left))
            if tok.value in _COMPARISON:
                nxt = self.peek()
                if nxt.kind == "op" and nxt.value in _COMPARISON:
                    raise self.error(f"unexpected '{nxt.value}': comparisons cannot be chained",
                                     nxt.pos)

    def prefix(self) -> Expr:
        tok = self.peek()
        if tok.kind == "op" and tok.value in _UNARY_OPERAND_PREC:
            self.advance()
            if tok.value == "~" and self.call_depth == 0:
                self.tildes.append(tok.pos)
            operand = self.expr(_UNARY_OPERAND_PREC[tok.value])
            return UnaryOp(tok.value, operand, tok.pos)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.advance()
        if tok.kind == "num":
            return Num(tok.number, tok.value, tok.pos)
        if tok.kind == "str":
            return Str(tok.value, tok.pos)
        if tok.kind == "name":
            return self.name_or_call(tok)
        if tok.kind == "op" and tok.value == "(":
            self.open_context(tok)
            if self.peek().kind == "op" and self.peek().value == ")":
                raise self.error("empty parentheses", self.peek().pos)
            inner = self.expr(0)
            self.expect_op(")")
            self.open_parens.pop()
            node: Expr = Paren(inner, tok.pos)
            return self.postfix(node)
        self.i -= 1
        raise self.unexpected(tok)

    def name_or_call(self, tok: Token) -> Expr:
        value = tok.value
        if not tok.quoted:
            if value == "TRUE":
                return self.postfix(Bool(True, tok.pos))
            if value == "FALSE":
                return self.postfix(Bool(False, tok.pos))
            if value == "NULL":
                return self.postfix(Null(tok.pos))
            if value in _CONSTANTS:
                return self.postfix(Num(_CONSTANTS[value], value, tok.pos))
            if value in RESERVED:
                self.i -= 1
                raise self.error(f"unexpected '{value}': R's '{value}' is not supported in "
                                 "formulas", tok.pos)
        nxt = self.peek()
        if nxt.kind == "op" and nxt.value in ("::", ":::"):
            self.advance()
            member = self.advance()
            if member.kind not in ("name", "str"):
                self.i -= 1
                raise self.unexpected(member)
            after = self.peek()
            if not (after.kind == "op" and after.value == "("):
                raise self.error(
                    f"'{value}{nxt.value}{member.value}' is only supported as a function call",
                    tok.pos)
            return self.call(f"{value}{nxt.value}{member.value}", tok.pos)
        if nxt.kind == "op" and nxt.value == "(":
            return self.call(value, tok.pos)
        if value == ".":
            return self.postfix(Dot(tok.pos))
        return self.postfix(Name(value, tok.pos))

    def postfix(self, node: Expr) -> Expr:
        tok = self.peek()
        if tok.kind == "op" and tok.value == "(":
            raise self.error("only a function name can be called", tok.pos)
        if tok.kind == "op" and tok.value == "[":
            raise self.error("indexing ('[' or '[[') is not supported in formulas", tok.pos)
        return node

    def call(self, fun: str, pos: int) -> Expr:
        opener = self.expect_op("(")
        self.open_context(opener)
        self.call_depth += 1
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        named_at: list[int] = []
        if self.peek().kind == "op" and self.peek().value == ")":
            self.advance()
            self.open_parens.pop()
            self.call_depth -= 1
            return self.postfix(Call(fun, (), (), pos))
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.value in (",", ")"):
                raise self.error("empty argument in function call", tok.pos)
            after = self.peek(1)
            if tok.kind in ("name", "str") and after.kind == "op" and after.value == "=":
                self.advance()
                self.advance()
                val_tok = self.peek()
                if val_tok.kind == "op" and val_tok.value in (",", ")"):
                    raise self.error(f"empty value for argument '{tok.value}'", val_tok.pos)
                named_at.append(len(args) + len(kwargs))
                kwargs.append((tok.value, self.expr(0)))
            else:
                args.append(self.expr(0))
            sep = self.peek()
            if sep.kind == "op" and sep.value == ",":
                self.advance()
                continue
            if sep.kind == "op" and sep.value == ")":
                self.advance()
                break
            raise self.unexpected(sep)
        self.open_parens.pop()
        self.call_depth -= 1
        # named_at only when a named argument comes before a positional one
        in_order = named_at == list(range(len(args), len(args) + len(kwargs)))
        return self.postfix(Call(fun, tuple(args), tuple(kwargs), pos,
                                 () if in_order else tuple(named_at)))


def _start(node: Expr) -> int:
    """Offset of the first character of ``node`` (a binary node starts at its left operand)."""
    return node.pos


def parse_expression(text: str) -> Expr:
    """Parse one R expression (no ``~`` required); used for deparse tests and helpers."""
    p = _Parser(text)
    if p.peek().kind == "eof":
        raise FormulaError("empty expression", text, 0)
    node = p.expr(0)
    tok = p.peek()
    if tok.kind != "eof":
        raise p.unexpected(tok)
    return node


def parse_formula(text: str) -> Formula:
    """Parse an R model formula such as ``"y ~ a*b + log(x) + (1 | g)"``.

    Returns a :class:`Formula` whose ``lhs`` is None for a one-sided formula ``~ rhs``. Raises
    :class:`FormulaError` (with the 0-based position of the offending character) for syntax
    errors, a missing ``~`` and a second ``~`` outside function calls.
    """
    if not isinstance(text, str):
        raise TypeError(f"formula must be a str, not {type(text).__name__}")
    if len(text) > LIMITS.formula_length:
        raise FormulaError(f"formula too long ({len(text)} characters; the limit is "
                           f"{LIMITS.formula_length})")
    p = _Parser(text)
    if p.peek().kind == "eof":
        raise FormulaError("empty formula", text, 0)
    node = p.expr(0)
    tok = p.peek()
    if tok.kind != "eof":
        raise p.unexpected(tok)
    if not p.tildes:
        raise FormulaError("formula has no '~' (write 'y ~ x' or '~ x')", text, 0)
    if len(p.tildes) > 1:
        raise FormulaError("more than one '~' in formula", text, p.tildes[1])
    if isinstance(node, BinOp) and node.op == "~":
        lhs, rhs = node.left, node.right
    elif isinstance(node, UnaryOp) and node.op == "~":
        lhs, rhs = None, node.operand
    else:
        raise FormulaError("'~' must be the outermost operator of a formula", text, p.tildes[0])
    return Formula(lhs, rhs, text)
