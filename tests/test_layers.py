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
