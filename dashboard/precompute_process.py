"""``python -m dashboard.precompute_process URL VERSION LATEST PARENT_PID``: the precompute's steps
(:func:`dashboard.precompute.warm`) in a process of their own, writing the server's disk cache.

The server starts it (``precompute._compute_apart``) and reads the results back when it ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys

import streamlit  # noqa: F401 - creates Streamlit's loggers, quietened below before the loaders are defined

# Streamlit checks each cached function's storage as it is defined and warns that no server is running: expected
# here, where the storage is set explicitly.
logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)


def main(argv: list[str]) -> int:
    """Run every step for ``URL VERSION LATEST`` into the disk cache under ``$HOME/.streamlit``."""
    url, version, latest, parent = argv[0], argv[1], dt.date.fromisoformat(argv[2]), int(argv[3])
    _end_with_the_server(parent)
    # Streamlit's caches use its disk storage only inside a running server; this process has none, so it is given
    # the same storage (the same folder, the same keys) explicitly.
    from streamlit.runtime.caching import cache_data_api
    from streamlit.runtime.caching.storage.local_disk_cache_storage import LocalDiskCacheStorageManager

    manager = LocalDiskCacheStorageManager()
    cache_data_api._data_caches.get_storage_manager = lambda: manager

    from dashboard import precompute

    precompute.warm(url, version, latest, on_step=precompute._keep_from_the_collector, done="precompute computed")
    return 0


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
