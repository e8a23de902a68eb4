"""Typed settings of the ingest process: `CRYPTOFLOW_INGEST_*` environment variables, CLI overrides."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cryptoflow_contracts.markets import MarketPair

# Upbit serves these orderbook depths; since 2025-07-02 anything else silently falls back to 30.
ORDERBOOK_DEPTHS = (1, 5, 15, 30)


class WsFormat(StrEnum):
    DEFAULT = "DEFAULT"
    SIMPLE = "SIMPLE"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class IngestSettings(BaseSettings):
    """Every default points at loopback or at Upbit itself, so a local stack needs no edits."""

    model_config = SettingsConfigDict(env_prefix="CRYPTOFLOW_INGEST_", extra="forbid")

    ws_url: str = "wss://api.upbit.com/websocket/v1"
    rest_url: str = "https://api.upbit.com"
    kafka_bootstrap: str = "127.0.0.1:9092"
    # Prepended to every contract topic name (`upbit.trade` -> `<prefix>upbit.trade`), as in the sink:
    # lets tests, demos and a second environment share one cluster. Headers keep the contract name.
    topic_prefix: str = ""

    # Which markets: an explicit list wins; otherwise every market whose quote currency is listed
    # (empty = all quote currencies).
    quote_currencies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    markets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    discovery_interval_s: float = Field(default=60.0, gt=0)

    orderbook_depth: int = 30
    ws_format: WsFormat = WsFormat.DEFAULT
    codes_per_connection: int = Field(default=100, ge=1)
    # Upbit: 5 connection requests/s per IP; 5 data requests/s and 100/min per connection.
    connects_per_s: int = Field(default=5, ge=1)
    subscribes_per_s: int = Field(default=5, ge=1)
    subscribes_per_min: int = Field(default=100, ge=1)
    # Each window is held this much longer than its nominal period: the exchange counts arrivals, and a
    # request that left late (a slow handshake, a busy loop) must not land in the next one's window.
    rate_limit_slack_s: float = Field(default=0.25, ge=0)

    # permessage-deflate: Upbit supports it; it trades CPU for bandwidth.
    ws_deflate: bool = True
    idle_timeout_s: float = Field(default=30.0, gt=0)
    # Upbit closes a connection idle for ~120 s; a text PING also makes it send {"status":"UP"}.
    ping_interval_s: float = Field(default=20.0, gt=0)
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)

    # Gap recovery: trades with trade_timestamp >= last seen - margin whose id we have not seen are
    # published from REST. Ids are not ordered, so the margin (not the id) bounds the search.
    backfill_margin_ms: int = Field(default=10_000, ge=0)
    backfill_max_age_s: float = Field(default=7 * 24 * 3600, gt=0)
    # With no state for a market (first start), how far back to fetch; 0 = start from live data.
    cold_start_lookback_s: float = Field(default=0.0, ge=0)
    # A market listed while running is fetched this far back (its first trades may precede our refresh).
    listing_lookback_s: float = Field(default=600.0, ge=0)
    backfill_concurrency: int = Field(default=4, ge=1)
    state_file: Path | None = Path("cryptoflow-ingest-state.json")
    state_flush_interval_s: float = Field(default=2.0, gt=0)

    queue_size: int = Field(default=20_000, ge=1)
    publish_batch: int = Field(default=1_000, ge=1)
    inflight_batches: int = Field(default=8, ge=1)
    # The publisher already batches whatever waits in the queue; lingering only adds latency (measured:
    # 5 ms of linger cost ~10 ms at p50 at 1,000 msg/s).
    linger_ms: int = Field(default=0, ge=0)
    max_batch_bytes: int = Field(default=256 * 1024, ge=1024)
    compression: str | None = None

    metrics_port: int | None = 9108
    metrics_host: str = "127.0.0.1"
    log_interval_s: float = Field(default=5.0, gt=0)

    def topic(self, name: str) -> str:
        """The Kafka topic name this process writes for contract topic `name`."""
        return f"{self.topic_prefix}{name}"

    @field_validator("quote_currencies", "markets", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("quote_currencies", "markets")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [item.upper() for item in value]

    @field_validator("markets")
    @classmethod
    def _market_codes(cls, value: list[str]) -> list[str]:
        return [MarketPair.parse(code).code for code in value]  # ValueError naming a malformed code

    @field_validator("orderbook_depth")
    @classmethod
    def _depth(cls, value: int) -> int:
        if value not in ORDERBOOK_DEPTHS:
            raise ValueError(f"must be one of {ORDERBOOK_DEPTHS}")
        return value
