"""Migrations (idempotent, tamper-evident, partitions) and the command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cryptoflow_batch import db
from cryptoflow_batch.cli import main
from cryptoflow_batch.settings import SettingsError, load_settings
from cryptoflow_batch.sql import migration_names
from cryptoflow_localstack.postgres_server import PostgresServer

UTC = dt.UTC


def test_upgrade_is_idempotent_and_refuses_edited_history(postgres_db: str) -> None:
    assert (
        db.upgrade(postgres_db)
        == migration_names()
        == [
            "0001_lake",
            "0002_mart",
            "0003_indicators",
            "0004_trades",
            "0005_ml",
            "0006_candles_from_index",
        ]
    )
    assert db.upgrade(postgres_db) == []
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname IN ('lake', 'mart')"
            )
        }
        conn.execute("UPDATE cryptoflow_meta.schema_migrations SET checksum = 'x' WHERE name = '0002_mart'")
    assert {"mart.markets", "mart.market_stats_24h", "mart.candles_1d", "mart.candles_1m"} <= tables
    assert {"mart.indicators", "lake.markets", "lake.ticker", "lake.candles"} <= tables
    assert {"mart.ml_models", "mart.predictions"} <= tables
    assert "mart.indicators_1m" in tables
    with pytest.raises(db.MigrationError, match="0002_mart changed"):
        db.upgrade(postgres_db)


def test_monthly_partitions_are_utc_months_created_once(batch_dsn: str, query: Callable[..., Any]) -> None:
    months = (dt.datetime(2026, 1, 31, 23, 50, tzinfo=UTC), dt.datetime(2026, 3, 1, tzinfo=UTC))
    # A session in KST must still get UTC months.
    with psycopg.connect(batch_dsn, autocommit=True, options="-c TimeZone=Asia/Seoul") as conn:
        created = conn.execute(
            "SELECT lake.ensure_month_partitions('lake.ticker', %s, %s)", months
        ).fetchone()
        again = conn.execute("SELECT lake.ensure_month_partitions('lake.ticker', %s, %s)", months).fetchone()
    assert created == (3,)
    assert again == (0,)
    bounds = query(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'lake.ticker'::regclass
             AND c.relname IN ('ticker_p202601', 'ticker_p202602', 'ticker_p202603') ORDER BY 1"""
    )
    assert bounds[1] == (
        "ticker_p202602",
        "FOR VALUES FROM ('2026-02-01 00:00:00+00') TO ('2026-03-01 00:00:00+00')",
    )


def test_cli_db_upgrade_creates_the_database(
    postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"cli_{secrets.token_hex(4)}"
    dsn = postgres_server.url(name)
    try:
        assert main(["--dsn", dsn, "db", "upgrade", "--create"]) == 0
        assert f"created database {name}" in capsys.readouterr().out
        assert main(["--dsn", dsn, "db", "upgrade"]) == 0
        assert "schema is up to date" in capsys.readouterr().out
    finally:
        postgres_server.drop_database(name)


def test_cli_reports_bad_settings_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRYPTOFLOW_BATCH_CONCURRENCY", "lots")
    assert main(["transform"]) == 2
    assert "CRYPTOFLOW_BATCH_CONCURRENCY" in capsys.readouterr().err
    with pytest.raises(SettingsError, match="CRYPTOFLOW_BATCH_CONCURRENCY"):
        load_settings()


def test_airflow_env_for_the_local_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRYPTOFLOW_BATCH_STATE_DIR", str(tmp_path))
    args = ["--dsn", "postgresql://u:p@127.0.0.1:5499/cf", "airflow", "env", "--format", "json"]
    assert main(args) == 0
    env = json.loads(capsys.readouterr().out)
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg://u:p@127.0.0.1:5499/airflow"
    assert env["AIRFLOW__API__PORT"] == "8081"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("cryptoflow_batch/dags")
    assert env["CRYPTOFLOW_BATCH_DSN"] == "postgresql://u:p@127.0.0.1:5499/cf"
    assert (tmp_path / "airflow" / "secrets.json").stat().st_mode & 0o077 == 0  # secrets are private


def test_cli_user_errors_are_one_line_and_exit_2(batch_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown market, a bad date or unit: one line naming it, exit 2, never a traceback (an unknown
    market printed a 46-line ExceptionGroup from the backfill's task group)."""
    rest_url = os.environ["CRYPTOFLOW_BATCH_UPBIT_REST_URL"]
    cases = {
        ("backfill", "--markets", "KRW-NOPE,KRW-BTC", "--from", "2026-01-01", "--to", "2026-02-01"): (
            f"cryptoflow-batch: unknown market(s) KRW-NOPE: not listed by {rest_url}"
        ),
        ("backfill", "--markets", "KRW-BTC", "--from", "2026-13-01", "--to", "2026-02-01"): (
            "cryptoflow-batch: '2026-13-01' is not a date (2026-01-31) or an ISO 8601 time"
        ),
        ("el", "candles", "--unit", "fortnights"): "cryptoflow-batch: ",
        ("transform", "nope"): "cryptoflow-batch: unknown transform(s) ['nope']",
    }
    for argv, start in cases.items():
        assert main(list(argv)) == 2, argv
        captured = capsys.readouterr()
        assert captured.err.startswith(start), captured.err
        assert captured.err.count("\n") == 1, captured.err
        assert "Traceback" not in captured.err


def test_the_container_entrypoint_runs_airflow_roles_and_any_other_command() -> None:
    from cryptoflow_batch.container import command_for  # noqa: PLC0415

    assert command_for(["scheduler"]) == ["airflow", "scheduler"]
    assert command_for(["api-server", "--port", "8080"]) == ["airflow", "api-server", "--port", "8080"]
    assert command_for(["cryptoflow-batch", "el", "ticker"]) == ["cryptoflow-batch", "el", "ticker"]
    assert command_for(["airflow", "dags", "list"]) == ["airflow", "dags", "list"]
