"""Typed service settings: every value comes from a `CRYPTOFLOW_SERVICE_*` environment variable, read once.

`cryptoflow_service.settings` (the Django settings module) builds Django's and Celery's settings from one
`ServiceSettings` instance; nothing else reads the environment. Every default points at loopback so the
local stack runs without edits. A malformed value fails at start with a message naming the variable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "CRYPTOFLOW_SERVICE_"
INSECURE_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - the dev default production refuses

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_PERIODS |= {"d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """`"600/min"` -> (600, 60); `"off"` or `""` -> None (no limit). Raises ValueError on anything else."""
    rate = rate.strip().lower()
    if rate in {"", "off", "none"}:
        return None
    count, _, period = rate.partition("/")
    if not count.isdigit() or period not in _PERIODS or int(count) < 1:
        raise ValueError(f"not a rate: {rate!r} (expected e.g. 600/min, or off)")
    return int(count), _PERIODS[period]


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

CommaList = Annotated[list[str], NoDecode]
"""A list written as `a,b,c` in the environment (JSON is not needed for a list of names)."""


class ServiceSettings(BaseSettings):
    """Everything the API, the Celery worker and Beat need. See `.env.example` for one line per variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # --- Django ---------------------------------------------------------------------------------------
    secret_key: SecretStr = SecretStr(INSECURE_SECRET_KEY)
    debug: bool = False
    allowed_hosts: CommaList = Field(default_factory=lambda: ["127.0.0.1", "localhost", "[::1]"])
    cors_allowed_origins: CommaList = Field(default_factory=list)
    """Empty (the default) sends no CORS headers: browsers only call the API from its own origin."""

    # --- Stores -----------------------------------------------------------------------------------------
    database_url: str = "postgresql://cryptoflow:cryptoflow@127.0.0.1:5432/cryptoflow"
    redis_url: str = "redis://127.0.0.1:6379/0"
    """The hot path's Redis (tickers, trade streams, order books, the market registry), also the
    throttling counters."""
    celery_broker_url: str = "redis://127.0.0.1:6379/1"

    # --- API --------------------------------------------------------------------------------------------
    anon_throttle_rate: str = "600/min"
    """Requests per client address (`N/sec|min|hour|day`); `off` disables throttling."""
    user_throttle_rate: str = "3000/min"
    trusted_proxies: int = Field(default=0, ge=0)
    """Reverse proxies in front of the service that append the client's address to `X-Forwarded-For`.
    0 (the default): the header is ignored, so a client cannot pick a fresh throttle count with it."""

    # --- Alerts -------------------------------------------------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_use_tls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    email_from: str = "cryptoflow@localhost"
    slack_webhook_url: str = ""
    """Slack incoming webhook for every rule with the `slack` channel; empty = the channel is off."""
    slack_timeout_s: float = Field(default=10.0, gt=0)
    alert_max_retries: int = Field(default=5, ge=0)
    alert_retry_backoff_s: float = Field(default=30.0, gt=0)
    """First retry delay's ceiling; each later retry doubles it, capped at `alert_retry_backoff_max_s`; the
    wait is a uniform draw in [ceiling/2, ceiling] (`cryptoflow_contracts.backoff`, as every package)."""
    alert_retry_backoff_max_s: float = Field(default=900.0, gt=0)

    # --- Analyses -----------------------------------------------------------------------------------------
    minute_markets: CommaList = Field(default_factory=list)
    """Markets whose 1-minute indicators (mart.indicators_1m) are also scanned for MA crosses."""
    indicators_poll_every_s: float = Field(default=15.0, gt=0)
    """How often Beat checks mart.indicators' max(updated_at); the scans run only when it moved."""
    cross_lookback_daily: int = Field(default=2, ge=1)
    """Crosses on the newest this many closed days alert (covers a missed scan)."""
    cross_lookback_minute: int = Field(default=5, ge=1)
    signal_history_daily: int = Field(default=30, ge=1)
    """Each scan records the crosses of the newest this many days as signals (older than
    `cross_lookback_daily`: recorded without alerting), so the signal list is full right after a start."""
    signal_history_minute: int = Field(default=60, ge=1)
    volume_spike_multiple: Decimal = Field(default=Decimal(3), gt=0)
    """Alert when today's volume is at least this multiple of the 30-day average daily volume."""
    volume_scan_every_s: float = Field(default=300.0, gt=0)

    # --- Alert rules on levels ------------------------------------------------------------------------------
    price_rules_every_s: float = Field(default=2.0, gt=0)
    """Price rules are evaluated on the live Redis tickers this often."""
    mart_rules_every_s: float = Field(default=30.0, gt=0)
    """24 h change and RSI rules are evaluated on the marts this often."""

    # --- Dashboard's pipeline health (read server-side: the browser never holds these credentials) -------
    airflow_url: str = "http://127.0.0.1:8081"
    """Airflow's API server (REST API v2); empty = not deployed (the health page says so)."""
    airflow_username: str = ""
    """Empty: ask Airflow's simple auth manager for a token without credentials (its all-admins mode)."""
    airflow_password: SecretStr = SecretStr("")
    ingest_metrics_url: str = "http://127.0.0.1:9108/metrics"
    sink_metrics_url: str = "http://127.0.0.1:9109/metrics"
    health_timeout_s: float = Field(default=2.0, gt=0)
    """Per upstream (Airflow, each metrics endpoint) when the health page asks."""

    @field_validator("allowed_hosts", "cors_allowed_origins", "minute_markets", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("anon_throttle_rate", "user_throttle_rate")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("minute_markets")
    @classmethod
    def _upper_markets(cls, value: list[str]) -> list[str]:
        return [market.upper() for market in value]

    def exposed_hosts(self) -> list[str]:
        """The allowed hosts that are not this machine's loopback names (where DEBUG would be seen)."""
        return [host for host in self.allowed_hosts if host not in LOOPBACK_HOSTS]

    def insecure_secret(self) -> bool:
        """True for the development default or a key too short to sign anything safely."""
        key = self.secret_key.get_secret_value()
        return key == INSECURE_SECRET_KEY or len(key) < 32
