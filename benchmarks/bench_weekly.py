"""How long the weekly summary takes: :func:`vipmodel.weekly.weekly_summary` on a given database.

Times the whole summary of one ISO week (default: the last complete week of the data) and, once, its main steps
(KPIs, the two trailing-year pyramids, the value and churn models), so a slow run shows where the time goes.
Prints a Markdown table.

    python benchmarks/bench_weekly.py --url sqlite:///data/demo.db [--week 2026-W43] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from vipmodel import retention  # noqa: E402
from vipmodel.db import default_url, make_engine  # noqa: E402
from vipmodel.features import member_features  # noqa: E402
from vipmodel.kpi import overview_kpis  # noqa: E402
from vipmodel.outcomes import add_years  # noqa: E402
from vipmodel.pyramid import DEFAULT_RULES  # noqa: E402
from vipmodel.weekly import available_weeks, parse_week, weekly_summary  # noqa: E402


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="database URL (default: VIPDASH_DATABASE_URL or data/demo.db)")
    parser.add_argument("--week", default=None, help="ISO week, e.g. 2026-W43 (default: last complete week)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top-n", type=int, default=20)
    args = parser.parse_args(argv)

    engine = make_engine(args.url or default_url())
    lines = []
    try:
        with engine.connect() as conn:
            weeks_s = _seconds(lambda: available_weeks(conn))
            weeks = available_weeks(conn)
            if not weeks:
                raise SystemExit("the database has no transactions")
            week = args.week or (weeks[-2] if len(weeks) > 1 else weeks[-1])
            _, end = parse_week(week)
            steps = {
                "available_weeks": weeks_s,
                "overview_kpis (3 dates)": _seconds(lambda: overview_kpis(conn, end)),
                "member_features, one trailing year": _seconds(
                    lambda: member_features(conn, add_years(end, -1) + dt.timedelta(days=1), end)),
            }
            values: list = []
            steps["member_values"] = _seconds(lambda: values.append(retention.member_values(conn, end)))
            steps["at_risk (all members)"] = _seconds(
                lambda: retention.at_risk(conn, end, values[0], tier_rules=DEFAULT_RULES, only_flagged=False))
            totals = [_seconds(lambda: weekly_summary(conn, week, top_n=args.top_n)) for _ in range(args.repeat)]
    finally:
        engine.dispose()

    lines.append(f"weekly_summary of {week} on {engine.url.render_as_string(hide_password=True)}")
    lines.append("")
    lines.append("| step | seconds |")
    lines.append("| --- | ---: |")
    for name, seconds in steps.items():
        lines.append(f"| {name} | {seconds:.2f} |")
    lines.append(f"| **weekly_summary** (median of {len(totals)}; min – max) | **{statistics.median(totals):.2f}** "
                 f"({min(totals):.2f} – {max(totals):.2f}) |")
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    main()
