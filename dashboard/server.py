"""Server entry: ``streamlit run dashboard/server.py`` serves the app of ``dashboard/app.py`` and, as the server
starts, prepares it in the background: imports the modules the pages need and reads (or computes) every page's
default view, so the first visitor after a restart finds them in memory instead of waiting for the disk.

``streamlit run dashboard/app.py`` serves the same app without this start-up work (the first visitor starts it).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/server.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

from dashboard.startup import prepare  # noqa: E402


@asynccontextmanager
async def lifespan(_app) -> AsyncIterator[None]:
    """Start :func:`prepare` in the background: the server answers at once."""
    threading.Thread(target=prepare, name="vipdash-start", daemon=True).start()
    yield


app = st.App("app.py", lifespan=lifespan)
