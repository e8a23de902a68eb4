"""Entrypoint of the cryptoflow-batch image (target ``batch`` of ``deploy/Dockerfile``), installed as the
command ``cryptoflow-batch-container``.

    init            create the databases when missing, apply the lake/mart migrations and
                    ``airflow db migrate``, then exit
    standalone      the same, then every Airflow component in this one container
    api-server, scheduler, dag-processor, triggerer: that Airflow component
    anything else   run as given: ``cryptoflow-batch el ticker``, ``airflow dags list``

Airflow is configured as in the local stack (``cryptoflow-batch airflow env``): metadata database
``airflow`` next to ``CRYPTOFLOW_BATCH_DSN`` (or ``CRYPTOFLOW_BATCH_AIRFLOW_DSN``), LocalExecutor,
``CRYPTOFLOW_BATCH_AIRFLOW_PARALLELISM``, the DAG folder inside the installed package, and the keys every
component must share (JWT, API and Fernet) generated once into ``AIRFLOW_HOME``, which all Airflow
containers of one deployment must therefore share. A variable already set (image ``ENV``, compose) wins.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from cryptoflow_batch.airflow_local import airflow_env, prepare
from cryptoflow_batch.settings import SettingsError, load_settings

COMPONENTS = {"standalone", "api-server", "scheduler", "dag-processor", "triggerer"}


def command_for(argv: list[str]) -> list[str]:
    """What the container runs: an Airflow component for a role name, else the arguments as given."""
    return ["airflow", *argv] if argv[:1] and argv[0] in COMPONENTS else argv


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"cryptoflow-batch-container: {exc}", file=sys.stderr)
        return 2
    for key, value in airflow_env(settings).items():
        os.environ.setdefault(key, value)
    if argv[:1] in (["init"], ["standalone"]):
        prepare(settings)  # idempotent; `airflow standalone` migrates its database itself
    if argv == ["init"]:
        return subprocess.run(["airflow", "db", "migrate"], check=False).returncode  # noqa: S607 - the image's airflow
    command = command_for(argv or ["standalone"])
    os.execvp(command[0], command)  # noqa: S606 - the container's own command: it becomes the process signalled


def run() -> None:
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()
