"""The shared part of every launcher: one real server process, how it starts, stops and fails.

A service owns one folder (its state): configuration, data, a log that collects every run's output and a
pid file. The pid file lets a later process (``cryptoflow-localstack down``) find a server that an
earlier one started detached.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self, TypedDict

LOOPBACK = "127.0.0.1"
_LOG_TAIL_LINES = 30
_LOG_ERROR_LINES = 10
_ERROR_LINE = re.compile(r"\b(ERROR|FATAL|PANIC)\b|Exception|Error:")
# Each start appends to the service's log after a line beginning with this.
_RUN_HEADER = "\n=== "
# Fields of /proc/<pid>/stat as _stat_fields returns them (proc(5) numbers them from 3 on).
_STATE, _GROUP, _START_TIME = 0, 2, 19


class ServiceError(RuntimeError):
    """A local service could not be prepared, started or used."""


class InstallMissingError(ServiceError):
    """A binary or jar the service needs is not installed on this machine."""

    def __init__(self, service: str, what: str) -> None:
        super().__init__(
            f"{service}: {what}. Install what is missing with `deploy/local/install.sh` "
            "(or `cryptoflow-localstack install`); it is idempotent."
        )
        self.service = service
        self.what = what


class ServiceStartError(ServiceError):
    """A server (or a tool preparing it) failed; the message carries the command and the log's tail."""

    def __init__(self, service: str, reason: str, command: Sequence[str], log_path: Path | None) -> None:
        parts = [f"{service} did not start: {reason}", f"  command: {shlex.join(command)}"]
        if log_path is not None:
            parts.append(f"  log: {log_path}")
            parts.extend(_log_excerpt(log_path))
        super().__init__("\n".join(parts))
        self.service = service
        self.reason = reason
        self.command = tuple(command)
        self.log_path = log_path


class CommandError(ServiceError):
    """A helper command (initdb, Kafka's storage tool, psql) failed; the message carries its output."""

    def __init__(self, service: str, reason: str, command: Sequence[str]) -> None:
        super().__init__(f"{service}: {reason}\n  command: {shlex.join(command)}")
        self.service = service
        self.reason = reason
        self.command = tuple(command)


def _log_excerpt(path: Path) -> list[str]:
    """The last run's first error lines (a JVM logs its cause long before the end) and its last lines."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    run = text.rsplit(_RUN_HEADER, 1)[-1].splitlines()[1:]
    tail = run[-_LOG_TAIL_LINES:]
    errors = [line for line in run[: -len(tail) or None] if _ERROR_LINE.search(line)][:_LOG_ERROR_LINES]
    excerpt = [f"--- first errors in {path.name} ---", *errors] if errors else []
    return excerpt + ([f"--- last lines of {path.name} ---", *tail] if tail else [])


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def service_user() -> pwd.struct_passwd | None:
    """The account servers that refuse root (PostgreSQL) run as: None means "the current user"."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def run_tool(
    service: str,
    argv: Sequence[str],
    *,
    user: pwd.struct_passwd | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120.0,
) -> str:
    """Runs a short helper command and returns its stdout; CommandError (with the output) if it fails."""
    try:
        result = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            env=None if env is None else dict(env),
            cwd=cwd,
            timeout=timeout,
            check=False,
            **_as_user(user),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandError(service, f"{Path(argv[0]).name} failed: {exc}", argv) from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        tail = "\n".join(output.splitlines()[-_LOG_TAIL_LINES:])
        raise CommandError(service, f"{Path(argv[0]).name} exited with {result.returncode}:\n{tail}", argv)
    return result.stdout


class _Identity(TypedDict):
    user: int | None
    group: int | None
    extra_groups: list[int] | None


def _as_user(user: pwd.struct_passwd | None) -> _Identity:
    """Popen arguments that run the child as ``user`` (no supplementary groups), or unchanged."""
    if user is None:
        return {"user": None, "group": None, "extra_groups": None}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


class Process:
    """One server process in its own process group, with a log file and a pid file."""

    def __init__(self, *, log_path: Path, pid_path: Path, marker: str) -> None:
        self.log_path = log_path
        self.pid_path = pid_path
        # A pid file can outlive its process and the pid be reused: the marker (the service's folder, in
        # the command line or as the working directory) tells our server from a stranger.
        self._marker = marker
        # While a process exits, the kernel releases its memory and folder before its threads are done:
        # cmdline reads empty and cwd fails although it still holds its port and files. So a process once
        # confirmed ours stays ours until it is gone; (pid, start time) names it, a pid reused later does not.
        self._confirmed: tuple[int, str] | None = None
        self._popen: subprocess.Popen[bytes] | None = None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: pwd.struct_passwd | None = None,
    ) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"{_RUN_HEADER}{time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(argv)}\n".encode())
            log.flush()
            # A session of its own: the server survives the CLI that started it, ignores the terminal's
            # Ctrl-C, and a signal to the group reaches its children too (PostgreSQL backends).
            self._popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=None if env is None else dict(env),
                cwd=cwd,
                start_new_session=True,
                **_as_user(user),
            )
        self.pid_path.write_text(f"{self._popen.pid}\n")

    @property
    def pid(self) -> int | None:
        if self._popen is not None:
            return self._popen.pid if self._popen.poll() is None else None
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    @property
    def alive(self) -> bool:
        return self.pid is not None

    def exit_code(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def _is_ours(self, pid: int) -> bool:
        proc = Path(f"/proc/{pid}")
        stat = _stat_fields(proc / "stat")
        if stat is None or _exited(pid):
            return False
        identity = (pid, stat[_START_TIME])
        if identity == self._confirmed:
            return True
        try:
            # Servers may rewrite their command line (redis-server does), but they work in our folder.
            cwd = str((proc / "cwd").readlink())
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return False
        if cwd.startswith(self._marker) or self._marker in cmdline:
            self._confirmed = identity
            return True
        return False

    def send(self, sig: signal.Signals, *, group: bool) -> None:
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    def wait(self, timeout: float) -> bool:
        """Waits for the process to exit; True when it did."""
        deadline = time.monotonic() + timeout
        while self.alive:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, sig: signal.Signals, timeout: float) -> None:
        """Asks the server to stop with sig; kills the whole group if it is still there after timeout."""
        self.send(sig, group=False)
        if not self.wait(timeout):
            self.kill()
        self._forget()

    def kill(self) -> None:
        pid = self.pid
        self.send(signal.SIGKILL, group=True)
        self.wait(10.0)
        if pid is not None:
            _wait_group_gone(pid, 10.0)
        self._forget()

    def _forget(self) -> None:
        if not self.alive:
            self.pid_path.unlink(missing_ok=True)


def _wait_group_gone(pgid: int, timeout: float) -> None:
    """Waits until no live process of the group is left (PostgreSQL backends outlive their postmaster
    briefly, and a restart must not find them still holding the shared memory)."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    """True while a process of the group runs; zombies (dead, not yet reaped) do not count."""
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        stat = _stat_fields(stat_file)
        if stat is not None and stat[_GROUP] == str(pgid) and not _exited(int(stat_file.parent.name)):
            return True
    return False


def _stat_fields(stat_file: Path) -> list[str] | None:
    """The fields of a /proc stat file after the command name (state first); None once it is gone."""
    try:
        return stat_file.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _exited(pid: int) -> bool:
    """True when no thread of the process runs any more: it is gone, or a zombie its parent can reap.

    Its own stat is not enough: when a killed server's main thread finishes first, it shows Z there while
    the other threads still exit, holding the port and files, and the parent cannot reap it yet. A thread
    in X is being released this very moment: it counts until it disappears.
    """
    threads = (_stat_fields(stat_file) for stat_file in Path(f"/proc/{pid}/task").glob("*/stat"))
    return all(stat is None or stat[_STATE] == "Z" for stat in threads)


class Service(ABC):
    """A real server on loopback with its data in ``state_dir``; ``start()`` again reuses data and port."""

    display_name: ClassVar[str]
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    host: str = LOOPBACK

    def __init__(
        self, state_dir: Path | str, *, port: int, start_timeout: float, stop_timeout: float
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.port = port or free_port(self.host)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process = Process(
            log_path=self.state_dir / f"{self.key}.log",
            pid_path=self.state_dir / f"{self.key}.pid",
            marker=str(self.state_dir),
        )

    @property
    def key(self) -> str:
        """Short lower-case name used for files and the CLI (kafka, postgres, redis)."""
        return type(self).__name__.removesuffix("Broker").removesuffix("Server").lower()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    @abstractmethod
    def version(self) -> str:
        """Product and version, e.g. "Redis 7.0.15"."""

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """What a client is given: a bootstrap address or a URL."""

    @property
    def running(self) -> bool:
        return self.process.alive

    def start(self) -> Self:
        """Starts the server (no-op when it runs) and returns once it serves requests."""
        if self.running:
            return self
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.check_installed()
        try:
            self._prepare()
        except CommandError as exc:
            raise ServiceStartError(self.display_name, exc.reason, exc.command, None) from exc
        argv = self._command()
        if port_open(self.host, self.port):
            raise ServiceStartError(
                self.display_name, f"port {self.address} is already in use", argv, self.process.log_path
            )
        self.process.spawn(argv, cwd=self.state_dir, user=self._user())
        self._wait_ready(argv)
        return self

    def stop(self) -> None:
        """Graceful stop (data flushed); after ``stop_timeout`` the process group is killed."""
        self.process.stop(self.stop_signal, self.stop_timeout)

    def kill(self) -> None:
        """SIGKILL to the whole process group, as a crash would; ``start()`` recovers from the data."""
        self.process.kill()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} on {self.address}, {state}, state {self.state_dir}>"

    def _wait_ready(self, argv: Sequence[str]) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            if not self.process.alive:
                code = self.process.exit_code()
                reason = "the process exited" + ("" if code is None else f" with code {code}")
                raise ServiceStartError(self.display_name, reason, argv, self.process.log_path)
            if self.ready():
                return
            if time.monotonic() >= deadline:
                error = ServiceStartError(
                    self.display_name,
                    f"not ready after {self.start_timeout:.0f} s",
                    argv,
                    self.process.log_path,
                )
                self.kill()
                raise error
            time.sleep(0.1)

    @abstractmethod
    def check_installed(self) -> None:
        """Raises InstallMissingError when a binary or jar is missing."""

    def install_kafka_versions(self) -> tuple[str, ...]:
        """Kafka versions the install script must fetch for this service."""
        return ()

    @abstractmethod
    def _prepare(self) -> None:
        """Writes configuration and initialises the data folder the first time."""

    @abstractmethod
    def _command(self) -> list[str]: ...

    def _user(self) -> pwd.struct_passwd | None:
        return None

    @abstractmethod
    def ready(self) -> bool:
        """One cheap probe: does the server answer requests now?"""
