"""Pipeline health, read server-side for `/api/pipeline-health/` (the browser never holds Airflow's
credentials): data age per market in Redis, the last run of each Airflow DAG, Kafka consumer lag and
dead-letter counts from the sink's metrics, Celery Beat's last run per task, ingest/sink metrics.

Every check answers `{"level": "green"|"amber"|"red", "threshold": "<the rule in words>", ...}`; an upstream
that does not answer is a red check whose `error` says why, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any, cast

import httpx
import redis
from celery import Task
from prometheus_client.parser import text_string_to_metric_families

from cryptoflow_service.common.conf import service_config
from cryptoflow_service.common.redis import get_redis
from cryptoflow_service.common.timeutils import now_ms
from cryptoflow_service.live import selectors as live

TASK_RUNS_KEY = "service:task-runs"
"""Redis hash: Celery task name (+ its interval kwarg) -> JSON `{ms, state}` of its last finished run."""

# Thresholds, shown on the page next to each level.
DATA_AGE_AMBER_MS = 10_000
DATA_AGE_RED_MS = 60_000
LAG_AMBER = 1_000
LAG_RED = 10_000
TASK_LATE_AMBER = 2.0
TASK_LATE_RED = 5.0
"""A periodic task is amber when its last run is older than 2x its period, red beyond 5x (or never)."""
DAG_RUN_STATES = {"success": "green", "running": "amber", "queued": "amber", "failed": "red"}


def record_task_run(task: Task | None, state: str, kwargs: Mapping[str, Any] | None) -> None:
    """Called by Celery's `task_postrun` signal: the task's last run time and state, for the health page."""
    if task is None:
        return
    name = task.name + (f"[{kwargs['interval']}]" if kwargs and "interval" in kwargs else "")
    # On a Redis error the health page shows an older run: never fail a task for its bookkeeping.
    with contextlib.suppress(redis.RedisError):
        get_redis().hset(TASK_RUNS_KEY, name, json.dumps({"ms": now_ms(), "state": state}))


def _level(value: float, amber: float, red: float) -> str:
    return "green" if value < amber else "amber" if value < red else "red"


def data_age() -> dict[str, Any]:
    threshold = (
        f"amber from {DATA_AGE_AMBER_MS // 1000} s, red from {DATA_AGE_RED_MS // 1000} s "
        "(red when no market has a ticker)"
    )
    try:
        tickers = live.tickers()
    except redis.RedisError as exc:
        return {"level": "red", "threshold": threshold, "error": f"Redis unreachable: {exc}", "markets": []}
    markets = [
        {
            "market": ticker["market"],
            "age_ms": ticker["age_ms"],
            "level": "red"
            if ticker["age_ms"] is None
            else _level(ticker["age_ms"], DATA_AGE_AMBER_MS, DATA_AGE_RED_MS),
        }
        for ticker in tickers
    ]
    worst = max((m["level"] for m in markets), key=["green", "amber", "red"].index, default="red")
    return {
        "level": worst,
        "threshold": threshold,
        "error": None,
        "markets": sorted(markets, key=lambda m: -(m["age_ms"] or 0)),
    }


def _metrics(url: str) -> dict[str, float]:
    """`name{label="v",...}` -> value for every sample of a Prometheus text endpoint."""
    response = httpx.get(url, timeout=service_config().health_timeout_s)
    response.raise_for_status()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "le")
            if "le" in sample.labels or sample.name.endswith("_created"):
                continue  # histogram buckets and creation times: the page shows counts and sums
            samples[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return samples


def _process(name: str, url: str) -> dict[str, Any]:
    if not url:
        return {"name": name, "url": url, "level": "red", "error": "no metrics URL configured", "samples": {}}
    try:
        samples = _metrics(url)
    except (httpx.HTTPError, ValueError) as exc:
        return {"name": name, "url": url, "level": "red", "error": f"unreachable: {exc}", "samples": {}}
    return {"name": name, "url": url, "level": "green", "error": None, "samples": samples}


KAFKA_THRESHOLD = f"lag: amber from {LAG_AMBER:,} records, red from {LAG_RED:,}; dead letters: amber above 0"


def kafka(sink: Mapping[str, Any]) -> dict[str, Any]:
    """Consumer lag and dead-letter counts, from the sink's own metrics."""
    if sink["error"]:
        return {
            "level": "red",
            "threshold": KAFKA_THRESHOLD,
            "error": sink["error"],
            "lag": {},
            "dlq": {},
        }
    samples: dict[str, float] = sink["samples"]
    lag = {
        k.split("topic=")[1].rstrip("}"): v
        for k, v in samples.items()
        if k.startswith("cryptoflow_sink_consumer_lag{")
    }
    dlq = {
        k.split("topic=")[1].rstrip("}"): v
        for k, v in samples.items()
        if k.startswith("cryptoflow_sink_dlq_total{")
    }
    level = _level(max(lag.values(), default=0), LAG_AMBER, LAG_RED)
    if sum(dlq.values()) > 0 and level == "green":
        level = "amber"
    return {
        "level": level,
        "threshold": KAFKA_THRESHOLD,
        "error": None,
        "lag": lag,
        "dlq": dlq,
    }


def _airflow_token(client: httpx.Client) -> str:
    config = service_config()
    if config.airflow_username:
        response = client.post(
            "/auth/token",
            json={
                "username": config.airflow_username,
                "password": config.airflow_password.get_secret_value(),
            },
        )
    else:
        response = client.get("/auth/token")  # the simple auth manager's all-admins mode
    response.raise_for_status()
    return str(response.json()["access_token"])


def airflow() -> dict[str, Any]:
    """The newest run of every DAG (Airflow 3's REST API v2)."""
    config = service_config()
    threshold = "green: last run succeeded; amber: queued or running; red: failed, or Airflow unreachable"
    if not config.airflow_url:
        return {
            "level": "red",
            "threshold": threshold,
            "error": "Airflow unreachable: no URL configured",
            "dags": [],
        }
    try:
        with httpx.Client(base_url=config.airflow_url, timeout=config.health_timeout_s) as client:
            client.headers["Authorization"] = f"Bearer {_airflow_token(client)}"
            listing = client.get("/api/v2/dags", params={"limit": 100})
            listing.raise_for_status()
            dags = []
            for dag in listing.json().get("dags", []):
                runs = client.get(
                    f"/api/v2/dags/{dag['dag_id']}/dagRuns", params={"limit": 1, "order_by": "-run_after"}
                )
                runs.raise_for_status()
                newest = (runs.json().get("dag_runs") or [None])[0]
                state = newest["state"] if newest else None
                dags.append(
                    {
                        "dag_id": dag["dag_id"],
                        "paused": dag.get("is_paused"),
                        "state": state,
                        "run_after": newest.get("run_after") if newest else None,
                        "end_date": newest.get("end_date") if newest else None,
                        "level": DAG_RUN_STATES.get(state or "", "amber"),
                    }
                )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return {"level": "red", "threshold": threshold, "error": f"Airflow unreachable: {exc}", "dags": []}
    worst = max((d["level"] for d in dags), key=["green", "amber", "red"].index, default="amber")
    return {"level": worst, "threshold": threshold, "error": None, "dags": dags}


def beat() -> dict[str, Any]:
    """Each Beat entry's last finished run, against its period."""
    from django.conf import settings  # noqa: PLC0415 - the schedule is built by the settings

    try:
        runs = cast(dict[str, str], get_redis().hgetall(TASK_RUNS_KEY))
    except redis.RedisError as exc:
        return {"level": "red", "threshold": "", "error": f"Redis unreachable: {exc}", "tasks": []}
    now = now_ms()
    tasks = []
    for entry, spec in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        key = spec["task"] + (
            f"[{spec['kwargs']['interval']}]" if "interval" in spec.get("kwargs", {}) else ""
        )
        schedule = spec["schedule"]
        period_s = float(schedule) if isinstance(schedule, int | float) else 86_400.0
        last = json.loads(runs[key]) if key in runs else None
        age_ms = now - int(last["ms"]) if last else None
        # Never run: amber (Beat sends an interval task first one period after it starts).
        late = None if age_ms is None else age_ms / 1000 / period_s
        level = "amber" if late is None else _level(late, TASK_LATE_AMBER, TASK_LATE_RED)
        if last and last["state"] != "SUCCESS" and level == "green":
            level = "amber"
        tasks.append(
            {
                "entry": entry,
                "task": key,
                "period_s": period_s,
                "last_run_ms": int(last["ms"]) if last else None,
                "state": last["state"] if last else None,
                "age_ms": age_ms,
                "level": level,
            }
        )
    worst = max((t["level"] for t in tasks), key=["green", "amber", "red"].index, default="green")
    return {
        "level": worst,
        "threshold": f"amber when not run yet or the last run is older than {TASK_LATE_AMBER:g}x the period "
        f"(or failed), red beyond {TASK_LATE_RED:g}x",
        "error": None,
        "tasks": tasks,
    }


def pipeline_health() -> dict[str, Any]:
    started = time.monotonic()
    config = service_config()
    ingest = _process("ingest", config.ingest_metrics_url)
    sink = _process("stream-sink", config.sink_metrics_url)
    return {
        "server_time": now_ms(),
        "data_age": data_age(),
        "airflow": airflow(),
        "kafka": kafka(sink),
        "beat": beat(),
        "processes": [ingest, sink],
        "took_ms": round((time.monotonic() - started) * 1000),
    }
