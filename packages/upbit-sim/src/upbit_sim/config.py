"""Settings of one simulator: environment variables `UPBIT_SIM_*`, overridden by CLI arguments or by
keyword arguments in Python (`SimConfig(markets=3, rate=0)`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPBIT_SIM_", frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="address to bind (0.0.0.0 in a container)")
    port: int = Field(0, ge=0, le=65535, description="0 picks a free port")

    # market model
    markets: int = Field(10, ge=1, le=5000, description="how many markets (KRW, BTC and USDT quotes)")
    codes: list[str] | None = Field(None, description="exact market codes instead of --markets")
    seed: int = Field(1, description="same seed, same markets, history and event sequence")
    rate: float = Field(
        50.0, ge=0, description="data frames per second over all markets; 0 = as fast as possible"
    )
    trade_probability: float = Field(
        0.6, gt=0, le=1, description="share of events that are trades (else book updates)"
    )
    out_of_order_rate: float = Field(
        0.002, ge=0, le=1, description="share of trades whose frame arrives after the next one (like Upbit's)"
    )
    history_days: int = Field(400, ge=0, le=5000, description="day candles before the run")
    history_minutes: int = Field(
        15, ge=0, le=7 * 1440, description="generated trades before the run (the 'fine' window)"
    )
    history_rate: float = Field(5.0, gt=0, description="events per second in the fine window")
    max_trades_per_market: int = Field(1_000_000, ge=1000, description="older trades are dropped from memory")

    # WebSocket behaviour
    idle_timeout: float = Field(120.0, gt=0, description="close a connection silent for this long (s)")
    status_interval: float = Field(10.0, gt=0, description="{'status':'UP'} period after a text PING (s)")
    write_buffer_limit: int = Field(
        64 << 20, ge=1 << 16, description="bytes queued for a client before it is cut off"
    )

    # limits (0 turns one off)
    rest_rate_limit: int = Field(10, ge=0, description="REST requests per second per IP and group")
    origin_rate_limit: bool = Field(True, description="requests with an Origin header: 1 per 10 s")
    ws_connect_rate_limit: int = Field(5, ge=0, description="WebSocket connections per second per IP")
    ws_subscribe_per_sec: int = Field(
        5, ge=0, description="subscribe/list requests per second per connection"
    )
    ws_subscribe_per_min: int = Field(
        100, ge=0, description="subscribe/list requests per minute per connection"
    )
    abuse_after: int = Field(
        5, ge=0, description="429s within 10 s before the IP is blocked (418); 0 never blocks"
    )
    block_seconds: float = Field(10.0, gt=0, description="first 418 block; doubles on each new block")
    block_max_seconds: float = Field(600.0, gt=0)

    # replay
    replay: Path | None = Field(
        None, description="serve recorded DEFAULT frames (JSON lines) instead of generating"
    )
    replay_speed: str = Field("max", description="'max', 'realtime' or a speed factor such as 10")
    replay_start: Literal["subscription", "immediate"] = "subscription"

    # operations
    faults: list[str] = Field(
        default_factory=list, description="faults active from the start, NAME[:k=v,...]"
    )
    schedule: list[str] = Field(default_factory=list, description="market events, SECONDS:list|delist:CODE")
    admin_allow_remote: bool = Field(False, description="serve /admin to non-loopback peers too")
    log_interval: float = Field(10.0, ge=0, description="seconds between throughput lines on stderr; 0 = off")

    @field_validator("replay_speed")
    @classmethod
    def _speed(cls, value: str) -> str:
        if value not in ("max", "realtime"):
            try:
                if float(value) <= 0:
                    raise ValueError
            except ValueError:
                raise ValueError("replay_speed must be 'max', 'realtime' or a positive factor") from None
        return value

    @field_validator("codes")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("codes must be a non-empty list without duplicates")
        return value

    @classmethod
    def relaxed(cls, **overrides: object) -> SimConfig:
        """Limits off, small timeouts: what most tests and benchmarks want."""
        base: dict[str, object] = {
            "rest_rate_limit": 0,
            "origin_rate_limit": False,
            "ws_connect_rate_limit": 0,
            "ws_subscribe_per_sec": 0,
            "ws_subscribe_per_min": 0,
            "history_days": 60,
            "history_minutes": 5,
            "log_interval": 0,
        }
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]
