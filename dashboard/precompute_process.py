"""``python -m dashboard.precompute_process VERSION LATEST PARENT_PID`` (database URL in ``$VIPDASH_PRECOMPUTE_URL``,
``precompute.URL_ENV``):
the precompute's steps (:func:`dashboard.precompute.warm`) in a process of their own, storing each page's default
view in the database (``dashboard.data.stored``).

The server starts it (``precompute._compute_apart``) and reads the results back when it ends. Only public Streamlit
API is used: outside a server, the loaders' ``st.cache_data`` keeps results in this process's memory, and what the
other processes read is the database's copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys


def main(argv: list[str]) -> int:
    """Delete the stored results of older data, compute and store every step for ``VERSION LATEST``, then delete
    this data's results no step asked for."""
    version, latest, parent = argv[0], dt.date.fromisoformat(argv[1]), int(argv[2])
    _end_with_the_server(parent)
    # Outside a server each cached function warns, as it is defined, that no runtime is running: expected here.
    # Streamlit sets its loggers' levels again when it reads its configuration, so a filter quietens them (they
    # exist once Streamlit is imported, before the loaders are defined).
    import streamlit  # noqa: F401
    from streamlit.logger import get_logger

    for name, each in list(logging.root.manager.loggerDict.items()):
        if name.split(".", 1)[0] == "streamlit" and isinstance(each, logging.Logger):
            each.addFilter(_errors_only)
    from dashboard import precompute
    from dashboard.data import stored

    url = os.environ[precompute.URL_ENV]
    get_logger("dashboard.precompute").setLevel(logging.INFO)
    dropped = stored.prune(url, version)
    if dropped:
        get_logger("dashboard.precompute").info("precompute dropped %d stored results of older data", dropped)
    with stored.writing() as touched:
        precompute.warm(url, version, latest, done="precompute computed", hold=False)
    # What this precompute did not read or store was made under settings saved over since: nobody asks for it again.
    own = stored.bookkeeping_keys(precompute._fingerprint(precompute._key(url, version)))
    stored.prune(url, version, keep=touched | own)
    return 0


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
