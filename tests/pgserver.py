"""Start and stop a throwaway PostgreSQL server from the installed binaries (tests and benchmarks share this)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


def pg_bindir() -> Path | None:
    """Folder of ``initdb``/``pg_ctl``: on PATH, else the newest Debian ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; drop to the `postgres` system user the package creates.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PostgresServer:
    """A server with its data in ``workdir`` listening on 127.0.0.1:``port``; ``url`` has no database name."""

    bindir: Path
    workdir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://vip@127.0.0.1:{self.port}"

    def start(self, extra_options: str = "") -> PostgresServer:
        datadir, sockdir = self.workdir / "data", self.workdir / "sock"
        sockdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(sockdir, "postgres")
        if not (datadir / "PG_VERSION").exists():
            subprocess.run(
                _as_postgres_user(
                    [str(self.bindir / "initdb"), "-D", str(datadir), "-U", "vip", "-A", "trust", "-E", "UTF8"]
                ),
                check=True,
                capture_output=True,
            )
        options = f"-p {self.port} -k {sockdir} -c listen_addresses=127.0.0.1 {extra_options}".strip()
        subprocess.run(
            _as_postgres_user(
                [str(self.bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(self.workdir / "log"),
                 "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            _as_postgres_user([str(self.bindir / "pg_ctl"), "-D", str(self.workdir / "data"), "-m", "fast", "stop"]),
            capture_output=True,
        )
