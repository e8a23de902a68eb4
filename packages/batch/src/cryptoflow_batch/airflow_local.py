"""The local Airflow of ``make up``: api-server (:8081), scheduler, dag-processor and triggerer.

``cryptoflow-batch airflow run`` creates the ``airflow`` metadata database (PostgreSQL, next to the
CryptoFlow database) and the CryptoFlow database when missing, applies the lake/mart migrations and
``airflow db migrate``, then runs the three components as children and stops them together. It prints
``airflow: ready api=http://127.0.0.1:8081`` once the API answers. ``cryptoflow-batch airflow env``
prints the same environment for running ``airflow`` commands by hand:
``eval "$(cryptoflow-batch airflow env)"; airflow dags list``.

``AIRFLOW_HOME`` is ``<state dir>/airflow`` (state dir: ``$CRYPTOFLOW_BATCH_STATE_DIR``, else
``$CRYPTOFLOW_STATE_DIR``, else ``./.state``); the secrets the components must share (JWT, API and
Fernet keys) and the password of its one user are generated there once. The API and UI require that login
(Airflow's simple auth manager): nothing anonymous can read or trigger a DAG run.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from types import FrameType

import httpx
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cryptoflow_batch.db import create_database, upgrade
from cryptoflow_batch.settings import ENV_PREFIX, BatchSettings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# The triggerer runs deferred tasks; without it the UI reports it as down.
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def dags_folder() -> Path:
    """The DAG files inside the installed package (Airflow's dags folder)."""
    return Path(str(files("cryptoflow_batch").joinpath("dags")))


def state_dir(settings: BatchSettings) -> Path:
    if settings.state_dir is not None:
        return settings.state_dir.absolute()
    return Path(os.environ.get("CRYPTOFLOW_STATE_DIR") or ".state").absolute()


def metadata_dsn(settings: BatchSettings) -> str:
    """Airflow's own database: ``airflow_dsn``, else database ``airflow`` on the CryptoFlow server."""
    return settings.airflow_dsn or make_conninfo(settings.dsn, dbname="airflow")


def sqlalchemy_url(dsn: str) -> str:
    """A libpq DSN or URL as a SQLAlchemy URL with the psycopg (3) driver (sync and async alike)."""
    params = conninfo_to_dict(dsn)
    user = params.get("user", "postgres")
    password = f":{params['password']}" if params.get("password") else ""
    host = params.get("host", "127.0.0.1")
    port = params.get("port", 5432)
    return f"postgresql+psycopg://{user}{password}@{host}:{port}/{params.get('dbname', 'airflow')}"


def _secrets(home: Path) -> dict[str, str]:
    path = home / "secrets.json"
    if path.is_file():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    home.mkdir(parents=True, exist_ok=True)
    values = {
        "jwt_secret": secrets.token_urlsafe(48),
        "api_secret_key": secrets.token_urlsafe(32),
        "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "password": secrets.token_urlsafe(18),
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(values))
    return values


def credentials(settings: BatchSettings) -> tuple[str, str]:
    """The local Airflow's user and password (the setting, else the one generated for this state dir)."""
    if settings.airflow_password is not None:
        return settings.airflow_user, settings.airflow_password.get_secret_value()
    home = state_dir(settings) / "airflow"
    stored = _secrets(home)
    if "password" not in stored:  # a state dir from before logins were required
        stored["password"] = secrets.token_urlsafe(18)
        (home / "secrets.json").write_text(json.dumps(stored))
    return settings.airflow_user, stored["password"]


def _passwords_file(home: Path, user: str, password: str) -> Path:
    """The simple auth manager's password file (it would otherwise generate and log one)."""
    path = home / "passwords.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps({user: password}))
    return path


def airflow_env(settings: BatchSettings, *, port: int | None = None) -> dict[str, str]:
    """Environment variables for every Airflow component (and for tasks: the ``CRYPTOFLOW_BATCH_*``)."""
    home = state_dir(settings) / "airflow"
    keys = _secrets(home)
    user, password = credentials(settings)
    port = port or settings.airflow_port
    database = sqlalchemy_url(metadata_dsn(settings))
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # 2 cores: a few task processes at most, one parser, one API worker.
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow_parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(_passwords_file(home, user, password)),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": database,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "2",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    }
    # Tasks read their settings from the environment they inherit.
    passed = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    passed[f"{ENV_PREFIX}DSN"] = settings.dsn
    passed[f"{ENV_PREFIX}UPBIT_REST_URL"] = settings.upbit_rest_url
    return {**passed, **env}


def as_shell(env: Mapping[str, str]) -> str:
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in sorted(env.items()))


def prepare(settings: BatchSettings) -> None:
    """Databases, lake/mart migrations and Airflow's own migrations; all idempotent."""
    for dsn in (settings.dsn, metadata_dsn(settings)):
        name = str(conninfo_to_dict(dsn).get("dbname", "postgres"))
        if create_database(make_conninfo(dsn, dbname="postgres"), name):
            log.info("created database %s", name)
    applied = upgrade(settings.dsn)
    log.info("lake/mart migrations: %s", ", ".join(applied) or "up to date")


def _airflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def _wait_ready(url: str, children: list[subprocess.Popen[bytes]], timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    return False


def run(settings: BatchSettings, *, port: int | None = None) -> int:
    """Prepare, then supervise the components until one exits or SIGTERM/SIGINT arrives."""
    prepare(settings)
    env = {**os.environ, **airflow_env(settings, port=port)}
    # argv is this interpreter, `-m airflow` and our fixed component names: nothing from outside.
    subprocess.run(_airflow("db", "migrate"), env=env, check=True)  # noqa: S603
    children = [subprocess.Popen(_airflow(name), env=env) for name in COMPONENTS]  # noqa: S603
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        log.info("received signal %d, stopping Airflow", signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    api = f"{env['AIRFLOW__API__BASE_URL']}/api/v2/monitor/health"
    if _wait_ready(api, children):
        print(f"airflow: ready api={env['AIRFLOW__API__BASE_URL']}", flush=True)
    exit_code = 0
    try:
        while not stopping:
            for name, child in zip(COMPONENTS, children, strict=True):
                if child.poll() is not None:
                    log.error("airflow %s exited with %s; stopping the others", name, child.returncode)
                    exit_code = 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return exit_code
