"""List the functions of the Python package longer than a limit (default 60 lines).

Usage: python tools/long_functions.py [LIMIT]

A reading aid for the layout targets (STYLE.md: functions short enough to read at once); the
hard targets (module, class and binding sizes, private imports, import cycles) are checked by
tests/test_layout.py. Nested functions are listed on their own and also count in their parent.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "python" / "rmodels"


def functions(node: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    """Every function under ``node`` with its qualified name (nested ones included)."""
    out = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{child.name}"
            out.append((name, child))
            out.extend(functions(child, name + "."))
        elif isinstance(child, ast.ClassDef):
            out.extend(functions(child, f"{prefix}{child.name}."))
        else:
            out.extend(functions(child, prefix))
    return out


def long_functions(limit: int) -> list[tuple[int, str]]:
    """(lines, "path:line qualified.name") of every function longer than ``limit`` lines."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name, fn in functions(ast.parse(path.read_text(encoding="utf-8"))):
            first = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
            lines = fn.end_lineno - first + 1
            if lines > limit:
                out.append((lines, f"{path.relative_to(ROOT)}:{fn.lineno} {name}"))
    return sorted(out, reverse=True)


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    for lines, where in long_functions(limit):
        print(f"{lines:5d}  {where}")


if __name__ == "__main__":
    main()
