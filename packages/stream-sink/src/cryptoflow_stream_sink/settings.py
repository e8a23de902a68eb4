"""Typed settings of the sink process: environment variables prefixed `CRYPTOFLOW_SINK_`, CLI overrides."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CRYPTOFLOW_SINK_"
_DAY_MS = 24 * 3600 * 1000


class SinkSettings(BaseSettings):
    """Every default points at loopback, so a local stack needs no edits."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    kafka_bootstrap: str = "127.0.0.1:9092"
    group_id: str = "cryptoflow-stream-sink"
    # Prepended to every contract topic name (`upbit.trade` -> `<prefix>upbit.trade`), DLQ included:
    # lets tests, demos and a second environment share one cluster.
    topic_prefix: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Per market: the trades stream keeps about `stream_maxlen` entries (XADD MAXLEN ~). The
    # exactly-once guard keeps the ids of the newest `dedup_max_ids` trades within `dedup_horizon_ms`
    # of the newest one; it must cover at least the stream (see README, "Exactly once").
    stream_maxlen: int = Field(default=10_000, ge=1)
    dedup_max_ids: int = Field(default=20_000, ge=1)
    # Upbit's REST trades reach back 7 days, so a backfill never repeats anything older; one day of margin.
    dedup_horizon_ms: int = Field(default=8 * _DAY_MS, ge=1)

    batch_size: int = Field(default=1_000, ge=1)
    poll_timeout_ms: int = Field(default=500, ge=1)
    # A member that stops heartbeating for this long loses its partitions to the others.
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    # Redis unreachable: retry the batch with exponential backoff (jittered) between these bounds.
    retry_initial_s: float = Field(default=0.1, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)
    # After SIGTERM, how long an unfinished write or commit may still take before the batch is given
    # up (uncommitted, so it is read again by whoever owns the partition next).
    shutdown_grace_s: float = Field(default=10.0, ge=0)

    metrics_port: int | None = Field(default=9109, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    log_interval_s: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _no_port(cls, value: object) -> object:
        # CRYPTOFLOW_SINK_METRICS_PORT= (empty) or "off" turns the endpoint off.
        if isinstance(value, str) and value.strip().lower() in {"", "none", "off"}:
            return None
        return value

    @model_validator(mode="after")
    def _guard_covers_stream(self) -> Self:
        if self.dedup_max_ids < self.stream_maxlen:
            raise ValueError(
                f"{ENV_PREFIX}DEDUP_MAX_IDS ({self.dedup_max_ids}) must be >= {ENV_PREFIX}STREAM_MAXLEN "
                f"({self.stream_maxlen}): the guard must remember every trade the stream still holds"
            )
        return self

    def topic(self, name: str) -> str:
        """The Kafka topic name this sink uses for contract topic `name`."""
        return f"{self.topic_prefix}{name}"
