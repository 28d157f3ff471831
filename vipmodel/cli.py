"""Command line: generate the demo mall, import exports.

Examples
--------
``python -m vipmodel demo --members 20000 --years 3 --seed 7 --url sqlite:///data/demo.db``
``python -m vipmodel import members.csv --kind members --url postgresql://user@host/mall``
``python -m vipmodel import CDNOW_master.txt --kind transactions --map dollar_value=amount --map date=ts``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vipmodel.db import default_url, make_engine


def _map_pair(text: str) -> tuple[str, str]:
    """``SOURCE=ROLE`` of ``--map`` (split at the last ``=``: a header may contain one, a role never does)."""
    source, sep, role = text.rpartition("=")
    if not sep or not source.strip() or not role.strip():
        raise argparse.ArgumentTypeError(
            f"expected SOURCE=ROLE (a file header, then a column name or _ to ignore it), got {text!r}"
        )
    return source.strip(), role.strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vipmodel", description="VIP customer management data tools")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the demo mall into a database (replaces its contents)")
    demo.add_argument("--members", type=int, default=20_000, help="initial member count (default 20000)")
    demo.add_argument("--years", type=int, default=3, help="years of history (default 3)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--url", default=None, help="SQLAlchemy URL (default: $VIPDASH_DATABASE_URL or data/demo.db)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    imp = sub.add_parser("import", help="import a CSV/Excel export (all or nothing unless --partial)")
    imp.add_argument("file", help="CSV, TSV, TXT or XLSX file")
    imp.add_argument("--kind", required=True, choices=["members", "transactions", "complaints", "surveys", "care"])
    imp.add_argument("--url", default=None, help="SQLAlchemy URL (default: $VIPDASH_DATABASE_URL or data/demo.db)")
    imp.add_argument(
        "--partial", action="store_true", help="write the valid rows and save rejects to <file>.rejects.csv"
    )
    imp.add_argument(
        "--create-members", action="store_true", help="create members that a transactions file mentions"
    )
    imp.add_argument("--columns", default=None, help="column names for a file without header, comma separated; _ skips")
    imp.add_argument(
        "--map", dest="mapping", action="append", type=_map_pair, default=None, metavar="SOURCE=ROLE",
        help="read the file column headed SOURCE as column ROLE (a column name or alias, _ ignores it); repeatable. "
        "Without --map, a mapping saved by an earlier import of the same header layout is used",
    )
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from vipmodel.demo import generate

    if args.members < 1 or args.years < 1:
        print("error: --members and --years must be at least 1", file=sys.stderr)
        return 2
    engine = make_engine(args.url or default_url())
    truth = generate(engine, members=args.members, years=args.years, seed=args.seed, progress=not args.quiet)
    realised = truth.to_dict().get("realised", {})
    print(f"demo mall written to {engine.url.render_as_string(hide_password=True)}")
    for key, value in realised.items():
        print(f"  {key}: {value}")
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from vipmodel.db import create_schema
    from vipmodel.importer import import_file

    mapping: dict[str, str] | None = None
    if args.mapping:
        if args.columns:
            print("error: --map names the columns of a file with a header; --columns is for files without one",
                  file=sys.stderr)
            return 2
        mapping = {}
        for source, role in args.mapping:
            if source in mapping and mapping[source] != role:
                print(f"error: --map {source}=... given twice ({mapping[source]} and {role})", file=sys.stderr)
                return 2
            mapping[source] = role
    engine = make_engine(args.url or default_url())
    create_schema(engine)
    progress = None
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(unit=" rows", desc=f"importing {args.kind}", file=sys.stderr)

        def progress(done: int, total: int | None) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    report = import_file(
        args.file,
        args.kind,
        engine,
        partial=args.partial,
        create_members=args.create_members,
        columns=columns,
        progress=progress,
        mapping=mapping,
        use_saved_mapping=mapping is None and columns is None,
    )
    if bar is not None:
        bar.close()
    print(report.format())
    return 0 if report.ok or (args.partial and report.written) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 success, 1 rejected input, 2 usage error)."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _run_demo(args)
    return _run_import(args)
