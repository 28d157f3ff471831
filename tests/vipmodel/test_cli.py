"""`python -m vipmodel` generates the demo mall and imports files, with exit codes a script can rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from vipmodel import schema
from vipmodel.cli import main
from vipmodel.db import make_engine

ROOT = Path(__file__).resolve().parent.parent.parent
IMPORT_DATA = ROOT / "tests" / "data" / "import"


def _count(url: str, table) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return n


def test_demo_command_writes_a_mall_and_reports_its_realised_statistics(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["demo", "--members", "300", "--years", "2", "--seed", "3", "--url", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "demo mall written to" in out and "churn" in out
    assert _count(url, schema.members) >= 300
    assert _count(url, schema.transactions) > 300


def test_demo_command_refuses_a_nonpositive_size(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["demo", "--members", "0", "--url", url, "--quiet"]) == 2
    assert "--members and --years must be at least 1" in capsys.readouterr().err


def test_import_command_writes_a_good_file_and_exits_zero(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["import", str(IMPORT_DATA / "members_good.csv"), "--kind", "members", "--url", url, "--quiet"]) == 0
    assert _count(url, schema.members) > 0
    assert "members_good.csv" in capsys.readouterr().out


def test_import_command_rejects_a_bad_file_with_row_and_column_and_writes_nothing(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code = main(["import", str(IMPORT_DATA / "unknown_member.csv"), "--kind", "transactions", "--url", url, "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "row " in out and "unknown member" in out
    assert _count(url, schema.transactions) == 0


def test_module_entry_point_prints_usage():
    result = subprocess.run(
        [sys.executable, "-m", "vipmodel", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout and "import" in result.stdout
