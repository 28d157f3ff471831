"""How long the weekly meeting pack takes: the full pack (deck, HTML, PDF, Excel) of one week, both languages.

The pack is built after the nightly import (cron) or on the Report page while someone waits; for the
20,000-member demo mall the whole pack must take under 30 s. Times the week's summary
(:func:`vipmodel.weekly.weekly_summary`: KPIs, two pyramids, the value and churn models) and the rendering
(charts, one Kaleido session for the images, the four files) separately; the second language reuses the summary,
as the Report page does. Prints a Markdown table.

    python -m vipmodel demo --url sqlite:////tmp/report20k.db          # 20,000 members, 3 years, seed 7
    python benchmarks/bench_report.py --url sqlite:////tmp/report20k.db [--week 2026-W40] [--repeat 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from dashboard.report import listed_members, member_contacts, render_pack  # noqa: E402
from vipmodel.db import make_engine  # noqa: E402
from vipmodel.kpi import latest_activity_date  # noqa: E402
from vipmodel.weekly import available_weeks, parse_week, weekly_summary  # noqa: E402

BUDGET_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the mall (e.g. the 20,000-member demo)")
    parser.add_argument("--week", default=None, help="ISO week (default: the last complete week of the data)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    engine = make_engine(args.url)
    week = args.week
    if week is None:
        with engine.connect() as conn:
            latest = latest_activity_date(conn)
        week = [w for w in available_weeks(engine) if parse_week(w)[1] <= latest][-1]
    rows = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        with engine.connect() as conn:
            summary = weekly_summary(conn, week)
            contacts = member_contacts(conn, listed_members(summary))
        summary_s = time.perf_counter() - started
        render = {}
        for lang in ("en", "zh"):
            begun = time.perf_counter()
            result = render_pack(summary, lang, "viewer", contacts)
            render[lang] = time.perf_counter() - begun
            if result.skipped:
                print(f"warning: {result.skipped}", file=sys.stderr)
        rows.append((summary_s, render["en"], render["zh"]))
    engine.dispose()
    summary_s, en_s, zh_s = (statistics.median(column) for column in zip(*rows))
    total = summary_s + en_s
    print(f"## Weekly pack, week {week} ({args.url.rsplit('/', 1)[-1]}), median of {args.repeat}\n")
    print("| step | seconds |\n| --- | ---: |")
    print(f"| week summary (`weekly_summary` + contacts) | {summary_s:.1f} |")
    print(f"| render en (charts, images, pptx, html, pdf, xlsx) | {en_s:.1f} |")
    print(f"| render zh (same summary) | {zh_s:.1f} |")
    print(f"| **full pack, one language** | **{total:.1f}** (budget {BUDGET_S:.0f}) |")
    return 0 if total <= BUDGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
