"""The service's own processes, started through its CLI exactly as the local stack starts them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path


class ServiceProcess:
    def __init__(self, args: list[str], *, env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "cryptoflow_service", *args],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.log())
            if match:
                return match
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no /{pattern}/ after {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.popen.poll() is not None:
                raise AssertionError(f"server exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} not up after {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self._log.close()


class CeleryWorker(ServiceProcess):
    def wait_for_task(self, task_id: str, timeout: float = 30.0) -> str:
        """Waits until the worker logs that task `task_id` finished; returns the log line."""
        return self.wait_for_log(rf"\[{re.escape(task_id)}\] (succeeded|raised|retry)[^\n]*", timeout).group(
            0
        )
