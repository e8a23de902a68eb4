"""What each Airflow task does, as plain functions of plain values (the DAG files only wire them).

Each job reads :class:`~cryptoflow_batch.settings.BatchSettings` when it runs (never at DAG parse time)
and returns a small JSON-friendly summary, which Airflow keeps as the task's XCom.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

from cryptoflow_batch import quality
from cryptoflow_batch.backfill import BackfillRequest, MarketProgress, backfill
from cryptoflow_batch.db import connect
from cryptoflow_batch.el import candles_el, ticker_el
from cryptoflow_batch.lake import RunInterval
from cryptoflow_batch.settings import BatchSettings, load_settings
from cryptoflow_batch.transforms import TRANSFORMS, run_transform
from cryptoflow_upbit_client import CandleUnit

log = logging.getLogger(__name__)

DAILY = CandleUnit("days")
MINUTE = CandleUnit("minutes", 1)


def _summary(value: Any) -> dict[str, Any]:
    """A dataclass as XCom-friendly JSON (times as ISO 8601 strings)."""
    out: dict[str, Any] = {}
    for key, item in dataclasses.asdict(value).items():
        out[key] = item.isoformat() if isinstance(item, dt.datetime) else item
    return out


def ticker_el_job(
    interval_start: dt.datetime, interval_end: dt.datetime, run_id: str, settings: BatchSettings | None = None
) -> dict[str, Any]:
    settings = settings or load_settings()
    result = asyncio.run(ticker_el(settings, RunInterval(interval_start, interval_end, run_id)))
    return _summary(result)


def candles_el_job(
    unit: str,
    interval_start: dt.datetime,
    interval_end: dt.datetime,
    run_id: str,
    settings: BatchSettings | None = None,
) -> dict[str, Any]:
    """Daily candles for every listed market (or ``daily_candle_markets``); minute candles for
    ``minute_candle_markets``. The summary's ``markets`` feeds the row-count check."""
    settings = settings or load_settings()
    # A run that starts right as its interval closes waits a moment for the last trades to settle. An
    # interval that has not ended yet is fetched as it is (its open candles stay out of the marts).
    since_end = (dt.datetime.now(dt.UTC) - interval_end).total_seconds()
    if 0 <= since_end < settings.candle_settle_s:
        wait = settings.candle_settle_s - since_end
        log.info("waiting %.0fs for the interval's last candles to settle", wait)
        time.sleep(wait)
    candle_unit = CandleUnit.parse(unit)
    if candle_unit == MINUTE:
        markets: list[str] | None = list(settings.minute_candle_markets)
    else:
        markets = list(settings.daily_candle_markets) or None
    result = asyncio.run(
        candles_el(settings, RunInterval(interval_start, interval_end, run_id), candle_unit, markets)
    )
    return _summary(result)


def transform_job(name: str, settings: BatchSettings | None = None) -> dict[str, Any]:
    settings = settings or load_settings()
    with connect(settings.dsn) as conn:
        return _summary(run_transform(conn, TRANSFORMS[name]))


def ticker_check_job(check: str, interval_start: dt.datetime, settings: BatchSettings | None = None) -> None:
    settings = settings or load_settings()
    params = {"interval_start": interval_start, "max_age_s": settings.freshness_max_age_s}
    with connect(settings.dsn) as conn:
        quality.run_check(conn, check, params, context=f"lake.ticker interval {interval_start.isoformat()}")


def candles_check_job(
    check: str,
    *,
    unit: str,
    interval_start: dt.datetime,
    interval_end: dt.datetime,
    markets: Sequence[str],
    settings: BatchSettings | None = None,
) -> None:
    settings = settings or load_settings()
    endpoint = CandleUnit.parse(unit).name
    allowed = settings.daily_candle_missing_allowed if endpoint == DAILY.name else 0
    params = {
        "endpoint": endpoint,
        "start": interval_start,
        "end": interval_end,
        "markets": list(markets),
        "allowed_missing": allowed,
    }
    with connect(settings.dsn) as conn:
        quality.run_check(
            conn,
            check,
            params,
            context=f"{endpoint} [{interval_start.isoformat()}, {interval_end.isoformat()})",
        )


def batch_check_job(check: str, transform: dict[str, Any], settings: BatchSettings | None = None) -> None:
    """A check over the lake rows one transform run folded in (its ``lo``/``hi`` summary)."""
    settings = settings or load_settings()
    with connect(settings.dsn) as conn:
        quality.run_check(
            conn,
            check,
            {"lo": transform["lo"], "hi": transform["hi"]},
            context=f"{transform['name']} ingest_seq ({transform['lo']}, {transform['hi']}]",
        )


def backfill_job(
    *,
    markets: Sequence[str] | str,
    start: str,
    end: str,
    unit: str,
    run_id: str,
    settings: BatchSettings | None = None,
) -> dict[str, Any]:
    """The backfill DAG's task: logs one progress line per page."""
    settings = settings or load_settings()
    request = BackfillRequest.build(unit=unit, markets=markets, start=start, end=end)

    def report(progress: MarketProgress) -> None:
        log.info(
            "backfill %s %s: %d pages, %d candles, back to %s (%.0f%%)%s",
            progress.endpoint,
            progress.market,
            progress.pages,
            progress.candles,
            progress.next_to.isoformat(),
            100 * progress.fraction,
            " done" if progress.done else "",
        )

    result = asyncio.run(backfill(settings, request, run_id=run_id, on_progress=report))
    return {
        "endpoint": result.endpoint,
        "markets": len(result.markets),
        "pages": result.pages,
        "candles": result.candles,
        "requests": result.requests,
        "seconds": result.seconds,
    }


def ml_train_job(interval: str, settings: BatchSettings | None = None) -> dict[str, Any]:
    """Train, validate, register and score the `interval` model; ``skipped`` says why when the history is
    too short to validate (nothing is registered then)."""
    from cryptoflow_batch import ml  # noqa: PLC0415  # numpy, scikit-learn, LightGBM: only when training
    from cryptoflow_ml.validation import NotEnoughData  # noqa: PLC0415

    settings = settings or load_settings()
    try:
        _, summary = ml.train_and_register(settings.dsn, interval, on_step=lambda s: log.info("%s", s))
    except NotEnoughData as exc:
        log.warning("no %s model trained: %s", interval, exc)
        return {"interval": interval, "skipped": str(exc)}
    return summary


def ml_score_job(interval: str, settings: BatchSettings | None = None) -> dict[str, Any]:
    """The current `interval` model's predictions for every market's newest closed candle."""
    from cryptoflow_batch import ml  # noqa: PLC0415

    settings = settings or load_settings()
    try:
        return ml.score(settings.dsn, interval)
    except ml.NoModel as exc:
        log.warning("nothing scored: %s", exc)
        return {"interval": interval, "skipped": str(exc)}
