"""printing, vectors and matrices: the text of R's ``print()`` of a (named) vector
(``printNamedVector``, ``printVector``), of character and numeric matrices (``printMatrix``,
``printRealMatrix``), of ``cat(...)``, and R's ``abbreviate`` (lme4's correlation labels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .numbers import format_num, pad_to_width, str_width


def print_named_vector(values: Any, names: Sequence[str], digits: int = 7, gap: int = 1,
                       right: bool = True, quote: bool = False, width: int = 80,
                       nan_is_na: bool = True, na_print: str = "NA") -> str:
    """Text of R's ``print()`` of a named vector (``printNamedVector``).

    Numeric values are formatted jointly with ``digits``; a sequence of ``str`` is printed as a
    character vector (right-justified, quoted if ``quote``). Column width w = max(value widths,
    name widths); each name and each value is right-justified in w and followed by ``gap``
    spaces; floor(width / (w + gap)) columns per line, a names line above each values line.
    ``na_print`` is R's ``na.print`` (``""`` in ``print.summary.glm``; it also sets the width
    an NA needs). (``right`` is accepted for symmetry with ``print_matrix``; R always
    right-justifies here.)
    """
    del right
    names = [("<NA>" if s is None else s) for s in names]
    numeric = isinstance(values, np.ndarray) and values.dtype.kind in "fiu"
    vals_list = [] if numeric else list(np.asarray(values, dtype=object).ravel())
    if (values.size if numeric else len(vals_list)) != len(names):
        raise ValueError("values and names differ in length")
    n = len(names)
    if n == 0:
        return "named numeric(0)\n"
    if not numeric and any(isinstance(v, str) for v in vals_list):
        if quote:
            cells = ["NA" if v is None else '"' + v + '"' for v in vals_list]
        else:
            cells = ["<NA>" if v is None else v for v in vals_list]
        w = max(str_width(c) for c in cells)
    else:
        cells = format_num(_numbers(values, vals_list), digits=digits, nan_is_na=nan_is_na,
                           na=na_print)
        w = len(cells[0]) if cells else 0
    width_of, pad = _measures(names + cells)
    w = max([w] + [width_of(s) for s in names])
    per = width // (w + gap)
    if per <= 0:
        per = 1
    lines = []
    sp = " " * gap
    for start in range(0, n, per):
        stop = min(n, start + per)
        lines.append("".join(pad(names[k], w, True) + sp for k in range(start, stop)))
        lines.append("".join(pad(cells[k], w, True) + sp for k in range(start, stop)))
    return "\n".join(lines) + "\n"


def _measures(strings: list) -> tuple[Any, Any]:
    """(display width, padding) functions for ``strings``: ``len`` and ``str.rjust``/``ljust``
    when all are ASCII (the common case, one check), else R's display widths."""
    if "".join(strings).isascii():
        return len, _pad_ascii
    return str_width, pad_to_width


def _pad_ascii(s: str, w: int, right: bool) -> str:
    return s.rjust(w) if right else s.ljust(w)


def _padded_column(col: list, w: int, right: bool, sp: str, pad: Any) -> list:
    """The cells of a column, each padded to ``w`` and preceded by ``sp``."""
    if pad is _pad_ascii:
        return [sp + c.rjust(w) for c in col] if right else [sp + c.ljust(w) for c in col]
    return [sp + pad(c, w, right) for c in col]


def _numbers(values: Any, vals_list: list) -> Any:
    """What ``format_num`` reads: a NumPy array of numbers as itself (classified as a whole,
    the same kinds as element by element), anything else as the list of its elements."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        return values.ravel()
    return vals_list


def _index_width(n: int) -> int:
    return int(math.log10(n + 0.5) + 1)


def print_vector(values: Any, digits: int = 7, gap: int = 1, width: int = 80,
                 nan_is_na: bool = True, na_print: str = "NA") -> str:
    """Text of R's ``print()`` of an unnamed numeric vector (``printVector``): ``[k]`` labels
    right-justified to the widest index, values formatted jointly with ``digits``, each
    right-justified in its width plus ``gap``, a new line when the next value would pass
    ``width``."""
    vals = list(np.asarray(values, dtype=object).ravel())
    n = len(vals)
    if n == 0:
        return "numeric(0)\n"
    cells = format_num(_numbers(values, vals), digits=digits, nan_is_na=nan_is_na, na=na_print)
    w = max(str_width(c) for c in cells) + gap
    labwidth = _index_width(n) + 2

    def label(i: int) -> str:
        return " " * (labwidth - _index_width(i) - 2) + f"[{i}]"

    out = label(1)
    used = labwidth
    for i, c in enumerate(cells):
        if i > 0 and used + w > width:
            out += "\n" + label(i + 1)
            used = labwidth
        out += pad_to_width(c, w, True)
        used += w
    return out + "\n"


def print_matrix(cells: Any, rownames: Sequence[str] | None = None,
                 colnames: Sequence[str] | None = None, right: bool = False,
                 quote: bool = False, gap: int = 1, width: int = 80,
                 na_print: str | None = None, _numeric: bool = False) -> str:
    """Text of R's ``print()`` of a character matrix (``printMatrix``, string case).

    Row names left-justified in the widest row name; each column is preceded by ``gap`` spaces
    and padded to max(header width, widest cell), right- or left-justified (headers too). When a
    line would reach ``width``, the remaining columns continue in a further block with the row
    names repeated. ``None`` cells print as ``na_print`` (R: ``<NA>``, or ``NA`` when quoted).
    """
    rows = [list(r) for r in cells]
    nr = len(rows)
    nc = len(colnames) if colnames is not None else (len(rows[0]) if rows else 0)
    if na_print is None:
        na_print = "NA" if quote else "<NA>"

    if quote:
        grid = [[na_print if c is None else '"' + c + '"' for c in row[:nc]] for row in rows]
    else:
        grid = [[na_print if c is None else c for c in row[:nc]] for row in rows]
    rlab = None if rownames is None else [("<NA>" if s is None else s) for s in rownames]
    cols = [[row[j] for row in grid] for j in range(nc)]
    width_of, pad = _measures([c for col in cols for c in col] + (rlab or []) +
                              list(colnames or []))
    rlabw = max([width_of(s) for s in rlab] + [0]) if rlab is not None else \
        _index_width(nr + 1) + 3
    colw = [max(max(map(width_of, cols[j]), default=0),
                width_of(colnames[j]) if colnames is not None else _index_width(j + 1) + 3)
            for j in range(nc)]
    sp = " " * gap
    # every cell padded to its column's width, with the gap before it; then by rows
    cells_txt = list(zip(*[_padded_column(cols[j], colw[j], right, sp, pad)
                           for j in range(nc)])) if nc else []
    out: list[str] = []
    if nc == 0:
        out.append(" " * rlabw)
        for i in range(nr):
            out.append("\n" + (pad_to_width(rlab[i], rlabw, False) if rlab else
                               f"[{i + 1},]".rjust(rlabw)))
        return "".join(out) + "\n"
    jmin = 0
    while jmin < nc:
        tot = rlabw
        jmax = jmin
        while True:
            tot += colw[jmax] + gap
            jmax += 1
            if not (jmax < nc and tot + colw[jmax] + gap < width):
                break
        out.append(" " * rlabw)
        for j in range(jmin, jmax):
            if colnames is not None:
                out.append(sp + pad(colnames[j], colw[j], right))
            else:
                lab = f"[,{j + 1}]"
                out.append(sp + (lab.rjust(colw[j]) if _numeric else lab.ljust(colw[j])))
        for i in range(nr):
            out.append("\n" + (pad(rlab[i], rlabw, False) if rlab is not None else
                               f"[{i + 1},]".rjust(rlabw)))
            out.append("".join(cells_txt[i][jmin:jmax]))
        out.append("\n")
        jmin = jmax
    return "".join(out)


def print_numeric_matrix(x: Any, rownames: Sequence[str] | None = None,
                         colnames: Sequence[str] | None = None, digits: int = 7,
                         gap: int = 1, width: int = 80, nan_is_na: bool = True) -> str:
    """Text of R's ``print()`` of a numeric matrix (``printRealMatrix``): each column formatted
    on its own with ``digits`` (``format_num``), entries and headers right-justified, wrapped at
    ``width`` like :func:`print_matrix`."""
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 2:
        raise ValueError("'x' must be a matrix")
    cols = [format_num(arr[:, j], digits=digits, nan_is_na=nan_is_na)
            for j in range(arr.shape[1])]
    cells = [[cols[j][i] for j in range(arr.shape[1])] for i in range(arr.shape[0])]
    return print_matrix(cells, rownames, colnames, right=True, gap=gap, width=width,
                        _numeric=True)


def cat(*items: Any, sep: str = " ", nan_is_na: bool = True) -> str:
    """Text of R's ``cat(...)`` (a newline only where an item contains one).

    Every element is converted on its own: a Python ``float`` like an R double (at most 7
    significant digits, R's scientific rule, so ``1e5`` gives ``1e+05``), an ``int`` like an R
    integer (plain digits), ``bool`` as ``TRUE``/``FALSE``, ``None``/NA as ``NA``, ``str``
    unchanged; lists/tuples/arrays contribute each element. Elements are joined by ``sep``.
    """
    parts: list[str] = []
    for item in items:
        seq = item if isinstance(item, (list, tuple, np.ndarray)) else [item]
        for v in np.asarray(seq, dtype=object).ravel() if isinstance(seq, np.ndarray) else seq:
            if isinstance(v, str):
                parts.append(v)
            elif isinstance(v, (bool, np.bool_)):
                parts.append("TRUE" if v else "FALSE")
            elif isinstance(v, (int, np.integer)):
                parts.append(str(int(v)))
            else:
                parts.append(format_num([v], digits=7, nan_is_na=nan_is_na, trim=True)[0])
    return sep.join(parts)


_C_SPACE = " \t\n\v\f\r"


def _stripchars(word: str, minlen: int, usecl: bool) -> str:
    """R's C ``stripchars`` (ASCII): drop characters from the end towards the front, in the
    order lower-case vowels ending a word, other lower-case vowels not starting a word,
    lower-case letters ending a word, other lower-case letters, then anything not starting a
    word, until ``minlen`` characters (not counting inner spaces) remain."""
    s = list(word)
    nspace = 0

    def at(i: int) -> str:
        return s[i] if 0 <= i < len(s) else "\0"

    def first(i: int) -> bool:
        return at(i - 1) in _C_SPACE

    def last(i: int) -> bool:
        return at(i - 1) not in _C_SPACE and (at(i + 1) == "\0" or at(i + 1) in _C_SPACE)

    def short() -> bool:
        return len(s) - nspace <= minlen

    def finish() -> str:
        if len(s) > minlen:
            for i in range(len(s) - 1, 0, -1):
                if s[i] in _C_SPACE:
                    del s[i]
        return "".join(s)

    if len(s) < minlen:
        return finish()
    trailing = True
    for i in range(len(s) - 1, 0, -1):
        if s[i] in _C_SPACE:
            if trailing:
                del s[i:]
            else:
                nspace += 1
        else:
            trailing = False
        if short():
            return finish()
    passes = []
    if usecl:
        passes = [lambda i: at(i) in "aeiou" and last(i),
                  lambda i: at(i) in "aeiou" and not first(i),
                  lambda i: at(i).islower() and at(i).isascii() and last(i),
                  lambda i: at(i).islower() and at(i).isascii() and not first(i)]
    passes.append(lambda i: not first(i) and at(i) not in _C_SPACE)
    for drop in passes:
        for i in range(len(s) - 1, 0, -1):
            if drop(i):
                del s[i]
            if short():
                return finish()
    return finish()


def abbreviate(names: Sequence[str], minlength: int = 4, use_classes: bool = True) -> list[str]:
    """R's ``abbreviate(names, minlength)`` (default method "left.kept", ASCII names): each
    name shortened by :func:`_stripchars`; while abbreviations collide, ``minlength`` grows by
    one for the colliding names. (lme4 uses minlength 11 for the row and 6 for the column
    names of the fixed-effects correlation: ``(Intercept)`` -> ``(Intr)``.)"""
    if minlength <= 0:
        return ["" for _ in names]
    stripped = [n.strip(" ") for n in names]
    uniq: list[str] = []
    for n in stripped:
        if n not in uniq:
            uniq.append(n)

    def abbrev(word: str, ml: int) -> str:
        return _stripchars(word, ml, use_classes) if len(word) > ml else word

    x = list(uniq)
    dup2 = [True] * len(uniq)
    these = list(uniq)
    ml = minlength
    while True:
        ans = [abbrev(w, ml) for w in these]
        it = iter(ans)
        x = [next(it) if d else v for v, d in zip(x, dup2)]
        seen: set[str] = set()
        dup2 = []
        for v in x:
            dup2.append(v in seen)
            seen.add(v)
        if not any(dup2):
            break
        ml += 1
        dupvals = {v for v, d in zip(x, dup2) if d}
        dup2 = [d or (v in dupvals) for v, d in zip(x, dup2)]
        these = [w for w, d in zip(uniq, dup2) if d]
    lookup = dict(zip(uniq, x))
    return [lookup[n] for n in stripped]
