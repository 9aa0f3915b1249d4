"""The package's layout targets, read from the sources (no R, no compiled module needed).

Python (python/rmodels, read with ``ast``): no module over 800 lines, no class over 400 lines,
no private name (one leading underscore, not a dunder) imported from another rmodels module,
and no import cycle between rmodels modules, counting every ``import`` and ``from ... import``
wherever it stands (function-level imports included).

C++ (cpp/): no file over 800 lines, and no function of a binding file (cpp/bind/*.cpp) whose
body is over 60 lines: the bindings only convert.

Each check is parametrised by file, so a failure names the file that breaks the target.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "python" / "rmodels"
CPP = ROOT / "cpp"

MAX_MODULE_LINES = 800
MAX_CLASS_LINES = 400
MAX_CPP_FILE_LINES = 800
MAX_BINDING_FUNCTION_LINES = 60

# The compiled extension: a private module by name, imported as the package's compiled layer.
COMPILED_MODULES = {"rmodels._core"}


# ---------------------------------------------------------------------------------------------
# Python modules and their imports


def module_name(path: Path) -> str:
    """Dotted name of a source file of the package (a package's ``__init__`` is the package)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULE_FILES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
PACKAGES = {name for name, p in MODULE_FILES.items() if p.name == "__init__.py"}
MODULES = set(MODULE_FILES) | COMPILED_MODULES


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def parse(name: str) -> ast.Module:
    return ast.parse(MODULE_FILES[name].read_text(encoding="utf-8"), filename=name)


TREES = {name: parse(name) for name in MODULE_FILES}


def resolve_from(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module named by ``from X import ...`` in module ``importer``."""
    if node.level == 0:
        return node.module or ""
    # the package a relative import starts from: the module's own package, or the package itself
    base = importer.split(".") if importer in PACKAGES else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module imported from
    name: str | None  # the name imported (None for ``import X``)
    line: int


def imports_of(importer: str) -> list[Import]:
    """Every import statement of a module that names an rmodels module, at any depth."""
    out = []
    for node in ast.walk(TREES[importer]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "rmodels":
                    out.append(Import(importer, alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            target = resolve_from(importer, node)
            if target.split(".")[0] == "rmodels":
                for alias in node.names:
                    out.append(Import(importer, target, alias.name, node.lineno))
    return out


IMPORTS = {name: imports_of(name) for name in MODULE_FILES}


def reexport_source(package: str, name: str, seen: frozenset[str] = frozenset()) -> str | None:
    """The module a package's ``__init__`` takes ``name`` from (following re-exports)."""
    if package not in PACKAGES or package in seen:
        return None
    for imp in IMPORTS[package]:
        if imp.name == name:
            if f"{imp.target}.{name}" in MODULES:
                return f"{imp.target}.{name}"
            return reexport_source(imp.target, name, seen | {package}) or imp.target
    return None


def edges_of(imp: Import) -> set[str]:
    """Modules an import makes its module depend on.

    ``import a.b`` depends on a.b; ``from P import name`` on P (its ``__init__``), and on P.name
    when that is a submodule, or else on the submodule P's ``__init__`` takes ``name`` from.
    """
    if imp.name is None:
        return {imp.target} & MODULES
    out = {imp.target} & MODULES
    sub = f"{imp.target}.{imp.name}"
    if sub in MODULES:
        out.add(sub)
    elif imp.name != "*":
        source = reexport_source(imp.target, imp.name)
        if source in MODULES:
            out.add(source)
    return out


def is_reexport(importer: str, target: str) -> bool:
    """A package's ``__init__`` importing one of its own submodules."""
    return importer in PACKAGES and target.startswith(importer + ".")


def import_graph() -> dict[str, dict[str, int]]:
    """importer -> {imported module: line of the first import}, re-exports left out."""
    graph: dict[str, dict[str, int]] = {name: {} for name in MODULES}
    for importer, imps in IMPORTS.items():
        for imp in imps:
            for target in edges_of(imp):
                if target != importer and not is_reexport(importer, target):
                    graph[importer].setdefault(target, imp.line)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def cycle_in(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One cycle through the first module of a component, as 'module:line -> ...' steps."""
    members = set(component)
    start = component[0]
    path = [start]
    seen = {start}

    def walk(v: str) -> bool:
        for w in sorted(graph[v]):
            if w == start:
                return True
            if w in members and w not in seen:
                seen.add(w)
                path.append(w)
                if walk(w):
                    return True
                path.pop()
        return False

    walk(start)
    path.append(start)
    return [f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:])] + [start]


# ---------------------------------------------------------------------------------------------
# Python checks


@pytest.mark.parametrize("name", sorted(MODULE_FILES))
def test_module_size(name):
    lines = len(MODULE_FILES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{rel(MODULE_FILES[name])}: {lines} lines"


@pytest.mark.parametrize("name", sorted(MODULE_FILES))
def test_class_size(name):
    long = [
        f"{node.name} (line {node.lineno}): {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(TREES[name])
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    ]
    assert not long, f"{rel(MODULE_FILES[name])}: {long}"


@pytest.mark.parametrize("name", sorted(MODULE_FILES))
def test_no_private_name_imported(name):
    bad = [
        f"line {imp.line}: from {imp.target} import {imp.name}"
        for imp in IMPORTS[name]
        if imp.name is not None
        and is_private(imp.name)
        and f"{imp.target}.{imp.name}" not in COMPILED_MODULES
    ] + [
        f"line {imp.line}: import {imp.target}"
        for imp in IMPORTS[name]
        if imp.name is None
        and imp.target not in COMPILED_MODULES
        and any(is_private(part) for part in imp.target.split("."))
    ]
    assert not bad, f"{rel(MODULE_FILES[name])} imports private names: {bad}"


def test_no_import_cycle():
    graph = import_graph()
    cycles = [" -> ".join(cycle_in(graph, comp)) for comp in strongly_connected(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# the checks themselves, on small made-up graphs and imports


def test_cycle_finder_on_a_known_graph():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}, "e": {}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert cycle_in(graph, ["a", "b", "c"]) == ["a (line 1)", "b (line 2)", "c (line 3)", "a"]
    assert strongly_connected({"a": {"b": 1}, "b": {}}) == []


def test_relative_imports_resolve():
    pkg = "rmodels.models.lm"
    mod = "rmodels.models.lm.fit"
    assert pkg in PACKAGES and mod in MODULE_FILES
    node = ast.parse("from ..contract import LogLik").body[0]
    assert resolve_from(mod, node) == "rmodels.models.contract"
    assert resolve_from(pkg, node) == "rmodels.models.contract"
    node = ast.parse("from . import fit").body[0]
    assert resolve_from(pkg, node) == pkg
    assert resolve_from(mod, node) == pkg
    assert edges_of(Import(mod, pkg, "fit", 1)) == {pkg, mod}
    assert is_private("_pad") and not is_private("__all__") and not is_private("pad")


# ---------------------------------------------------------------------------------------------
# C++ checks


def strip_cpp(text: str) -> str:
    """C++ source with comments, string and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('"', i + 1) and not (i and text[i - 1].isalnum()):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


_SCOPE = re.compile(r"\b(namespace|struct|class|union|enum)\b[^;()]*$")
_FUNCTION = re.compile(
    r"\)\s*(const\s*)?(noexcept\s*)?(override\s*)?(->\s*[\w:<>,\s*&]+)?"
    r"(:\s*[\w:]+\s*[({][^;]*[)}]\s*)?$"
)


@dataclass(frozen=True)
class CppFunction:
    header: str
    line: int  # line of the opening brace
    lines: int  # lines from the opening to the closing brace


def cpp_functions(text: str) -> list[CppFunction]:
    """Functions defined at namespace or class scope, with the size of their bodies."""
    code = strip_cpp(text)
    out = []
    scopes: list[str] = []  # "scope" (namespace, class) or "block"
    start = 0  # where the text before the next brace begins
    opened: list[tuple[int, str]] = []
    for i, c in enumerate(code):
        if c == ";" and (not scopes or scopes[-1] == "scope"):
            start = i + 1
        elif c == "{":
            header = " ".join(code[start:i].split())
            in_scope = not scopes or scopes[-1] == "scope"
            if in_scope and _SCOPE.search(header):
                scopes.append("scope")
            elif in_scope and _FUNCTION.search(header):
                scopes.append("function")
            else:
                scopes.append("block")
            opened.append((i, header))
            start = i + 1
        elif c == "}":
            kind = scopes.pop()
            begin, header = opened.pop()
            if kind == "function":
                first = code.count("\n", 0, begin) + 1
                last = code.count("\n", 0, i) + 1
                out.append(CppFunction(header[-80:], first, last - first + 1))
            if not scopes or scopes[-1] == "scope":
                start = i + 1
    return out


CPP_FILES = sorted(p for p in CPP.rglob("*") if p.suffix in (".cpp", ".hpp", ".h", ".cc"))
BINDING_FILES = sorted((CPP / "bind").glob("*.cpp"))


@pytest.mark.parametrize("path", CPP_FILES, ids=rel)
def test_cpp_file_size(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_CPP_FILE_LINES, f"{rel(path)}: {lines} lines"


@pytest.mark.parametrize("path", BINDING_FILES, ids=rel)
def test_binding_functions_are_short(path):
    long = [
        f"line {f.line}: {f.lines} lines ({f.header})"
        for f in cpp_functions(path.read_text(encoding="utf-8"))
        if f.lines > MAX_BINDING_FUNCTION_LINES
    ]
    assert not long, f"{rel(path)}: {long}"


def test_cpp_function_finder():
    text = """// a comment with { braces }
namespace rmodels {
namespace {
struct S {
  int f() const { return 1; }
};
int g(int a) {
  auto h = [](int x) { return x; };
  const char* s = "}{";
  return h(a);
}
}  // namespace
void register_x(py::module_& m) {
  m.def("f", [](int x) {
    return x;
  }, R"doc(
}}} )doc");
}
}  // namespace rmodels
"""
    found = {(f.line, f.lines) for f in cpp_functions(text)}
    assert found == {(5, 1), (7, 5), (13, 6)}
