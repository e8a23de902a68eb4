"""PostgreSQL from the Debian package: initdb once, then ``postgres`` on loopback with trust auth.

PostgreSQL refuses to run as root, so as root the server, initdb and the data folder belong to the
``postgres`` account the Debian package creates; otherwise everything runs as the current user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from cryptoflow_localstack.process import (
    InstallMissingError,
    Service,
    ServiceStartError,
    run_tool,
    service_user,
)

_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PG_HBA = """\
# Written by cryptoflow-localstack: trust, and only from this machine.
local all all trust
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
"""


class PostgresServer(Service):
    """``postgres`` on ``127.0.0.1:port``, superuser ``postgres`` (trust), data under ``state_dir/data``."""

    display_name = "PostgreSQL"
    # Fast shutdown: SIGTERM ("smart") would wait for every client, e.g. a test's forgotten pool, to leave.
    stop_signal = signal.SIGINT

    def __init__(
        self,
        state_dir: Path | str,
        *,
        port: int = 0,
        bin_dir: Path | str | None = None,
        durable: bool = True,
        max_connections: int = 200,
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        super().__init__(state_dir, port=port, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self._bin_dir = Path(bin_dir) if bin_dir is not None else None
        self.durable = durable
        self.max_connections = max_connections
        self._version: str | None = None

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = _find_bin_dir()
        return self._bin_dir

    @property
    def endpoint(self) -> str:
        return self.dsn

    @property
    def version(self) -> str:
        if self._version is None:
            output = run_tool(self.display_name, [str(self.bin_dir / "postgres"), "--version"])
            match = re.search(r"\(PostgreSQL\) (\S+)", output)
            self._version = f"PostgreSQL {match.group(1) if match else output.strip()}"
        return self._version

    @property
    def dsn(self) -> str:
        """Superuser URL of the ``postgres`` database."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.state_dir / "run"

    def check_installed(self) -> None:
        for tool in ("postgres", "initdb", "pg_isready", "psql"):
            if not (self.bin_dir / tool).is_file():
                raise InstallMissingError(self.display_name, f"{self.bin_dir / tool} does not exist")
        if os.geteuid() == 0 and service_user() is None:
            raise InstallMissingError(
                self.display_name,
                "running as root needs the 'postgres' account (the postgresql package adds it)",
            )

    def execute(self, sql: str, *, database: str = "postgres") -> str:
        """Runs SQL through psql as the superuser; returns psql's unaligned output."""
        return run_tool(
            self.display_name,
            [
                *(str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"),
                *("-h", self.host, "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql),
            ],
            env=os.environ | {"PGCONNECT_TIMEOUT": "5"},
        )

    def create_database(self, name: str) -> str:
        """Creates an empty database and returns its URL."""
        self.execute(f'CREATE DATABASE "{_check_name(name)}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drops the database, disconnecting its sessions; no error when it does not exist."""
        self.execute(f'DROP DATABASE IF EXISTS "{_check_name(name)}" WITH (FORCE)')

    def _user(self) -> pwd.struct_passwd | None:
        return service_user()

    def _prepare(self) -> None:
        user = self._user()
        for folder in (self.state_dir, self.data_dir, self.socket_dir):
            folder.mkdir(mode=0o700, exist_ok=True)
            if user is not None:
                os.chown(folder, user.pw_uid, user.pw_gid)
        if user is not None:
            blocked = _blocked_ancestor(self.data_dir, user)
            if blocked is not None:
                raise ServiceStartError(
                    self.display_name,
                    f"it runs as '{user.pw_name}' (PostgreSQL refuses root), which cannot enter {blocked}; "
                    "choose a state folder that account can reach (e.g. under /tmp or /var/tmp)",
                    [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)],
                    None,
                )
        if not (self.data_dir / "PG_VERSION").is_file():
            run_tool(
                self.display_name,
                [
                    *(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres"),
                    *(
                        "--auth=trust",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                        "--no-sync",
                        "--no-instructions",
                    ),
                ],
                user=user,
                cwd=self.state_dir,
            )
        (self.data_dir / "pg_hba.conf").write_text(_PG_HBA)

    def _command(self) -> list[str]:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": str(self.max_connections),
        }
        if not self.durable:
            # Test servers: the OS keeps the data across a server kill; only a machine crash would lose it.
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        return [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), *options]

    def ready(self) -> bool:
        probe = [str(self.bin_dir / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port), "-t", "1"]
        return subprocess.run(probe, check=False, stdin=subprocess.DEVNULL).returncode == 0


def _find_bin_dir() -> Path:
    configured = os.environ.get("CRYPTOFLOW_PG_BIN")
    if configured:
        return Path(configured)
    # Debian keeps each major version's binaries apart; take the newest.
    debian = sorted(
        (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/postgres")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1]
    on_path = shutil.which("postgres") or shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    raise InstallMissingError("PostgreSQL", "no PostgreSQL binaries (/usr/lib/postgresql/*/bin or on PATH)")


def _check_name(name: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise ValueError(
            f"database name {name!r}: use letters, digits and '_' (at most 63, not starting with a digit)"
        )
    return name


def _blocked_ancestor(path: Path, user: pwd.struct_passwd) -> Path | None:
    """The first folder above ``path`` that ``user`` (primary group only) may not enter, if any."""
    for folder in reversed(path.parents):
        mode = folder.stat()
        if mode.st_uid == user.pw_uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid == user.pw_gid:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None
