"""Typed settings of the batch package: environment variables prefixed ``CRYPTOFLOW_BATCH_``.

Read at run time (inside tasks and CLI commands), never at DAG parse time, so a DAG file loads even
when a value is missing or malformed; the task that needs it then fails with a message naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "CRYPTOFLOW_BATCH_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class BatchSettings(BaseSettings):
    """Every default points at loopback or at Upbit itself, so a local stack needs no edits."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    dsn: str = "postgresql://postgres@127.0.0.1:5432/cryptoflow"
    """The CryptoFlow database (schemas ``lake``, ``mart``, ``cryptoflow_meta``)."""
    upbit_rest_url: str = "https://api.upbit.com"

    quote_currencies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["KRW", "BTC", "USDT"])
    minute_candle_markets: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    )
    daily_candle_markets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Markets for the daily candle EL; empty = every listed market of ``quote_currencies``."""

    http_timeout_s: float = Field(default=10.0, gt=0)
    http_max_retries: int = Field(default=8, ge=0)
    http_backoff_base_s: float = Field(default=0.25, gt=0)
    http_backoff_cap_s: float = Field(default=10.0, gt=0)
    rate_per_second: int = Field(default=10, ge=1)
    """Requests per second per Upbit rate-limit group (Upbit allows 10)."""
    concurrency: int = Field(default=8, ge=1)
    """Markets fetched at the same time (the rate limiter still caps requests per group)."""
    ticker_chunk: int = Field(default=100, ge=1)
    """Markets per ``/v1/ticker`` call for markets that ``/v1/ticker/all`` did not return."""

    candle_settle_s: float = Field(default=30.0, ge=0)
    """Wait this long after an interval ends before fetching its candles (late trades settle)."""

    freshness_max_age_s: float = Field(default=300.0, gt=0)
    """A ticker older than this when collected (``collected_at - timestamp``) fails the freshness check."""
    daily_candle_missing_allowed: int = Field(default=0, ge=0)
    """Listed markets that may lack a daily candle (a day without trades has none) before the check fails."""

    state_dir: Path | None = None
    """Where the local Airflow keeps ``AIRFLOW_HOME`` (``<state_dir>/airflow``); default
    ``$CRYPTOFLOW_STATE_DIR`` or ``./.state``."""
    airflow_dsn: str | None = None
    """Airflow's metadata database; default: database ``airflow`` on the server of ``dsn``."""
    airflow_port: int = Field(default=8081, ge=1, le=65535)
    airflow_parallelism: int = Field(default=4, ge=1)
    airflow_user: str = Field(default="admin", pattern=r"^[A-Za-z0-9_.-]+$")
    """The local Airflow's one user (role admin): its API and UI answer nobody else."""
    airflow_password: SecretStr | None = None
    """That user's password; default: generated once into ``<state_dir>/airflow/secrets.json``."""

    @field_validator("quote_currencies", "minute_candle_markets", "daily_candle_markets", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("quote_currencies", "minute_candle_markets", "daily_candle_markets")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [item.upper() for item in value]


def load_settings(**overrides: object) -> BatchSettings:
    """The settings from the environment, with ``overrides`` (CLI arguments) on top.

    A bad value raises :class:`SettingsError` naming the variable, e.g. ``CRYPTOFLOW_BATCH_CONCURRENCY``.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return BatchSettings(**given)  # type: ignore[arg-type]  # keys are checked by extra="forbid"
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
