"""On every `lake.ticker` update: new ticker rows -> `mart.market_stats_24h` (SQL upsert in PostgreSQL).

Incremental: only lake rows past the transform's watermark are read, so the cost follows the new rows.
Checks then verify the rows this run produced. (An Airflow DAG file: the DAG is built in `dag_support`.)
"""

from __future__ import annotations

from cryptoflow_batch.dag_support import (
    LAKE_TICKER,
    MARKET_STATS_CHECKS,
    MART_MARKET_STATS_24H,
    asset_transform_dag,
)

market_stats_24h_dag = asset_transform_dag(
    dag_id="market_stats_24h",
    schedule=LAKE_TICKER,
    transform="market_stats_24h",
    outlet=MART_MARKET_STATS_24H,
    checks=MARKET_STATS_CHECKS,
    doc_md=__doc__,
)
