"""Safe import of real mall exports (CRM members, POS transactions, complaints, surveys, care actions).

:func:`import_file` reads a CSV/TSV/TXT or Excel file in chunks, maps its headers through
:mod:`vipmodel.columns`, validates every value, and writes the valid rows inside one database transaction.
It never raises for bad input: every problem becomes a :class:`RowError` in the returned
:class:`ImportReport`. By default it is all or nothing (any error rolls the whole file back); with
``partial=True`` the valid rows are written and the rejected ones saved to ``<stem>.rejects.csv``.

Re-importing a file adds nothing twice: rows are matched on natural keys (``members.member_id``,
``transactions.txn_id``, ``complaints.complaint_id``, care ``(member_id, action_date, kind)``, surveys
``(member_id, survey_date)``). Files without transaction or complaint ids get a deterministic id derived from
the row's content and its occurrence count among identical rows of the file (see :func:`derived_id`).

Memory stays bounded for large files: rows are read and written ``chunk_rows`` at a time, keys seen earlier in
the file are kept as sorted 64-bit hashes (8 bytes a row), and existing keys are looked up in the database per
chunk with ``SELECT ... WHERE key IN (...)``.

References
----------
The file format conventions (UTF-8 with BOM for Excel, GB18030 for Chinese exports) follow
Python's codec documentation, https://docs.python.org/3/library/codecs.html#standard-encodings, and
RFC 4180 for CSV quoting.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Column, Connection, Engine, Table, and_, bindparam, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from vipmodel import audit, schema
from vipmodel import columns as colmap
from vipmodel.auth import Actor, require
from vipmodel.db import bump_data_version, get_info, put_info
from vipmodel.safe import neutralise_text

KINDS: tuple[str, ...] = colmap.KINDS
MAX_ERRORS_KEPT = 10_000  # the report keeps this many errors; the rejects file has them all

# Limits that keep a hostile or broken file from exhausting memory or time (docs/IMPORT.md, "Limits"). They are
# read when a file is imported, so a deployment (or a test) may change them. Hitting one is a file-level problem
# naming the limit and the row where it was hit; nothing is written.
MAX_COLUMNS = 200  # columns in the header (trailing blank header cells do not count)
MAX_CELLS_PER_ROW = 16_384  # cells one row may hold, blank ones included (Excel's own limit, column XFD)
MAX_ROWS = 10_000_000  # data rows per file (spreadsheet rows after the header, blank ones included)
MAX_ROW_CHARS = 1_048_576  # characters one row of a text file may hold (a line, or a record across lines)
MAX_XLSX_PART_BYTES = 100 * 2**20  # uncompressed size of a workbook part read whole (shared strings, styles ...)
MAX_SHEET_BYTES = 2 * 2**30  # uncompressed size of a worksheet (streamed, so this only bounds the time)
MAX_CHANGES_LISTED = 10  # changed members listed in the report of an update
_EXCEL_MAX_ROWS = 1_048_576  # a worksheet cannot have more rows
DIFFERENT_VALUES = "already present with different values (use --update to apply)"
_IN_BATCH = 5_000  # bound parameters per IN (...); SQLite allows 32,766 and PostgreSQL 65,535 per statement
_SNIFF_LINES = 50
_BLOCK = 1 << 20
MAPPING_KEY_PREFIX = "import_mapping:"  # dataset_info keys of remembered column mappings


@dataclass(frozen=True)
class RowError:
    """One problem found in an import file.

    Attributes
    ----------
    row : int or None
        Spreadsheet row number as the user sees it (header = row 1, first data row = 2); None for a
        file-level problem.
    column : str or None
        The column name as written in the file (for a missing column: the canonical name).
    reason : str
        Short fixed phrase, e.g. ``"bad date"``, ``"negative amount"``, ``"unknown member"``.
    value : str or None
        The offending cell as written, or a detail for file-level problems.
    """

    row: int | None
    column: str | None
    reason: str
    value: str | None = None


@dataclass(frozen=True)
class ImportReport:
    """What :func:`import_file` did.

    Attributes
    ----------
    kind, file : str
        Import kind and the file name shown to the user.
    rows_read : int
        Non-blank data rows read.
    rows_written : int
        Rows inserted into the kind's table (members created on the fly are counted in ``members_created``).
    rows_already_present : int
        Rows skipped because their natural key was already stored.
    errors : tuple of RowError
        At most :data:`MAX_ERRORS_KEPT` problems (file-level first when any).
    warnings : tuple of str
        Things the user should know that did not stop the import (ignored columns ...).
    written : bool
        True when the transaction was committed.
    rejects_path : Path or None
        The rejects CSV written in partial mode, when some rows were rejected.
    rows_rejected : int
        Data rows that had at least one error.
    members_created : int
        Members created because ``create_members=True``.
    items_registered : tuple of str
        New survey item codes registered from the file's header.
    rows_updated : int
        Stored members whose values the file changed (``update=True`` only).
    changes : tuple of str
        The first :data:`MAX_CHANGES_LISTED` of those changes, one member a line
        (``"M001: home_store S1 → S3; phone changed"``); personal data fields are named, never shown.
    """

    kind: str
    file: str
    rows_read: int
    rows_written: int
    rows_already_present: int
    errors: tuple[RowError, ...]
    warnings: tuple[str, ...]
    written: bool
    rejects_path: Path | None
    rows_rejected: int = 0
    members_created: int = 0
    items_registered: tuple[str, ...] = ()
    rows_updated: int = 0
    changes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the file had no error at all (in partial mode rejects make it False)."""
        return not self.errors

    def format(self, limit: int | None = 50) -> str:
        """Human-readable report: a summary line, one line per error (up to ``limit``), then warnings."""
        state = "written" if self.written else "nothing written"
        lines = [
            f"{self.file}: {self.kind}: {self.rows_read} rows read, {self.rows_written} written, "
            f"{self.rows_already_present} already present, {self.rows_rejected} rejected ({state})"
        ]
        if self.members_created:
            lines.append(f"{self.file}: {self.members_created} members created")
        if self.rows_updated:
            lines.append(f"{self.file}: {self.rows_updated} members updated")
            lines.extend(f"  {c}" for c in self.changes)
            if self.rows_updated > len(self.changes):
                lines.append(f"  ... and {self.rows_updated - len(self.changes)} more")
        if self.rejects_path is not None:
            lines.append(f"{self.file}: rejected rows saved to {self.rejects_path.name}")
        shown = self.errors if limit is None else self.errors[:limit]
        for e in shown:
            where = [self.file]
            if e.row is not None:
                where.append(f"row {e.row}")
            if e.column is not None:
                where.append(f"column {e.column}")
            detail = f" ({e.value})" if e.value not in (None, "") else ""
            lines.append(f"{', '.join(where)}: {e.reason}{detail}")
        hidden = len(self.errors) - len(shown)
        if hidden > 0:
            lines.append(f"... and {hidden} more errors")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def errors_frame(self) -> pd.DataFrame:
        """The errors as a DataFrame with columns ``row`` (nullable Int64), ``column``, ``reason``, ``value``."""
        frame = pd.DataFrame(
            [(e.row, e.column, e.reason, e.value) for e in self.errors], columns=["row", "column", "reason", "value"]
        )
        frame["row"] = frame["row"].astype("Int64")
        return frame


class _FileProblem(Exception):
    """A file-level problem: stops the import with one RowError."""

    def __init__(self, reason: str, value: str | None = None, column: str | None = None, row: int | None = None) -> None:
        super().__init__(reason)
        self.errors: tuple[RowError, ...] = (RowError(row=row, column=column, reason=reason, value=value),)

    @classmethod
    def many(cls, errors: Sequence[RowError]) -> _FileProblem:
        problem = cls(errors[0].reason)
        problem.errors = tuple(errors)
        return problem


# --------------------------------------------------------------------------------------------- reading files


@dataclass(frozen=True)
class _Source:
    path: Path
    fmt: str  # "text" or "xlsx"
    encoding: str | None
    delimiter: str | None  # None = runs of whitespace
    sha256: str
    approx_lines: int | None
    notes: tuple[str, ...] = ()  # warnings about how the file was read (e.g. UTF-16 without a byte-order mark)


_HEAD = 1 << 16  # bytes looked at to recognise UTF-16 without a byte-order mark


def _inspect(path: Path) -> _Source:
    """Hash the file, detect its format, encoding and delimiter (one streaming pass, two for GB18030)."""
    if not path.is_file():
        raise _FileProblem("file not found", str(path))
    sha = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, lines, size, head = True, 0, 0, b""
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if not head:
                head = block[:_HEAD]
            sha.update(block)
            size += len(block)
            lines += block.count(b"\n")
            if utf8_ok:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
        if utf8_ok:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    digest = sha.hexdigest()
    if size == 0:
        raise _FileProblem("empty file", "the file has no data rows")
    if head.startswith(b"PK\x03\x04"):
        _check_workbook(path)
        return _Source(path, "xlsx", None, None, digest, None)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _FileProblem("unsupported file format", "old Excel .xls: save it as .xlsx or CSV")
    notes: tuple[str, ...] = ()
    bomless = _utf16_without_bom(head)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with BOM, tab-separated.
        encoding = "utf-16"
        if not _decodes(path, encoding):
            raise _FileProblem("unreadable encoding", "not UTF-8, GB18030 or UTF-16")
    elif bomless is not None:
        # Checked before UTF-8: ASCII text in UTF-16 is also valid UTF-8 (with a NUL after every letter), which
        # used to end in a baffling "missing required column".
        encoding = bomless
        if size % 2 or not _decodes(path, encoding):
            raise _FileProblem("unreadable encoding", f"looks like {encoding.upper()} without a byte-order mark, "
                               "but does not decode as such; save it as UTF-8")  # fmt: skip
        notes = (f"encoding: {encoding.upper()} without a byte-order mark",)
    elif utf8_ok:
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    else:
        _check_gb18030_lines(path)
        encoding = "gb18030"
    return _Source(path, "text", encoding, _sniff_delimiter(path, encoding), digest, lines + 1, notes)


def _utf16_without_bom(head: bytes) -> str | None:
    """``"utf-16-le"`` / ``"utf-16-be"`` when the first bytes look like UTF-16 text without a byte-order mark.

    Text files are mostly ASCII (digits, dates, separators, line ends); in UTF-16 every such character has a
    NUL byte on the same side. A UTF-8 or GBK file has (almost) no NUL bytes at all.
    """
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd >= 0.3 and nul_even <= 0.02:
        return "utf-16-le"
    if nul_even >= 0.3 and nul_odd <= 0.02:
        return "utf-16-be"
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# A line that is valid UTF-8 and decodes to Chinese text is UTF-8: GBK bytes form such a sequence only for rare
# characters, while a GBK line with only a character or two (女 is C5 AE) is quite often valid UTF-8 by chance and
# decodes to Latin letters (Ů), so those do not count as UTF-8 evidence.
_CJK_RE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _check_gb18030_lines(path: Path) -> None:
    """Refuse a file that is not UTF-8 unless every line is GB18030 and none is clearly UTF-8.

    Decoding a file that mixes UTF-8 and GBK lines (two exports pasted together) as GB18030 stores every UTF-8
    line as mojibake, so such a file is refused naming the first line of the less common encoding.
    """
    utf8_lines: list[int] = []
    gb_lines: list[int] = []
    n_utf8 = n_gb = 0
    with path.open("rb") as fh:
        number = 0
        while line := fh.readline(4 * MAX_ROW_CHARS + 1):
            number += 1
            if len(line) > 4 * MAX_ROW_CHARS:
                raise _FileProblem("row too long", f"line {number} has more than {MAX_ROW_CHARS:,} characters",
                                   row=number)  # fmt: skip
            if line.isascii():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    line.decode("gb18030")
                except UnicodeDecodeError:
                    raise _FileProblem("unreadable encoding", "not UTF-8 or GB18030 (GBK)") from None
                n_gb += 1
                if len(gb_lines) < 5:
                    gb_lines.append(number)
                continue
            if _CJK_RE.search(text):
                n_utf8 += 1
                if len(utf8_lines) < 5:
                    utf8_lines.append(number)
    if n_utf8 and n_gb:
        odd_lines, first = (utf8_lines, "UTF-8") if n_utf8 <= n_gb else (gb_lines, "GBK/GB18030")
        shown = ", ".join(str(n) for n in odd_lines) + (" ..." if min(n_utf8, n_gb) > len(odd_lines) else "")
        raise _FileProblem(
            "mixed encodings",
            f"lines in UTF-8: {n_utf8:,}, in GBK/GB18030: {n_gb:,} ({first}: line {shown}); "
            "save the whole file in one encoding, e.g. UTF-8",
            row=odd_lines[0],
        )


def _check_workbook(path: Path) -> None:
    """Refuse a workbook whose parts would take too much memory or time to read (a zip bomb, huge shared strings).

    openpyxl reads the shared strings, styles and the other small parts whole, even in read-only mode; only
    worksheets are streamed. The uncompressed sizes come from the zip directory, and :mod:`zipfile` never
    returns more bytes than a member declares, so a lying size cannot get past this check.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            manifest = infos.get("[Content_Types].xml")
            if manifest is None:
                raise _FileProblem("unreadable Excel file", "not an Excel workbook (no [Content_Types].xml)")
            if manifest.file_size > MAX_XLSX_PART_BYTES:
                raise _too_large(manifest.filename, manifest.file_size, MAX_XLSX_PART_BYTES)
            from openpyxl.packaging.manifest import Manifest
            from openpyxl.xml.constants import SHARED_STRINGS, WORKSHEET_TYPE
            from openpyxl.xml.functions import fromstring

            parts = Manifest.from_tree(fromstring(zf.read(manifest.filename)))
            sheets = {o.PartName.lstrip("/") for o in parts.Override if o.ContentType == WORKSHEET_TYPE}
            strings = {o.PartName.lstrip("/") for o in parts.Override if o.ContentType == SHARED_STRINGS}
    except _FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile and the XML parser raise many types for a broken file
        raise _FileProblem("unreadable Excel file", f"{type(exc).__name__}: {exc}") from None
    for name, info in infos.items():
        limit = MAX_SHEET_BYTES if name in sheets and name not in strings else MAX_XLSX_PART_BYTES
        if info.file_size > limit:
            raise _too_large(name, info.file_size, limit)


def _too_large(part: str, size: int, limit: int) -> _FileProblem:
    return _FileProblem(
        "workbook part too large",
        f"{part} is {size / 2**20:,.0f} MB uncompressed; at most {limit / 2**20:,.0f} MB (save the sheet as CSV)",
    )


def _sniff_delimiter(path: Path, encoding: str) -> str | None:
    """Tab, comma, semicolon or pipe when one splits the first lines consistently, else runs of whitespace."""
    sample: list[str] = []
    chars = 0
    with path.open("r", encoding=encoding, newline="") as fh:
        # Bounded reads: a file of one endless line must not be read whole just to guess its delimiter.
        while chars <= MAX_ROW_CHARS and (line := fh.readline(MAX_ROW_CHARS + 1)):
            chars += len(line)
            if line.strip():
                sample.append(line)
            if len(sample) >= _SNIFF_LINES:
                break
    for delim in ("\t", ",", ";", "|"):
        try:
            counts = [len(rec) for rec in csv.reader(sample, delimiter=delim) if rec]
        except csv.Error:
            continue
        if _consistent(counts):
            return delim
    if _consistent([len(line.split()) for line in sample]):
        return None
    return ","


def _consistent(counts: list[int]) -> bool:
    # Most lines (a ragged last line or a title row can differ) split into the same number (>1) of fields.
    if not counts:
        return False
    mode = max(set(counts), key=counts.count)
    return mode > 1 and counts.count(mode) >= 0.8 * len(counts)


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV export would show (dates ISO, integral floats without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class _Fields(list):
    """The fields of a row longer than :data:`MAX_COLUMNS` + 1, cut there; ``width`` is how many it had.

    Such a row is an error (a header that wide is refused, so it has cells beyond the header), and keeping only
    the first fields bounds a chunk's memory however wide a hostile row is.
    """

    width: int = 0


def _fields(number: int, cells: list[str]) -> list[str]:
    """Stripped fields of one record without trailing blank cells, checked against the size limits."""
    if len(cells) > MAX_CELLS_PER_ROW:
        raise _FileProblem("too many cells in a row", f"{len(cells):,} cells; at most {MAX_CELLS_PER_ROW:,}",
                           row=number)  # fmt: skip
    fields = [c.strip() for c in cells]
    end = len(fields)
    while end and not fields[end - 1]:
        end -= 1
    if end > MAX_COLUMNS + 1:
        cut = _Fields(fields[: MAX_COLUMNS + 1])
        cut.width = end
        return cut
    del fields[end:]
    return fields


def _width(fields: list[str]) -> int:
    return fields.width if isinstance(fields, _Fields) else len(fields)


def _check_rows(number: int) -> None:
    if number > MAX_ROWS + 1:
        raise _FileProblem("too many rows", f"more than {MAX_ROWS:,} rows after the header; split the file",
                           row=number)  # fmt: skip


class _LineFeed:
    """The physical lines of a text file for :func:`csv.reader`, each read with a bounded ``readline``.

    It remembers the lines of the record being read (to tell an unterminated quote from a quoted line break)
    and refuses a record longer than :data:`MAX_ROW_CHARS`, so neither an endless line nor an endless quoted
    cell is ever held whole.
    """

    def __init__(self, fh: io.TextIOBase) -> None:
        self.fh = fh
        self.line = 0  # physical lines read
        self.row = 1  # the record being read
        self.record: list[str] = []
        self.chars = 0

    def start(self, row: int) -> None:
        self.row, self.record, self.chars = row, [], 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self.fh.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self.line += 1
        self.chars += len(line)
        if self.chars > MAX_ROW_CHARS:
            raise _FileProblem("row too long", f"more than {MAX_ROW_CHARS:,} characters (line {self.line})",
                               row=self.row)  # fmt: skip
        self.record.append(line)
        return line


def _records(source: _Source, meta: dict[str, Any] | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(row number, fields)`` of every non-blank record; row numbers count blank records too.

    Trailing blank cells are dropped. ``meta["total"]`` is set to a workbook's row count (from its dimension)
    once the first record is read.
    """
    if source.fmt == "xlsx":
        yield from _xlsx_records(source.path, meta if meta is not None else {})
        return
    with source.path.open("r", encoding=source.encoding, newline="") as fh:
        feed = _LineFeed(fh)
        if source.delimiter is None:
            for number, line in enumerate(feed, start=1):
                _check_rows(number)
                fields = _fields(number, line.split())
                feed.start(number + 1)
                if fields:
                    yield number, fields
            return
        reader = csv.reader(feed, delimiter=source.delimiter)
        number = 0
        last: list[str] = []
        while True:
            feed.start(number + 1)
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _csv_problem(exc, number + 1, feed) from None
            number += 1
            last = feed.record
            _check_rows(number)
            fields = _fields(number, rec)
            if fields:
                yield number, fields
        if len(last) > 1:
            _check_closed(last, source.delimiter, number, feed.line - len(last) + 1)


def _csv_problem(exc: csv.Error, row: int, feed: _LineFeed) -> _FileProblem:
    if "field larger than field limit" in str(exc):
        limit = csv.field_size_limit()
        if len(feed.record) > 1:
            first = feed.line - len(feed.record) + 1
            return _FileProblem("unterminated quote", f"the quote opened on line {first} is not closed within "
                                f"{limit:,} characters", row=row)  # fmt: skip
        return _FileProblem("cell too long", f"more than {limit:,} characters", row=row)
    return _FileProblem("malformed file", f"line {feed.line}: {exc}", row=row)


def _check_closed(lines: list[str], delimiter: str, row: int, first_line: int) -> None:
    """Refuse the last record when a quote in it runs to the end of the file.

    The lenient reader takes an unclosed quote to the end of the file as one cell, which used to show up as
    "missing required value"; parsed again strictly, the record says whether its quote was ever closed.
    """
    try:
        for _ in csv.reader(lines, delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise _FileProblem("unterminated quote", f"the quote opened on line {first_line} is never closed",
                               row=row) from None  # fmt: skip


_IGNORED_LISTED = 5  # unknown columns named one by one in the warnings; beyond this one summary warning


def _encodable(text: str) -> bool:
    """False for text holding a lone surrogate (which no database encoding can store)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(cell: str) -> str:
    """A cell with NUL and lone surrogates spelled out (``\\x00``, ``\\ud800``), for the report."""
    return cell.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")[:100]


def _check_header(row: int | None, headers: list[str]) -> None:
    """Refuse a header wider than :data:`MAX_COLUMNS` or holding characters no database stores."""
    if _width(headers) > MAX_COLUMNS:
        raise _FileProblem("too many columns", f"{_width(headers):,} columns; at most {MAX_COLUMNS:,}", row=row)
    for pos, header in enumerate(headers):
        if "\x00" in header:
            raise _FileProblem("NUL character", _printable(header), column=f"column {pos + 1}", row=row)
        if not _encodable(header):
            raise _FileProblem("invalid character", _printable(header), column=f"column {pos + 1}", row=row)


def _xlsx_records(path: Path, meta: dict[str, Any]) -> Iterator[tuple[int, list[str]]]:
    """The rows of the first worksheet, streamed by openpyxl's read-only mode, never padded past the header limit.

    openpyxl pads each read-only row to the sheet's dimension unless told how wide to read: a sheet whose rows
    end in one empty cell at column XFD came back as 16,384 cells a row (74 KB took 830 MB and 22 s). Reading at
    most :data:`MAX_COLUMNS` + 2 columns bounds every row (a header that wide is refused anyway, and a value in
    column ``MAX_COLUMNS + 2`` marks a row wider than any accepted header); cells beyond are not read. The size
    of the sheet's parts was checked before (:func:`_check_xlsx_parts`).
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt or foreign zip file
        raise _FileProblem("unreadable Excel file", f"{type(exc).__name__}: {exc}") from None
    width = MAX_COLUMNS + 2
    try:
        if not wb.worksheets:
            return
        ws = wb.worksheets[0]
        meta["total"] = ws.max_row
        meta["max_column"] = ws.max_column  # from the sheet's dimension: what it claims to use
        rows = ws.iter_rows(min_row=1, max_row=_EXCEL_MAX_ROWS, max_col=width, values_only=True)
        try:
            for number, values in enumerate(rows, start=1):
                if number > MAX_ROWS + 1:
                    _check_rows(number)
                if not any(v is not None for v in values):
                    continue
                fields = _fields(number, ["" if v is None else _cell_text(v) for v in values])
                if fields:
                    yield number, fields
        except _FileProblem:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken sheet raises XML, key and value errors alike
            raise _FileProblem("unreadable Excel file", f"{type(exc).__name__}: {exc}") from None
    finally:
        wb.close()


# ------------------------------------------------------------------------------------------------ converters

_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:[ T]+(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})\s*(?:[:：分]\s*(?P<S>\d{1,2})(?:\.(?P<f>\d{1,6}))?\s*秒?)?)?$"
)
_COMPACT_DATE_RE = re.compile(
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[ T]?(?P<H>\d{2}):?(?P<M>\d{2})(?::?(?P<S>\d{2}))?)?$"
)
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$")
_EXCEL_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 given its 1900 leap-year bug
_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$|^[+-]?\.\d+$")
_CURRENCY_RE = re.compile(r"[¥$€£\s]|RMB|CNY|元", re.IGNORECASE)
_MIN_YEAR, _MAX_YEAR = 1900, 2100
_MONEY_LIMIT = 1e12  # Numeric(14, 2) holds |x| <= 999,999,999,999.99, i.e. |x| < 10**12 after rounding
_INT_LIMIT = 2**31
_CONTROL_RE = re.compile("[\x01-\x1f\x7f]")  # NUL has its own reason ("NUL character")


def _nfkc(s: pd.Series) -> pd.Series:
    # Full-width digits and punctuation (１２３，￥) occur in Chinese exports; ASCII cells skip the work.
    non_ascii = ~s.str.isascii()
    if non_ascii.any():
        s = s.copy()
        s[non_ascii] = s[non_ascii].map(lambda v: unicodedata.normalize("NFKC", v))
    return s


def _parse_datetimes(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``(timestamps, bad)`` for non-blank cells of ``s``; NaT where blank or bad."""
    s = _nfkc(s).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    blank = s == ""
    # Fast path for the common ISO forms (vectorised C parser); the general regex handles the rest.
    iso = s.str.fullmatch(_ISO_RE)
    if iso.any():
        out[iso] = pd.to_datetime(s[iso], format="ISO8601", errors="coerce").astype("datetime64[us]")
    rest = ~iso & ~blank
    for regex in (_DATE_RE, _COMPACT_DATE_RE):
        if not rest.any():
            break
        parts = s[rest].str.extract(regex)
        hit = parts["y"].notna() & out[rest].isna()
        if not hit.any():
            continue
        p = parts[hit]
        frac = p["f"].fillna("0").str.ljust(6, "0") if "f" in p else pd.Series("0", index=p.index)
        comp = pd.DataFrame(
            {
                "year": p["y"].astype(int),
                "month": p["m"].astype(int),
                "day": p["d"].astype(int),
                "hour": p["H"].fillna("0").astype(int),
                "minute": p["M"].fillna("0").astype(int),
                "second": p["S"].fillna("0").astype(int),
                "us": frac.astype(int),
            }
        )
        ok = comp["year"].between(_MIN_YEAR, _MAX_YEAR)
        parsed = pd.to_datetime(comp[ok], errors="coerce") if ok.any() else pd.Series(dtype="datetime64[us]")
        out.loc[parsed.index] = parsed.astype("datetime64[us]")
    serial = s.str.fullmatch(_EXCEL_SERIAL_RE) & out.isna()
    if serial.any():
        days = s[serial].astype(float)
        out.loc[serial] = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("s").astype("datetime64[us]")
    years = out.dt.year
    out[(years < _MIN_YEAR) | (years > _MAX_YEAR)] = pd.NaT
    return out, out.isna() & ~blank


def _parse_numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``(floats, bad)``: ``¥1,234.50``, ``(5.00)`` (accounting negative), full-width digits; NaN where blank."""
    s = _nfkc(s).str.replace(_CURRENCY_RE, "", regex=True)
    accounting = s.str.fullmatch(r"\(.*\)")
    s = s.where(~accounting, "-" + s.str.slice(1, -1))
    blank = s == ""
    good = s.str.fullmatch(_NUMBER_RE)
    values = pd.to_numeric(s.where(good, "").str.replace(",", "", regex=False).replace("", np.nan), errors="coerce")
    bad = ~blank & (~good | ~np.isfinite(values.fillna(0.0)))
    return values.where(~bad), bad


@dataclass
class _Converted:
    values: list[Any]
    reasons: list[str | None]  # None = fine (possibly blank)


def _convert(type_: str, raw: pd.Series, max_len: int | None, latest: dt.date | None = None) -> _Converted:
    """Convert one column of stripped strings; blank cells become None without an error.

    ``latest`` is the last day a date may fall on (``"date in the future"`` after it): one transaction dated
    2100 would otherwise move every page's default period to 2100.
    """
    blank = (raw == "").to_numpy()
    reasons = np.full(len(raw), None, dtype=object)
    if type_ in ("id", "text"):
        values = np.array([None if b else v for v, b in zip(raw, blank)], dtype=object)
        if max_len is not None:
            too_long = (raw.str.len() > max_len).to_numpy()
            reasons[too_long] = "too long"
            values[too_long] = None
        if type_ == "id":
            # An id with a line break or tab (a quoted cell can hold one) breaks every later export and lookup.
            control = raw.str.contains(_CONTROL_RE).to_numpy(dtype=bool)
            reasons[control] = "control character"
            values[control] = None
        return _Converted(list(values), list(reasons))
    if type_ in ("date", "datetime"):
        ts, bad = _parse_datetimes(raw)
        reasons[bad.to_numpy()] = "bad date"
        if latest is not None:
            future = (ts >= pd.Timestamp(latest + dt.timedelta(days=1))).to_numpy()
            reasons[future] = "date in the future"
            ts = ts.where(~future)
        if type_ == "date":
            values = [None if pd.isna(v) else v.date() for v in ts]
        else:
            values = [None if pd.isna(v) else v.to_pydatetime() for v in ts]
        return _Converted(values, list(reasons))
    if type_ in ("money", "signed_money", "int", "score"):
        num, bad = _parse_numbers(raw)
        arr = num.to_numpy(dtype=float)
        reasons[bad.to_numpy()] = "bad number"
        ok = ~blank & ~bad.to_numpy()
        if type_ in ("money", "signed_money"):
            # Checked after rounding: 999999999999.995 is below the limit but rounds to 10**12, which
            # Numeric(14, 2) cannot hold (PostgreSQL refused the file, SQLite stored it).
            rounded = np.round(arr, 2)
            reasons[ok & ~(np.abs(np.nan_to_num(rounded)) < _MONEY_LIMIT)] = "number too large"
            if type_ == "money":
                reasons[ok & (arr < 0)] = "negative amount"
            values = [None if r is not None or b else float(v) for v, r, b in zip(rounded, reasons, blank)]
            return _Converted(values, list(reasons))
        integral = ok & (np.mod(np.nan_to_num(arr), 1) == 0)
        reasons[ok & ~integral] = "bad number"
        if type_ == "int":
            reasons[integral & (np.abs(arr) >= _INT_LIMIT)] = "number too large"
            reasons[integral & (arr < 0)] = "negative quantity"
        else:
            reasons[integral & ((arr < 1) | (arr > 7))] = "score outside 1-7"
        values = [None if r is not None or b else int(v) for v, r, b in zip(arr, reasons, blank)]
        return _Converted(values, list(reasons))
    index = colmap.value_index(type_)
    reason = {
        "bool": "bad boolean",
        "gender": "unknown gender",
        "care_kind": "unknown kind",
        "complaint_category": "unknown category",
        "severity": "unknown severity",
    }[type_]
    values = []
    for i, cell in enumerate(raw):
        if blank[i]:
            values.append(None)
            continue
        found = index.get(colmap.normalize_header(cell), _MISSING)
        if found is _MISSING:
            reasons[i] = reason
            values.append(None)
        else:
            values.append(found)
    return _Converted(values, list(reasons))


_MISSING = object()


# ---------------------------------------------------------------------------------------------- keys, hashing


def derived_id(*parts: object) -> str:
    """A deterministic id ``"h:" + 24 hex digits of sha1`` of ``parts`` (None counts as empty text).

    Used for transactions and complaints exported without an id; the last part is the row's occurrence count
    among identical rows of the file, so two identical purchases stay two rows and a re-import matches both.
    """
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return "h:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def _hash_keys(keys: Sequence[str]) -> np.ndarray:
    return pd.util.hash_array(np.asarray(keys, dtype=object))


class _SeenKeys:
    """Keys seen earlier in the file, as sorted uint64 hash arrays (8 bytes a key, not the key strings).

    A 64-bit hash collision between two different keys of one file (probability ~ n^2 / 2^65, below 1e-5
    for 10 million rows) would report a false duplicate; it can never write a wrong row.
    """

    def __init__(self) -> None:
        self._arrays: list[np.ndarray] = []

    def prior_counts(self, keys: Sequence[str]) -> np.ndarray:
        """How often each key occurred before (earlier chunks and earlier in ``keys``); then remember ``keys``."""
        if not len(keys):
            return np.zeros(0, dtype=np.int64)
        hashes = _hash_keys(keys)
        counts = pd.Series(hashes).groupby(hashes).cumcount().to_numpy().astype(np.int64)
        for arr in self._arrays:
            counts += np.searchsorted(arr, hashes, "right") - np.searchsorted(arr, hashes, "left")
        self._arrays.append(np.sort(hashes))
        if len(self._arrays) > 8:
            self._arrays = [np.sort(np.concatenate(self._arrays))]
        return counts


def _existing(conn: Connection, column: Column, values: Sequence[Any]) -> set:
    """The subset of ``values`` already stored in ``column`` (batched ``IN`` with bound parameters)."""
    found: set = set()
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    for start in range(0, len(distinct), _IN_BATCH):
        batch = distinct[start : start + _IN_BATCH]
        found.update(conn.execute(select(column).where(column.in_(batch))).scalars())
    return found


# ----------------------------------------------------------------------------------------------- the importer


@dataclass
class _Chunk:
    rows: list[int]  # spreadsheet row numbers
    fields: list[list[str]]  # original fields (for the rejects file)
    values: dict[str, list[Any]] = field(default_factory=dict)
    errors: dict[int, list[tuple[str | None, str, str | None]]] = field(default_factory=dict)  # index -> errors

    def add_error(self, i: int, column: str | None, reason: str, value: str | None) -> None:
        self.errors.setdefault(i, []).append((column, reason, value))

    def ok(self, i: int) -> bool:
        return i not in self.errors


_TABLES = {
    "members": schema.members,
    "transactions": schema.transactions,
    "complaints": schema.complaints,
    "care": schema.care_actions,
    "surveys": schema.survey_responses,
}


class _Importer:
    def __init__(
        self,
        path: Path,
        kind: str,
        engine: Engine,
        partial: bool,
        create_members: bool,
        names: Sequence[str] | None,
        progress: Callable[[int, int | None], None] | None,
        chunk_rows: int,
        display_name: str,
        mapping: Mapping[str, str] | None = None,
        use_saved_mapping: bool = False,
        update: bool = False,
        today: dt.date | None = None,
        actor: Actor | None = None,
    ) -> None:
        self.path, self.kind, self.engine, self.actor = path, kind, engine, actor
        self.update = update and kind == "members"
        self.latest = (today or dt.date.today()) + dt.timedelta(days=1)  # dates after this are in the future
        self.mapping = dict(mapping) if mapping else None
        self.mapping_given = self.mapping is not None
        self.use_saved_mapping = use_saved_mapping
        self.applied_mapping: dict[str, str] = {}  # file header -> canonical column or "_", as applied
        self.partial, self.create_members, self.names = partial, create_members, names
        self.progress, self.chunk_rows, self.display_name = progress, chunk_rows, display_name
        self.errors: list[RowError] = []
        self.n_errors = 0
        self.warnings: list[str] = []
        if create_members and kind == "members":
            self.warnings.append("create_members ignored: a members file creates its members itself")
        if update and kind != "members":
            self.warnings.append("update ignored: only a members file updates stored rows")
        self.rows_updated = 0
        self.changes: list[str] = []
        self._pending_updates: list[tuple[int, list[str], str, dict[str, tuple[Any, Any]]]] = []
        self._rejects_failed = False
        self.rows_read = self.rows_written = self.rows_present = self.rows_rejected = 0
        self.members_created = 0
        self.items_registered: list[str] = []
        self.file_failed = False
        self.rejects_path: Path | None = None
        self._rejects_fh: io.TextIOBase | None = None
        self._rejects_writer: Any = None
        self.headers: list[str] = []
        self.positions: dict[str, int] = {}
        self.items: dict[str, int] = {}  # survey item code -> position
        self._seen = _SeenKeys()
        self._seen_content = _SeenKeys()
        self._created_join: dict[str, dt.date] = {}
        self._pending_members: list[tuple[int, list[str], dict[str, Any]]] = []

    # -------------------------------------------------------------------------------------------- reporting

    def _file_errors(self, errors: Sequence[RowError]) -> None:
        # File-level problems go first: they explain why nothing was written.
        self.file_failed = True
        self.n_errors += len(errors)
        self.errors[:0] = errors
        del self.errors[MAX_ERRORS_KEPT:]

    def _row_error(self, row: int, column: str | None, reason: str, value: str | None) -> None:
        self.n_errors += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(row=row, column=column, reason=reason, value=value))

    def _reject(self, row: int, fields: list[str], errors: list[tuple[str | None, str, str | None]]) -> None:
        self.rows_rejected += 1
        for column, reason, value in errors:
            self._row_error(row, column, reason, value)
        if not self.partial or self._rejects_failed:
            return
        cols = "; ".join(dict.fromkeys(c for c, _, _ in errors if c))
        reasons = "; ".join(dict.fromkeys(r for _, r, _ in errors))
        try:
            if self._rejects_writer is None:
                self._open_rejects()
            # The rejects file echoes the uploader's cells into a file made for Excel: neutralised, so a cell
            # such as =HYPERLINK(...) stays text (vipmodel.safe).
            self._rejects_writer.writerow([neutralise_text(v) for v in (row, cols, reasons, *fields)])
        except OSError as exc:
            self._rejects_broken(exc)

    def _open_rejects(self) -> None:
        """Create ``<stem>.rejects.csv`` beside the input, or ``<stem>.rejects-2.csv`` ... when it exists.

        ``O_EXCL`` never opens an existing file, so an earlier rejects file is never overwritten and a symlink
        planted under the name is never followed; mode 0600 because the file holds members' data.
        """
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        for n in range(1, 1000):
            suffix = ".rejects.csv" if n == 1 else f".rejects-{n}.csv"
            candidate = self.path.with_name(f"{self.path.stem}{suffix}")
            try:
                fd = os.open(candidate, flags, 0o600)
            except FileExistsError:
                continue
            self.rejects_path = candidate
            # UTF-8 with BOM: Excel then opens Chinese text correctly.
            self._rejects_fh = open(fd, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed in run()
            self._rejects_writer = csv.writer(self._rejects_fh)
            self._rejects_writer.writerow([neutralise_text(h) for h in ("row", "column", "reason", *self.headers)])
            return
        raise FileExistsError(f"{self.path.stem}.rejects-999.csv and every name before it exist")

    def _rejects_broken(self, exc: OSError) -> None:
        # The import goes on (the report lists the errors); the half-written file would mislead, so it goes.
        self._rejects_failed = True
        self.warnings.append(f"the rejects file could not be written ({type(exc).__name__}: {exc}); "
                             "the rejected rows are listed in this report only")  # fmt: skip
        self._close_rejects()
        if self.rejects_path is not None:
            self.rejects_path.unlink(missing_ok=True)
            self.rejects_path = None

    def _close_rejects(self) -> None:
        if self._rejects_fh is not None:
            try:
                self._rejects_fh.close()
            except OSError:
                pass
            self._rejects_fh = None
            self._rejects_writer = None

    def report(self, written: bool) -> ImportReport:
        if self.n_errors > len(self.errors):
            self.warnings.append(
                f"{self.n_errors} errors found; the first {len(self.errors)} are listed"
                + (f", all rejected rows are in {self.rejects_path.name}" if self.rejects_path else "")
            )
        return ImportReport(
            kind=self.kind,
            file=self.display_name,
            rows_read=self.rows_read,
            rows_written=self.rows_written if written else 0,
            rows_already_present=self.rows_present,
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
            written=written,
            rejects_path=self.rejects_path,
            rows_rejected=self.rows_rejected,
            members_created=self.members_created if written else 0,
            items_registered=tuple(self.items_registered) if written else (),
            rows_updated=self.rows_updated if written else 0,
            changes=tuple(self.changes) if written else (),
        )

    # ------------------------------------------------------------------------------------------------ run

    def run(self) -> ImportReport:
        try:
            source = _inspect(self.path)
        except _FileProblem as problem:
            self._file_errors(problem.errors)
            return self.report(written=False)
        self.warnings.extend(source.notes)
        meta: dict[str, Any] = {}
        records = _records(source, meta)
        with self.engine.connect() as conn:
            trans = conn.begin()
            try:
                committed = self._import(conn, source, records, meta)
            except _FileProblem as problem:
                self._file_errors(problem.errors)
                committed = False
            except (IntegrityError, DataError) as exc:
                # Validation should have caught it; report rather than crash the app's Data page.
                self._file_errors([RowError(None, None, "database rejected the data", str(exc.orig)[:300])])
                committed = False
            except OperationalError as exc:
                # SQLite allows one writer: another import or save holds the database (row values stay out).
                busy = "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower()
                reason = "database busy" if busy else "database unavailable"
                detail = ("another import or save is writing: try again in a moment" if busy
                          else str(exc.orig).splitlines()[0][:200])
                self._file_errors([RowError(None, None, reason, detail)])
                committed = False
            except (OSError, UnicodeError) as exc:
                # A file that changed or vanished while it was read, or an unreadable device.
                self._file_errors([RowError(None, None, "unreadable file", f"{type(exc).__name__}: {exc}"[:300])])
                committed = False
            finally:
                records.close()
                self._close_rejects()
            if committed:
                trans.commit()
            else:
                trans.rollback()
        if not committed and self.rejects_path is not None and self.file_failed:
            self.rejects_path.unlink(missing_ok=True)
            self.rejects_path = None
        return self.report(written=committed)

    def _import(
        self, conn: Connection, source: _Source, records: Iterator[tuple[int, list[str]]], meta: dict[str, Any]
    ) -> bool:
        header_row = 1
        if self.names is None:
            first = next(records, None)
            if first is None:
                raise _FileProblem("empty file", "the file has no data rows")
            header_row, self.headers = first
            _check_header(header_row, self.headers)
            self.headers = list(self.headers)
            if header_row != 1:
                self.warnings.append(f"header found on row {header_row}")
        else:
            self.headers = [n if n.strip() != "_" else "" for n in self.names]
            _check_header(None, self.headers)
        total = source.approx_lines if source.fmt == "text" else meta.get("total")
        if (meta.get("max_column") or 0) > MAX_COLUMNS + 2:
            self.warnings.append(f"the sheet's used range reaches column {meta['max_column']:,}: only the first "
                                 f"{MAX_COLUMNS + 2} columns were read")
        if self.mapping is None and self.names is None and self.use_saved_mapping:
            saved = saved_mapping(conn, self.kind, self.headers)
            if saved:
                self.mapping = saved
                pairs = ", ".join(f"{k}={v}" for k, v in saved.items())
                self.warnings.append(f"column mapping saved for this file layout used: {pairs}")
        self._map_header(conn)
        if total is not None:
            total = max(total - header_row, 0)
        done = 0
        if self.progress:
            self.progress(0, total)
        while True:
            batch = list(itertools.islice(records, self.chunk_rows))
            if not batch:
                break
            self._process(conn, batch)
            done += len(batch)
            if self.progress:
                self.progress(done, None if total is None else max(total, done))
        self.rows_read = done
        if done == 0:
            raise _FileProblem("empty file", "the file has no data rows")
        self._finish_members(conn)
        self._finish_created(conn)
        if self.progress:
            self.progress(done, done)
        if self.n_errors and not self.partial:
            return False
        changed = self.rows_written + self.members_created + len(self.items_registered) + self.rows_updated
        conn.execute(
            insert(schema.import_log).values(
                kind=self.kind,
                file_name=self.display_name[:300],
                file_sha256=source.sha256,
                rows_read=self.rows_read,
                rows_written=self.rows_written,
                rows_rejected=self.rows_rejected,
                imported_at=dt.datetime.now().replace(microsecond=0),
            )
        )
        if changed:
            bump_data_version(conn)
        who = self.actor.username if self.actor else "system"
        counts = {"rows_read": self.rows_read, "rows_written": self.rows_written, "rows_rejected": self.rows_rejected,
                  "rows_updated": self.rows_updated, "members_created": self.members_created, "sha256": source.sha256}
        audit.record(conn, who, "import", f"{self.kind}: {self.display_name}", None, counts)
        if self.mapping_given:
            _save_mapping(conn, self.kind, self.headers, self.applied_mapping)
        return True

    # --------------------------------------------------------------------------------------------- header

    def _map_header(self, conn: Connection) -> None:
        kind, headers = self.kind, self.headers
        match = colmap.match_header(kind, headers, self.mapping)
        if match.problems:
            raise _FileProblem.many([RowError(None, p.column, p.reason, p.value) for p in match.problems])
        if match.missing:
            other = colmap.looks_like(kind, headers) if not self.mapping else None
            if other is not None:
                raise _FileProblem("wrong file kind", f"the header looks like a {other} file, not {kind}")
            errors = []
            for name in match.missing:
                spec = next(s for s in colmap.specs(kind) if s.name == name)
                accepted = "accepted headers: " + ", ".join(spec.aliases)
                if self.names is None:
                    accepted += f"; or map a file column to {name}"
                errors.append(RowError(None, name, "missing required column", accepted))
            raise _FileProblem.many(errors)
        self.positions = dict(match.columns)
        self.applied_mapping = {headers[pos]: target for pos, target in match.mapped}
        for pos, name in match.shadowed:
            self.warnings.append(f"column {headers[pos]} ignored: {name} is read from {headers[match.columns[name]]}")
        unmatched = [p for p in match.unmatched if headers[p].strip()]
        if kind == "surveys":
            unmatched = self._map_items(conn, unmatched)
        if len(unmatched) <= _IGNORED_LISTED:
            for pos in unmatched:
                self.warnings.append(f"column {headers[pos]} ignored: not a known {kind} column")
        else:
            # One warning, not one per column: a wide export would bury everything else in the report.
            shown = ", ".join(headers[pos] for pos in unmatched[:_IGNORED_LISTED])
            self.warnings.append(f"{len(unmatched)} columns ignored (not known {kind} columns): {shown} "
                                 f"and {len(unmatched) - _IGNORED_LISTED} more")  # fmt: skip

    def _map_items(self, conn: Connection, positions: list[int]) -> list[int]:
        """Resolve survey item columns (code, English or Chinese label, or a new prefixed code); return the rest."""
        items = schema.survey_items
        lookup: dict[str, str] = {}
        for code, en, zh in conn.execute(select(items.c.item_code, items.c.label_en, items.c.label_zh)):
            for key in (en, zh, code):  # codes win over labels: inserted last
                if key:
                    lookup[colmap.normalize_header(key)] = code
        rest: list[int] = []
        new_rows = []
        for pos in positions:
            header = self.headers[pos]
            code = lookup.get(colmap.normalize_header(header))
            new = None
            if code is None:
                new = colmap.new_item_code(header)
                if new is None:
                    rest.append(pos)
                    continue
                code, dimension, en, zh = new
                if colmap.normalize_header(code) in lookup:  # registered by an earlier import of this layout
                    code = lookup[colmap.normalize_header(code)]
                    new = None
            if new is not None:
                if len(code) > items.c.item_code.type.length:
                    raise _FileProblem("item code too long", code, column=header)
                new_rows.append({"item_code": code, "dimension": dimension, "label_en": en, "label_zh": zh})
                lookup[colmap.normalize_header(code)] = code
                self.items_registered.append(code)
            if code in self.items:
                first = self.headers[self.items[code]]
                self.warnings.append(f"column {header} ignored: item {code} is read from {first}")
                continue
            self.items[code] = pos
        if not self.items:
            raise _FileProblem(
                "missing required column",
                "no survey item columns: use item codes, their labels, or pq_/ss_/ci_ prefixes",
            )
        if new_rows:
            conn.execute(insert(items), new_rows)
            self.warnings.append("new survey items registered: " + ", ".join(r["item_code"] for r in new_rows))
        return rest

    # ---------------------------------------------------------------------------------------------- chunks

    def _process(self, conn: Connection, batch: list[tuple[int, list[str]]]) -> None:
        width = len(self.headers)
        chunk = _Chunk(rows=[r for r, _ in batch], fields=[f for _, f in batch])
        for i, fields in enumerate(chunk.fields):
            if len(fields) > width:
                if isinstance(fields, _Fields) or any(fields[width:]):
                    chunk.add_error(i, None, "too many fields", str(_width(fields)))
                del fields[width:]
            elif len(fields) < width:
                fields.extend([""] * (width - len(fields)))
            joined = "\x1f".join(fields)
            if "\x00" in joined or not _encodable(joined):
                self._bad_characters(chunk, i, fields)
        table = _TABLES[self.kind]
        for spec in colmap.specs(self.kind):
            pos = self.positions.get(spec.name)
            if pos is None:
                continue
            raw = pd.Series([f[pos] for f in chunk.fields], dtype=object).astype(str)
            col = table.c.get(spec.name) if spec.name in table.c else None
            max_len = getattr(col.type, "length", None) if col is not None else None
            conv = _convert(spec.type, raw, max_len, self.latest)
            header = self.headers[pos]
            for i, reason in enumerate(conv.reasons):
                if reason is not None:
                    chunk.add_error(i, header, reason, raw.iat[i])
                elif spec.required and conv.values[i] is None:
                    chunk.add_error(i, header, "missing required value", None)
            chunk.values[spec.name] = conv.values
        for spec in colmap.specs(self.kind):
            if spec.name not in chunk.values:
                chunk.values[spec.name] = [None] * len(batch)
        getattr(self, f"_chunk_{self.kind}")(conn, chunk)
        for i, errors in sorted(chunk.errors.items()):
            self._reject(chunk.rows[i], chunk.fields[i], errors)

    def _bad_characters(self, chunk: _Chunk, i: int, fields: list[str]) -> None:
        """NUL characters and lone surrogates are row errors: PostgreSQL refuses NUL in text (it failed the whole
        file there while SQLite stored it), and a surrogate (``_xD800_`` in a workbook) cannot be encoded."""
        for pos, cell in enumerate(fields):
            header = self.headers[pos] or f"column {pos + 1}"
            if "\x00" in cell:
                chunk.add_error(i, header, "NUL character", _printable(cell))
            elif not _encodable(cell):
                chunk.add_error(i, header, "invalid character", _printable(cell))

    def _header(self, name: str) -> str | None:
        pos = self.positions.get(name)
        return self.headers[pos] if pos is not None else None

    def _check_duplicates(self, chunk: _Chunk, keys: list[str | None], column: str | None, reason: str) -> None:
        idx = [i for i, k in enumerate(keys) if k is not None]
        counts = self._seen.prior_counts([keys[i] for i in idx])
        for i, n in zip(idx, counts):
            if n > 0:
                chunk.add_error(i, column, reason, keys[i])

    def _check_members(self, conn: Connection, chunk: _Chunk, dates: list[Any]) -> None:
        """Unknown members become errors, or members when ``create_members`` (join date = first event)."""
        ids = chunk.values["member_id"]
        candidates = [i for i in range(len(ids)) if chunk.ok(i)]
        known = _existing(conn, schema.members.c.member_id, [ids[i] for i in candidates])
        new: dict[str, dt.date] = {}
        for i in candidates:
            mid = ids[i]
            day = dates[i].date() if isinstance(dates[i], dt.datetime) else dates[i]
            if mid in known:
                if mid in self._created_join and day < self._created_join[mid]:
                    self._created_join[mid] = day
                continue
            if not self.create_members:
                chunk.add_error(i, self._header("member_id"), "unknown member", mid)
            elif mid not in new or day < new[mid]:
                new[mid] = day
        if new:
            conn.execute(insert(schema.members), [{"member_id": m, "join_date": d} for m, d in new.items()])
            self._created_join.update(new)
            self.members_created += len(new)

    def _finish_created(self, conn: Connection) -> None:
        # A member created from a later chunk's row may have earlier rows further down the file.
        if not self._created_join:
            return
        m = schema.members
        stored = {}
        ids = list(self._created_join)
        for start in range(0, len(ids), _IN_BATCH):
            batch = ids[start : start + _IN_BATCH]
            stored.update(conn.execute(select(m.c.member_id, m.c.join_date).where(m.c.member_id.in_(batch))).all())
        changes = [{"b_id": k, "b_join": v} for k, v in self._created_join.items() if stored.get(k) != v]
        if changes:
            stmt = update(m).where(m.c.member_id == bindparam("b_id")).values(join_date=bindparam("b_join"))
            conn.execute(stmt, changes)

    def _content_ids(self, chunk: _Chunk, given: str | None, parts: Sequence[str]) -> list[str | None]:
        """Ids as given in the file, or derived from the row's content and occurrence count (see derived_id)."""
        vals = chunk.values
        n = len(chunk.rows)
        ids: list[str | None] = list(vals[given]) if given else [None] * n
        need = [i for i in range(n) if ids[i] is None and chunk.ok(i)]
        texts = [[_key_text(vals[p][i]) for i in need] for p in parts]
        contents = ["\x1f".join(row) for row in zip(*texts)] if need else []
        counts = self._seen_content.prior_counts(contents)
        for i, content, n_before in zip(need, contents, counts):
            ids[i] = derived_id(content, int(n_before) + 1)
        return ids

    def _insert_new(
        self, conn: Connection, chunk: _Chunk, table: Table, key_column: Column, keys: list[Any], columns: Sequence[str]
    ) -> None:
        """Insert the valid rows whose key is not stored yet; count the others as already present."""
        candidates = [i for i in range(len(keys)) if chunk.ok(i)]
        present = _existing(conn, key_column, [keys[i] for i in candidates])
        rows = []
        for i in candidates:
            if keys[i] in present:
                self.rows_present += 1
                continue
            row = {c: chunk.values[c][i] for c in columns}
            row[key_column.name] = keys[i]
            rows.append(row)
        if rows:
            conn.execute(insert(table), [_defaults(table, r) for r in rows])
            self.rows_written += len(rows)

    # -------------------------------------------------------------------------------------------- kinds

    def _chunk_members(self, conn: Connection, chunk: _Chunk) -> None:
        v = chunk.values
        ids = v["member_id"]
        self._check_duplicates(chunk, ids, self._header("member_id"), "duplicate id")
        ref_header = self._header("referred_by")
        for i, (mid, ref) in enumerate(zip(ids, v["referred_by"])):
            if ref is not None and ref == mid:
                chunk.add_error(i, ref_header, "self referral", ref)
        candidates = [i for i in range(len(ids)) if chunk.ok(i)]
        stored = self._stored_members(conn, [ids[i] for i in candidates])
        known_refs = _existing(conn, schema.members.c.member_id, [v["referred_by"][i] for i in candidates])
        cols = [s.name for s in colmap.specs("members")]
        rows, earlier = [], set()
        updates: list[tuple[str, dict[str, tuple[Any, Any]]]] = []
        for i in candidates:
            if ids[i] in stored:
                diffs = self._member_diffs(stored[ids[i]], v, i)
                if not diffs:
                    self.rows_present += 1
                elif not self.update:
                    # A corrected record used to be dropped as "already present" without a word.
                    for name, (old, new) in diffs.items():
                        chunk.add_error(i, self._header(name), DIFFERENT_VALUES, _change_detail(name, old, new))
                else:
                    ref = diffs.get("referred_by", (None, None))[1]
                    if ref is not None and ref not in known_refs and ref not in earlier:
                        self._pending_updates.append((chunk.rows[i], chunk.fields[i], ids[i], diffs))
                    else:
                        updates.append((ids[i], diffs))
                continue
            row = {c: v[c][i] for c in cols}
            ref = row["referred_by"]
            if ref is not None and ref not in known_refs and ref not in earlier:
                # The referrer may come later in the file: decide once every row is in.
                self._pending_members.append((chunk.rows[i], chunk.fields[i], row))
                continue
            earlier.add(ids[i])
            rows.append(row)
        if rows:
            conn.execute(insert(schema.members), [_defaults(schema.members, r) for r in rows])
            self.rows_written += len(rows)
        self._apply_updates(conn, updates)

    def _stored_members(self, conn: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored rows of those of ``ids`` that are members already (batched ``IN``)."""
        m = schema.members
        found: dict[str, dict[str, Any]] = {}
        distinct = list(dict.fromkeys(x for x in ids if x is not None))
        for start in range(0, len(distinct), _IN_BATCH):
            batch = distinct[start : start + _IN_BATCH]
            for rec in conn.execute(select(m).where(m.c.member_id.in_(batch))):
                found[rec.member_id] = dict(rec._mapping)
        return found

    def _member_diffs(self, stored: dict[str, Any], values: dict[str, list[Any]], i: int) -> dict[str, tuple[Any, Any]]:
        """``column -> (stored, file)`` for the file's columns whose value differs; a blank cell never counts
        (it says nothing, and never clears a stored value)."""
        diffs = {}
        for name in self.positions:
            if name == "member_id":
                continue
            new = values[name][i]
            if new is not None and new != stored.get(name):
                diffs[name] = (stored.get(name), new)
        return diffs

    def _apply_updates(self, conn: Connection, updates: list[tuple[str, dict[str, tuple[Any, Any]]]]) -> None:
        """Write the changed columns of stored members (one executemany per set of changed columns)."""
        if not updates:
            return
        m = schema.members
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for mid, diffs in updates:
            names = tuple(sorted(diffs))
            groups.setdefault(names, []).append({"b_id": mid, **{f"b_{n}": diffs[n][1] for n in names}})
            if len(self.changes) < MAX_CHANGES_LISTED:
                self.changes.append(_describe_change(mid, diffs))
        for names, params in groups.items():
            stmt = update(m).where(m.c.member_id == bindparam("b_id")).values({n: bindparam(f"b_{n}") for n in names})
            conn.execute(stmt, params)
        self.rows_updated += len(updates)

    def _finish_members(self, conn: Connection) -> None:
        if not self._pending_members:
            self._finish_updates(conn)
            return
        pending = self._pending_members
        stored = _existing(conn, schema.members.c.member_id, [r["referred_by"] for _, _, r in pending])
        ok_ids = set(stored)
        resolved: dict[int, bool] = {}
        changed = True
        while changed:  # a referrer can itself be pending: grow the resolvable set to a fixpoint
            changed = False
            for k, (_, _, row) in enumerate(pending):
                if k not in resolved and row["referred_by"] in ok_ids:
                    resolved[k] = True
                    ok_ids.add(row["member_id"])
                    changed = True
        rows = [pending[k][2] for k in sorted(resolved)]
        if rows:
            # Insert without the reference first: a referrer may be among these rows, in any order.
            conn.execute(insert(schema.members), [_defaults(schema.members, {**r, "referred_by": None}) for r in rows])
            m = schema.members
            stmt = update(m).where(m.c.member_id == bindparam("b_id")).values(referred_by=bindparam("b_ref"))
            conn.execute(stmt, [{"b_id": r["member_id"], "b_ref": r["referred_by"]} for r in rows])
            self.rows_written += len(rows)
        header = self._header("referred_by")
        for k, (row_no, fields, row) in enumerate(pending):
            if k not in resolved:
                self._reject(row_no, fields, [(header, "unknown member", row["referred_by"])])
        self._finish_updates(conn)

    def _finish_updates(self, conn: Connection) -> None:
        # Updates whose new referrer was not stored when their chunk was read: it may have been inserted since.
        if not self._pending_updates:
            return
        pending = self._pending_updates
        known = _existing(conn, schema.members.c.member_id, [d["referred_by"][1] for _, _, _, d in pending])
        header = self._header("referred_by")
        ready = []
        for row_no, fields, mid, diffs in pending:
            if diffs["referred_by"][1] in known:
                ready.append((mid, diffs))
            else:
                self._reject(row_no, fields, [(header, "unknown member", diffs["referred_by"][1])])
        self._apply_updates(conn, ready)

    def _chunk_transactions(self, conn: Connection, chunk: _Chunk) -> None:
        ids = self._content_ids(chunk, "txn_id", ("member_id", "ts", "amount", "store", "category"))
        if "txn_id" in self.positions:
            given = chunk.values["txn_id"]
            self._check_duplicates(chunk, given, self._header("txn_id"), "duplicate id")
        self._check_members(conn, chunk, chunk.values["ts"])
        t = schema.transactions
        cols = [s.name for s in colmap.specs("transactions") if s.name != "txn_id"]
        self._insert_new(conn, chunk, t, t.c.txn_id, ids, cols)

    def _chunk_complaints(self, conn: Connection, chunk: _Chunk) -> None:
        v = chunk.values
        resolved_header = self._header("resolved_date")
        for i, (opened, closed) in enumerate(zip(v["complaint_date"], v["resolved_date"])):
            if opened is not None and closed is not None and closed < opened:
                chunk.add_error(i, resolved_header, "resolved before complaint date", closed.isoformat())
        ids = self._content_ids(chunk, "complaint_id", ("member_id", "complaint_date", "category"))
        if "complaint_id" in self.positions:
            self._check_duplicates(chunk, v["complaint_id"], self._header("complaint_id"), "duplicate id")
        self._check_members(conn, chunk, v["complaint_date"])
        c = schema.complaints
        cols = [s.name for s in colmap.specs("complaints") if s.name != "complaint_id"]
        self._insert_new(conn, chunk, c, c.c.complaint_id, ids, cols)

    def _natural_keys(self, chunk: _Chunk, parts: Sequence[str]) -> list[str | None]:
        keys: list[str | None] = []
        for i in range(len(chunk.rows)):
            vals = [chunk.values[p][i] for p in parts]
            keys.append(None if any(x is None for x in vals) else " / ".join(str(x) for x in vals))
        return keys

    def _stored_pairs(
        self, conn: Connection, table: Table, date_col: str, extra: Sequence[str], chunk: _Chunk
    ) -> set:
        """Natural keys ``member / date [/ extra]`` already stored for the chunk's members and date range."""
        v = chunk.values
        dates = [d for d in v[date_col] if d is not None]
        if not dates:
            return set()
        members = list(dict.fromkeys(m for m in v["member_id"] if m is not None))
        cols = [table.c.member_id, table.c[date_col], *(table.c[e] for e in extra)]
        found = set()
        for start in range(0, len(members), _IN_BATCH):
            batch = members[start : start + _IN_BATCH]
            where = and_(table.c.member_id.in_(batch), table.c[date_col].between(min(dates), max(dates)))
            for rec in conn.execute(select(*cols).where(where)):
                found.add(" / ".join(str(x) for x in rec))
        return found

    def _chunk_care(self, conn: Connection, chunk: _Chunk) -> None:
        keys = self._natural_keys(chunk, ("member_id", "action_date", "kind"))
        self._check_duplicates(chunk, keys, self._header("member_id"), "duplicate row")
        self._check_members(conn, chunk, chunk.values["action_date"])
        stored = self._stored_pairs(conn, schema.care_actions, "action_date", ("kind",), chunk)
        rows = []
        cols = [s.name for s in colmap.specs("care")]
        for i, key in enumerate(keys):
            if not chunk.ok(i):
                continue
            if key in stored:
                self.rows_present += 1
                continue
            rows.append({c: chunk.values[c][i] for c in cols})
        if rows:
            conn.execute(insert(schema.care_actions), [_defaults(schema.care_actions, r) for r in rows])
            self.rows_written += len(rows)

    def _chunk_surveys(self, conn: Connection, chunk: _Chunk) -> None:
        answers: dict[str, list[Any]] = {}
        for code, pos in self.items.items():
            raw = pd.Series([f[pos] for f in chunk.fields], dtype=object).astype(str)
            conv = _convert("score", raw, None)
            for i, reason in enumerate(conv.reasons):
                if reason is not None:
                    chunk.add_error(i, self.headers[pos], reason, raw.iat[i])
            answers[code] = conv.values
        for i in range(len(chunk.rows)):
            if all(answers[c][i] is None and chunk.fields[i][p] == "" for c, p in self.items.items()):
                chunk.add_error(i, None, "no item answered", None)
        keys = self._natural_keys(chunk, ("member_id", "survey_date"))
        self._check_duplicates(chunk, keys, self._header("member_id"), "duplicate row")
        self._check_members(conn, chunk, chunk.values["survey_date"])
        stored = self._stored_pairs(conn, schema.survey_responses, "survey_date", (), chunk)
        v = chunk.values
        todo = []
        for i, key in enumerate(keys):
            if not chunk.ok(i):
                continue
            if key in stored:
                self.rows_present += 1
                continue
            todo.append(i)
        if not todo:
            return
        r = schema.survey_responses
        stmt = insert(r).returning(r.c.id, sort_by_parameter_order=True)
        params = [{c: v[c][i] for c in ("member_id", "survey_date", "expectation")} for i in todo]
        response_ids = conn.execute(stmt, params).scalars().all()
        rows = [
            {"response_id": rid, "item_code": code, "score": answers[code][i]}
            for rid, i in zip(response_ids, todo)
            for code in self.items
            if answers[code][i] is not None
        ]
        conn.execute(insert(schema.survey_answers), rows)
        self.rows_written += len(todo)


def _shown(value: object) -> str:
    return "(blank)" if value is None else _key_text(value)


def _change_detail(name: str, old: object, new: object) -> str | None:
    # Personal data is named, never shown: the report travels further than the members table.
    if name in colmap.PERSONAL_COLUMNS:
        return None
    return f"{_shown(old)} → {_shown(new)}"


def _describe_change(member_id: str, diffs: Mapping[str, tuple[Any, Any]]) -> str:
    """``"M001: home_store S1 → S3; phone changed"`` (personal data fields by name only)."""
    parts = []
    for name, (old, new) in diffs.items():
        detail = _change_detail(name, old, new)
        parts.append(f"{name} changed" if detail is None else f"{name} {detail}")
    return f"{member_id}: " + "; ".join(parts)


def _key_text(value: object) -> str:
    # Canonical text of a parsed value, so "29.3" and "29.30" or "2024/3/5" and "2024-03-05" derive one id.
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    # A blank optional cell means "not given": the column default (0, False, 'U', 1) applies instead of
    # NULL in a column the analysis sums. Filled in here because executemany needs the same keys in every row.
    out = dict(row)
    for key, value in row.items():
        default = table.c[key].default
        if value is None and default is not None and default.is_scalar:
            out[key] = default.arg
    return out


def import_file(
    path: str | Path,
    kind: str,
    engine: Engine,
    *,
    partial: bool = False,
    create_members: bool = False,
    columns: Sequence[str] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    chunk_rows: int = 50_000,
    display_name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    use_saved_mapping: bool = False,
    update: bool = False,
    today: dt.date | None = None,
    actor: Actor | None = None,
) -> ImportReport:
    """Validate and import one export file of ``kind`` into the database, on behalf of ``actor`` (an admin).

    Hostile or broken files end in a report, never in an exception or a half-written database: size limits
    (:data:`MAX_COLUMNS`, :data:`MAX_CELLS_PER_ROW`, :data:`MAX_ROWS`, :data:`MAX_ROW_CHARS`,
    :data:`MAX_XLSX_PART_BYTES`, :data:`MAX_SHEET_BYTES`) bound memory and time, and files mixing encodings,
    unterminated quotes, NUL characters and dates in the future are refused (see ``docs/IMPORT.md``).

    Parameters
    ----------
    path : str or Path
        CSV/TSV/TXT (delimiter sniffed: tab, comma, semicolon, pipe, else runs of whitespace; UTF-8 with or
        without BOM, else GB18030, or UTF-16 with BOM) or ``.xlsx`` (first sheet).
    kind : str
        One of :data:`KINDS`. The accepted headers per kind are in :mod:`vipmodel.columns` and
        ``docs/IMPORT.md``; required columns: members ``member_id, join_date``; transactions
        ``member_id, ts, amount``; complaints ``member_id, complaint_date, category``; surveys
        ``member_id, survey_date`` and at least one item column; care ``member_id, action_date, kind``.
    engine : Engine
        Target database with the schema created (:func:`vipmodel.db.create_schema`).
    partial : bool
        Write the valid rows even when others are rejected, and save the rejects beside the input as
        ``<stem>.rejects.csv`` (UTF-8 with BOM; columns ``row, column, reason`` then the original fields,
        neutralised against formula injection). An existing file or symlink of that name is never overwritten
        or followed: the next free ``<stem>.rejects-N.csv`` is used (``ImportReport.rejects_path``).
        File-level problems (encoding, missing column ...) still write nothing.
    create_members : bool
        For every kind except members (ignored there, with a warning): create a member (join date = their
        first date in the file, gender ``U``) instead of rejecting rows of an unknown member.
    columns : sequence of str, optional
        For headerless files: the column names in order, canonical names or any accepted alias; ``"_"``
        ignores a column. The first row is then data.
    progress : callable, optional
        Called as ``progress(rows_done, total_or_None)`` after every chunk; the total is an estimate
        (line count) for text files.
    chunk_rows : int
        Rows validated and written per batch; bounds memory.
    display_name : str, optional
        File name shown in the report and ``import_log`` (e.g. the name of an uploaded file); default the
        path's name.
    mapping : mapping of str to str, optional
        For files with a header: file header (matched like headers are, see
        :func:`vipmodel.columns.normalize_header`) -> canonical column name or any accepted alias of the kind,
        or ``"_"`` to ignore that column, e.g. ``{"dollar_value": "amount", "number_of_cds": "quantity"}``.
        It wins over the automatic alias match; headers it does not name still match automatically. A key
        that is not a header of the file, a target that is not a column of ``kind``, or two headers mapped to
        the same column are file-level errors in the report (nothing is written). When the import commits,
        the mapping is remembered for the file's layout (see :func:`saved_mapping`).
    use_saved_mapping : bool
        When no ``mapping`` (and no ``columns``) is given, use the mapping remembered for this kind and header
        layout, if any, and say so in the report's warnings.
    update : bool
        Members files only (ignored with a warning for other kinds). A row whose ``member_id`` is stored with
        different values is an error (``"already present with different values (use --update to apply)"``)
        unless ``update`` is True: then the stored member takes the file's non-blank values, and the report
        counts them (``rows_updated``) and lists the first changes (``changes``; personal data fields by name
        only). A blank cell never clears a stored value.
    today : datetime.date, optional
        The day dates are checked against (default ``datetime.date.today()``): a date after ``today`` + 1 day
        is ``"date in the future"``.
    actor : vipmodel.auth.Actor
        Who imports: an admin (:mod:`vipmodel.auth`). A committed import is recorded in the audit trail
        (``vipmodel.audit``) with its counts, under this name.

    Returns
    -------
    ImportReport
        Never raises for bad input: every problem is a :class:`RowError` in ``errors``.

    Raises
    ------
    ValueError
        ``"unknown import kind 'x': expected one of members, transactions, complaints, surveys, care"`` or
        ``"chunk_rows must be a positive integer, got 0"``, or both ``columns`` and ``mapping`` given
        (programming errors, not bad input).
    vipmodel.auth.PermissionDenied
        ``actor`` missing or not an admin (``"role 'marketing' may not import data"``); nothing is read.
    """
    require(actor, "import")  # below every page: a page that forgets the check opens no hole
    colmap.check_kind(kind)
    if not isinstance(chunk_rows, int) or chunk_rows <= 0:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    if mapping and columns is not None:
        raise ValueError("pass columns (a headerless file) or mapping (a file with a header), not both")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ValueError(f"mapping must map file headers to column names, got {type(mapping).__name__}")
    path = Path(path)
    importer = _Importer(
        path=path,
        kind=kind,
        engine=engine,
        partial=partial,
        create_members=create_members,
        names=list(columns) if columns is not None else None,
        progress=progress,
        chunk_rows=chunk_rows,
        display_name=display_name or path.name,
        mapping={str(k): str(v) for k, v in mapping.items()} if mapping else None,
        use_saved_mapping=use_saved_mapping and columns is None,
        update=update,
        today=today,
        actor=actor,
    )
    return importer.run()


# ---------------------------------------------------------------------------------------- remembered mappings


def mapping_key(kind: str, headers: Sequence[str]) -> str:
    """The ``dataset_info`` key of the mapping remembered for ``kind`` files with this header layout.

    ``"import_mapping:<kind>:"`` + 32 hex digits of SHA-1 over the normalised headers in order (the key column
    holds 64 characters), so next week's export with the same columns, however they are spelled in case,
    width or spacing, finds it.
    """
    colmap.check_kind(kind)
    layout = "\x1f".join(colmap.normalize_header(h) for h in headers)
    return f"{MAPPING_KEY_PREFIX}{kind}:{hashlib.sha1(layout.encode('utf-8')).hexdigest()[:32]}"


def saved_mapping(conn: Connection, kind: str, headers: Sequence[str]) -> dict[str, str] | None:
    """The column mapping remembered from the last committed import of a ``kind`` file with these headers.

    Parameters
    ----------
    conn : Connection
        Open connection to a database with the schema created.
    kind : str
        Import kind.
    headers : sequence of str
        The file's header row (compared normalised, see :func:`vipmodel.columns.normalize_header`).

    Returns
    -------
    dict or None
        File header -> canonical column name or ``"_"``, as :func:`import_file` applied it; None when no import
        of this layout was given a mapping.
    """
    value = get_info(conn, mapping_key(kind, headers))
    if not value or value.get("kind") != kind:
        return None
    stored = [colmap.normalize_header(h) for h in value.get("headers", [])]
    if stored != [colmap.normalize_header(h) for h in headers]:
        return None
    mapping = value.get("mapping")
    return {str(k): str(v) for k, v in mapping.items()} if mapping else None


def _save_mapping(conn: Connection, kind: str, headers: Sequence[str], mapping: Mapping[str, str]) -> None:
    if mapping:
        put_info(conn, mapping_key(kind, headers), {"kind": kind, "headers": list(headers), "mapping": dict(mapping)})


# ------------------------------------------------------------------------------------------------- preview


@dataclass(frozen=True, eq=False)
class FilePreview:
    """The first rows of an import file and how its header maps onto a kind (for the app's mapping step).

    Attributes
    ----------
    kind : str
        Import kind the header was matched against.
    headers : tuple of str
        The header row as written (empty when the file could not be read).
    rows : DataFrame
        The first data rows as strings, one column per header (column labels made unique: a blank or repeated
        header becomes ``"<header> (n)"`` with its 1-based position).
    matches : tuple of (str or None)
        Per header, the canonical column the automatic alias match reads from it, or None.
    missing : tuple of str
        Required canonical columns no header supplies (after ``mapping``, when one was given).
    errors : tuple of RowError
        File-level problems (unreadable encoding, empty file, bad mapping ...); empty when the file reads.
    header_row : int or None
        Spreadsheet row of the header.
    looks_like : str or None
        Another kind the header clearly fits better (see :func:`vipmodel.columns.looks_like`).
    """

    kind: str
    headers: tuple[str, ...]
    rows: pd.DataFrame
    matches: tuple[str | None, ...]
    missing: tuple[str, ...]
    errors: tuple[RowError, ...] = ()
    header_row: int | None = None
    looks_like: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file could be read (required columns may still be missing)."""
        return not self.errors

    @property
    def unknown(self) -> tuple[str, ...]:
        """Non-blank headers the automatic match does not recognise (ignored, or survey items)."""
        return tuple(h for h, m in zip(self.headers, self.matches) if m is None and h.strip())


def _unique_labels(headers: Sequence[str]) -> list[str]:
    counts: dict[str, int] = {}
    for h in headers:
        counts[h] = counts.get(h, 0) + 1
    return [h if h.strip() and counts[h] == 1 else f"{h} ({pos + 1})".lstrip() for pos, h in enumerate(headers)]


def preview_file(
    path: str | Path, kind: str, rows: int = 5, mapping: Mapping[str, str] | None = None
) -> FilePreview:
    """Read the header and the first ``rows`` data rows of an import file, as :func:`import_file` reads them.

    Parameters
    ----------
    path : str or Path
        The file (same formats, encodings and delimiters as :func:`import_file`).
    kind : str
        Import kind to match the header against.
    rows : int
        Data rows to return.
    mapping : mapping of str to str, optional
        An explicit mapping (as for :func:`import_file`) applied when computing ``missing``; its problems are
        reported in ``errors``.

    Returns
    -------
    FilePreview
        Never raises for bad input: a file that cannot be read gives a preview with ``errors`` and no headers.

    Raises
    ------
    ValueError
        Unknown ``kind`` or a negative ``rows`` (programming errors).
    """
    colmap.check_kind(kind)
    if not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows must be a non-negative integer, got {rows!r}")
    required = colmap.required_columns(kind)

    def failed(errors: Sequence[RowError]) -> FilePreview:
        return FilePreview(kind, (), pd.DataFrame(), (), required, tuple(errors))

    try:
        source = _inspect(Path(path))
        records = _records(source)
        try:
            first = next(records, None)
            if first is None:
                raise _FileProblem("empty file", "the file has no data rows")
            header_row, fields = first
            _check_header(header_row, fields)
            ahead = [f for _, f in itertools.islice(records, max(rows, 1))]
            if not ahead:
                raise _FileProblem("empty file", "the file has no data rows")
            body = ahead[:rows]
        finally:
            records.close()
    except _FileProblem as problem:
        return failed(problem.errors)
    except (OSError, UnicodeError) as exc:
        return failed([RowError(None, None, "unreadable file", f"{type(exc).__name__}: {exc}")])
    headers = tuple(str(h) for h in fields)
    body = [list(r)[: len(headers)] for r in body]
    width = len(headers)
    frame = pd.DataFrame(
        [(list(r) + [""] * width)[:width] for r in body], columns=_unique_labels(headers), dtype=object
    ).astype(str)
    match = colmap.match_header(kind, headers, mapping)
    errors = tuple(RowError(None, p.column, p.reason, p.value) for p in match.problems)
    return FilePreview(
        kind=kind,
        headers=headers,
        rows=frame,
        matches=colmap.automatic_roles(kind, headers),
        missing=match.missing,
        errors=errors,
        header_row=header_row,
        looks_like=colmap.looks_like(kind, headers) if match.missing else None,
    )
