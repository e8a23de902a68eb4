"""Process: telling our server from a stranger by its pid file, and stopping only once it is gone."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptoflow_localstack.process import Process

# On SIGTERM the main thread exits but a worker thread runs on: /proc/<pid>/stat says Z, cwd and cmdline
# can no longer be read, yet the process lives. A killed server passes through this state while exiting.
_MAIN_THREAD_QUITS_ON_SIGTERM = """
import ctypes, signal, threading, time
signal.signal(signal.SIGTERM, lambda *_: ctypes.CDLL(None).pthread_exit(None))
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
print("ready", flush=True)
time.sleep(60)
"""


def _spawn(folder: Path, argv: list[str]) -> tuple[Process, Process]:
    """A server started in ``folder`` and a second handle on it from the pid file, as ``down`` has."""
    server = Process(log_path=folder / "server.log", pid_path=folder / "server.pid", marker=str(folder))
    server.spawn(argv, cwd=folder)
    from_pid_file = Process(log_path=server.log_path, pid_path=server.pid_path, marker=str(folder))
    return server, from_pid_file


def _wait_for_log(process: Process, line: str) -> None:
    deadline = time.monotonic() + 10.0
    while line not in process.log_path.read_text().splitlines():
        assert time.monotonic() < deadline, f"no {line!r} in {process.log_path} after 10 s"
        time.sleep(0.02)


def test_stop_returns_once_every_thread_is_gone(tmp_path: Path) -> None:
    server, from_pid_file = _spawn(tmp_path, [sys.executable, "-c", _MAIN_THREAD_QUITS_ON_SIGTERM])
    try:
        _wait_for_log(server, "ready")
        from_pid_file.stop(signal.SIGTERM, timeout=0.5)
        # Its parent can reap it right away: no thread was left running.
        assert not server.alive
        assert server.exit_code() == -signal.SIGKILL
        assert not server.pid_path.exists()
    finally:
        server.kill()


def test_an_unreaped_zombie_counts_as_stopped(tmp_path: Path) -> None:
    server, from_pid_file = _spawn(tmp_path, ["sleep", "60"])
    try:
        # Nobody reaps it (its parent, this test, does not poll it): it stays a zombie.
        from_pid_file.stop(signal.SIGTERM, timeout=30.0)
        assert not from_pid_file.alive
        assert not server.pid_path.exists()
        assert server.exit_code() == -signal.SIGTERM
    finally:
        server.kill()


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "60"], cwd=tmp_path, start_new_session=True)
    try:
        folder = tmp_path / "redis0"
        folder.mkdir()
        (folder / "redis.pid").write_text(f"{stranger.pid}\n")
        leftover = Process(log_path=folder / "redis.log", pid_path=folder / "redis.pid", marker=str(folder))
        assert not leftover.alive
        leftover.kill()
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
