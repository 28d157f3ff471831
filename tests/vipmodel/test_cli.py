"""`python -m vipmodel` generates the demo mall and imports files, with exit codes a script can rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
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


# Header: customer_id date number_of_cds dollar_value (CDNOW's names for member, day, CDs and dollars).
CDNOW_MASTER = ROOT / "tests" / "data" / "cdnow" / "CDNOW_master_head.txt"


def test_import_command_maps_file_columns_with_repeated_map_and_remembers_them(db_url, tmp_path, capsys):
    args = ["--kind", "transactions", "--url", db_url, "--quiet"]
    code = main(["import", str(CDNOW_MASTER), *args, "--map", "dollar_value=amount", "--map", "number_of_cds=quantity",
                 "--create-members"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "299 rows read, 299 written" in out and "warning" not in out
    assert _count(db_url, schema.transactions) == 299
    next_week = tmp_path / "CDNOW_next_week.txt"
    next_week.write_text("customer_id date number_of_cds dollar_value\n00001 19970801 2 23.54\n", encoding="utf-8")
    assert main(["import", str(next_week), *args]) == 0
    out = capsys.readouterr().out
    assert "1 written" in out
    assert "warning: column mapping saved for this file layout used: number_of_cds=quantity, dollar_value=amount" in out
    assert _count(db_url, schema.transactions) == 300


def test_import_command_without_map_or_saved_mapping_names_the_missing_column(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["import", str(CDNOW_MASTER), "--kind", "transactions", "--url", url, "--quiet"]) == 1
    assert "column amount: missing required column" in capsys.readouterr().out


@pytest.mark.parametrize("pair", ["dollar_value", "=amount", "dollar_value=", " = "])
def test_a_malformed_map_is_a_usage_error(tmp_path, capsys, pair):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with pytest.raises(SystemExit) as stop:
        main(["import", str(CDNOW_MASTER), "--kind", "transactions", "--url", url, "--quiet", "--map", pair])
    assert stop.value.code == 2
    assert "argument --map: expected SOURCE=ROLE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--map", "date=ts", "--columns", "member_id,ts,_,amount"], "--columns is for files without one"),
     (["--map", "date=ts", "--map", "date=amount"], "--map date=... given twice (ts and amount)")],
)  # fmt: skip
def test_conflicting_map_options_are_usage_errors(tmp_path, capsys, extra, message):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["import", str(CDNOW_MASTER), "--kind", "transactions", "--url", url, "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_map_to_an_unknown_column_is_rejected_input_with_the_column_named(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    code = main(["import", str(CDNOW_MASTER), "--kind", "transactions", "--url", url, "--quiet",
                 "--map", "dollar_value=price"])  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "column dollar_value: unknown mapping target ('price' is not a transactions column" in out


def test_import_update_applies_a_corrected_member_record(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    corrected = ROOT / "tests" / "data" / "hostile" / "members_corrected.csv"
    assert main(["import", str(IMPORT_DATA / "members_good.csv"), "--kind", "members", "--url", url, "--quiet"]) == 0
    assert main(["import", str(corrected), "--kind", "members", "--url", url, "--quiet"]) == 1
    assert "already present with different values (use --update to apply)" in capsys.readouterr().out
    assert main(["import", str(corrected), "--kind", "members", "--url", url, "--quiet", "--update"]) == 0
    out = capsys.readouterr().out
    assert "1 members updated" in out and "M001: phone changed; home_store S1 → S3" in out
