"""The local Airflow's API answers its one user only: nothing anonymous can read a DAG or trigger a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cryptoflow_batch.airflow_local import airflow_env, credentials
from cryptoflow_batch.settings import BatchSettings
from cryptoflow_localstack.postgres_server import PostgresServer
from cryptoflow_localstack.process import free_port


@pytest.fixture(scope="module")
def api_server(
    airflow_env_ready: None, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, BatchSettings]]:
    settings = BatchSettings(
        dsn=postgres_server.dsn,
        airflow_dsn=os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("+psycopg", ""),
        state_dir=tmp_path_factory.mktemp("state"),
        airflow_port=free_port(),
    )
    env = {**os.environ, **airflow_env(settings)}
    log = Path(env["AIRFLOW_HOME"]) / "api-server.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = env["AIRFLOW__API__BASE_URL"]
    try:
        deadline = time.monotonic() + 300
        seen = "no answer"
        while True:
            if child.poll() is not None:
                pytest.fail(f"airflow api-server exited with {child.returncode}: {log.read_text()[-2000:]}")
            try:
                health = httpx.get(f"{base}/api/v2/monitor/health", timeout=2)
                if health.status_code == 200:
                    break
                seen = f"HTTP {health.status_code}"
            except httpx.HTTPError as exc:
                seen = repr(exc)
            if time.monotonic() > deadline:
                pytest.fail(f"airflow api-server not ready after 300 s ({seen}): {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base, settings
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.fixture(scope="module")
def airflow_env_ready(airflow_env: Path) -> None:
    """The session's migrated metadata database (the api-server needs its tables)."""


def test_anonymous_requests_are_refused(api_server: tuple[str, BatchSettings]) -> None:
    base, _ = api_server
    assert httpx.get(f"{base}/api/v2/dags", timeout=10).status_code == 401
    trigger = httpx.post(
        f"{base}/api/v2/dags/market_stats_24h/dagRuns", json={"logical_date": None}, timeout=10
    )
    assert trigger.status_code == 401
    # With everyone an admin (the old setting), a token came for free from GET /auth/token.
    assert httpx.get(f"{base}/auth/token", timeout=10).status_code != 200


def test_the_configured_user_gets_in(api_server: tuple[str, BatchSettings]) -> None:
    base, settings = api_server
    user, password = credentials(settings)
    wrong = httpx.post(f"{base}/auth/token", json={"username": user, "password": password + "x"}, timeout=10)
    assert wrong.status_code == 401
    token = httpx.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=10)
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.get(f"{base}/api/v2/dags", headers=headers, timeout=10).status_code == 200
