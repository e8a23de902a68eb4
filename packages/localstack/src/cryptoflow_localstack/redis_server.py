"""Redis from the Debian package, with an append-only file so data survives a restart or a kill."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
from pathlib import Path

from cryptoflow_localstack.process import InstallMissingError, Service, ServiceError, run_tool


class RedisServer(Service):
    """``redis-server`` on ``127.0.0.1:port``, AOF data under ``state_dir/data``."""

    display_name = "Redis"

    def __init__(
        self,
        state_dir: Path | str,
        *,
        port: int = 0,
        executable: Path | str | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 15.0,
    ) -> None:
        super().__init__(state_dir, port=port, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self._executable = Path(executable) if executable is not None else None
        self._version: str | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def executable(self) -> Path:
        if self._executable is not None:
            return self._executable
        found = os.environ.get("CRYPTOFLOW_REDIS_SERVER") or shutil.which("redis-server")
        if found is None:
            raise InstallMissingError(self.display_name, "no redis-server on PATH")
        return Path(found)

    @property
    def endpoint(self) -> str:
        return self.url

    @property
    def version(self) -> str:
        if self._version is None:
            output = run_tool(self.display_name, [str(self.executable), "--version"])
            match = re.search(r"v=(\S+)", output)
            self._version = f"Redis {match.group(1) if match else output.strip()}"
        return self._version

    @property
    def config_path(self) -> Path:
        return self.state_dir / "redis.conf"

    def check_installed(self) -> None:
        if not self.executable.is_file():
            raise InstallMissingError(self.display_name, f"{self.executable} does not exist")

    def command(self, *args: str | int, db: int = 0) -> str:
        """Sends one command and returns the reply as text (simple strings, integers and bulk strings)."""
        return _command(self.host, self.port, db, [str(arg) for arg in args])

    def flushdb(self, db: int = 0) -> None:
        self.command("FLUSHDB", db=db)

    def _prepare(self) -> None:
        data = self.state_dir / "data"
        data.mkdir(exist_ok=True)
        self.config_path.write_text(
            f"bind {self.host}\n"
            f"port {self.port}\n"
            # Bound to loopback only; protected mode only refuses non-loopback clients, so it stays on.
            "protected-mode yes\n"
            f"dir {data}\n"
            "daemonize no\n"
            'logfile ""\n'
            # Durability by append-only file (written before each reply, fsynced every second);
            # no RDB snapshots competing for the disk.
            "appendonly yes\n"
            "appendfsync everysec\n"
            'save ""\n'
        )

    def _command(self) -> list[str]:
        return [str(self.executable), str(self.config_path)]

    def ready(self) -> bool:
        try:
            # During AOF loading PING answers -LOADING: not ready yet.
            return self.command("PING") == "PONG"
        except (OSError, ServiceError):
            return False


def _command(host: str, port: int, db: int, args: list[str]) -> str:
    """A tiny RESP client: enough for PING and FLUSHDB without a client-library dependency."""
    commands = ([["SELECT", str(db)]] if db else []) + [args]
    with socket.create_connection((host, port), timeout=5.0) as sock, sock.makefile("rb") as replies:
        for command in commands:
            payload = f"*{len(command)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in command)
            sock.sendall(payload.encode())
        reply = ""
        for _ in commands:
            reply = _read_reply(replies)
        return reply


def _read_reply(stream: io.BufferedReader) -> str:
    line = stream.readline()
    if not line:
        raise ServiceError("Redis closed the connection")
    kind, body = line[:1], line[1:].rstrip(b"\r\n").decode()
    if kind in (b"+", b":"):
        return body
    if kind == b"-":
        raise ServiceError(f"Redis replied: {body}")
    if kind == b"$":
        size = int(body)
        return "" if size < 0 else stream.read(size + 2)[:-2].decode()
    raise ServiceError(f"Redis: unexpected reply {line!r}")
