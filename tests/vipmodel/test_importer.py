"""Tests of vipmodel.importer and vipmodel.columns on SQLite and PostgreSQL (``engine`` fixture).

Expected values come from the sample files' content (spelled out in tests/data/import/make_files.py),
hand computation, or the CDNOW file itself parsed independently with plain Python.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from vipmodel import columns as colmap
from vipmodel import schema
from vipmodel.auth import SYSTEM
from vipmodel.db import data_version
from vipmodel.importer import (
    ImportReport,
    RowError,
    derived_id,
    import_file,
    mapping_key,
    preview_file,
    saved_mapping,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "import"
CDNOW = REPO / "tests" / "data" / "cdnow" / "CDNOW_sample.txt"
# The first 300 lines of lifetimes' CDNOW_master.txt: header "customer_id date number_of_cds dollar_value".
CDNOW_MASTER = REPO / "tests" / "data" / "cdnow" / "CDNOW_master_head.txt"
TABLES = (
    schema.members,
    schema.transactions,
    schema.complaints,
    schema.care_actions,
    schema.survey_responses,
    schema.survey_answers,
    schema.survey_items,
    schema.import_log,
)


def state(engine: Engine) -> dict[str, int]:
    """Row count of every table plus the data version: equal before and after means nothing was written."""
    with engine.connect() as conn:
        out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}
        out["data_version"] = data_version(conn)
    return out


def rows(engine: Engine, table, *order) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(*order))]


@pytest.fixture
def members_loaded(engine: Engine) -> Engine:
    """The engine with members_good.csv (M001..M005) imported."""
    report = import_file(DATA / "members_good.csv", "members", engine, actor=SYSTEM)
    assert report.ok, report.format()
    return engine


# ------------------------------------------------------------------------------------------ programming errors


def test_an_unknown_kind_is_a_value_error_not_a_report():
    with pytest.raises(ValueError, match=r"^unknown import kind 'orders': expected one of members, transactions, "):
        import_file(DATA / "members_good.csv", "orders", engine=None, actor=SYSTEM)  # type: ignore[arg-type]


def test_create_members_with_a_members_file_is_ignored_with_a_warning(engine):
    report = import_file(DATA / "members_good.csv", "members", engine, create_members=True, actor=SYSTEM)
    assert report.ok and report.rows_written == 5 and report.members_created == 0
    assert report.warnings == ("create_members ignored: a members file creates its members itself",)


@pytest.mark.parametrize("chunk_rows", [0, -5])
def test_chunk_rows_must_be_positive(chunk_rows):
    with pytest.raises(ValueError, match=r"^chunk_rows must be a positive integer, got -?\d+$"):
        import_file(DATA / "members_good.csv", "members", engine=None, chunk_rows=chunk_rows, actor=SYSTEM)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- good files


def test_members_file_is_parsed_with_every_date_style_and_a_forward_referral(engine):
    # chunk_rows=2 puts M003 (referred by M005) in an earlier chunk than M005 itself.
    report = import_file(DATA / "members_good.csv", "members", engine, chunk_rows=2, actor=SYSTEM)
    assert report.ok and report.written and report.rows_written == 5
    got = {r["member_id"]: r for r in rows(engine, schema.members, schema.members.c.member_id)}
    assert got["M002"]["birthday"] == dt.date(1979, 11, 3) and got["M002"]["gender"] == "M"
    assert got["M003"]["birthday"] == dt.date(1990, 2, 15) and got["M003"]["gender"] == "F"
    assert got["M003"]["referred_by"] == "M005" and got["M003"]["phone"] is None
    assert got["M004"]["join_date"] == dt.date(2022, 3, 15) and got["M004"]["birthday"] is None
    assert got["M005"]["birthday"] == dt.date(1992, 6, 1) and got["M005"]["join_date"] == dt.date(2022, 1, 20)


def test_gbk_file_with_chinese_headers_reads_chinese_names(engine):
    report = import_file(DATA / "members_gbk.txt", "members", engine, actor=SYSTEM)
    assert report.ok, report.format()
    got = {r["member_id"]: r for r in rows(engine, schema.members, schema.members.c.member_id)}
    assert [got[m]["name"] for m in ("M201", "M202", "M203")] == ["王芳", "刘洋", "陈静"]
    assert [got[m]["gender"] for m in ("M201", "M202", "M203")] == ["F", "M", "U"]
    assert got["M201"]["join_date"] == dt.date(2023, 7, 1) and got["M202"]["channel"] == "小程序"


def test_utf8_bom_file_maps_chinese_headers(engine):
    report = import_file(DATA / "members_bom.csv", "members", engine, actor=SYSTEM)
    assert report.ok, report.format()
    got = {r["member_id"]: r for r in rows(engine, schema.members, schema.members.c.member_id)}
    assert got["M101"]["name"] == "张伟" and got["M102"]["referred_by"] == "M101"
    assert got["M102"]["birthday"] == dt.date(1988, 8, 8) and got["M102"]["home_store"] == "S2"


def test_transactions_amounts_with_separators_currency_and_return_flags(members_loaded):
    report = import_file(DATA / "transactions_good.csv", "transactions", members_loaded, actor=SYSTEM)
    assert report.ok, report.format()
    got = {r["txn_id"]: r for r in rows(members_loaded, schema.transactions, schema.transactions.c.id)}
    # 1,299.00 + ¥88.50 + 299.00 + 560 + 45.20, by hand
    assert sum(r["amount"] for r in got.values()) == pytest.approx(2291.70)
    assert [got[t]["is_return"] for t in ("T0001", "T0002", "T0003", "T0004", "T0005")] == [
        False, False, True, False, False,
    ]  # fmt: skip
    assert got["T0002"]["ts"] == dt.datetime(2024, 3, 6, 14, 30)
    assert got["T0005"]["ts"] == dt.datetime(2024, 3, 9, 9, 0)
    assert got["T0003"]["gross_margin"] == pytest.approx(-10.0) and got["T0003"]["discount"] == 0.0
    assert got["T0004"]["quantity"] is None


def test_identical_rows_without_an_id_get_distinct_deterministic_ids(members_loaded):
    report = import_file(DATA / "transactions_gbk.csv", "transactions", members_loaded, actor=SYSTEM)
    assert report.ok and report.rows_written == 4
    ids = [r["txn_id"] for r in rows(members_loaded, schema.transactions, schema.transactions.c.id)]
    first = derived_id("M001", "2024-04-01 10:00:00", "100.00", "一号店", "服装", 1)
    second = derived_id("M001", "2024-04-01 10:00:00", "100.00", "一号店", "服装", 2)
    assert ids[:2] == [first, second] and re.fullmatch(r"h:[0-9a-f]{24}", first)
    returned = rows(members_loaded, schema.transactions, schema.transactions.c.id)[2]
    assert returned["is_return"] is True and returned["amount"] == pytest.approx(1000.0)


def test_semicolon_file_with_english_headers_is_sniffed(members_loaded):
    report = import_file(DATA / "transactions_semicolon.csv", "transactions", members_loaded, actor=SYSTEM)
    assert report.ok and report.rows_written == 2


def test_complaints_care_and_surveys_map_their_coded_values(members_loaded):
    eng = members_loaded
    files = (("complaints_good.csv", "complaints"), ("care_good.csv", "care"), ("surveys_good.csv", "surveys"))
    for name, kind in files:
        report = import_file(DATA / name, kind, eng, actor=SYSTEM)
        assert report.ok, report.format()
    comp = rows(eng, schema.complaints, schema.complaints.c.id)
    assert [(c["category"], c["severity"]) for c in comp] == [("product", 1), ("service", 3), ("service", 2)]
    assert comp[1]["compensation_cost"] == 0.0 and comp[2]["complaint_id"].startswith("h:")
    care = rows(eng, schema.care_actions, schema.care_actions.c.id)
    assert [c["kind"] for c in care] == ["birthday_gift", "sms", "phone_greeting", "event_invitation"]
    assert care[0]["cost"] == pytest.approx(1200.0) and care[2]["campaign_id"] is None


def test_survey_items_by_code_label_or_new_prefix_and_blank_items_missing(members_loaded):
    report = import_file(DATA / "surveys_good.csv", "surveys", members_loaded, actor=SYSTEM)
    assert report.ok, report.format()
    assert report.items_registered == ("ss_parking", "ci_社会责任")
    items = {r["item_code"]: r["dimension"] for r in rows(members_loaded, schema.survey_items, "item_code")}
    assert items["ss_parking"] == "sales_service" and items["ci_社会责任"] == "corporate_image"
    answers = rows(members_loaded, schema.survey_answers, "response_id", "item_code")
    responses = {r["id"]: r for r in rows(members_loaded, schema.survey_responses, "id")}
    by_member: dict[str, dict[str, int]] = {}
    for a in answers:
        by_member.setdefault(responses[a["response_id"]]["member_id"], {})[a["item_code"]] = a["score"]
    # Row 2 of the file answers 6 items, row 3 leaves pq_2 and ss_parking blank, row 4 leaves the last blank.
    assert {m: len(v) for m, v in by_member.items()} == {"M001": 6, "M002": 4, "M003": 5}
    assert by_member["M001"]["pq_2"] == 6  # column headed by pq_2's Chinese label
    assert by_member["M002"]["ci_社会责任"] == 3
    assert responses[min(responses)]["expectation"] == 6


GOOD_FILES = [
    ("transactions_good.csv", "transactions", 5),
    ("transactions_gbk.csv", "transactions", 4),
    ("complaints_good.csv", "complaints", 3),
    ("care_good.csv", "care", 4),
    ("surveys_good.csv", "surveys", 3),
    ("members_bom.csv", "members", 2),
]


@pytest.mark.parametrize(("name", "kind", "n"), GOOD_FILES)
def test_reimporting_a_file_adds_nothing_twice(members_loaded, name, kind, n):
    first = import_file(DATA / name, kind, members_loaded, actor=SYSTEM)
    assert first.ok and first.rows_written == n and first.rows_already_present == 0
    before = state(members_loaded)
    again = import_file(DATA / name, kind, members_loaded, actor=SYSTEM)
    after = state(members_loaded)
    assert again.ok and again.written and again.rows_written == 0 and again.rows_already_present == n
    assert {k: v for k, v in after.items() if k != "import_log"} == {
        k: v for k, v in before.items() if k != "import_log"
    }
    assert after["import_log"] == before["import_log"] + 1  # the re-import is logged, the data version not bumped


def test_a_successful_import_logs_the_file_and_bumps_the_data_version(engine):
    before = state(engine)
    import_file(DATA / "members_good.csv", "members", engine, display_name="crm-export.csv", actor=SYSTEM)
    with engine.connect() as conn:
        log = conn.execute(select(schema.import_log)).one()
    assert log.file_name == "crm-export.csv" and log.kind == "members"
    assert (log.rows_read, log.rows_written, log.rows_rejected) == (5, 5, 0)
    import hashlib

    assert log.file_sha256 == hashlib.sha256((DATA / "members_good.csv").read_bytes()).hexdigest()
    assert state(engine)["data_version"] == before["data_version"] + 1


# -------------------------------------------------------------------------------------------------- bad files

BAD_ROWS = [
    # file, kind, row, column as written, reason, value
    ("bad_date.csv", "transactions", 3, "ts", "bad date", "2024-02-30"),
    ("bad_number.csv", "transactions", 2, "amount", "bad number", "12.3.4"),
    ("negative_amount.csv", "transactions", 4, "消费金额", "negative amount", "-5.00"),
    ("bad_score.csv", "surveys", 2, "pq_1", "score outside 1-7", "8"),
    ("unknown_category.csv", "complaints", 3, "category", "unknown category", "parking"),
    ("unknown_severity.csv", "complaints", 2, "severity", "unknown severity", "5"),
    ("unknown_kind.csv", "care", 2, "kind", "unknown kind", "massage"),
    ("unknown_gender.csv", "members", 3, "gender", "unknown gender", "X"),
    ("unknown_member.csv", "transactions", 3, "member_id", "unknown member", "M999"),
    ("unknown_referrer.csv", "members", 2, "referred_by", "unknown member", "M998"),
    ("duplicate_id.csv", "transactions", 4, "txn_id", "duplicate id", "D1"),
    ("missing_value.csv", "transactions", 2, "ts", "missing required value", None),
    ("no_item_answered.csv", "surveys", 3, None, "no item answered", None),
]


@pytest.mark.parametrize(("name", "kind", "row", "column", "reason", "value"), BAD_ROWS)
def test_each_bad_row_is_reported_and_nothing_is_written(members_loaded, name, kind, row, column, reason, value):
    before = state(members_loaded)
    report = import_file(DATA / name, kind, members_loaded, actor=SYSTEM)
    assert report.errors == (RowError(row=row, column=column, reason=reason, value=value),)
    assert not report.ok and not report.written and report.rows_written == 0 and report.rejects_path is None
    assert state(members_loaded) == before


FILE_PROBLEMS = [
    ("empty.csv", "members", None, "empty file"),
    ("missing_column.csv", "transactions", "amount", "missing required column"),
    ("transactions_good.csv", "members", None, "wrong file kind"),
    ("members_good.csv", "transactions", None, "wrong file kind"),
    ("unreadable.csv", "members", None, "unreadable encoding"),
    ("no_items.csv", "surveys", None, "missing required column"),
]


@pytest.mark.parametrize(("name", "kind", "column", "reason"), FILE_PROBLEMS)
def test_file_level_problems_are_reported_without_a_row(members_loaded, name, kind, column, reason):
    before = state(members_loaded)
    report = import_file(DATA / name, kind, members_loaded, actor=SYSTEM)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(None, column, reason)]
    assert not report.written and state(members_loaded) == before


def test_missing_column_names_the_accepted_aliases(engine):
    report = import_file(DATA / "missing_column.csv", "transactions", engine, actor=SYSTEM)
    assert "消费金额" in report.errors[0].value and "amount" in report.errors[0].value


@pytest.mark.parametrize(("name", "kind", "looks"), [("transactions_good.csv", "members", "transactions"),
                                                      ("members_good.csv", "transactions", "members"),
                                                      ("care_good.csv", "surveys", "care")])  # fmt: skip
def test_wrong_file_kind_says_which_kind_the_file_looks_like(engine, name, kind, looks):
    report = import_file(DATA / name, kind, engine, actor=SYSTEM)
    assert report.errors[0].reason == "wrong file kind"
    assert f"looks like a {looks} file" in report.errors[0].value


@pytest.mark.parametrize(
    ("kind", "header", "line", "column"),
    [
        ("transactions", "member_id,ts,amount,discount", "M001,2024-01-01,10,-1", "discount"),
        ("care", "member_id,action_date,kind,cost", "M001,2024-01-01,sms,-0.5", "cost"),
        ("complaints", "member_id,complaint_date,category,补偿金额", "M001,2024-01-01,服务,(5.00)", "补偿金额"),
    ],
)
def test_negative_money_is_rejected_in_every_money_column(members_loaded, tmp_path, kind, header, line, column):
    path = tmp_path / "neg.csv"
    path.write_text(f"{header}\n{line}\n", encoding="utf-8")
    report = import_file(path, kind, members_loaded, actor=SYSTEM)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(2, column, "negative amount")]


def test_report_format_and_errors_frame_show_row_column_reason_value(members_loaded):
    report = import_file(DATA / "negative_amount.csv", "transactions", members_loaded, actor=SYSTEM)
    assert "negative_amount.csv, row 4, column 消费金额: negative amount (-5.00)" in report.format().splitlines()
    frame = report.errors_frame()
    assert list(frame.columns) == ["row", "column", "reason", "value"]
    assert frame.loc[0, "row"] == 4 and frame.loc[0, "reason"] == "negative amount"


def test_format_limits_the_listed_errors():
    errors = tuple(RowError(row=i, column="ts", reason="bad date", value="x") for i in range(2, 12))
    report = ImportReport("transactions", "f.csv", 10, 0, 0, errors, (), False, None, rows_rejected=10)
    lines = report.format(limit=3).splitlines()
    assert lines[1] == "f.csv, row 2, column ts: bad date (x)" and lines[-1] == "... and 7 more errors"
    assert len(report.format(limit=None).splitlines()) == 11


# ------------------------------------------------------------------------------------------ partial, rollback


def test_partial_mode_writes_good_rows_and_saves_rejects_beside_the_input(members_loaded, tmp_path):
    path = tmp_path / "transactions_mixed.csv"
    shutil.copy(DATA / "transactions_mixed.csv", path)
    report = import_file(path, "transactions", members_loaded, partial=True, actor=SYSTEM)
    assert report.written and report.rows_written == 3 and report.rows_rejected == 2
    assert report.rejects_path == tmp_path / "transactions_mixed.rejects.csv"
    assert report.rejects_path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM so Excel reads Chinese
    with report.rejects_path.open(encoding="utf-8-sig", newline="") as fh:
        rejects = list(csv.reader(fh))
    assert rejects[0] == ["row", "column", "reason", "txn_id", "member_id", "ts", "amount", "store"]
    assert rejects[1] == ["3", "ts", "bad date", "P2", "M002", "2024-06-31", "20.00", "商场一号店"]
    assert rejects[2] == ["5", "member_id", "unknown member", "P4", "M999", "2024-06-03", "40.00", "S2"]
    stored = [r["txn_id"] for r in rows(members_loaded, schema.transactions, schema.transactions.c.txn_id)]
    assert stored == ["P1", "P3", "P5"]
    again = import_file(path, "transactions", members_loaded, partial=True, actor=SYSTEM)
    assert again.rows_written == 0 and again.rows_already_present == 3 and again.rows_rejected == 2


def test_all_or_nothing_leaves_the_database_exactly_as_it_was(members_loaded, tmp_path):
    path = tmp_path / "transactions_mixed.csv"
    shutil.copy(DATA / "transactions_mixed.csv", path)
    before = state(members_loaded)
    report = import_file(path, "transactions", members_loaded, chunk_rows=2, actor=SYSTEM)
    assert not report.written and report.rows_read == 5 and report.rows_rejected == 2
    assert state(members_loaded) == before
    assert not (tmp_path / "transactions_mixed.rejects.csv").exists()


def test_unknown_members_are_created_when_asked_with_their_first_date_as_join_date(engine, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("member_id,ts,amount\nX1,2024-05-03,1\nX2,2024-05-01,2\nX1,2024-04-30 18:00,3\n", "utf-8")
    report = import_file(path, "transactions", engine, create_members=True, chunk_rows=1, actor=SYSTEM)
    assert report.ok and report.members_created == 2 and report.rows_written == 3
    joined = {r["member_id"]: r["join_date"] for r in rows(engine, schema.members, schema.members.c.member_id)}
    assert joined == {"X1": dt.date(2024, 4, 30), "X2": dt.date(2024, 5, 1)}


# ----------------------------------------------------------------------------------------- streaming, Excel


def test_large_file_streams_in_chunks_with_progress_and_cross_chunk_checks(members_loaded, tmp_path):
    path = tmp_path / "big.csv"
    lines = ["member_id,ts,amount"] + [f"M00{1 + i % 5},2024-01-{1 + i % 28:02d},{i % 7}.50" for i in range(250)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    calls: list[tuple[int, int | None]] = []
    report = import_file(
        path, "transactions", members_loaded, chunk_rows=100, progress=lambda done, total: calls.append((done, total)), actor=SYSTEM
    )
    assert report.ok and report.rows_written == 250
    assert [d for d, _ in calls] == [0, 100, 200, 250, 250] and calls[-1] == (250, 250)
    # Rows i and i+140 are identical (140 = lcm(5, 28)): their ids differ by occurrence count, across chunks.
    with members_loaded.connect() as conn:
        n_ids = conn.execute(select(func.count(func.distinct(schema.transactions.c.txn_id)))).scalar_one()
    assert n_ids == 250
    dup = tmp_path / "dup.csv"
    ids = [f"Z{i}" for i in range(250)]
    ids[240] = "Z5"
    dup.write_text("txn_id,member_id,ts,amount\n" + "".join(f"{t},M001,2024-01-01,1\n" for t in ids), "utf-8")
    report = import_file(dup, "transactions", members_loaded, chunk_rows=100, actor=SYSTEM)
    assert report.errors == (RowError(242, "txn_id", "duplicate id", "Z5"),)


@pytest.fixture
def xlsx_file(tmp_path) -> Path:
    """A transactions workbook as a POS export writes it: Chinese header, date cells, numbers, one bad date."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["交易号", "会员号", "交易时间", "消费金额", "退货"])
    ws.append(["X1", "M001", dt.datetime(2024, 3, 5, 10, 15), 1299.5, "否"])
    ws.append(["X2", "M002", 45356, 88, "是"])  # Excel serial 45356 = 2024-03-05 (45292 = 2024-01-01)
    ws.append(["X3", "M003", "2024/3/7", "¥1,000.00", 0])
    path = tmp_path / "pos.xlsx"
    wb.save(path)
    return path


def test_xlsx_first_sheet_imports_date_cells_serials_and_text(members_loaded, xlsx_file):
    report = import_file(xlsx_file, "transactions", members_loaded, actor=SYSTEM)
    assert report.ok and report.rows_written == 3, report.format()
    got = {r["txn_id"]: r for r in rows(members_loaded, schema.transactions, schema.transactions.c.id)}
    assert got["X1"]["ts"] == dt.datetime(2024, 3, 5, 10, 15) and got["X1"]["amount"] == pytest.approx(1299.5)
    assert got["X2"]["ts"] == dt.datetime(2024, 3, 5) and got["X2"]["is_return"] is True
    assert got["X3"]["amount"] == pytest.approx(1000.0)


def test_xlsx_errors_carry_the_sheet_row_number(members_loaded, xlsx_file, tmp_path):
    wb = openpyxl.load_workbook(xlsx_file)
    wb.active.append([])
    wb.active.append(["X5", "M001", "2024-13-01", 5, "否"])
    wb.save(xlsx_file)
    report = import_file(xlsx_file, "transactions", members_loaded, actor=SYSTEM)
    assert report.errors == (RowError(6, "交易时间", "bad date", "2024-13-01"),)


def test_cdnow_sample_imports_as_headerless_transactions(engine):
    # Independent reading of the file: whitespace-separated master id, sample id, YYYYMMDD, CDs, dollars.
    total, first = Decimal("0"), {}
    for line in CDNOW.read_text().splitlines():
        member, _, day, _, dollars = line.split()
        total += Decimal(dollars)
        first[member] = min(first.get(member, day), day)
    report = import_file(
        CDNOW, "transactions", engine, columns=["member_id", "_", "ts", "quantity", "amount"], create_members=True, actor=SYSTEM
    )
    assert report.ok and report.rows_read == 6919 and report.rows_written == 6919
    assert report.members_created == 2357 == len(first)
    with engine.connect() as conn:
        t = schema.transactions
        n, stored_total, cds = conn.execute(select(func.count(), func.sum(t.c.amount), func.sum(t.c.quantity))).one()
        joined = dict(conn.execute(select(schema.members.c.member_id, schema.members.c.join_date)).all())
    assert n == 6919 and Decimal(str(round(stored_total, 2))) == total
    assert cds == sum(int(line.split()[3]) for line in CDNOW.read_text().splitlines())
    assert joined["00004"] == dt.date(1997, 1, 1)  # ids keep their leading zeros
    assert all(joined[m] == dt.datetime.strptime(d, "%Y%m%d").date() for m, d in first.items())
    again = import_file(CDNOW, "transactions", engine, columns=["member_id", "_", "ts", "quantity", "amount"], actor=SYSTEM)
    assert again.ok and again.rows_written == 0 and again.rows_already_present == 6919


# --------------------------------------------------------------------------------------- converters, columns


@pytest.mark.parametrize(
    "text",
    ["2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "45356", "2024-03-05 00:00:00", "２０２４－０３－０５", "2024.3.5"],
)
def test_every_accepted_date_style_means_the_same_day(members_loaded, tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(f"member_id,action_date,kind\nM001,{text},sms\n", encoding="utf-8")
    report = import_file(path, "care", members_loaded, actor=SYSTEM)
    assert report.ok, report.format()
    assert rows(members_loaded, schema.care_actions, "id")[0]["action_date"] == dt.date(2024, 3, 5)


@pytest.mark.parametrize("text", ["2024-02-30", "05/03/2024", "1899-12-31", "2024-3", "yesterday", "2024-03-05Z"])
def test_impossible_or_ambiguous_dates_are_bad_dates(members_loaded, tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(f"member_id,action_date,kind\nM001,{text},sms\n", encoding="utf-8")
    report = import_file(path, "care", members_loaded, actor=SYSTEM)
    assert [(e.row, e.reason) for e in report.errors] == [(2, "bad date")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("¥1,234.50", 1234.5), ("1234.5", 1234.5), ("￥１２", 12.0), ("RMB 99", 99.0), ("1,234,567", 1234567.0)],
)
def test_numbers_accept_currency_signs_and_thousands_separators(members_loaded, tmp_path, text, expected):
    path = tmp_path / "n.csv"
    path.write_text(f'member_id,ts,amount\nM001,2024-01-01,"{text}"\n', encoding="utf-8")
    report = import_file(path, "transactions", members_loaded, actor=SYSTEM)
    assert report.ok, report.format()
    assert rows(members_loaded, schema.transactions, "id")[0]["amount"] == pytest.approx(expected)


@pytest.mark.parametrize("text", ["12,50", "1,23,456", "abc", "1e3x", "nan", "inf"])
def test_numbers_with_a_decimal_comma_or_text_are_bad_numbers(members_loaded, tmp_path, text):
    path = tmp_path / "n.csv"
    path.write_text(f'member_id,ts,amount\nM001,2024-01-01,"{text}"\n', encoding="utf-8")
    report = import_file(path, "transactions", members_loaded, actor=SYSTEM)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(2, "amount", "bad number")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("0", False), ("true", True), ("FALSE", False), ("yes", True), ("No", False), ("是", True),
     ("否", False), ("Y", True), ("n", False), ("", False)],
)  # fmt: skip
def test_return_flags_accept_the_usual_spellings(members_loaded, tmp_path, text, expected):
    path = tmp_path / "b.csv"
    path.write_text(f"member_id,ts,amount,退货\nM001,2024-01-01,1,{text}\n", encoding="utf-8")
    report = import_file(path, "transactions", members_loaded, actor=SYSTEM)
    assert report.ok, report.format()
    assert rows(members_loaded, schema.transactions, "id")[0]["is_return"] is expected


def test_too_long_ids_are_rejected_before_the_database_sees_them(members_loaded, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("member_id,join_date\n" + "M" * 65 + ",2024-01-01\n", encoding="utf-8")
    report = import_file(path, "members", members_loaded, actor=SYSTEM)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(2, "member_id", "too long")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Member ID", "member_id"), ("MEMBER-ID", "member_id"), (" 会员号 ", "member_id"), ("消费金额（元）", "amount"),
     ("消费日期", "ts"), ("毛利", "gross_margin"), ("优惠金额", "discount"), ("手机号", None)],
)  # fmt: skip
def test_headers_match_case_space_and_unit_insensitively(header, expected):
    assert colmap.resolve_name("transactions", header) == expected


def test_the_higher_priority_alias_wins_and_the_other_column_is_shadowed():
    match = colmap.match_header("members", ["卡号", "会员编号", "入会日期"])
    assert match.columns == {"member_id": 1, "join_date": 2} and match.shadowed == ((0, "member_id"),)


def test_member_id_alias_lists_are_the_same_in_every_kind():
    for kind in colmap.KINDS:
        assert colmap.resolve_name(kind, "会员编号") == "member_id"


def test_every_alias_and_coded_value_appears_in_the_import_doc():
    doc = (REPO / "docs" / "IMPORT.md").read_text(encoding="utf-8")
    for kind in colmap.KINDS:
        for spec in colmap.specs(kind):
            for alias in spec.aliases:
                assert f"`{alias}`" in doc, f"{kind}.{spec.name}: alias {alias!r} missing from docs/IMPORT.md"
    for mapping in colmap.VALUES.values():
        for aliases in mapping.values():
            for alias in aliases:
                assert f"`{alias}`" in doc, f"value {alias!r} missing from docs/IMPORT.md"
    assert colmap.markdown_tables() in doc


def test_errors_frame_of_a_clean_report_is_empty_with_the_columns():
    report = ImportReport("members", "f.csv", 1, 1, 0, (), (), True, None)
    frame = report.errors_frame()
    assert frame.empty and list(frame.columns) == ["row", "column", "reason", "value"]
    assert isinstance(frame, pd.DataFrame) and report.ok


# ------------------------------------------------------------------------------------------- column mapping

CDNOW_MAP = {"dollar_value": "amount", "number_of_cds": "quantity"}
NOT_IN_FILE = "the file's columns: customer_id, date, number_of_cds, dollar_value"


def cdnow_master_records() -> list[list[str]]:
    """The data rows of the CDNOW master slice, read independently: customer, YYYYMMDD, CDs, dollars."""
    lines = CDNOW_MASTER.read_text().splitlines()
    assert lines[0].split() == ["customer_id", "date", "number_of_cds", "dollar_value"]
    return [line.split() for line in lines[1:] if line.strip()]


@pytest.fixture
def cdnow_master(tmp_path) -> Path:
    path = tmp_path / "CDNOW_master.txt"
    shutil.copy(CDNOW_MASTER, path)
    return path


def stored_mappings(engine: Engine) -> dict[str, dict]:
    info = schema.dataset_info
    with engine.connect() as conn:
        found = conn.execute(select(info.c.key, info.c.value).where(info.c.key.like("import_mapping:%"))).all()
    return dict(found)


def test_the_cdnow_master_header_is_refused_until_its_amount_column_is_mapped(engine, cdnow_master):
    records = cdnow_master_records()
    refused = import_file(cdnow_master, "transactions", engine, create_members=True, actor=SYSTEM)
    assert [(e.column, e.reason) for e in refused.errors] == [("amount", "missing required column")]
    assert "map a file column to amount" in refused.errors[0].value
    report = import_file(cdnow_master, "transactions", engine, create_members=True, mapping=CDNOW_MAP, actor=SYSTEM)
    assert report.ok and report.rows_read == report.rows_written == len(records) == 299, report.format()
    assert report.members_created == len({r[0] for r in records})
    assert report.warnings == ()
    with engine.connect() as conn:
        t = schema.transactions
        total, cds = conn.execute(select(func.sum(t.c.amount), func.sum(t.c.quantity))).one()
        days = sorted(conn.execute(select(t.c.ts)).scalars())
    assert Decimal(str(round(total, 2))) == sum(Decimal(r[3]) for r in records)
    assert cds == sum(int(r[2]) for r in records)
    assert days == sorted(dt.datetime.strptime(r[1], "%Y%m%d") for r in records)


@pytest.mark.parametrize(
    "mapping",
    [{"Dollar Value": "amount"}, {"DOLLAR-VALUE": "消费金额"}, {"dollar_value": "sales", "number_of_cds": "_"},
     {"ｄｏｌｌａｒ＿ｖａｌｕｅ": " Amount "}],
)  # fmt: skip
def test_mapping_keys_and_targets_match_like_headers_and_aliases(engine, cdnow_master, mapping):
    report = import_file(cdnow_master, "transactions", engine, create_members=True, mapping=mapping, actor=SYSTEM)
    assert report.ok and report.rows_written == 299, report.format()


@pytest.mark.parametrize(
    ("mapping", "amount", "warnings"),
    [
        ({"net": "amount"}, 90.0, ("column amount ignored: amount is read from net",)),
        ({"net": "amount", "amount": "_"}, 90.0, ()),
        ({"amount": "_", "net": "sales"}, 90.0, ()),
        ({"store": "_"}, 100.0, ("column net ignored: not a known transactions column",)),
    ],
)
def test_an_explicit_mapping_beats_the_automatic_alias_match(members_loaded, tmp_path, mapping, amount, warnings):
    path = tmp_path / "pos.csv"
    path.write_text("member_id,ts,amount,net,store\nM001,2024-01-01,100,90,S1\n", encoding="utf-8")
    report = import_file(path, "transactions", members_loaded, mapping=mapping, actor=SYSTEM)
    assert report.ok and report.rows_written == 1, report.format()
    assert report.warnings == warnings
    row = rows(members_loaded, schema.transactions, "id")[0]
    assert row["amount"] == pytest.approx(amount)
    assert row["store"] == (None if mapping.get("store") == "_" else "S1")


@pytest.mark.parametrize(
    ("mapping", "errors"),
    [
        ({"dollars": "amount"}, [("dollars", "mapped column not in file", NOT_IN_FILE)]),
        ({"dollar_value": "price"},
         [("dollar_value", "unknown mapping target",
           "'price' is not a transactions column; expected one of txn_id, member_id, ts, store, category, quantity, "
           "amount, gross_margin, discount, is_return, or _ to ignore the column")]),
        ({"dollar_value": "amount", "number_of_cds": "sales"},
         [("number_of_cds", "column mapped twice", "amount is mapped from dollar_value and number_of_cds")]),
        ({"dollar_value": "amount", "Dollar Value": "quantity"},
         [("dollar_value", "column mapped twice", "mapped to amount and to quantity")]),
        ({"dollars": "amount", "date": "when"},
         [("dollars", "mapped column not in file", NOT_IN_FILE),
          ("date", "unknown mapping target",
           "'when' is not a transactions column; expected one of txn_id, member_id, ts, store, category, quantity, "
           "amount, gross_margin, discount, is_return, or _ to ignore the column")]),
    ],
)  # fmt: skip
def test_a_bad_mapping_is_reported_by_column_and_nothing_is_written(engine, cdnow_master, mapping, errors):
    before = state(engine)
    report = import_file(cdnow_master, "transactions", engine, create_members=True, mapping=mapping, actor=SYSTEM)
    assert [(e.row, e.column, e.reason, e.value) for e in report.errors] == [(None, *e) for e in errors]
    assert not report.written and state(engine) == before and stored_mappings(engine) == {}


def test_columns_and_mapping_together_are_a_programming_error(engine, cdnow_master):
    with pytest.raises(ValueError, match=r"^pass columns \(a headerless file\) or mapping \(a file with a header\)"):
        import_file(cdnow_master, "transactions", engine, columns=["member_id", "ts", "_", "amount"], mapping=CDNOW_MAP, actor=SYSTEM)


def test_match_header_reports_mapping_problems_instead_of_raising():
    match = colmap.match_header("transactions", ["id", "when", "amount"], {"when": "ts", "id": "member_id"})
    assert match.columns == {"member_id": 0, "ts": 1, "amount": 2} and match.problems == () and match.missing == ()
    bad = colmap.match_header("transactions", ["id", "when"], {"when": "nope"})
    assert [p.reason for p in bad.problems] == ["unknown mapping target"]
    assert bad.missing == ("member_id", "ts", "amount")


def test_a_committed_mapping_is_remembered_for_the_layout_and_reused_next_week(engine, cdnow_master, tmp_path):
    assert import_file(cdnow_master, "transactions", engine, create_members=True, mapping=CDNOW_MAP, actor=SYSTEM).ok
    headers = ["customer_id", "date", "number_of_cds", "dollar_value"]
    key = mapping_key("transactions", headers)
    assert key.startswith("import_mapping:transactions:") and len(key) <= 64
    assert set(stored_mappings(engine)) == {key}
    with engine.connect() as conn:
        assert saved_mapping(conn, "transactions", headers) == CDNOW_MAP
        # The layout is compared normalised (case, width, separators), in order, per kind.
        respelled = ["Customer ID", "DATE", "number of cds", "Dollar-Value"]
        assert saved_mapping(conn, "transactions", respelled) == CDNOW_MAP
        assert saved_mapping(conn, "transactions", ["date", "customer_id", "number_of_cds", "dollar_value"]) is None
        assert saved_mapping(conn, "care", headers) is None
    next_week = tmp_path / "CDNOW_next_week.txt"
    next_week.write_text("customer_id date number_of_cds dollar_value\n 00001 19970801  2   23.54\n", encoding="utf-8")
    plain = import_file(next_week, "transactions", engine, actor=SYSTEM)
    assert [e.reason for e in plain.errors] == ["missing required column"]  # the library default leaves it out
    report = import_file(next_week, "transactions", engine, use_saved_mapping=True, actor=SYSTEM)
    assert report.ok and report.rows_written == 1, report.format()
    assert report.warnings == (
        "column mapping saved for this file layout used: number_of_cds=quantity, dollar_value=amount",
    )


def test_a_mapping_is_remembered_only_when_the_import_commits(members_loaded, tmp_path, cdnow_master):
    report = import_file(cdnow_master, "transactions", members_loaded, mapping=CDNOW_MAP, actor=SYSTEM)  # unknown members
    assert not report.written and stored_mappings(members_loaded) == {}
    assert import_file(DATA / "transactions_good.csv", "transactions", members_loaded, actor=SYSTEM).ok
    assert stored_mappings(members_loaded) == {}


def test_a_headerless_import_does_not_look_for_a_saved_mapping(engine, tmp_path):
    path = tmp_path / "headerless.txt"
    path.write_text("00001 19970101 1 11.77\n", encoding="utf-8")
    report = import_file(path, "transactions", engine, columns=["member_id", "ts", "quantity", "amount"],
                         create_members=True, use_saved_mapping=True, actor=SYSTEM)  # fmt: skip
    assert report.ok and report.rows_written == 1 and report.warnings == ()


# ------------------------------------------------------------------------------------------------ preview


def test_preview_shows_the_first_rows_the_automatic_match_and_what_is_missing():
    preview = preview_file(CDNOW_MASTER, "transactions", rows=3)
    assert preview.ok and preview.header_row == 1
    assert preview.headers == ("customer_id", "date", "number_of_cds", "dollar_value")
    assert preview.matches == ("member_id", "ts", None, None)
    assert preview.missing == ("amount",) and preview.unknown == ("number_of_cds", "dollar_value")
    assert preview.rows.to_dict("records") == [
        {"customer_id": r[0], "date": r[1], "number_of_cds": r[2], "dollar_value": r[3]}
        for r in cdnow_master_records()[:3]
    ]
    assert preview_file(CDNOW_MASTER, "transactions", mapping=CDNOW_MAP).missing == ()


@pytest.mark.parametrize(
    ("name", "kind"),
    [("members_gbk.txt", "members"), ("transactions_semicolon.csv", "transactions"), ("members_bom.csv", "members")],
)
def test_preview_reads_encodings_and_delimiters_as_the_importer_does(name, kind):
    preview = preview_file(DATA / name, kind)
    assert preview.ok and preview.missing == () and len(preview.headers) > 2
    assert all(m is not None for m in preview.matches[:2])
    assert 0 < len(preview.rows) <= 5 and list(preview.rows.columns) == list(preview.headers)
    assert all(isinstance(v, str) for v in preview.rows.to_numpy().ravel())


def test_preview_reads_an_xlsx_first_sheet(xlsx_file):
    preview = preview_file(xlsx_file, "transactions")
    assert preview.headers == ("交易号", "会员号", "交易时间", "消费金额", "退货")
    assert preview.matches == ("txn_id", "member_id", "ts", "amount", "is_return") and preview.missing == ()
    assert preview.rows.iloc[0].tolist() == ["X1", "M001", "2024-03-05 10:15:00", "1299.5", "否"]
    assert preview.rows.iloc[1, 2] == "45356"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("unreadable.csv", "unreadable encoding"), ("empty.csv", "empty file"), ("no_such_file.csv", "file not found")],
)
def test_preview_reports_a_file_it_cannot_read_instead_of_raising(name, reason):
    preview = preview_file(DATA / name, "members")
    assert not preview.ok and preview.errors[0].reason == reason
    assert preview.headers == () and preview.rows.empty and preview.missing == ("member_id", "join_date")


def test_preview_of_an_old_xls_file_is_a_file_problem(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert preview_file(path, "members").errors[0].reason == "unsupported file format"


def test_preview_labels_blank_and_repeated_headers_uniquely_and_says_which_kind_fits(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("member_id,,note,note,join_date\nM1,x,a,b,2024-01-01\n", encoding="utf-8")
    preview = preview_file(path, "transactions")
    assert list(preview.rows.columns) == ["member_id", "(2)", "note (3)", "note (4)", "join_date"]
    assert preview.looks_like == "members"
    assert preview.matches == ("member_id", None, None, None, None) and preview.unknown == ("note", "note", "join_date")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_dates_written_as_yyyymmdd_integers_are_read_as_dates(members_loaded, tmp_path, fmt):
    if fmt == "xlsx":
        wb = openpyxl.Workbook()
        wb.active.append(["member_id", "ts", "amount"])
        wb.active.append(["M001", 20240305, 12])  # an integer cell, as POS systems export dates
        wb.active.append(["M002", 20231231.0, 5])
        path = tmp_path / "pos.xlsx"
        wb.save(path)
    else:
        path = tmp_path / "pos.csv"
        path.write_text("member_id,ts,amount\nM001,20240305,12\nM002,20231231,5\n", encoding="utf-8")
    report = import_file(path, "transactions", members_loaded, actor=SYSTEM)
    assert report.ok and report.rows_written == 2, report.format()
    got = [r["ts"] for r in rows(members_loaded, schema.transactions, "id")]
    assert got == [dt.datetime(2024, 3, 5), dt.datetime(2023, 12, 31)]


# ------------------------------------------------------------------------------------------------ update mode

HOSTILE = REPO / "tests" / "data" / "hostile"
DIFFERENT = "already present with different values (use --update to apply)"


def test_a_corrected_member_is_reported_not_dropped(members_loaded):
    before = state(members_loaded)
    report = import_file(HOSTILE / "members_corrected.csv", "members", members_loaded, actor=SYSTEM)
    assert [(e.row, e.column, e.reason, e.value) for e in report.errors] == [
        (2, "phone", DIFFERENT, None),  # personal data: never shown
        (2, "home_store", DIFFERENT, "S1 → S3"),
    ]
    assert not report.written and state(members_loaded) == before


def test_update_mode_applies_the_changes_and_lists_them(members_loaded):
    report = import_file(HOSTILE / "members_corrected.csv", "members", members_loaded, update=True, actor=SYSTEM)
    assert report.ok and report.written and report.rows_updated == 1 and report.rows_already_present == 1
    assert report.changes == ("M001: phone changed; home_store S1 → S3",)
    assert "13900000009" not in report.format() and "M001: phone changed; home_store S1 → S3" in report.format()
    got = {r["member_id"]: r for r in rows(members_loaded, schema.members, schema.members.c.member_id)}
    assert got["M001"]["phone"] == "13900000009" and got["M001"]["home_store"] == "S3"
    assert got["M001"]["gender"] == "F" and got["M001"]["birthday"] == dt.date(1985, 4, 12)  # not in the file
    again = import_file(HOSTILE / "members_corrected.csv", "members", members_loaded, update=True, actor=SYSTEM)
    assert again.ok and again.rows_updated == 0 and again.rows_already_present == 2


def test_a_blank_cell_never_clears_a_stored_value_and_a_referrer_may_come_later(members_loaded, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("member_id,phone,join_date,referred_by\nM004,,2022-03-15,M601\nM601,,2023-01-01,\n", "utf-8")
    report = import_file(path, "members", members_loaded, update=True, chunk_rows=1, actor=SYSTEM)
    assert report.ok and report.rows_updated == 1 and report.rows_written == 1, report.format()
    assert report.changes == ("M004: referred_by M002 → M601",)
    got = {r["member_id"]: r for r in rows(members_loaded, schema.members, schema.members.c.member_id)}
    assert got["M004"]["referred_by"] == "M601" and got["M004"]["phone"] == "13800000004"


def test_update_mode_is_ignored_with_a_warning_for_other_kinds(members_loaded):
    report = import_file(DATA / "transactions_good.csv", "transactions", members_loaded, update=True, actor=SYSTEM)
    assert report.ok and "update ignored: only a members file updates stored rows" in report.warnings
