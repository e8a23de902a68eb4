"""Runs the install script (shipped in this package) when a service finds its binaries or jars missing."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cryptoflow_localstack.process import InstallMissingError, Service

INSTALL_SCRIPT = Path(__file__).with_name("install.sh")


def run_install(
    kafka_versions: Sequence[str] = (), *, env: Mapping[str, str] | None = None, capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Runs install.sh (idempotent). With ``capture`` its output is returned instead of printed."""
    child_env = dict(os.environ if env is None else env)
    if kafka_versions:
        child_env["KAFKA_VERSIONS"] = " ".join(kafka_versions)
    return subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
        check=False,
    )


def ensure_installed(
    service: Service, *, auto_install: bool = True, say: Callable[[str], None] = print
) -> None:
    """Returns when the service's binaries and jars are present; runs the install script once if not.

    Raises InstallMissingError (with the script's output) when they are still missing afterwards.
    """
    try:
        service.check_installed()
        return
    except InstallMissingError as missing:
        if not auto_install:
            raise
        say(f"{missing.service}: {missing.what}; running {INSTALL_SCRIPT.name} once")
    started = time.monotonic()
    result = run_install(service.install_kafka_versions(), capture=True)
    if result.returncode != 0:
        raise InstallMissingError(
            service.display_name,
            f"{INSTALL_SCRIPT} failed with exit code {result.returncode}:\n{result.stdout.strip()}",
        )
    service.check_installed()
    say(f"{service.display_name}: installed in {time.monotonic() - started:.1f} s")
