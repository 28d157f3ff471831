"""Time the page precompute the way a server runs it after new data: its own process, results stored in the database.

Runs ``python -m dashboard.precompute_process`` (what ``dashboard.precompute`` starts) on an existing mall, with
its results stored in that mall's ``stored_views``, and prints a Markdown table: each step's seconds and each chain's
peak memory (from the process's log lines, one per chain of steps, each chain in a process of its own), the whole
run's wall time, the peak resident memory of its largest process, and
the stored results' size per loader. ``$VIPDASH_PRECOMPUTE_WORKERS`` sets how many processes compute at once
(default: one per core, at most two). The stored views are keyed by the dashboard's code, so a run after a code change computes every step
(one of the same code finds them and reads). Targets at 1,000,000 members (issue 15): the whole refresh under
10 minutes, every process under 4 GB.

Usage::

    python benchmarks/bench_precompute.py --url sqlite:///benchmarks/.cache/bench_1000000.db
    python benchmarks/bench_precompute.py --url postgresql+psycopg://vip@127.0.0.1:5432/bench_1000000

The results secret is ``$VIPDASH_RESULTS_KEY`` (at least 16 bytes), default the one ``bench_pages.py`` uses, so
that benchmark's servers read what this one stored.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_SECRET = "the benchmark's results secret, shared by its servers"  # as bench_pages.py
STEP = re.compile(r"([\w.]+) ([\d.]+) s")
CHAIN = re.compile(r"\(chain (\d+)\)")
PEAK = re.compile(r"peak memory of this process (\d+) MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a loaded mall")
    args = parser.parse_args(argv)
    os.environ.setdefault("VIPDASH_RESULTS_KEY", BENCH_SECRET)

    from dashboard import precompute, precompute_plan
    from dashboard.data import common
    from vipmodel import view_store

    version = common.current_version(args.url)
    latest = common.load_latest_date(args.url, version)
    if latest is None:
        raise SystemExit(f"{args.url}: no transactions")
    command = [sys.executable, "-m", "dashboard.precompute_process", version, latest.isoformat(), str(os.getpid())]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, precompute.URL_ENV: args.url},
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"the precompute process ended with code {done.returncode}")
    lines = [text for text in done.stderr.splitlines() if "precompute computed" in text]
    print(f"precompute of {args.url.split('@')[-1]} at {latest}, version {version}, "
          f"{precompute_plan.workers()} process(es) at once\n")
    print("| chain | step | seconds |\n| --- | --- | ---: |")
    for line in lines:
        chain = CHAIN.search(line)
        label = chain.group(1) if chain else "all"
        steps = STEP.findall(line.split(" s: ", 1)[-1].split(";")[0])
        for name, seconds in steps:
            print(f"| {label} | {name} | {float(seconds):.1f} |")
        print(f"| {label} | steps together | {sum(float(s) for _, s in steps):.1f} |")
        peak = PEAK.search(line)
        if peak:
            print(f"| {label} | peak memory of its process (MB) | {int(peak.group(1)):,} |")
    print(f"| | **whole process (wall, with storing and pruning)** | **{wall:.1f}** |\n")
    print(f"peak RSS of the largest precompute process: {peak_mb:,.0f} MB")
    for line in lines:
        if ";" in line:
            print(f"shared aggregations: {line.rsplit(';', 1)[-1].strip()}")
    listing = view_store.listing(common.get_engine(args.url))
    current = listing[listing["data_version"] == version]
    by_name = current.groupby("name")["size_bytes"].agg(["count", "sum"]).sort_values("sum", ascending=False)
    print(f"\nstored results of this data version: {len(current)}, {current['size_bytes'].sum() / 1e6:,.1f} MB\n")
    print("| loader | results | MB |\n| --- | ---: | ---: |")
    for name, row in by_name.iterrows():
        print(f"| {name.rsplit('.', 1)[-1]} | {int(row['count'])} | {row['sum'] / 1e6:,.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
