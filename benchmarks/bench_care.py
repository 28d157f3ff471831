"""How long a care-plan what-if takes: :func:`vipmodel.care.simulate` (and the budget optimiser) on synthetic members.

Marketing edits the care plan interactively, so simulating a plan for 100,000 members (with 200 bootstrap
draws of the care effect for the bands, and the comparison with the current plan) must take under 1 second.
The synthetic population has the 1/4/15/80 pyramid, a lognormal value per member scaled by tier, each
member's own churn probability at their current care, and a response model with beta = 0.5, c0 = 100 and
200 joint draws around them as the fitted model gives (c0 spread by a factor of ~2, beta moving with it, tier
baselines), so the bands carry the uncertainty of c0, beta, the tier baselines, member value and the binomial
noise of who stays. Prints a Markdown table.

    python benchmarks/bench_care.py [--members 100000] [--repeat 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from vipmodel.care import CarePlan, CareResponseModel, optimise_budget, simulate  # noqa: E402

BUDGET_S = 1.0
BUDGET_MEMBERS = 100_000


def synthetic_members(members: int, seed: int) -> pd.DataFrame:
    """Members with tier, value if retained, churn probability and the care they currently receive."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(list("ABCD"), members, p=[0.01, 0.04, 0.15, 0.80])
    scale = pd.Series(tier).map({"A": 30_000.0, "B": 10_000.0, "C": 3_000.0, "D": 600.0}).to_numpy()
    return pd.DataFrame(
        {
            "member_id": [f"M{i:08d}" for i in range(members)],
            "tier": tier,
            "value": scale * rng.lognormal(0.0, 0.8, members),
            "churn_prob": rng.beta(2.0, 5.0, members).clip(0.01, 0.99),
            "care_cost": rng.gamma(1.0, 60.0, members),
        }
    )


def _time(run: Callable[[], object], repeat: int) -> list[float]:
    run()  # warm-up
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return timings


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=BUDGET_MEMBERS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    members = synthetic_members(args.members, args.seed)
    rng = np.random.default_rng(args.seed)
    c0_draws = 100.0 * np.exp(rng.normal(0.0, 0.7, 200))
    draws = 0.5 * (c0_draws / 100.0) ** 0.8 * np.exp(rng.normal(0.0, 0.1, 200))  # beta rises with c0, as fitted
    tier_draws = {t: rng.normal(-1.0, 0.05, 200) for t in "ABCD"}
    model = CareResponseModel.from_coefficients(0.5, dict.fromkeys("ABCD", -1.0), c0=100.0, beta_draws=draws,
                                                c0_draws=c0_draws, tier_logit_draws=tier_draws,
                                                care_support={"A": 450.0, "B": 300.0, "C": 160.0, "D": 20.0})
    plan = CarePlan.from_spend({"A": 400.0, "B": 200.0, "C": 40.0, "D": 5.0})
    current = CarePlan.from_spend({"A": 150.0, "B": 110.0, "C": 40.0, "D": 10.0})
    budget = 0.02 * float(members["value"].sum())
    cases = [
        ("simulate(plan, 200 draws)", lambda: simulate(members, plan, model, draws=200)),
        ("simulate(plan, current_plan, 200 draws)",
         lambda: simulate(members, plan, model, current_plan=current, draws=200)),
        (f"optimise_budget(budget={budget:,.0f})", lambda: optimise_budget(members, model, budget)),
    ]
    lines = [
        f"care what-if on {args.members:,} members (budget for simulate: {BUDGET_S:.1f} s at "
        f"{BUDGET_MEMBERS:,} members)",
        "",
        "| operation | median s | min s | max s | within budget |",
        "| --- | ---: | ---: | ---: | :---: |",
    ]
    for name, run in cases:
        t = _time(run, args.repeat)
        ok = "yes" if statistics.median(t) < BUDGET_S else "no"
        if not name.startswith("simulate"):
            ok = "n/a"
        lines.append(f"| {name} | {statistics.median(t):.3f} | {min(t):.3f} | {max(t):.3f} | {ok} |")
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    main()
