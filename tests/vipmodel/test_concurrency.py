"""Two people at once: concurrent saves each get a version or a clear "someone saved first" message, concurrent
imports each commit or report "database busy"; never an uncaught error, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from vipmodel import schema
from vipmodel.auth import SYSTEM, Actor, PermissionDenied
from vipmodel.importer import import_file
from vipmodel.settings import SettingVersion, save_setting, setting_history

THREADS = 4


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released together; each result is the return value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_saves_each_get_a_version_or_a_clear_reload_message(engine, round_):
    users = [Actor(f"marketer{i}", "marketing") for i in range(THREADS)]
    results = _at_once([
        (lambda u=u, i=i: save_setting(engine, "tier_rules", {"basis": "share", "by": i}, u))
        for i, u in enumerate(users)
    ])
    saved = [r for r in results if isinstance(r, SettingVersion)]
    refused = [r for r in results if not isinstance(r, SettingVersion)]
    assert saved, results  # someone always gets through
    assert all(isinstance(r, ValueError) and "saved concurrently by someone else; reload" in str(r) for r in refused)
    history = setting_history(engine, "tier_rules")
    assert history["version"].tolist() == list(range(1, len(saved) + 1))  # no gap, no duplicate
    assert sorted(v.version for v in saved) == history["version"].tolist()


def _transactions_file(path, prefix: str, rows: int) -> None:
    lines = ["member_id,ts,amount"]
    lines += [f"{prefix}{i % 500:04d},2024-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00,{10 + i % 90}.50" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_concurrent_imports_each_commit_or_report_a_busy_database(engine, tmp_path):
    files = []
    for i in range(2):
        path = tmp_path / f"pos{i}.csv"
        _transactions_file(path, f"S{i}-", 20_000)
        files.append(path)
    results = _at_once([
        (lambda p=p: import_file(p, "transactions", engine, create_members=True, today=dt.date(2025, 1, 1),
                                 actor=SYSTEM))
        for p in files
    ])
    assert all(not isinstance(r, Exception) for r in results), results
    written = [r for r in results if r.written]
    assert written, [r.format() for r in results]
    for report in results:
        if not report.written:
            assert [e.reason for e in report.errors] == ["database busy"], report.format()
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(schema.transactions)).scalar_one()
    assert stored == sum(r.rows_written for r in written)  # all of a file or nothing of it


@pytest.mark.parametrize("role", ["viewer", "marketing"])
def test_only_an_admin_may_import_and_a_refused_import_reads_nothing(engine, tmp_path, role):
    path = tmp_path / "pos.csv"
    _transactions_file(path, "X", 10)
    with pytest.raises(PermissionDenied, match=f"role '{role}' may not import data"):
        import_file(path, "transactions", engine, create_members=True, actor=Actor("someone", role))
    with pytest.raises(PermissionDenied, match="nobody signed in may not import data"):
        import_file(path, "transactions", engine, create_members=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.transactions)).scalar_one() == 0
