"""How long re-tiering takes: :func:`vipmodel.pyramid.assign_tiers` on a synthetic population.

Marketing moves tier sliders interactively, so re-tiering 1,000,000 members must take under 100 ms.
The synthetic frame has string member ids, a single period, a long-tailed profit contribution with about 10%
of members below zero (the D-tier "lead" customers), and sales. Prints a Markdown table.

    python benchmarks/bench_pyramid.py [--members 1000000] [--repeat 7] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from vipmodel.pyramid import DEFAULT_RULES, TierRules, assign_tiers  # noqa: E402

BUDGET_MS = 100.0
BUDGET_MEMBERS = 1_000_000


def synthetic_features(members: int, seed: int) -> pd.DataFrame:
    """One period of member features with the columns assign_tiers reads."""
    rng = np.random.default_rng(seed)
    sales = rng.lognormal(mean=7.0, sigma=1.2, size=members).round(2)
    margin = sales * rng.uniform(0.15, 0.35, size=members)
    costs = rng.gamma(shape=1.0, scale=150.0, size=members)
    return pd.DataFrame(
        {
            "member_id": [f"M{i:08d}" for i in range(members)],
            "period": "2025",
            "sales": sales,
            "profit_contribution": (margin - costs).round(2),
        }
    )


def _time(features: pd.DataFrame, rules: TierRules, repeat: int) -> list[float]:
    assign_tiers(features, rules)  # warm-up: first-call allocations are not what the slider sees
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        assign_tiers(features, rules)
        timings.append((time.perf_counter() - start) * 1000.0)
    return timings


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=BUDGET_MEMBERS)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    features = synthetic_features(args.members, args.seed)
    profit = features["profit_contribution"]
    cases = [
        ("share 1/4/15/80", DEFAULT_RULES),
        ("profit thresholds", TierRules("profit", thresholds=tuple(profit.quantile([0.99, 0.95, 0.8])))),
        ("spend thresholds", TierRules("spend", thresholds=(20000.0, 5000.0, 1000.0))),
    ]
    # The budget is for a million members; smaller runs are scaled linearly so the verdict stays meaningful.
    budget = BUDGET_MS * args.members / BUDGET_MEMBERS
    lines = [
        "| basis | members | median ms | best ms | budget ms | within budget |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for label, rules in cases:
        timings = _time(features, rules, args.repeat)
        median = statistics.median(timings)
        lines.append(
            f"| {label} | {args.members:,} | {median:.1f} | {min(timings):.1f} | {budget:.1f} | "
            f"{'yes' if median < budget else 'NO'} |"
        )
    table = "\n".join(lines)
    print(table)
    return table


if __name__ == "__main__":
    main()
