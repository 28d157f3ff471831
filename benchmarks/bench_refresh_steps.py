"""Time the refresh's model steps on an existing mall: ``member_values`` and the churn-risk step ``at_risk``.

Runs them the way ``python -m vipmodel refresh`` does (vipmodel/results.py): inside one
:func:`vipmodel.reuse.shared_queries` block, ``member_values`` first, then ``at_risk(only_flagged=False)`` with the
mall's saved tier rules and satisfaction weights, at the day of the latest transaction. Prints a table of wall
time and peak resident memory per phase: each step, and inside it the helpers of :mod:`vipmodel.retention`
(times include nested helpers, e.g. ``_learned_model`` contains a second ``_evidence``). The peak of a phase is
the process's peak RSS while it ran (Linux ``/proc/self/clear_refs``); the last line is the whole run's peak
(``resource.getrusage``). Targets at 1,000,000 members: the refresh under 600 s and 4 GB.

Usage::

    python benchmarks/bench_refresh_steps.py --url sqlite:////tmp/perf/mall200k.db [--as-of 2026-10-31]
        [--skip-values-timing] [--no-shared] [--profile /tmp/at_risk.prof] [--save /tmp/at_risk.pkl]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from vipmodel import retention, schema  # noqa: E402
from vipmodel.db import make_engine  # noqa: E402
from vipmodel.reuse import shared_queries  # noqa: E402

# Helpers of vipmodel.retention timed as phases (module attributes, so wrapping them reaches every caller).
PHASES: tuple[str, ...] = (
    "_check_data",
    "_purchase_model",
    "_year_features",
    "_margin_rates",
    "_evidence",
    "_spend_windows",
    "_purchase_rhythms",
    "complaint_features",
    "_satisfaction_scores",
    "_last_care",
    "_tiers",
    "_learned_model",
    "churn_panel",
    "_names",
)


def _rss_now_and_peak_mb() -> tuple[float, float]:
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


class Phases:
    """Wall time, calls and peak RSS per phase; nested phases keep the outer phase's peak right."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}
        self._stack: list[list[float]] = []  # per open phase: [peak seen so far]
        self.overall_peak_mb = 0.0  # clearing the peak also clears getrusage's ru_maxrss, so it is kept here
        self.exact_peaks = _reset_peak()

    def _fold_peak(self) -> float:
        _, peak = _rss_now_and_peak_mb()
        self.overall_peak_mb = max(self.overall_peak_mb, peak)
        for frame in self._stack:
            frame[0] = max(frame[0], peak)
        return peak

    def run(self, name: str, fn, *args, **kwargs):
        self._fold_peak()
        _reset_peak()
        frame = [_rss_now_and_peak_mb()[0]]
        self._stack.append(frame)
        began = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - began
            self._fold_peak()
            self._stack.pop()
            row = self.rows.setdefault(name, {"phase": name, "calls": 0, "seconds": 0.0, "peak_rss_mb": 0.0})
            row["calls"] += 1
            row["seconds"] += seconds
            row["peak_rss_mb"] = max(row["peak_rss_mb"], frame[0])
            _reset_peak()

    def wrap(self, module, attribute: str, label: str) -> None:
        original = getattr(module, attribute)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            return self.run(label, original, *args, **kwargs)

        setattr(module, attribute, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy database URL of a loaded mall")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="default: day of the latest transaction")
    parser.add_argument("--no-shared", action="store_true", help="run outside shared_queries (no result reuse)")
    parser.add_argument("--no-phases", action="store_true", help="time only the two steps (no helper wrapping)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of at_risk to this file")
    parser.add_argument("--save", type=Path, help="pickle at_risk's output (and member_values' frame) here")
    args = parser.parse_args(argv)

    engine = make_engine(args.url)
    phases = Phases()
    if not args.no_phases:
        for name in PHASES:
            phases.wrap(retention, name, name)
    with engine.connect() as conn:
        n_members = conn.execute(select(func.count()).select_from(schema.members)).scalar_one()
        n_txns = conn.execute(select(func.count()).select_from(schema.transactions)).scalar_one()
        latest = conn.execute(select(func.max(schema.transactions.c.ts))).scalar()
        if isinstance(latest, str):
            latest = dt.datetime.fromisoformat(latest)
        day = args.as_of or latest.date()
        from vipmodel.results import _saved_rules  # the refresh's own reading of the settings

        tier_rules, weights = _saved_rules(conn)
        print(f"{engine.dialect.name}: {n_members:,} members, {n_txns:,} transactions; as_of {day}")
        began = time.perf_counter()
        shared = shared_queries() if not args.no_shared else _nothing()
        with shared:
            values = phases.run("STEP member_values", retention.member_values, conn, day)
            profiler = cProfile.Profile() if args.profile else None
            if profiler is not None:
                profiler.enable()
            risk = phases.run("STEP churn_risk (at_risk)", retention.at_risk, conn, day, values,
                              tier_rules=tier_rules, satisfaction_weights=weights, only_flagged=False)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(args.profile))
        total = time.perf_counter() - began
    engine.dispose()
    if args.save:
        pd.to_pickle({"at_risk": risk, "values": values.frame}, args.save)

    table = pd.DataFrame(list(phases.rows.values()))
    order = {"STEP member_values": 0, "STEP churn_risk (at_risk)": 1}
    table["_o"] = table["phase"].map(order).fillna(2)
    table = table.sort_values(["_o", "seconds"], ascending=[True, False]).drop(columns="_o")
    table["seconds"] = table["seconds"].round(2)
    table["peak_rss_mb"] = table["peak_rss_mb"].round(0).astype(int)
    print(table.to_string(index=False))
    phases._fold_peak()
    peak = max(phases.overall_peak_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"rows: member_values {len(values.frame):,}, at_risk {len(risk):,}; both steps {total:.2f} s; "
          f"peak RSS of the run {peak:,.0f} MB" + ("" if phases.exact_peaks else " (phase peaks approximate)"))
    return 0


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    raise SystemExit(main())
