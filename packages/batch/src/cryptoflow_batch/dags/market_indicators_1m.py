"""Every minute, and on every `mart.candles_1m` update by the candle DAGs: the same indicators as
`market_indicators` per market per minute -> `mart.indicators_1m` (the one SQL engine, incremental,
driven by the candle rows' `updated_at`, so it follows whoever fills `mart.candles_1m`).
(An Airflow DAG file: the DAG is built in `dag_support`.)"""

from __future__ import annotations

from cryptoflow_batch.dag_support import (
    INDICATOR_1M_CHECKS,
    MART_CANDLES_1M,
    MART_INDICATORS_1M,
    asset_transform_dag,
)

market_indicators_1m_dag = asset_transform_dag(
    dag_id="market_indicators_1m",
    schedule=MART_CANDLES_1M,
    cron="* * * * *",
    transform="indicators_1m",
    outlet=MART_INDICATORS_1M,
    checks=INDICATOR_1M_CHECKS,
    doc_md=__doc__,
)
