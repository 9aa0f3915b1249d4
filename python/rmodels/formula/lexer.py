"""Tokenizer for R's formula language.

Splits formula text into tokens following R's lexical rules (``?Quotes``, ``?NumericConstants``,
``?Reserved``, ``?Syntax``): numbers (``1``, ``1.5``, ``.5``, ``1e6``, ``2L``, ``0x1F``), strings in
single or double quotes with R's escapes, names (``x``, ``.x``, ``x.1_b``) and backticked names,
and the operators used in formulas. ``**`` is read as ``^`` as R's parser does. Newlines are
plain whitespace here (a formula is one expression), and ``#`` starts a comment to the end of
the line. Every token records the 0-based offset of its first character.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import FormulaError

# R's reserved words (?Reserved). TRUE/FALSE/NULL and the numeric constants become literals.
RESERVED = frozenset(
    {
        "if", "else", "repeat", "while", "function", "for", "next", "break", "in",
        "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_",
        "NA_character_", "NA_complex_",
    }
)

# Multi-character operators, longest first so that maximal munch works.
_OPERATORS = (
    ":::", "::", "<<-", "->>", "|>", "**", "&&", "||", "==", "!=", "<=", ">=", "<-", "->",
    "~", "+", "-", "*", "/", "^", ":", "|", "&", "!", "<", ">", "=", "(", ")", ",", "$", "@",
    "[", "]", "{", "}", "?", ";", "\\",
)

_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
    "\\": "\\", '"': '"', "'": "'", "`": "`", " ": " ",
}


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``num``, ``str``, ``name``, ``op``, ``special`` (``%op%``) or
    ``eof``; ``value`` is the operator / name / decoded string / number text."""

    kind: str
    value: str
    pos: int
    end: int
    number: float = 0.0
    quoted: bool = False  # a name written in backticks


def _is_digit(ch: str) -> bool:
    """An ASCII digit (``str.isdigit`` also accepts '²' and other digits R's numbers do not)."""
    return "0" <= ch <= "9"


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch == "."


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "._"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; the list always ends with an ``eof`` token.

    Raises :class:`FormulaError` with the offending position for an unterminated string, an
    invalid number, an unknown character, an empty backticked name or an unterminated ``%op%``.
    """
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n\f\v\u00a0":
            i += 1
            continue
        if ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if _is_digit(ch) or (ch == "." and i + 1 < n and _is_digit(text[i + 1])):
            tok = _read_number(text, i)
            tokens.append(tok)
            i = tok.end
            continue
        if _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(text[j]):
                j += 1
            tokens.append(Token("name", text[i:j], i, j))
            i = j
            continue
        if ch in "\"'":
            value, j = _read_quoted(text, i, ch)
            tokens.append(Token("str", value, i, j))
            i = j
            continue
        if ch == "`":
            value, j = _read_quoted(text, i, "`")
            if value == "":
                raise FormulaError("attempt to use zero-length variable name", text, i)
            tokens.append(Token("name", value, i, j, quoted=True))
            i = j
            continue
        if ch == "%":
            j = text.find("%", i + 1)
            nl = text.find("\n", i + 1)
            if j < 0 or (0 <= nl < j):
                raise FormulaError("unterminated %-operator", text, i)
            tokens.append(Token("special", text[i : j + 1], i, j + 1))
            i = j + 1
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                value = "^" if op == "**" else op
                tokens.append(Token("op", value, i, i + len(op)))
                i += len(op)
                break
        else:
            raise FormulaError(f"unexpected input {ch!r}", text, i)
    tokens.append(Token("eof", "", n, n))
    return tokens


def _read_number(text: str, start: int) -> Token:
    """Read a numeric constant as R's lexer does (decimal, exponent, hex, ``L`` suffix)."""
    n = len(text)
    i = start
    is_hex = text.startswith(("0x", "0X"), i)
    if is_hex:
        i += 2
        j = i
        while j < n and text[j] in "0123456789abcdefABCDEF":
            j += 1
        if j == i:
            raise FormulaError("invalid number: hexadecimal constant without digits", text, start)
        value = float(int(text[i:j], 16))
        i = j
    else:
        while i < n and _is_digit(text[i]):
            i += 1
        if i < n and text[i] == ".":
            i += 1
            while i < n and _is_digit(text[i]):
                i += 1
        if i < n and text[i] in "eE":
            j = i + 1
            if j < n and text[j] in "+-":
                j += 1
            if j >= n or not _is_digit(text[j]):
                raise FormulaError("invalid number: exponent has no digits", text, start)
            while j < n and _is_digit(text[j]):
                j += 1
            i = j
        value = float(text[start:i])
    if i < n and text[i] == "L":
        i += 1
    elif i < n and text[i] == "i":
        raise FormulaError("complex constants are not supported in formulas", text, start)
    if i < n and (_is_name_char(text[i])):
        raise FormulaError("invalid number", text, start)
    return Token("num", text[start:i], start, i, number=value)


def _read_quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """Read a quoted string or backticked name starting at ``start``; decode R's escapes."""
    n = len(text)
    i = start + 1
    out: list[str] = []
    while i < n:
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = text[i + 1]
            if esc in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[esc])
                i += 2
                continue
            if esc in "01234567":
                j = i + 1
                while j < n and j < i + 4 and text[j] in "01234567":
                    j += 1
                out.append(chr(int(text[i + 1 : j], 8)))
                i = j
                continue
            if esc in "xuU":
                maxlen = {"x": 2, "u": 4, "U": 8}[esc]
                j = i + 2
                braced = j < n and text[j] == "{" and esc != "x"
                if braced:
                    j += 1
                k = j
                while k < n and k < j + maxlen and text[k] in "0123456789abcdefABCDEF":
                    k += 1
                if k == j:
                    raise FormulaError(f"'\\{esc}' used without hex digits in character string",
                                       text, i)
                code = int(text[j:k], 16)
                if braced:
                    if k >= n or text[k] != "}":
                        raise FormulaError(f"invalid \\{esc}{{xxxx}} sequence", text, i)
                    k += 1
                out.append(chr(code))
                i = k
                continue
            raise FormulaError(f"'\\{esc}' is an unrecognized escape in character string",
                               text, i)
        out.append(ch)
        i += 1
    what = "backticked name" if quote == "`" else "string"
    raise FormulaError(f"unterminated {what}", text, start)


def number_is_integer(tok_text: str, value: float) -> bool:
    """True when an ``L``-suffixed literal is an R integer (whole and in int range)."""
    return (
        tok_text.endswith("L")
        and math.isfinite(value)
        and value == int(value)
        and abs(value) <= 2147483647
    )
