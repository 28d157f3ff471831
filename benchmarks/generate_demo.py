"""Time the demo mall generator and print rows/sec per table.

    python benchmarks/generate_demo.py --members 1000000 --url postgresql://user@host/db

The target database is wiped (the generator drops and recreates the schema).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vipmodel import demo  # noqa: E402
from vipmodel.db import make_engine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a database that may be wiped")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    # Capture the generator's writer to report per-table write time next to the overall rate.
    writers: list[demo._Writer] = []
    original_init = demo._Writer.__init__

    def capturing_init(self, *a, **k) -> None:
        original_init(self, *a, **k)
        writers.append(self)

    demo._Writer.__init__ = capturing_init
    engine = make_engine(args.url)
    started = time.perf_counter()
    truth = demo.generate(engine, members=args.members, years=args.years, seed=args.seed,
                          progress=not args.quiet, batch_size=args.batch_size)
    elapsed = time.perf_counter() - started
    demo._Writer.__init__ = original_init

    writer = writers[-1]
    total_rows = sum(writer.rows.values())
    print(f"backend {engine.dialect.name}, members {args.members}, years {args.years}: {elapsed:.1f} s total, "
          f"{total_rows / elapsed:,.0f} rows/s overall, peak RSS {_peak_rss_mb():,.0f} MB")
    print(f"{'table':<18}{'rows':>14}{'write s':>10}{'rows/s (write)':>16}{'rows/s (total)':>16}")
    for table, rows in writer.rows.items():
        secs = writer.seconds.get(table, 0.0)
        print(f"{table:<18}{rows:>14,}{secs:>10.1f}{rows / max(secs, 1e-9):>16,.0f}{rows / elapsed:>16,.0f}")
    print(f"realised churn {truth.realised['annual_churn_rate']}, top-20% share {truth.realised['top20_sales_share']}")
    engine.dispose()
    return 0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    raise SystemExit(main())
