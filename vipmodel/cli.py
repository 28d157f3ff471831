"""Command line: generate the demo mall, import exports, manage who may sign in.

Examples
--------
``python -m vipmodel demo --members 20000 --years 3 --seed 7 --url sqlite:///data/demo.db``
``python -m vipmodel import members.csv --kind members --url postgresql://user@host/mall``
``python -m vipmodel import CDNOW_master.txt --kind transactions --map dollar_value=amount --map date=ts``
``python -m vipmodel import members_corrected.csv --kind members --update``
``python -m vipmodel users add li.na --role admin --url postgresql://user@host/mall`` (asks for the password)
``python -m vipmodel refresh --url postgresql://user@host/mall`` (after the nightly import: results into the database)
``python -m vipmodel report --week 2026-W47 --lang zh --out reports/ --url postgresql://user@host/mall``
"""

from __future__ import annotations

import argparse
import getpass
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
    demo.add_argument(
        "--replace", action="store_true",
        help="replace a database that holds imported data (without it, the command says what would be deleted)",
    )

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
    imp.add_argument(
        "--update", action="store_true",
        help="members files: apply the file's values to members stored with different values (listed in the "
        "report) instead of rejecting those rows",
    )  # fmt: skip
    imp.add_argument("--quiet", action="store_true", help="no progress bar")

    usr = sub.add_parser("users", help="who may sign in: add users, change roles and passwords, list them")
    usr_sub = usr.add_subparsers(dest="users_command", required=True)
    add = usr_sub.add_parser("add", help="add a user (the password is asked for, or read from standard input)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["viewer", "marketing", "admin"])
    add.add_argument("--no-password", action="store_true",
                     help="no password: the user signs in only through the mall's OIDC provider (st.login)")
    passwd = usr_sub.add_parser("passwd", help="set a user's password (also unlocks the account)")
    passwd.add_argument("username")
    role = usr_sub.add_parser("set-role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=["viewer", "marketing", "admin"])
    for name, text in (("disable", "stop a user from signing in"), ("enable", "let a disabled user sign in again")):
        usr_sub.add_parser(name, help=text).add_argument("username")
    usr_sub.add_parser("list", help="list the users (never their passwords)")
    for command in usr_sub.choices.values():
        command.add_argument("--url", default=None,
                             help="SQLAlchemy URL (default: $VIPDASH_DATABASE_URL or data/demo.db)")
    ref = sub.add_parser("refresh", help="compute the data's results into the database (pages and reports read them)")
    ref.add_argument("--url", default=None, help="SQLAlchemy URL (default: $VIPDASH_DATABASE_URL or data/demo.db)")
    ref.add_argument("--as-of", default=None, help="day of analysis, YYYY-MM-DD (default: the latest transaction)")
    ref.add_argument("--force", action="store_true", help="compute again even when the results are up to date")
    rep = sub.add_parser(
        "report", help="the weekly meeting pack of one ISO week: deck (pptx), HTML, PDF and Excel, for cron",
        description="Exit status: 0 every file written, 1 no data for the week or an error, 2 usage error, "
        "3 written without the deck and PDF (no Chromium to draw the chart images).",
    )
    rep.add_argument("--week", default=None,
                     help="ISO week such as 2026-W47 (default: the last complete week of the data)")
    rep.add_argument("--lang", default="en", choices=["en", "zh"], help="language of the pack (default en)")
    rep.add_argument("--out", default=".", help="folder for the files (created if needed; default: here)")
    rep.add_argument("--url", default=None, help="SQLAlchemy URL (default: $VIPDASH_DATABASE_URL or data/demo.db)")
    rep.add_argument("--role", default="viewer", choices=["viewer", "marketing", "admin"],
                     help="whose view of personal data the workbook shows (default viewer: names and phones masked)")
    rep.add_argument("--formats", default="pptx,html,pdf,xlsx", help="comma-separated subset of pptx,html,pdf,xlsx")
    return parser


def _last_complete_week(engine) -> str | None:
    """The latest ISO week whose Sunday the data reaches (the week a Monday-morning cron job reports)."""
    from vipmodel.kpi import latest_activity_date
    from vipmodel.weekly import available_weeks, parse_week

    weeks = available_weeks(engine)
    if not weeks:
        return None
    with engine.connect() as conn:
        latest = latest_activity_date(conn)
    complete = [w for w in weeks if latest is not None and parse_week(w)[1] <= latest]
    return complete[-1] if complete else weeks[-1]


def _run_report(args: argparse.Namespace) -> int:
    """The weekly pack into ``--out``, and one line for the scheduler's log."""
    import time
    from pathlib import Path

    from vipmodel.weekly import NoDataForWeek

    # The only place vipmodel reaches into the dashboard: the pack's rendering (python-pptx, Plotly, Kaleido) is
    # presentation, which the domain library must not hold; importing it here, inside the handler, keeps
    # `import vipmodel.cli` (and every other vipmodel module) free of dashboard and of its heavy imports.
    # tests/test_layers.py checks that no other vipmodel code imports dashboard.
    from dashboard.report import FORMATS, build_pack

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not formats or any(f not in FORMATS for f in formats):
        print(f"error: --formats takes some of {', '.join(FORMATS)}; got {args.formats!r}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    engine = make_engine(args.url or default_url())
    try:
        week = args.week or _last_complete_week(engine)
        if week is None:
            print("error: no report: the database has no transactions (import transactions first)", file=sys.stderr)
            return 1
        result = build_pack(engine, week, args.lang, role=args.role, formats=formats)
    except NoDataForWeek as exc:
        print(f"error: no report for {week}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a malformed week, e.g. "2026-47"
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    out = Path(args.out)
    written = result.write(out)
    names = ", ".join(p.name for p in written)
    line = f"report {week} ({args.lang}): {len(written)} of {len(formats)} files in {out} in " \
           f"{time.perf_counter() - started:.1f} s ({names})"
    if result.skipped:
        print(f"warning: {', '.join(result.skipped)} not written: {next(iter(result.skipped.values()))}",
              file=sys.stderr)
        print(f"{line}; skipped {', '.join(result.skipped)}")
        return 3
    print(line)
    return 0


def _run_refresh(args: argparse.Namespace) -> int:
    """One line for the scheduler's log: what ran and how long, or why it could not."""
    import datetime as dt

    from vipmodel.results import refresh

    try:
        as_of = None if args.as_of is None else dt.date.fromisoformat(args.as_of)
    except ValueError:
        print(f"error: --as-of must be a date YYYY-MM-DD, got {args.as_of!r}", file=sys.stderr)
        return 2
    engine = make_engine(args.url or default_url())
    try:
        run = refresh(engine, as_of, force=args.force)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(run.summary())
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from vipmodel.auth import SYSTEM
    from vipmodel.demo import regenerate

    if args.members < 1 or args.years < 1:
        print("error: --members and --years must be at least 1", file=sys.stderr)
        return 2
    engine = make_engine(args.url or default_url())
    try:
        truth = regenerate(engine, SYSTEM, replace=args.replace, members=args.members, years=args.years,
                           seed=args.seed, progress=not args.quiet)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    realised = truth.to_dict().get("realised", {})
    print(f"demo mall written to {engine.url.render_as_string(hide_password=True)}")
    for key, value in realised.items():
        print(f"  {key}: {value}")
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from vipmodel.auth import SYSTEM
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
        update=args.update,
        actor=SYSTEM,  # whoever runs the command holds the database's credentials already
    )
    if bar is not None:
        bar.close()
    print(report.format())
    return 0 if report.ok or (args.partial and report.written) else 1


def _read_password(confirm: bool) -> str:
    """A password typed twice at a terminal (not echoed), or the first line of standard input (scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if confirm and getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _run_users(args: argparse.Namespace) -> int:
    from vipmodel import users
    from vipmodel.auth import SYSTEM
    from vipmodel.db import create_schema

    engine = make_engine(args.url or default_url())
    create_schema(engine)
    command = args.users_command
    try:
        if command == "add":
            password = None if args.no_password else _read_password(confirm=True)
            users.add_user(engine, SYSTEM, args.username, args.role, password)
            print(f"user {args.username} added as {args.role}")
        elif command == "passwd":
            users.change_user(engine, SYSTEM, args.username, password=_read_password(confirm=True))
            print(f"password of {args.username} changed")
        elif command == "set-role":
            users.change_user(engine, SYSTEM, args.username, role=args.role)
            print(f"{args.username} is now {args.role}")
        elif command in ("disable", "enable"):
            users.change_user(engine, SYSTEM, args.username, disabled=command == "disable")
            print(f"{args.username} {command}d")
        else:
            listed = users.list_users(engine, SYSTEM)
            print(listed.to_string(index=False) if len(listed) else "no users")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 success, 1 rejected input, 2 usage error; ``report``: 3 when
    written without the files that need a browser)."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _run_demo(args)
    if args.command == "users":
        return _run_users(args)
    if args.command == "report":
        return _run_report(args)
    if args.command == "refresh":
        return _run_refresh(args)
    return _run_import(args)
