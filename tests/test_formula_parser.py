"""Unit tests of the formula tokenizer and parser: AST shapes (R's precedence), round trips
through ``deparse``, and every syntax error (class, position, caret line)."""

from __future__ import annotations

import math

import pytest
from rmodels.errors import FormulaError
from rmodels.formula import (
    BinOp,
    Bool,
    Call,
    Dot,
    Formula,
    Name,
    Null,
    Num,
    Paren,
    Str,
    UnaryOp,
    deparse,
    parse_expression,
    parse_formula,
    terms,
)


def rhs(text: str):
    return parse_formula(text).rhs


# ------------------------------------------------------------------------------------------
# structure and precedence


def test_two_and_one_sided():
    f = parse_formula("y ~ x")
    assert isinstance(f, Formula)
    assert f.lhs == Name("y") and f.rhs == Name("x") and f.text == "y ~ x"
    g = parse_formula("~ x + z")
    assert g.lhs is None and g.rhs == BinOp("+", Name("x"), Name("z"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-a:b", BinOp(":", UnaryOp("-", Name("a")), Name("b"))),
        ("-a^2", UnaryOp("-", BinOp("^", Name("a"), Num(2.0, "2")))),
        ("a^-1", BinOp("^", Name("a"), UnaryOp("-", Num(1.0, "1")))),
        ("a^b^c", BinOp("^", Name("a"), BinOp("^", Name("b"), Name("c")))),
        ("a**2", BinOp("^", Name("a"), Num(2.0, "2"))),
        ("a - b - c", BinOp("-", BinOp("-", Name("a"), Name("b")), Name("c"))),
        ("a / b / c", BinOp("/", BinOp("/", Name("a"), Name("b")), Name("c"))),
        ("a + b * c", BinOp("+", Name("a"), BinOp("*", Name("b"), Name("c")))),
        ("a * b : c", BinOp("*", Name("a"), BinOp(":", Name("b"), Name("c")))),
        ("a %in% b : c", BinOp("%in%", Name("a"), BinOp(":", Name("b"), Name("c")))),
        ("a : b %in% c", BinOp("%in%", BinOp(":", Name("a"), Name("b")), Name("c"))),
        ("a * b %in% c", BinOp("*", Name("a"), BinOp("%in%", Name("b"), Name("c")))),
        ("a %% b %/% c", BinOp("%/%", BinOp("%%", Name("a"), Name("b")), Name("c"))),
        ("a + b == c", BinOp("==", BinOp("+", Name("a"), Name("b")), Name("c"))),
        ("!a == b", UnaryOp("!", BinOp("==", Name("a"), Name("b")))),
        ("a & !b | c", BinOp("|", BinOp("&", Name("a"), UnaryOp("!", Name("b"))), Name("c"))),
        ("a | b & c", BinOp("|", Name("a"), BinOp("&", Name("b"), Name("c")))),
        ("a || b && c", BinOp("||", Name("a"), BinOp("&&", Name("b"), Name("c")))),
        ("x + 1 | g", BinOp("|", BinOp("+", Name("x"), Num(1.0, "1")), Name("g"))),
        ("a * -b + c", BinOp("+", BinOp("*", Name("a"), UnaryOp("-", Name("b"))), Name("c"))),
        ("- - a", UnaryOp("-", UnaryOp("-", Name("a")))),
        ("+a", UnaryOp("+", Name("a"))),
        ("(a + b)^2", BinOp("^", Paren(BinOp("+", Name("a"), Name("b"))), Num(2.0, "2"))),
        ("a < b", BinOp("<", Name("a"), Name("b"))),
        ("a >= -1", BinOp(">=", Name("a"), UnaryOp("-", Num(1.0, "1")))),
        ("d$x", BinOp("$", Name("d"), Name("x"))),
        ("-d$x^2", UnaryOp("-", BinOp("^", BinOp("$", Name("d"), Name("x")), Num(2.0, "2")))),
        (".", Dot()),
        ("`.`", Dot()),
    ],
)
def test_precedence(text, expected):
    assert rhs("y ~ " + text) == expected


def test_tilde_is_loosest():
    f = parse_formula("y ~ a | b")
    assert f.rhs == BinOp("|", Name("a"), Name("b"))
    f = parse_formula("~ a + b")
    assert f.rhs == BinOp("+", Name("a"), Name("b"))


@pytest.mark.parametrize(
    "text, value, literal",
    [("1", 1.0, "1"), ("1.5", 1.5, "1.5"), ("1e6", 1e6, "1e6"), (".5", 0.5, ".5"),
     ("2L", 2.0, "2L"), ("0x1F", 31.0, "0x1F"), ("0X10L", 16.0, "0X10L"), ("1.", 1.0, "1."),
     ("1e-3", 1e-3, "1e-3"), ("1E+2", 100.0, "1E+2"), ("100000", 1e5, "100000")],
)
def test_numbers(text, value, literal):
    node = rhs("y ~ I(" + text + ")").args[0]
    assert node == Num(value, literal)


def test_constants():
    args = rhs("y ~ f(TRUE, FALSE, NULL, T, F, Inf, NaN, NA)").args
    assert args[:5] == (Bool(True), Bool(False), Null(), Name("T"), Name("F"))
    assert math.isinf(args[5].value) and args[5].text == "Inf"
    assert math.isnan(args[6].value) and args[6].text == "NaN"
    assert math.isnan(args[7].value) and args[7].text == "NA"


@pytest.mark.parametrize(
    "text, value",
    [("'abc'", "abc"), ('"a\\"b"', 'a"b'), ("'it\\'s'", "it's"), ('"a\\nb\\tc"', "a\nb\tc"),
     ('"\\x41\\101"', "AA"), ('"\\u00e9\\u{e9}"', "\u00e9\u00e9"), ('"a\\\\b"', "a\\b"),
     ("\"it's\"", "it's"), ("'say \"hi\"'", 'say "hi"'), ('""', "")],
)
def test_strings(text, value):
    assert rhs("y ~ f(" + text + ")").args[0] == Str(value)


def test_backticked_names():
    f = parse_formula("`Sepal Length` ~ `Petal Width` + `a:b`")
    assert f.lhs == Name("Sepal Length")
    assert f.rhs == BinOp("+", Name("Petal Width"), Name("a:b"))
    assert rhs("y ~ `if`") == Name("if")
    assert rhs("y ~ `a\\`b`") == Name("a`b")


def test_calls():
    assert rhs("y ~ poly(x, 2, raw = TRUE)") == Call(
        "poly", (Name("x"), Num(2.0, "2")), (("raw", Bool(True)),))
    assert rhs("y ~ C(f, contr.sum)") == Call("C", (Name("f"), Name("contr.sum")))
    assert rhs('y ~ relevel(f, "b")') == Call("relevel", (Name("f"), Str("b")))
    assert rhs("y ~ splines::ns(x, df = 3)") == Call(
        "splines::ns", (Name("x"),), (("df", Num(3.0, "3")),))
    assert rhs("y ~ stats:::f(x)") == Call("stats:::f", (Name("x"),))
    assert rhs("y ~ f()") == Call("f", ())
    assert rhs("y ~ `my f`(x)") == Call("my f", (Name("x"),))
    assert rhs("y ~ f(`a b` = 1, 'c' = 2)") == Call(
        "f", (), (("a b", Num(1.0, "1")), ("c", Num(2.0, "2"))))
    assert rhs("y ~ f(g(x), h = k(z, 1))") == Call(
        "f", (Call("g", (Name("x"),)),), (("h", Call("k", (Name("z"), Num(1.0, "1")))),))
    assert rhs("y ~ f(x == 1)") == Call("f", (BinOp("==", Name("x"), Num(1.0, "1")),))


def test_positions():
    f = parse_formula("y ~ a + log(x, base = 2)")
    assert f.lhs.pos == 0
    assert f.rhs.pos == 4 and f.rhs.left.pos == 4
    call = f.rhs.right
    assert call.pos == 8 and call.args[0].pos == 12 and call.kwargs[0][1].pos == 22
    g = parse_formula("~ -x")
    assert g.rhs.pos == 2 and g.rhs.operand.pos == 3


def test_whitespace_newlines_comments():
    a = parse_formula("y ~\n  a +\n\tb  # the model\n + c")
    assert deparse(a) == "y ~ a + b + c"


@pytest.mark.parametrize(
    "text",
    [
        "y ~ a + b", "y ~ a * b * c", "y ~ (a + b)/c", "y ~ a/b/c", "y ~ b %in% a",
        "y ~ (a + b):(c + d)", "y ~ a * b - a", "y ~ -1 + a", "y ~ 0 + a", "~x",
        "~x + z", "y ~ I(x * 2) + I(x/2) + I(x - 1) + I(x%%2) + I(x == 1) + I(-x)",
        "y ~ I((x + 1)^2) + I(x^-1) + I(x%/%2)", "log(y) ~ log(x, base = 2) + poly(x, 2)",
        "y ~ poly(x, degree = 2, raw = TRUE) + splines::ns(x, df = 3)",
        'y ~ factor(g, levels = c("b", "a")) + I("a" == g)', "y ~ `my var` + `my var`:z",
        "y ~ x + (1 | g) + (x || h)", "y ~ !a & b | c && d || e", "y ~ a <= b",
        "cbind(s, n - s) ~ x", "y ~ exp(-x) + sqrt(abs(x))", "y ~ a %o% b", "y ~ d$x + d@y",
        "y ~ TRUE + NULL + FALSE", "y ~ f()", 'y ~ I("a\\"b\\n")', "y ~ .^2 + x * .",
        "y ~ I(x * 1e+06) + I(1e+05 * x) + I(0.001 * x) + I(1e-04 * x)",
    ],
)
def test_round_trip(text):
    assert deparse(parse_formula(text)) == text
    # and the AST is stable under a second round
    assert parse_formula(deparse(parse_formula(text))) == parse_formula(text)


@pytest.mark.parametrize(
    "text, expected",
    [("y~a+b", "y ~ a + b"), ("y ~ a**2", "y ~ a^2"), ("y ~ I(2L*x)", "y ~ I(2 * x)"),
     ("y ~ I(1e6*x)", "y ~ I(1e+06 * x)"), ("y ~ I(0x10 * x)", "y ~ I(16 * x)"),
     ("y ~ I(100000L * x)", "y ~ I(100000 * x)"), ("y ~ I(.5 * x)", "y ~ I(0.5 * x)"),
     ("y~ - x", "y ~ -x"), ("y ~ I('a')", 'y ~ I("a")'), ("y~`a`", "y ~ a"),
     ("y ~ f(a=1)", "y ~ f(a = 1)"), ("y ~ `if`", "y ~ `if`"), ("y ~ I(x ^ - 1)", "y ~ I(x^-1)"),
     ("y ~ f(a=1, x)", "y ~ f(a = 1, x)"), ("y ~ f(x, a=1, z, b=2)", "y ~ f(x, a = 1, z, b = 2)")],
)
def test_deparse_normalises(text, expected):
    assert deparse(parse_formula(text)) == expected


def test_named_before_positional_keeps_order_and_identity():
    f1, f2 = parse_formula("y ~ f(a = 1, x)"), parse_formula("y ~ f(x, a = 1)")
    call1, call2 = f1.rhs, f2.rhs
    assert call1.args == call2.args and call1.kwargs == call2.kwargs
    assert call1.items()[0][0] == "a" and call2.items()[0][0] is None
    assert call1 != call2  # different calls as written, as R's term labels differ
    assert parse_formula("y ~ f(x, a = 1)").rhs.named_at == ()


def test_parse_expression():
    assert parse_expression("a + b") == BinOp("+", Name("a"), Name("b"))
    with pytest.raises(FormulaError):
        parse_expression("")


# ------------------------------------------------------------------------------------------
# errors: class, message, position and caret line


ERRORS = [
    ("", 0, "empty formula"),
    ("   ", 0, "empty formula"),
    ("y ~ a +", 6, "unexpected end of formula after '+'"),
    ("y ~ a *", 6, "after '*'"),
    ("y ~", 2, "after '~'"),
    ("y ~ (a + b", 4, "unbalanced parentheses"),
    ("y ~ ((a + b)", 4, "unbalanced parentheses"),
    ("y ~ a)", 5, "unbalanced parentheses: unexpected ')'"),
    ("y ~ f(x", 5, "unbalanced parentheses"),
    ("y ~ f(x, g(z)", 5, "unbalanced parentheses"),
    ("y ~ 'abc", 4, "unterminated string"),
    ('y ~ I("a', 6, "unterminated string"),
    ("y ~ `ab", 4, "unterminated backticked name"),
    ("y ~ 1e", 4, "invalid number"),
    ("y ~ 1e+", 4, "invalid number"),
    ("y ~ 12abc", 4, "invalid number"),
    ("y ~ 0x", 4, "invalid number"),
    ("y ~ 1.2.3", 4, "invalid number"),
    ("y ~ 2i", 4, "complex constants"),
    ("y + x", 0, "formula has no '~'"),
    ("x", 0, "formula has no '~'"),
    ("y ~ a ~ b", 6, "more than one '~'"),
    ("~ a ~ b", 4, "more than one '~'"),
    ("y ~ a + (b ~ c)", 11, "more than one '~'"),
    ("(y ~ x)", 3, "'~' must be the outermost operator"),
    ("a + (y ~ x)", 7, "'~' must be the outermost operator"),
    ("y ~ a \u00a7 b", 6, "unexpected input"),
    ("y ~ a ; b", 6, "';'"),
    ("y ~ f(x, )", 9, "empty argument"),
    ("y ~ f(, x)", 6, "empty argument"),
    ("y ~ f(x,, z)", 8, "empty argument"),
    ("y ~ f(a = )", 10, "empty value for argument 'a'"),
    ("y ~ a == b == c", 11, "comparisons cannot be chained"),
    ("y ~ a < b > c", 10, "comparisons cannot be chained"),
    ("y ~ ()", 5, "empty parentheses"),
    ("y ~ a b", 6, "unexpected symbol b"),
    ("y ~ a 'b'", 6, "unexpected string constant"),
    ("y ~ a 2", 6, "unexpected numeric constant 2"),
    ("y ~ `` + a", 4, "zero-length variable name"),
    ("y ~ a[1]", 5, "indexing"),
    ("y ~ x <- 2", 6, "assignment"),
    ("y ~ x = 2", 6, "'=' outside a function call"),
    ("y ~ if", 4, "'if'"),
    ("y ~ function(x) x", 4, "'function'"),
    ("y ~ %in% a", 4, "unexpected SPECIAL %in%"),
    ("y ~ a %in b", 6, "unterminated %-operator"),
    ("y ~ I('a\\q')", 8, "unrecognized escape"),
    ("y ~ I('\\x')", 7, "without hex digits"),
    ("y ~ f(x)(z)", 8, "only a function name can be called"),
    ("y ~ (f)(z)", 7, "only a function name can be called"),
    ("y ~ a + , b", 8, "unexpected ','"),
    ("y ~ a + )", 8, "unexpected ')'"),
    ("y ~ base::pi", 4, "only supported as a function call"),
    ("y ~ stats::(x)", 11, "unexpected '('"),
    ("y ~ a |> f()", 6, "pipe"),
    ("y ~ d$1", 6, "unexpected numeric constant 1"),
    ("y ~ x +\n", 6, "after '+'"),
]


@pytest.mark.parametrize("text, pos, message", ERRORS)
def test_parse_errors(text, pos, message):
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    err = info.value
    assert err.position == pos
    assert err.formula == text
    assert message in err.message
    lines = str(err).split("\n")
    assert lines[0] == err.message
    if "\n" in text:  # multi-line layout: test_caret_under_the_line_of_a_multiline_formula
        return
    # the caret line points at the offending character of the formula line
    assert lines[-1] == "  " + " " * pos + "^"
    assert str(err).startswith(err.message + "\n  " + text)


def test_caret_under_the_line_of_a_multiline_formula():
    text = "y ~ a +\n    b + c +\n  f(x,, z) + d"
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert info.value.position == text.index(",,") + 1
    assert str(info.value).split("\n")[1:] == [
        "  y ~ a +", "      b + c +", "    f(x,, z) + d", "        ^"]
    with pytest.raises(FormulaError) as info:  # a dangling operator on the last line
        parse_formula("y ~ a +\n  b +")
    assert str(info.value).split("\n")[-2:] == ["    b +", "      ^"]


def test_errors_are_rmodels_errors():
    from rmodels.errors import RModelsError

    with pytest.raises(RModelsError):
        parse_formula("y ~ (")


def test_type_error_for_non_string():
    with pytest.raises(TypeError):
        parse_formula(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# terms() errors that need no R (the R-verified ones are in test_terms_r.py)


@pytest.mark.parametrize(
    "text, pos, message",
    [
        ("y ~ a^b", 6, "invalid power in formula"),
        ("y ~ a^1", 6, "invalid power in formula"),
        ("y ~ a^(2)", 6, "invalid power in formula"),
        ("y ~ (a + b)^-2", 12, "invalid power in formula"),
        ("y ~ a + 2", 8, "invalid model formula"),
        ('y ~ a + "s"', 8, "invalid model formula"),
        ("y ~ .", 4, "'.' in formula and no 'data' argument"),
        ("y ~ x + .:z", 8, "'.' in formula and no 'data' argument"),
        ("y ~ a:(1 | g)", 7, "must be added to the formula with '+'"),
        ("y ~ x - (1 | g)", 9, "must be added to the formula with '+'"),
    ],
)
def test_terms_errors(text, pos, message):
    with pytest.raises(FormulaError) as info:
        terms(text)
    assert info.value.position == pos
    assert message in info.value.message
    assert str(info.value).split("\n")[-1] == "  " + " " * pos + "^"


def test_terms_duplicated_dot_columns():
    with pytest.raises(FormulaError, match="duplicated name 'x'"):
        terms("y ~ .", ["y", "x", "x"])


def test_terms_accepts_parsed_formula():
    f = parse_formula("y ~ a*b")
    assert terms(f).term_labels == ["a", "b", "a:b"]


def test_terms_cache_gives_each_caller_its_own_copy() -> None:
    first = terms("y ~ x + g", data_columns=["y", "x", "g"])
    first.term_labels.append("zz")
    first.factors[:] = 9
    first.variables.clear()
    again = terms("y ~ x + g", data_columns=["y", "x", "g"])
    assert again.term_labels == ["x", "g"]
    assert again.factors.max() == 1
    assert [str(v) for v in again.variable_labels] == ["y", "x", "g"]
    assert len(again.variables) == 3


def test_terms_cache_expands_dot_per_data_columns() -> None:
    assert terms("y ~ .", data_columns=["y", "a"]).term_labels == ["a"]
    assert terms("y ~ .", data_columns=["y", "b", "c"]).term_labels == ["b", "c"]
