"""Write the small hostile import files of this folder (run once; the files are committed).

    python tests/data/hostile/make_files.py

Each file holds one way a real or malicious export has broken the importer (see README.md for the expected
outcome of each). Files that would be large (a workbook with rows to column XFD, a huge shared-strings table,
a CSV with a million columns) are generated at test time into a temporary folder instead, by
``tests/vipmodel/test_hostile_input.py``, to keep the repository small.

Every file assumes the members of ``tests/data/import/members_good.csv`` (M001-M005) are loaded first.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

TXN_HEADER = "txn_id,member_id,ts,amount,store\n"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


FILES: dict[str, bytes] = {
    # Two exports pasted together: the first data line UTF-8, the others GBK. Decoded as GB18030 the UTF-8 line
    # used to be stored as mojibake.
    "mixed_encoding.csv": _utf8("member_id,name,join_date\n")
    + _utf8("M301,张伟,2023-01-01\n")
    + "M302,王芳,2023-01-02\nM303,刘洋,2023-01-03\n".encode("gbk"),
    # One sale dated 2100 (a typo for 2010) moved every page's default period to 2100.
    "future_date.csv": _utf8(TXN_HEADER + "F1,M001,2024-01-02,10.00,S1\nF2,M001,2100-01-02,20.00,S1\n"),
    # A NUL character in a name: PostgreSQL refused the whole file, SQLite stored it.
    "nul_character.csv": _utf8("member_id,name,join_date\nM311,Ali\x00ce,2023-02-01\n"),
    # Below 10**12 as written, 10**12 once rounded to cents: more than Numeric(14, 2) holds.
    "money_rounds_over_limit.csv": _utf8(TXN_HEADER + "R1,M001,2024-01-02,999999999999.995,S1\n"
                                         "R2,M001,2024-01-03,999999999999.99,S1\n"),  # fmt: skip
    # More than an Integer column holds.
    "quantity_overflow.csv": _utf8("member_id,ts,amount,quantity\nM001,2024-01-02,1.00,2147483648\n"),
    # UTF-16 without a byte-order mark used to be read as UTF-8 ("missing required column"); row 3 names an
    # unknown member, which only a correct decoding can find.
    "utf16le_no_bom.csv": (TXN_HEADER + "U1,M001,2024-01-02,10.00,一号店\nU2,M999,2024-01-03,20.00,S1\n")
    .encode("utf-16-le"),
    "utf16be_no_bom.csv": (TXN_HEADER + "U1,M001,2024-01-02,10.00,一号店\nU2,M999,2024-01-03,20.00,S1\n")
    .encode("utf-16-be"),
    # The quote opened in row 3 is never closed: the rest of the file became one cell ("missing value").
    "unterminated_quote.csv": _utf8(TXN_HEADER + 'Q1,M001,2024-01-02,10.00,S1\nQ2,M001,2024-01-03,"20.00,S1\n'
                                    "Q3,M001,2024-01-04,30.00,S1\nQ4,M001,2024-01-05,40.00,S1\n"),  # fmt: skip
    # M001 corrected (new store, new phone) and M002 unchanged: the correction used to be dropped as "already
    # present" without a word.
    "members_corrected.csv": _utf8("member_id,name,phone,join_date,home_store\n"
                                   "M001,Alice Wang,13900000009,2022-01-05,S3\n"
                                   "M002,Bob Li,13800000002,2022-02-10,S2\n"),  # fmt: skip
    # 250 columns: more than MAX_COLUMNS (200).
    "too_many_columns.csv": _utf8(",".join(["member_id", "ts", "amount"] + [f"extra_{i}" for i in range(247)])
                                  + "\n" + ",".join(["M001", "2024-01-02", "1.00"] + ["x"] * 247) + "\n"),
    # Member ids that are spreadsheet formulas: refused as unknown members, and neutralised in a rejects file.
    "formula_injection.csv": _utf8(TXN_HEADER + 'J1,M001,2024-01-02,10.00,S1\n'
                                   'J2,"=HYPERLINK(""http://evil.example"",""click"")",2024-01-03,20.00,S1\n'
                                   "J3,@SUM(A1:A9),2024-01-04,30.00,+cmd\n"),  # fmt: skip
    # A row longer than the header, with values in the extra cells.
    "too_many_fields.csv": _utf8("member_id,ts,amount\nM001,2024-01-02,1.00\nM001,2024-01-03,2.00,oops,more\n"),
    # A date written with a two-digit year: ambiguous, refused rather than guessed.
    "two_digit_year.csv": _utf8("member_id,ts,amount\nM001,24-01-02,1.00\n"),
    # A tab and a line break inside a quoted member id: stored, they would break every export and lookup.
    "control_character_id.csv": _utf8('member_id,ts,amount\n"M0\n01",2024-01-02,1.00\n'),
}


def main() -> None:
    for name, data in FILES.items():
        (HERE / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
