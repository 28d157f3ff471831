"""``python -m dashboard.precompute_process VERSION LATEST PARENT_PID`` (database URL in ``$VIPDASH_PRECOMPUTE_URL``,
``precompute.URL_ENV``):
the precompute's steps (:func:`dashboard.precompute.warm`) in a process of their own, storing each page's default
view in the database (``dashboard.data.stored``).

The server starts it (``precompute._compute_apart``) and reads the results back when it ends. On a machine with two
cores or more it computes the chains of ``precompute_plan.chains`` in two processes of its own at once (the
aggregations and fits use one core each). It runs at a lower CPU priority than the server, whose visitors come
first. Only public Streamlit API is used: outside a server, the loaders' ``st.cache_data`` keeps results in this
process's memory, and what the other processes read is the database's copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from typing import TypeVar

T, R = TypeVar("T"), TypeVar("R")
NICENESS = 10  # added to the server's: a visitor's page run gets the core first (Linux gives it ~90% of one)


def main(argv: list[str]) -> int:
    """Delete the stored results of older data, compute and store every step for ``VERSION LATEST``, then delete
    this data's results no step asked for."""
    version, latest, parent = argv[0], dt.date.fromisoformat(argv[1]), int(argv[2])
    _end_with_the_server(parent)
    yield_to_visitors()
    one_thread_per_process()
    _quiet_streamlit()
    from streamlit.logger import get_logger

    from dashboard import precompute, precompute_plan
    from dashboard.data import stored

    url = os.environ[precompute.URL_ENV]
    dropped = stored.prune(url, version)
    if dropped:
        get_logger("dashboard.precompute").info("precompute dropped %d stored results of older data", dropped)
    count = precompute_plan.workers()
    if count == 1:
        with stored.writing() as touched:
            precompute.warm(url, version, latest, done="precompute computed", hold=False)
    else:
        touched = set()
        jobs = [(url, version, latest, i) for i in range(len(precompute_plan.chains(url, version, latest)))]
        for keys in each_in_a_fresh_process(_chain, jobs, count):  # started in order as processes come free
            touched |= keys
    # What this precompute did not read or store was made under settings saved over since: nobody asks for it again.
    own = stored.bookkeeping_keys(precompute._fingerprint(precompute._key(url, version)))
    stored.prune(url, version, keep=touched | own)
    return 0


def each_in_a_fresh_process(function: Callable[[T], R], jobs: Iterable[T], count: int) -> list[R]:
    """``function(job)`` for each job, each in a new process ("spawn", not a fork of this one), ``count`` at a time,
    started in order as processes come free; the results in the jobs' order.

    A new process per chain: a process that ran a chain kept the memory it had freed (2.6 GB at a million members
    after the churn panel's chain), and the next chain's peak came on top of it. Not ``ProcessPoolExecutor``'s
    ``max_tasks_per_child``: on Python 3.11 its pool can break or hang while it replaces a worker (CPython issues
    115634, 115831; seen here as ``BrokenProcessPool``). A thread per running job starts its process and waits for it.
    """
    with ThreadPoolExecutor(count, thread_name_prefix="precompute-chain") as threads:
        return list(threads.map(partial(_in_a_fresh_process, function), jobs))


def _in_a_fresh_process(function: Callable[[T], R], job: T) -> R:
    # The process is started by this thread, which waits for it: its parent-death signal (_end_with_the_server)
    # follows this thread, which lives as long as the job.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(os.getpid(),)) as pool:
        return pool.submit(function, job).result()


def yield_to_visitors() -> None:
    """Lower this process's CPU priority by :data:`NICENESS` (its workers inherit it): the server stays responsive
    while a refresh takes every core. Where the system refuses, the process runs at the server's priority."""
    try:
        os.nice(NICENESS)
    except (OSError, AttributeError):
        pass


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_per_process() -> None:
    """Linear algebra on one thread in this process and its workers (set before numpy loads; an operator's own
    setting stands): the workers already use every core, and OpenBLAS threads competing for them made the fits
    slower (at 200,000 members the suggested weights took 26 s instead of 19 s, benchmarks/RESULTS.md)."""
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")


def _quiet_streamlit() -> None:
    # Outside a server each cached function warns, as it is defined, that no runtime is running: expected here.
    # Streamlit sets its loggers' levels again when it reads its configuration, so a filter quietens them (they
    # exist once Streamlit is imported, before the loaders are defined).
    import streamlit  # noqa: F401
    from streamlit.logger import get_logger

    for name, each in list(logging.root.manager.loggerDict.items()):
        if name.split(".", 1)[0] == "streamlit" and isinstance(each, logging.Logger):
            each.addFilter(_errors_only)
    get_logger("dashboard.precompute").setLevel(logging.INFO)


def _start_worker(parent: int) -> None:
    _end_with_the_server(parent)  # here the "server" is the precompute process that started the worker
    _quiet_streamlit()


def _chain(job: tuple[str, str, dt.date, int]) -> set[str]:
    """One chain's steps, stored; returns the stored keys it read or wrote."""
    from dashboard import precompute
    from dashboard.data import stored

    url, version, latest, chain = job
    with stored.writing() as touched:
        # hold=False: its results leave this process's memory at the end; the next chain here reads what it needs.
        precompute.warm(url, version, latest, done=f"precompute computed (chain {chain + 1})", hold=False,
                        chain=chain)
    return set(touched)


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def _end_with_the_server(parent: int) -> None:
    """Stop this process when the server that started it stops (Linux: the parent-death signal)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: a stopped server leaves the step in progress to finish
        pass
    if os.getppid() != parent:  # the server stopped before the signal was set
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
