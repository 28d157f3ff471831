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
