"""Time the SQL feature aggregation on an existing database.

Usage::

    python benchmarks/bench_features.py --url postgresql://user@host/db [--start 2024-01-01] [--end 2024-12-31]
        [--period range|month|quarter|year] [--calibration-end 2024-06-30] [--repeat 1]

Without ``--start``/``--end`` the last 365 days of data are used; without ``--calibration-end`` the calibration
period ends half a year before ``--end`` and the rest is the holdout. Target (1,000,000 members /
20,000,000 transactions on PostgreSQL): each call under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
from sqlalchemy import func, select

from vipmodel import schema
from vipmodel.db import make_engine
from vipmodel.features import PERIODS, calibration_summary, member_features

TARGET_SECONDS = 60.0


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _timed(fn: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        began = time.perf_counter()
        rows = len(fn())
        best = min(best, time.perf_counter() - began)
    return best, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy database URL of a loaded mall")
    parser.add_argument("--start", type=_date, help="first day (default: 364 days before --end)")
    parser.add_argument("--end", type=_date, help="last day (default: day of the latest transaction)")
    parser.add_argument("--period", choices=PERIODS, default=None, help="one period (default: range and month)")
    parser.add_argument("--calibration-end", type=_date, help="default: 182 days before --end")
    parser.add_argument("--repeat", type=int, default=1, help="runs per call; the best time is shown")
    args = parser.parse_args(argv)

    engine = make_engine(args.url)
    with engine.connect() as conn:
        t = schema.transactions
        n_members = conn.execute(select(func.count()).select_from(schema.members)).scalar_one()
        n_txns = conn.execute(select(func.count()).select_from(t)).scalar_one()
        latest = conn.execute(select(func.max(t.c.ts))).scalar()
    if latest is None:
        print("no transactions in this database", file=sys.stderr)
        return 1
    end = args.end or latest.date()
    start = args.start or end - dt.timedelta(days=364)
    cal_end = args.calibration_end or end - dt.timedelta(days=182)
    print(f"{engine.dialect.name}: {n_members:,} members, {n_txns:,} transactions; range {start} .. {end}")

    runs: list[tuple[str, Callable[[], pd.DataFrame]]] = []
    for period in [args.period] if args.period else ["range", "month"]:
        runs.append((f"member_features(period={period!r})", lambda p=period: member_features(engine, start, end, p)))
    runs.append((f"calibration_summary({cal_end})", lambda: calibration_summary(engine, cal_end)))
    runs.append((f"calibration_summary({cal_end}, holdout {end})", lambda: calibration_summary(engine, cal_end, end)))

    results = []
    for name, fn in runs:
        seconds, rows = _timed(fn, args.repeat)
        results.append({"call": name, "rows": rows, "seconds": round(seconds, 2), "ok": seconds < TARGET_SECONDS})
        print(f"  {name}: {seconds:.2f} s", file=sys.stderr)
    print(pd.DataFrame(results).to_string(index=False))
    engine.dispose()
    return 0 if all(r["ok"] for r in results) else 2


if __name__ == "__main__":
    raise SystemExit(main())
