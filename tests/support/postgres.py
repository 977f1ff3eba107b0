"""A real PostgreSQL for tests, started from the machine's own binaries.

One server per test session in a temporary folder (initdb, pg_ctl), trust
authentication on 127.0.0.1 only, fsync off (tests need no durability across
power loss); a fresh database per test. PostgreSQL refuses to run as root, so
under root the server runs as the `postgres` (or `nobody`) user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from itertools import count
from pathlib import Path


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL")


@dataclass
class PostgresServer:
    root: Path
    port: int
    user_prefix: list[str]
    _names: count[int]

    @classmethod
    def start(cls) -> PostgresServer:
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise FileNotFoundError("initdb/pg_ctl not found")
        root = Path(tempfile.mkdtemp(prefix="listserv-pg-"))
        root.chmod(0o755)
        prefix = _run_as()
        if prefix:
            owner = pwd.getpwnam(prefix[2])
            os.chown(root, owner.pw_uid, owner.pw_gid)
        data = root / "data"
        subprocess.run(
            [
                *prefix,
                initdb,
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
        )
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *prefix,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        return cls(root, port, prefix, count(1))

    def create_database(self) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        name = f"listserv_{os.getpid()}_{next(self._names)}"
        psql = find_binary("psql") or "psql"
        subprocess.run(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-q",
                "-c",
                f"CREATE DATABASE {name}",
            ],
            check=True,
            capture_output=True,
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        pg_ctl = find_binary("pg_ctl")
        if pg_ctl is not None:
            subprocess.run(
                [
                    *self.user_prefix,
                    pg_ctl,
                    "-D",
                    str(self.root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)
