"""Every DAG file loads with zero import errors and does no I/O at parse time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cryptoflow_batch.airflow_local import dags_folder

# Parses the dags folder the way the dag-processor does, with an audit hook that records every socket,
# subprocess and file-open event while the DAG files are executed; prints the result as JSON.
PARSE_SCRIPT = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
events, watching = [], [False]
DATA = (".json", ".yaml", ".yml", ".csv", ".txt", ".sql")
def hook(event, args):
    if not watching[0]:
        return
    if event.startswith(("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn")) or (
        event == "open" and str(args[0]).endswith(DATA)
    ):
        events.append([event, repr(args)[:200]])
sys.addaudithook(hook)
import airflow.sdk  # Airflow's own imports happen before we watch
watching[0] = True
bag = DagBag(dag_folder=sys.argv[1])
watching[0] = False
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dags),
                  "tasks": {d: sorted(t.task_id for t in dag.tasks) for d, dag in bag.dags.items()},
                  "events": events}))
"""

EXPECTED_DAGS = [
    "market_indicators",
    "market_indicators_1m",
    "market_stats_24h",
    "ml_score",
    "ml_train",
    "trade_gaps",
    "upbit_candles_1m_el",
    "upbit_candles_backfill",
    "upbit_candles_el",
    "upbit_ticker_el",
]


def test_dag_files_parse_without_network_database_or_files(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    assert unshare, "unshare (util-linux) is needed to cut the network off"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        # Settings that would fail loudly if anything tried to use them at parse time.
        "CRYPTOFLOW_BATCH_DSN": "postgresql://nobody@127.0.0.1:1/closed",
        "CRYPTOFLOW_BATCH_UPBIT_REST_URL": "http://127.0.0.1:1",
    }
    # A new network namespace: no interface is up, not even loopback; root is needed for it.
    completed = subprocess.run(
        [unshare, "--net", sys.executable, "-c", PARSE_SCRIPT, str(dags_folder())],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == EXPECTED_DAGS
    assert result["events"] == []
    assert result["tasks"]["upbit_ticker_el"] == [
        "check_ticker_duplicates",
        "check_ticker_freshness",
        "check_ticker_prices",
        "check_ticker_row_counts",
        "extract_load",
        "refresh_markets",
    ]


@pytest.mark.airflow
def test_dags_are_wired_with_assets_retries_and_no_catchup(dags: dict[str, Any]) -> None:
    assert sorted(dags) == EXPECTED_DAGS
    for dag_id, dag in dags.items():
        assert dag.catchup is False, dag_id
        assert "cryptoflow" in dag.tags, dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id}"
            assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id}"

    def outlets(dag_id: str) -> set[str]:
        return {asset.name for task in dags[dag_id].tasks for asset in task.outlets}

    def schedule_assets(dag_id: str) -> set[str]:
        return {asset.name for asset in dags[dag_id].timetable.asset_condition.objects}

    assert "lake.ticker" in outlets("upbit_ticker_el")
    assert schedule_assets("market_stats_24h") == {"lake.ticker"}
    assert "mart.candles_1d" in outlets("upbit_candles_el")
    assert "mart.candles_1d" in outlets("upbit_candles_backfill")
    assert schedule_assets("market_indicators") == {"mart.candles_1d"}
    assert "mart.market_stats_24h" in outlets("market_stats_24h")
    assert "mart.indicators" in outlets("market_indicators")
    assert schedule_assets("ml_train") == {"mart.indicators"}
    assert schedule_assets("ml_score") == {"mart.indicators_1m"}
    assert {"mart.ml_models", "mart.predictions"} <= outlets("ml_train")
    assert schedule_assets("market_indicators_1m") == {"mart.candles_1m"}
    assert "mart.indicators_1m" in outlets("market_indicators_1m")
    # The REST minute candles are the exchange's reference (lake only); the archiver and the gap repair
    # write mart.candles_1m.
    assert "mart.candles_1m" not in outlets("upbit_candles_1m_el")
    assert "mart.candles_1m" in outlets("trade_gaps")
    assert type(dags["upbit_candles_backfill"].timetable).__name__ == "NullTimetable"  # manual only
    assert set(dags["upbit_candles_backfill"].params) == {"markets", "from", "to", "unit"}
