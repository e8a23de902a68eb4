"""Typed settings of the archiver: environment variables prefixed `CRYPTOFLOW_ARCHIVE_`, CLI overrides."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CRYPTOFLOW_ARCHIVE_"


class ArchiveSettings(BaseSettings):
    """Every default points at loopback, so a local stack needs no edits."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    kafka_bootstrap: str = "127.0.0.1:9092"
    group_id: str = "cryptoflow-archive"
    # Prepended to every contract topic name (`upbit.trade` -> `<prefix>upbit.trade`), DLQ included.
    topic_prefix: str = ""
    # The CryptoFlow database (the schema comes from `cryptoflow-batch db upgrade`).
    dsn: str = "postgresql://postgres@127.0.0.1:5432/cryptoflow"

    batch_size: int = Field(default=5_000, ge=1)
    poll_timeout_ms: int = Field(default=500, ge=1)
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    # PostgreSQL or Kafka unreachable: retry the batch with jittered exponential backoff between these.
    retry_initial_s: float = Field(default=0.1, gt=0)
    retry_max_s: float = Field(default=5.0, gt=0)
    # After SIGTERM, how long an unfinished batch may still take before it is left uncommitted.
    shutdown_grace_s: float = Field(default=10.0, ge=0)

    # Daily partitions are created this many UTC days ahead of today (and for any day a trade needs).
    partitions_ahead_days: int = Field(default=2, ge=0)
    # Partitions whose day ended more than this many days ago are dropped; None keeps every trade forever.
    retention_days: int | None = Field(default=None, ge=1)
    # How often open minute candles whose minute has ended are marked closed (and partitions maintained).
    maintenance_interval_s: float = Field(default=5.0, gt=0)

    metrics_port: int | None = Field(default=9110, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    log_interval_s: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"

    @field_validator("metrics_port", "retention_days", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        # An empty value, "none" or "off" turns the endpoint (the retention) off.
        if isinstance(value, str) and value.strip().lower() in {"", "none", "off"}:
            return None
        return value

    def topic(self, name: str) -> str:
        """The Kafka topic name this archiver uses for contract topic `name`."""
        return f"{self.topic_prefix}{name}"
