"""Candles into the lake and the candle marts.

- `upbit_candles_el`: daily, once the UTC day has closed (plus a short settle), the day candle of every
  listed market (or `CRYPTOFLOW_BATCH_DAILY_CANDLE_MARKETS`) -> `mart.candles_1d`.
- `upbit_candles_1m_el`: every 10 minutes, the closed minute candles of
  `CRYPTOFLOW_BATCH_MINUTE_CANDLE_MARKETS` -> `lake.candles` only: the exchange's reference. The mart
  `mart.candles_1m` is built from archived trades for every market (cryptoflow-archive).

Candles are upserted: a candle fetched again replaces the stored one, never adds a second. Checks run on
the interval's lake rows before the mart is updated.
(An Airflow DAG file: the DAGs are built in `dag_support`.)
"""

from __future__ import annotations

import datetime as dt

from cryptoflow_batch.dag_support import MART_CANDLES_1D, candles_dag

upbit_candles_el_dag = candles_dag(
    dag_id="upbit_candles_el",
    unit="days",
    cron="0 0 * * *",
    interval=dt.timedelta(days=1),
    transform="candles_1d",
    mart=MART_CANDLES_1D,
    doc_md=__doc__,
)
upbit_candles_1m_el_dag = candles_dag(
    dag_id="upbit_candles_1m_el",
    unit="minutes/1",
    cron="*/10 * * * *",
    interval=dt.timedelta(minutes=10),
    transform=None,
    mart=None,
    doc_md=__doc__,
)
