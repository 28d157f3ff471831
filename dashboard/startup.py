"""What the server does as it starts (``dashboard/server.py``), before any visitor: import the modules the pages need
and start the precompute, or its read from the disk cache, of the configured database."""

from __future__ import annotations

import importlib
import pkgutil
import time

# What the pages import on their first run, with scipy.stats, statsmodels, openpyxl and Plotly's figure classes:
# seconds from a cold disk.
PACKAGES = ("vipmodel", "dashboard.figures")


def import_page_modules() -> list[str]:
    """Import every module of :data:`PACKAGES`; returns the names of those that failed."""
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names += [info.name for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")
                  if not info.name.endswith(".__main__")]  # a command line: importing it runs it
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional module missing must not stop the server's start
            failed.append(name)
    return failed


def prepare() -> None:
    """Import the pages' modules, then start the precompute (or its read from disk) of the configured database."""
    from streamlit.logger import get_logger

    from dashboard import precompute, refresh_job
    from dashboard.data import common

    log = get_logger(__name__)
    started = time.perf_counter()
    failed = import_page_modules()
    log.info("modules imported in %.1f s%s", time.perf_counter() - started,
             f" (not available: {', '.join(failed)})" if failed else "")
    url = common.database_url()
    try:
        if not common.has_data(url):
            return  # the first visitor's run generates the demo mall (with a progress bar) or explains
        version = common.current_version(url)
        latest = common.load_latest_date(url, version)
        precompute.start(url, version, latest)
        refresh_job.start(url, version, latest)
    except Exception as exc:  # noqa: BLE001 - the pages report an unreachable database to the visitor
        log.warning("start-up precompute skipped: %s", str(exc).splitlines()[0] if str(exc) else exc)
