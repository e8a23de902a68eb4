"""The command line: settings errors and user errors are one line and exit 2; export writes exact files."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest

from cryptoflow_archive.cli import main

DAY = dt.date(2026, 3, 12)
T0 = int(dt.datetime(2026, 3, 12, tzinfo=dt.UTC).timestamp() * 1000)


def _plant(dsn: str) -> list[tuple[Any, ...]]:
    rows = [("KRW-BTC", T0 + i * 1000 + (7 if i % 2 else 0), 900 - i, f"104862000.{i}", f"0.{i:08d}1", "BID")
            for i in range(120)]  # fmt: skip
    rows += [("KRW-BTC", T0 - 1, 1, "1", "1", "ASK"), ("KRW-ETH", T0 + 5, 2, "2", "2", "ASK")]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT lake.ensure_trade_partitions(%s, %s)", (T0 - 1, T0 + 86_400_000))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO lake.trades VALUES (%s, %s, %s, %s, %s, %s, 0, 'ws')", rows)
    return sorted((r for r in rows if r[0] == "KRW-BTC" and r[1] >= T0), key=lambda r: (r[1], r[2]))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_one_market_day_in_order_with_exact_decimals(
    archive_dsn: str, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _plant(archive_dsn)
    out = tmp_path / f"btc.{fmt}"
    argv = ["export", "--market", "krw-btc", "--date", DAY.isoformat(), "--format", fmt, "--output", str(out)]
    assert main([*argv, "--dsn", archive_dsn, "--no-progress"]) == 0
    assert f"{out}: 120 trades" in capsys.readouterr().out
    if fmt == "parquet":
        table = pq.read_table(out).to_pylist()
        got = [(r["market"], r["trade_timestamp"], r["sequential_id"], r["price"], r["volume"], r["side"])
               for r in table]  # fmt: skip
    else:
        with out.open() as f:
            got = [(r["market"], int(r["trade_timestamp"]), int(r["sequential_id"]), Decimal(r["price"]),
                    Decimal(r["volume"]), r["side"]) for r in csv.DictReader(f)]  # fmt: skip
    assert got == [(m, ts, sid, Decimal(p), Decimal(v), side) for m, ts, sid, p, v, side in expected]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "--market", "KRW-BTC", "--date", "2026-13-01"], "--date must be YYYY-MM-DD"),
        (["export", "--market", "KRW-BTC", "--date", "2026-03-12", "--format", "xlsx"], "--format must be"),
        (["export", "--market", "KRW-DOGE", "--date", "2026-03-12"], "no archived trades of KRW-DOGE"),
        (["run", "--batch-size", "0"], "CRYPTOFLOW_ARCHIVE_BATCH_SIZE"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    archive_dsn: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--dsn", archive_dsn]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", "--market", "KRW-BTC", "--date", "2026-03-12", "--dsn", "postgresql://x@127.0.0.1:1/x"]
    assert main(argv) == 2
    assert "cannot reach the database" in capsys.readouterr().err


def test_run_without_schema_says_how_to_fix_it(
    postgres_db: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["run", "--dsn", postgres_db, "--kafka-bootstrap", "127.0.0.1:1", "--no-metrics"]) == 2
    assert "cryptoflow-batch db upgrade" in capsys.readouterr().err + caplog.text
