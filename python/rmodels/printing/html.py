"""HTML for notebooks (``_repr_html_``): R's printouts with their tables as HTML tables whose
cells are the strings R prints (printCoefmat's rounding, NA, the significance stars), the
rest of the text kept as preformatted lines.

A table is found in the printed text from its column names and row names: ``print.default``
right-justifies every column under its header, so each header's right edge is the right edge
of its cells; row names are left-justified to a common width."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Optional, Sequence

from .numbers import str_width

__all__ = ["TableSpec", "table_html", "printout_html", "named_values_html", "pre_html", "fit_html",
           "locate_table", "table_cells"]

STYLE = ("<style>.rmodels-r td, .rmodels-r th {font-family: monospace; white-space: pre;"
         " text-align: right; padding: 1px 8px;} .rmodels-r th.rn, .rmodels-r td.rn "
         "{text-align: left;} .rmodels-r pre {margin: 2px 0;}</style>")


@dataclass(frozen=True)
class TableSpec:
    """A printed matrix to show as an HTML table: its column names (without the unnamed
    stars column) and row names, as printed."""

    colnames: Sequence[str]
    rownames: Sequence[str]


def pre_html(text: str) -> str:
    """Lines of R's output as preformatted text (nothing for blank text)."""
    text = text.strip("\n")
    return f"<pre>{html.escape(text)}</pre>" if text.strip() else ""


def table_html(cells: Sequence[Sequence[str]], rownames: Sequence[str],
               colnames: Sequence[str]) -> str:
    """An HTML table of preformatted cell strings with row and column names."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in colnames)
    rows = []
    for name, row in zip(rownames, cells):
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in row)
        rows.append(f"<tr><td class='rn'>{html.escape(str(name))}</td>{tds}</tr>")
    return (f"<table><thead><tr><th class='rn'></th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def named_values_html(names: Sequence[str], values: Sequence[str]) -> str:
    """R's named vector (``print.default`` of names over values) as a one-row table."""
    return table_html([[str(v).strip() for v in values]], [""], list(names))


def header_edges(line: str, colnames: Sequence[str]) -> Optional[list]:
    """Right edges (exclusive) of the column names found in order in a header line, or None
    when they are not all there."""
    edges, pos = [], 0
    for name in colnames:
        at = _token_at(line, name, pos)
        if at < 0:
            return None
        pos = at + len(name)
        edges.append(pos)
    return edges


def _token_at(line: str, name: str, pos: int) -> int:
    """Where ``name`` stands as a whole header (spaces or the line's ends around it) from
    ``pos`` on; -1 if nowhere."""
    at = line.find(name, pos)
    while at >= 0:
        end = at + len(name)
        if (at == 0 or line[at - 1] == " ") and (end == len(line) or line[end] == " "):
            return at
        at = line.find(name, at + 1)
    return -1


def table_cells(line: str, name_width: int, edges: list) -> list:
    """The cells of one printed row: each column ends at its header's right edge; what
    follows the last column (printCoefmat's stars) is one more cell."""
    cells, left = [], name_width
    for right in edges:
        cells.append(line[left:right].strip())
        left = right
    cells.append(line[left:].strip())
    return cells


def locate_table(lines: list, spec: TableSpec, start: int) -> Optional[tuple]:
    """(header line, edges) of the first place from ``start`` where the header is followed by
    rows starting with the row names in order, or None."""
    n = len(spec.rownames)
    for i in range(start, len(lines) - n):
        edges = header_edges(lines[i], spec.colnames)
        if edges is None:
            continue
        rows = lines[i + 1: i + 1 + n]
        if all(r.startswith(str(name)) for r, name in zip(rows, spec.rownames)):
            return i, edges
    return None


def _table_part(lines: list, at: int, edges: list, spec: TableSpec) -> str:
    width = max((str_width(str(r)) for r in spec.rownames), default=0)
    rows = lines[at + 1: at + 1 + len(spec.rownames)]
    cells = [table_cells(r, width, edges) for r in rows]
    cols = list(spec.colnames)
    if any(c[-1] for c in cells):
        cols.append("")
    else:
        cells = [c[:-1] for c in cells]
    return table_html(cells, spec.rownames, cols)


def printout_html(text: str, tables: Sequence[TableSpec] = ()) -> str:
    """R's printout as HTML: each table of ``tables`` found in the text becomes an HTML table
    (a table that cannot be found, e.g. one R wrapped across blocks, stays text)."""
    lines = text.split("\n")
    parts, pos = [], 0
    for spec in tables:
        found = locate_table(lines, spec, pos)
        if found is None:
            continue
        at, edges = found
        parts.append(pre_html("\n".join(lines[pos:at])))
        parts.append(_table_part(lines, at, edges, spec))
        pos = at + 1 + len(spec.rownames)
    parts.append(pre_html("\n".join(lines[pos:])))
    return f"<div class='rmodels-r'>{STYLE}{''.join(parts)}</div>"


def fit_html(text: str, title: str, names: Sequence[str], values: Sequence[str]) -> str:
    """A fit's printout (``print.lm``/``print.glm``/``print.merMod``) with its coefficient
    vector, the block after the line ``title`` up to the next blank line, as a table of R's
    formatted values."""
    lines = text.split("\n")
    if title not in lines:
        return f"<div class='rmodels-r'>{STYLE}{pre_html(text)}</div>"
    at = lines.index(title)
    end = at + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    body = (pre_html("\n".join(lines[: at + 1])) + named_values_html(names, values)
            + pre_html("\n".join(lines[end:])))
    return f"<div class='rmodels-r'>{STYLE}{body}</div>"



