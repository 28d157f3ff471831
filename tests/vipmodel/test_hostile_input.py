"""Hostile and broken import files (issue 14): each ends in a clear error and leaves the database as it was.

The small files are in ``tests/data/hostile/`` (written by its ``make_files.py``, listed with their expected
outcome in its README); the large ones (a workbook whose rows reach column XFD, a huge shared-strings table, a
CSV with a million columns, an endless line) are generated here into ``tmp_path``. Every case runs on SQLite and
PostgreSQL (``engine`` fixture) and must give the same outcome on both; "unchanged" is checked with a checksum
over the sorted rows of every table.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, select

from vipmodel import importer, schema
from vipmodel.auth import SYSTEM
from vipmodel.importer import import_file

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "tests" / "data" / "hostile"
MEMBERS = REPO / "tests" / "data" / "import" / "members_good.csv"
DIFFERENT = "already present with different values (use --update to apply)"


def checksum(engine: Engine) -> str:
    """SHA-256 over the sorted rows of every table: equal before and after means the database is unchanged."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in schema.Base.metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
            digest.update(f"{table.name}:{len(rows)}\n".encode())
            for row in rows:
                digest.update(row.encode("utf-8", "backslashreplace") + b"\n")
    return digest.hexdigest()


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The engine with members M001..M005 stored, so "unchanged" is checked on a database that holds data."""
    report = import_file(MEMBERS, "members", engine, actor=SYSTEM)
    assert report.ok, report.format()
    return engine


def refused(engine: Engine, path: Path, kind: str, **kwargs) -> importer.ImportReport:
    """Import ``path``; assert it was refused without a trace in the database, and return the report."""
    before = checksum(engine)
    report = import_file(path, kind, engine, **kwargs, actor=SYSTEM)
    assert not report.written and not report.ok and report.rows_written == 0, report.format()
    assert checksum(engine) == before
    return report


# ----------------------------------------------------------------------------------------------- the corpus

CORPUS = [
    # file, kind, expected errors (row, column, reason)
    ("mixed_encoding.csv", "members", [(2, None, "mixed encodings")]),
    ("future_date.csv", "transactions", [(3, "ts", "date in the future")]),
    ("nul_character.csv", "members", [(2, "name", "NUL character")]),
    ("money_rounds_over_limit.csv", "transactions", [(2, "amount", "number too large")]),
    ("quantity_overflow.csv", "transactions", [(2, "quantity", "number too large")]),
    ("utf16le_no_bom.csv", "transactions", [(3, "member_id", "unknown member")]),
    ("utf16be_no_bom.csv", "transactions", [(3, "member_id", "unknown member")]),
    ("unterminated_quote.csv", "transactions", [(3, None, "unterminated quote")]),
    ("members_corrected.csv", "members", [(2, "phone", DIFFERENT), (2, "home_store", DIFFERENT)]),
    ("too_many_columns.csv", "transactions", [(1, None, "too many columns")]),
    ("formula_injection.csv", "transactions", [(3, "member_id", "unknown member"), (4, "member_id", "unknown member")]),
    ("too_many_fields.csv", "transactions", [(3, None, "too many fields")]),
    ("two_digit_year.csv", "transactions", [(2, "ts", "bad date")]),
    ("control_character_id.csv", "transactions", [(2, "member_id", "control character")]),
]


def test_the_corpus_is_what_make_files_writes_and_the_readme_lists():
    from tests.data.hostile.make_files import FILES

    assert sorted(FILES) == sorted(name for name, _, _ in CORPUS)
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for name, data in FILES.items():
        assert (HOSTILE / name).read_bytes() == data, f"{name}: rerun tests/data/hostile/make_files.py"
        assert f"`{name}`" in readme


@pytest.mark.parametrize(("name", "kind", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_each_hostile_file_is_refused_with_its_reason_and_the_database_is_unchanged(loaded, name, kind, expected):
    report = refused(loaded, HOSTILE / name, kind)
    assert [(e.row, e.column, e.reason) for e in report.errors] == expected
    text = report.format()
    assert name in text and all(reason in text for _, _, reason in expected)


@pytest.mark.parametrize(("name", "kind", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_partial_mode_writes_nothing_wrong_either(loaded, tmp_path, name, kind, expected):
    # In partial mode the valid rows go in, but never a refused value: no mojibake, no 2100, no NUL.
    path = tmp_path / name
    shutil.copy(HOSTILE / name, path)
    report = import_file(path, kind, loaded, partial=True, actor=SYSTEM)
    assert [(e.row, e.column, e.reason) for e in report.errors] == expected
    with loaded.connect() as conn:
        names = conn.execute(select(schema.members.c.name)).scalars().all()
        days = conn.execute(select(schema.transactions.c.ts)).scalars().all()
        amounts = conn.execute(select(schema.transactions.c.amount)).scalars().all()
    assert not any(n and ("\x00" in n or "寮" in n) for n in names)
    assert all(d.year < 2100 for d in days) and all(a < 10**12 for a in amounts)


def test_a_mixed_encoding_file_names_the_odd_lines(loaded):
    report = refused(loaded, HOSTILE / "mixed_encoding.csv", "members")
    assert "UTF-8: line 2" in report.errors[0].value and "GBK" in report.errors[0].value


def test_a_gbk_file_whose_lines_happen_to_be_valid_utf8_is_not_called_mixed(engine, tmp_path):
    # 女 in GBK is C5 AE, which is also valid UTF-8 (Ů): such lines are no evidence of UTF-8.
    path = tmp_path / "gbk.csv"
    path.write_bytes("member_id,name,gender,join_date\nM401,王芳,女,2023-01-01\nM402,,女,2023-01-02\n".encode("gbk"))
    report = import_file(path, "members", engine, actor=SYSTEM)
    assert report.ok, report.format()
    with engine.connect() as conn:
        assert conn.execute(select(schema.members.c.name).where(schema.members.c.member_id == "M401")).scalar() == "王芳"


def test_utf16_without_bom_is_decoded_and_said(engine, tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("member_id,name,join_date\nM501,张伟,2023-01-01\n".encode("utf-16-le"))
    report = import_file(path, "members", engine, actor=SYSTEM)
    assert report.ok and report.rows_written == 1, report.format()
    assert report.warnings == ("encoding: UTF-16-LE without a byte-order mark",)


def test_future_dates_follow_the_injected_today(loaded, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("member_id,ts,amount\nM001,2024-03-07 23:59,1\nM001,2024-03-08,2\n", "utf-8")
    report = refused(loaded, path, "transactions", today=dt.date(2024, 3, 6))
    assert [(e.row, e.reason, e.value) for e in report.errors] == [(3, "date in the future", "2024-03-08")]
    assert import_file(path, "transactions", loaded, today=dt.date(2024, 3, 7), actor=SYSTEM).ok


def test_the_largest_amount_the_column_holds_is_stored_on_both_backends(loaded, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("txn_id,member_id,ts,amount\nBIG,M001,2024-01-02,999999999999.99\n", "utf-8")
    assert import_file(path, "transactions", loaded, actor=SYSTEM).ok
    with loaded.connect() as conn:
        assert conn.execute(select(schema.transactions.c.amount)).scalar_one() == pytest.approx(999999999999.99)


# ------------------------------------------------------------------------------------------- resource limits


def _xfd_workbook(path: Path, rows: int) -> Path:
    """A transactions workbook whose every row ends in an empty cell at column XFD (as some exporters write)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["txn_id", "member_id", "ts", "amount"])
    for i in range(rows):
        ws.append([f"X{i}", f"M00{1 + i % 5}", dt.datetime(2024, 1, 1 + i % 28), 10 + i % 7])
    wb.save(path)
    with zipfile.ZipFile(path) as zin:
        parts = {n: zin.read(n) for n in zin.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<row r="(\d+)"([^>]*)>(.*?)</row>', r'<row r="\1"\2>\3<c r="XFD\1"/></row>', sheet)
    sheet = re.sub(r'<dimension ref="[^"]+"', f'<dimension ref="A1:XFD{rows + 1}"', sheet)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return path


def test_a_workbook_with_rows_to_column_xfd_imports_in_bounded_time_and_memory(loaded, tmp_path):
    # Such a workbook of 74 KB took 830 MB and 22 s when openpyxl padded every row to 16,384 cells.
    path = _xfd_workbook(tmp_path / "xfd.xlsx", 3000)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        report = import_file(path, "transactions", loaded, actor=SYSTEM)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert report.ok and report.rows_written == 3000, report.format()
    assert elapsed < 30 and peak < 100 * 2**20, (elapsed, peak)


def test_a_workbook_with_a_cell_far_beyond_the_header_is_read_to_the_column_limit_and_says_so(loaded, tmp_path):
    path = tmp_path / "far.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["member_id", "ts", "amount"])
    ws.append(["M001", "2024-01-02", 1])
    ws.cell(row=2, column=16_000, value="surprise")
    wb.save(path)
    report = importer.import_file(path, "transactions", loaded, actor=SYSTEM)
    assert report.ok and report.rows_written == 1
    assert any("reaches column 16,000: only the first 202 columns were read" in w for w in report.warnings)


def test_a_workbook_with_a_value_just_beyond_the_widest_header_is_a_row_error(loaded, tmp_path):
    path = tmp_path / "wide.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["member_id", "ts", "amount"])
    ws.append(["M001", "2024-01-02", 1])
    ws.cell(row=2, column=importer.MAX_COLUMNS + 2, value="surprise")
    wb.save(path)
    report = refused(loaded, path, "transactions")
    assert [(e.row, e.reason) for e in report.errors] == [(2, "too many fields")]


def test_a_huge_shared_strings_table_is_refused_before_it_is_read(loaded, tmp_path):
    path = tmp_path / "strings.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["member_id", "ts", "amount"])
    wb.save(path)
    with zipfile.ZipFile(path) as zin:
        parts = {n: zin.read(n) for n in zin.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            if name != "xl/sharedStrings.xml":
                zout.writestr(name, data)
        item = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        with zout.open("xl/sharedStrings.xml", "w") as fh:  # streamed: the test itself stays small
            fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(importer.MAX_XLSX_PART_BYTES // len(item) + 10):
                fh.write(item)
            fh.write(b"</sst>")
    assert path.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        report = refused(loaded, path, "transactions")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert [(e.row, e.reason) for e in report.errors] == [(None, "workbook part too large")]
    assert "xl/sharedStrings.xml" in report.errors[0].value and peak < 50 * 2**20


def test_a_csv_with_a_million_columns_is_refused_naming_the_limit(loaded, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("member_id,ts,amount" + "," * 1_000_000 + "\nM001,2024-01-02,1\n", "utf-8")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        report = refused(loaded, path, "transactions")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert [(e.row, e.reason) for e in report.errors] == [(1, "too many cells in a row")]
    assert "at most 16,384" in report.errors[0].value
    assert time.perf_counter() - started < 30 and peak < 200 * 2**20


def test_an_endless_line_is_refused_without_reading_it_whole(loaded, tmp_path):
    path = tmp_path / "endless.csv"
    path.write_text("member_id,ts,amount\nM001,2024-01-02," + "9" * (3 * 2**20) + "\n", "utf-8")
    report = refused(loaded, path, "transactions")
    assert [(e.row, e.reason) for e in report.errors] == [(2, "row too long")]


def test_trailing_empty_cells_are_not_columns(loaded, tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("member_id,ts,amount" + "," * 5000 + "\nM001,2024-01-02,1" + "," * 5000 + "\n", "utf-8")
    report = import_file(path, "transactions", loaded, actor=SYSTEM)
    assert report.ok and report.rows_written == 1 and report.warnings == (), report.format()


def test_many_unknown_columns_give_one_summary_warning(loaded, tmp_path):
    path = tmp_path / "many.csv"
    extra = [f"x{i}" for i in range(60)]
    path.write_text(",".join(["member_id", "ts", "amount", *extra]) + "\nM001,2024-01-02,1\n", "utf-8")
    report = import_file(path, "transactions", loaded, actor=SYSTEM)
    assert report.ok
    assert report.warnings == ("60 columns ignored (not known transactions columns): x0, x1, x2, x3, x4 and 55 more",)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_row_limit_is_reported_with_the_row(loaded, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    lines = [["member_id", "ts", "amount"]] + [["M001", f"2024-01-0{i + 1}", "1"] for i in range(5)]
    path = tmp_path / f"rows.{fmt}"
    if fmt == "csv":
        path.write_text("\n".join(",".join(r) for r in lines) + "\n", "utf-8")
    else:
        wb = openpyxl.Workbook()
        for r in lines:
            wb.active.append(r)
        wb.save(path)
    report = refused(loaded, path, "transactions")
    assert [(e.row, e.reason) for e in report.errors] == [(5, "too many rows")]


def test_the_header_width_limit_is_configurable(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_COLUMNS", 2)
    path = tmp_path / "t.csv"
    path.write_text("member_id,ts,amount\nM001,2024-01-02,1\n", "utf-8")
    report = refused(loaded, path, "transactions")
    assert [(e.row, e.reason, e.value) for e in report.errors] == [(1, "too many columns", "3 columns; at most 2")]


def test_a_zip_that_is_not_a_workbook_is_an_unreadable_excel_file(loaded, tmp_path):
    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    report = refused(loaded, path, "transactions")
    assert report.errors[0].reason == "unreadable Excel file"


# ---------------------------------------------------------------------------------------------- rejects file


def _mixed(tmp_path: Path) -> Path:
    path = tmp_path / "inj.csv"
    shutil.copy(HOSTILE / "formula_injection.csv", path)
    return path


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_rejects_cells_are_neutralised_against_formula_injection(loaded, tmp_path):
    report = import_file(_mixed(tmp_path), "transactions", loaded, partial=True, actor=SYSTEM)
    assert report.written and report.rows_written == 1 and report.rows_rejected == 2
    rows = _read(report.rejects_path)
    assert rows[1][4] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert rows[2][4] == "'@SUM(A1:A9)" and rows[2][7] == "'+cmd"
    assert rows[1][0] == "3" and rows[1][6] == "20.00"  # numbers stay numbers
    assert "rejected rows saved to inj.rejects.csv" in report.format()
    assert report.errors[0].value == '=HYPERLINK("http://evil.example","click")'  # the report itself stays raw


def test_an_existing_rejects_file_is_never_overwritten(loaded, tmp_path):
    path = _mixed(tmp_path)
    existing = tmp_path / "inj.rejects.csv"
    existing.write_text("my notes\n", "utf-8")
    report = import_file(path, "transactions", loaded, partial=True, actor=SYSTEM)
    assert report.rejects_path == tmp_path / "inj.rejects-2.csv"
    assert existing.read_text("utf-8") == "my notes\n" and len(_read(report.rejects_path)) == 3
    again = import_file(path, "transactions", loaded, partial=True, actor=SYSTEM)
    assert again.rejects_path == tmp_path / "inj.rejects-3.csv"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_symlink_at_the_rejects_name_is_not_followed(loaded, tmp_path):
    path = _mixed(tmp_path)
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n", "utf-8")
    (tmp_path / "inj.rejects.csv").symlink_to(target)
    (tmp_path / "inj.rejects-2.csv").symlink_to(tmp_path / "nowhere.txt")  # dangling: not followed either
    report = import_file(path, "transactions", loaded, partial=True, actor=SYSTEM)
    assert report.rejects_path == tmp_path / "inj.rejects-3.csv"
    assert target.read_text("utf-8") == "keep me\n" and not (tmp_path / "nowhere.txt").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_gives_a_warning_not_a_traceback(loaded, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = _mixed(folder)
    folder.chmod(0o555)
    try:
        report = import_file(path, "transactions", loaded, partial=True, actor=SYSTEM)
    finally:
        folder.chmod(0o755)
    assert report.written and report.rows_rejected == 2 and report.rejects_path is None
    assert any("rejects file could not be written" in w for w in report.warnings)


def test_a_rejects_file_that_cannot_be_created_gives_a_warning_not_a_traceback(loaded, tmp_path, monkeypatch):
    # The same path as an unwritable folder, also where the tests run as root.
    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(importer._Importer, "_open_rejects", refuse)
    report = import_file(_mixed(tmp_path), "transactions", loaded, partial=True, actor=SYSTEM)
    assert report.written and report.rows_rejected == 2 and report.rejects_path is None
    assert any("rejects file could not be written (PermissionError" in w for w in report.warnings)
    assert list(tmp_path.glob("*.rejects*")) == []
