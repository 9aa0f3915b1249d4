"""_repr_html_ of summaries, anova tables and fits: R's printout with its tables as HTML
tables whose cells are exactly the strings of R's printed text (the printouts themselves are
checked against R in the model tests)."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd
import pytest
import rmodels as rm
from rmodels.datasets import load
from rmodels.printing.html import TableSpec, header_edges, printout_html


class Cells(HTMLParser):
    """Rows of the HTML tables (header row first) and the preformatted text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list = []
        self.pre: list = []
        self._cell = None
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_pre:
            self.pre[-1] += data


def parse(html: str) -> Cells:
    p = Cells()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    d = load("listings")
    d["s2"] = 2 * d["stars"]
    return d


def rows_as_printed(text: str, table: list) -> None:
    """Each HTML row, its cells joined by spaces, is the printed row with its spacing
    squeezed (same strings, same order)."""
    lines = [" ".join(ln.split()) for ln in text.split("\n")]
    for row in table[1:]:
        joined = " ".join(c for c in row if c != "")
        assert joined in lines, (joined, text)


def test_lm_summary_html(df):
    s = rm.summary(rm.lm("price ~ stars + s2 + borough", df))
    p = parse(s._repr_html_())
    (table,) = p.tables
    assert table[0] == ["", "Estimate", "Std. Error", "t value", "Pr(>|t|)", ""]
    assert [r[0] for r in table[1:]] == list(s.stats.coef_names)
    s2 = dict((r[0], r[1:]) for r in table[1:])["s2"]
    assert s2 == ["NA", "NA", "NA", "NA", ""]
    assert any(r[-1] == "***" for r in table[1:])
    assert any("< 2e-16" == r[4] for r in table[1:])
    rows_as_printed(str(s), table)
    assert "Residual standard error" in p.pre[-1]


def test_glm_and_lmer_summaries_html(df):
    g = rm.summary(rm.glm("booked ~ stars + room_type", df, family="binomial"))
    (table,) = parse(g._repr_html_()).tables
    assert table[0][1:5] == ["Estimate", "Std. Error", "z value", "Pr(>|z|)"]
    rows_as_printed(str(g), table)
    m = rm.summary(rm.lmer("price ~ stars + (1 | borough)", df))
    (table,) = parse(m._repr_html_()).tables
    assert table[0] == ["", "Estimate", "Std. Error", "t value"]
    rows_as_printed(str(m), table)


def test_anova_html(df):
    a = rm.anova(rm.lm("price ~ stars", df), rm.lm("price ~ stars + borough", df))
    p = parse(a._repr_html_())
    (table,) = p.tables
    assert table[0] == ["", "Res.Df", "RSS", "Df", "Sum of Sq", "F", "Pr(>F)", ""]
    assert table[1] == ["1", "2349", "5044166", "", "", "", "", ""]
    rows_as_printed(str(a), table)
    one = rm.anova(rm.lm("price ~ stars + borough", df))
    (table,) = parse(one._repr_html_()).tables
    assert [r[0] for r in table[1:]] == ["stars", "borough", "Residuals"]
    rows_as_printed(str(one), table)


def test_fits_html(df):
    f = rm.lm("price ~ stars + s2", df)
    p = parse(f._repr_html_())
    assert p.tables[0] == [["", "(Intercept)", "stars", "s2"], ["", "35.04", "12.84", "NA"]]
    assert p.pre[0].startswith("Call:")
    g = rm.glm("booked ~ stars", df, family="binomial")
    p = parse(g._repr_html_())
    assert p.tables[0][1][1:] == ["-3.3636", "0.6817"]
    assert "Degrees of Freedom" in p.pre[-1]
    m = rm.lmer("price ~ stars + (1 | borough)", df)
    p = parse(m._repr_html_())
    assert p.tables[0][0][1:] == ["(Intercept)", "stars"]
    assert p.pre[0].startswith("Linear mixed model fit by REML")


def test_table_not_found_stays_text():
    html = printout_html("a b\nno table here\n", [TableSpec(["x"], ["r1"])])
    p = parse(html)
    assert p.tables == [] and "no table here" in p.pre[0]
    assert header_edges("   Df Deviance Resid. Df", ["Df", "Deviance", "Resid. Df"]) == \
        [5, 14, 24]
    assert header_edges("  Res.Df  RSS", ["Df"]) is None
