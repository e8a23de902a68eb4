"""On every `mart.candles_1d` update: SMA 5/20/60/120, EMA 12/26, MACD, RSI 14, ATR 14, Bollinger Bands,
30-day average volume and z-score, golden/dead cross flags per market per UTC day, as TA-Lib computes
them -> `mart.indicators` (SQL in PostgreSQL, incremental).
(An Airflow DAG file: the DAG is built in `dag_support`.)"""

from __future__ import annotations

from cryptoflow_batch.dag_support import (
    INDICATOR_CHECKS,
    MART_CANDLES_1D,
    MART_INDICATORS,
    asset_transform_dag,
)

market_indicators_dag = asset_transform_dag(
    dag_id="market_indicators",
    schedule=MART_CANDLES_1D,
    transform="indicators",
    outlet=MART_INDICATORS,
    checks=INDICATOR_CHECKS,
    doc_md=__doc__,
)
