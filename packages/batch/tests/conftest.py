"""Fixtures: real PostgreSQL (cryptoflow-localstack), a real upbit-sim process and a real Airflow.

Airflow reads its configuration when it is first imported, so nothing here or in the test modules
imports it at collection time: the session fixture ``airflow_env`` sets the environment (metadata DB on
the session's PostgreSQL, dags folder = the package's) and only then imports Airflow and migrates it.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from cryptoflow_batch import db
from cryptoflow_batch.airflow_local import dags_folder, sqlalchemy_url
from cryptoflow_localstack.postgres_server import PostgresServer
from upbit_sim.testing import SimProcess, start_sim_process

UTC = dt.UTC
SIM_MARKETS = 12
SIM_SEED = 11
SIM_HISTORY_DAYS = 450

# Warnings raised inside Airflow and its web stack that are not ours to fix; everything else stays an error.
AIRFLOW_WARNINGS = (
    # starlette's TestClient (imported by Airflow's in-process execution API that dag.test() uses)
    "ignore:Using `httpx` with `starlette.testclient` is deprecated:UserWarning",
    "ignore::DeprecationWarning:airflow",
    "ignore::DeprecationWarning:sqlalchemy",
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("airflow"):
            for spec in AIRFLOW_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "airflow: the test runs Airflow in this process (warning filters)")


@dataclass
class Sim:
    """The session's simulator process and shortcuts to its admin API."""

    process: SimProcess
    markets: int

    @property
    def rest_url(self) -> str:
        return self.process.rest_url

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.process.admin(method, path, body)

    def fault(self, **params: Any) -> None:
        self.admin("POST", "/faults/rest_error", params)

    def clear_faults(self) -> None:
        self.admin("POST", "/faults/clear", {})
        self.admin("POST", "/limits/reset", {})

    def rest_statuses(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.admin("GET", "/stats")["rest"]["status"].items()}

    def get(self, path: str, **params: str) -> Any:
        """A direct request (not through the client under test), parsed with exact decimals."""
        from cryptoflow_contracts.decimals import loads_exact  # noqa: PLC0415

        for _ in range(10):
            response = httpx.get(f"{self.rest_url}{path}", params=params, timeout=10)
            if response.status_code != 429:  # the simulator enforces Upbit's 10/s: wait for the next second
                break
            time.sleep(1.1)
        response.raise_for_status()
        return loads_exact(response.content)


@pytest.fixture(scope="session")
def sim() -> Iterator[Sim]:
    """One simulator for the session: Upbit's REST limit (10/s per group), 12 markets, 450 days of history."""
    process = start_sim_process(
        "--markets", str(SIM_MARKETS), "--seed", str(SIM_SEED), "--rate", "100",
        "--history-days", str(SIM_HISTORY_DAYS), "--history-minutes", "5", "--log-interval", "0",
        "--rest-rate-limit", "10", "--no-origin-rate-limit", "--abuse-after", "0",
    )  # fmt: skip
    server = Sim(process, SIM_MARKETS)
    try:
        # A market has a ticker once it has traded; wait until every listed one has (as on Upbit).
        deadline = time.monotonic() + 30
        while len(server.get("/v1/ticker/all", quote_currencies="KRW,BTC,USDT")) < SIM_MARKETS:
            if time.monotonic() > deadline:
                pytest.fail("upbit-sim did not have a ticker for every market within 30 s")
            time.sleep(0.2)
        yield server
    finally:
        process.stop()


@pytest.fixture
def sim_clean(sim: Sim) -> Iterator[Sim]:
    """The session simulator with no faults and fresh rate-limit windows, before and after the test."""
    sim.clear_faults()
    yield sim
    sim.clear_faults()


@pytest.fixture
def batch_dsn(postgres_db: str) -> str:
    """A fresh CryptoFlow database with the lake and mart migrations applied."""
    db.upgrade(postgres_db)
    return postgres_db


@pytest.fixture
def batch_env(batch_dsn: str, sim_clean: Sim, monkeypatch: pytest.MonkeyPatch) -> str:
    """``CRYPTOFLOW_BATCH_*`` for jobs and DAG tasks: this test's database, the simulator, fast retries."""
    env = {
        "CRYPTOFLOW_BATCH_DSN": batch_dsn,
        "CRYPTOFLOW_BATCH_UPBIT_REST_URL": sim_clean.rest_url,
        "CRYPTOFLOW_BATCH_CANDLE_SETTLE_S": "0",
        "CRYPTOFLOW_BATCH_HTTP_BACKOFF_BASE_S": "0.05",
        "CRYPTOFLOW_BATCH_HTTP_BACKOFF_CAP_S": "0.5",
        "CRYPTOFLOW_BATCH_MINUTE_CANDLE_MARKETS": "KRW-BTC,KRW-ETH,KRW-XRP",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return batch_dsn


@pytest.fixture
def query(batch_dsn: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run SQL against the test's CryptoFlow database and return all rows."""

    def run(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(batch_dsn, autocommit=True, options="-c TimeZone=UTC") as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return run


@pytest.fixture(scope="session")
def airflow_env(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Airflow configured for this session (PostgreSQL metadata DB, our dags folder) and migrated; its
    connections are closed before the server stops (else SQLAlchemy's exit handler reports them)."""
    home = tmp_path_factory.mktemp("airflow")
    url = sqlalchemy_url(postgres_server.create_database("airflow_meta"))
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "CRYPTOFLOW_BATCH_RETRY_DELAY_S": "1",
    }
    os.environ.update(env)
    from airflow.utils.db import upgradedb  # noqa: PLC0415  # only now: Airflow reads env on import

    upgradedb()
    yield home
    from airflow import settings  # noqa: PLC0415

    settings.dispose_orm()


@pytest.fixture(scope="session")
def dags(airflow_env: Path) -> dict[str, Any]:
    """Every DAG of the package, parsed by Airflow's DagBag (the same way the dag-processor does)."""
    from airflow.dag_processing.dagbag import DagBag  # noqa: PLC0415

    bag = DagBag(dag_folder=str(dags_folder()))
    assert bag.import_errors == {}, bag.import_errors
    return dict(bag.dags)


@pytest.fixture
def run_dag(dags: dict[str, Any], batch_env: str) -> Callable[..., Any]:
    """``run_dag(dag_id, logical_date=..., conf=...)``: one ``dag.test()`` run; returns the DagRun."""

    def run(dag_id: str, logical_date: dt.datetime | None = None, conf: dict[str, Any] | None = None) -> Any:
        return dags[dag_id].test(logical_date=logical_date, run_conf=conf)

    return run


@pytest.fixture
def task_states() -> Callable[[Any], dict[str, str]]:
    """task_id -> final state of a DagRun's task instances."""

    def states(dag_run: Any) -> dict[str, str]:
        from airflow.utils.session import create_session  # noqa: PLC0415

        with create_session() as session:
            return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances(session=session)}

    return states
