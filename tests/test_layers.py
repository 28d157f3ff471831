"""The domain package is a library: it never imports Streamlit, directly or through what it imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_vipmodel_module_imports_streamlit_in_its_source():
    offenders = []
    for path in sorted((ROOT / "vipmodel").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_importing_every_vipmodel_module_leaves_streamlit_unloaded():
    modules = sorted(p.stem for p in (ROOT / "vipmodel").glob("*.py") if p.stem not in {"__init__", "__main__"})
    code = "import sys\n" + "".join(f"import vipmodel.{m}\n" for m in modules) + "print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def _dashboard_imports(tree: ast.AST) -> list[tuple[str | None, int]]:
    """(enclosing function or None, line) of every import of the dashboard package in ``tree``."""
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            names = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module]
            found.extend((function, child.lineno) for n in names if n.split(".")[0] == "dashboard")
            visit(child, inner)

    visit(tree, None)
    return found


def test_only_the_report_command_imports_the_dashboard_and_only_inside_its_handler():
    offenders = []
    for path in sorted((ROOT / "vipmodel").rglob("*.py")):
        for function, line in _dashboard_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if (path.name, function) != ("cli.py", "_run_report"):
                offenders.append(f"{path.name}:{line} (in {function or 'the module'})")
    assert offenders == []


def test_importing_every_vipmodel_module_leaves_the_dashboard_unloaded():
    modules = sorted(p.stem for p in (ROOT / "vipmodel").glob("*.py") if p.stem not in {"__init__", "__main__"})
    code = "import sys\n" + "".join(f"import vipmodel.{m}\n" for m in modules) + "print('dashboard' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- The dashboard's own layers: no import cycle, small modules ----------------------------------------------------
APP_PACKAGES = ("dashboard", "pages")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _app_modules() -> dict[str, Path]:
    """Module name -> file of every module of the dashboard package and of the pages (``pages.<page>``)."""
    return {_module_name(p): p for package in APP_PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The app modules ``tree`` imports, anywhere in it (inside functions too): ``import dashboard.x``,
    ``from dashboard import x`` (a submodule, else the package itself), ``from dashboard.x import y`` and relative
    imports, each resolved to the module that runs."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # import dashboard.x.y of a name defined in dashboard.x
                target = target.rpartition(".")[0]
            if target:
                found.add(target)
    return found - {module}


def _import_graph() -> dict[str, set[str]]:
    modules = _app_modules()
    return {name: _imported(ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py",
                            set(modules))
            for name, path in modules.items()}


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as [a, b, ..., a], or None (depth-first search, three colours)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def test_the_import_graph_sees_imports_inside_functions():
    # The check below would pass vacuously if the parser missed the kinds of import that used to close cycles.
    graph = _import_graph()
    assert "dashboard.data.common" in graph["pages.overview"] | graph["dashboard.filters"]
    assert "dashboard.precompute" in graph["dashboard.startup"]  # imported inside prepare()
    assert "dashboard.texts" in graph["dashboard.i18n"]  # `from dashboard import texts` inside a function
    assert _a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_dashboard_and_pages_import_each_other_without_a_cycle():
    cycle = _a_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# Modules allowed over MAX_MODULE_LINES, each with the reason. Pure text tables only, and modules that could not be
# split yet (say why; remove the entry once split).
LONG_MODULES = {
    "dashboard/i18n.py": "the translation table: text, not logic",
}
MAX_MODULE_LINES = 250


def test_no_dashboard_module_is_longer_than_a_screenful_or_two():
    too_long = {}
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES and name not in LONG_MODULES:
            too_long[name] = lines
    assert too_long == {}, f"split these modules (at most {MAX_MODULE_LINES} lines): {too_long}"
    assert set(LONG_MODULES) <= {p.relative_to(ROOT).as_posix() for p in (ROOT / "dashboard").rglob("*.py")}, \
        "an exempted module no longer exists: drop it from LONG_MODULES"
