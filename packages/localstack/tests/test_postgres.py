"""The PostgreSQL launcher: initdb + postgres on loopback, databases per test, data across restarts."""

from __future__ import annotations

import re
from decimal import Decimal

import psycopg
import pytest

from cryptoflow_localstack.postgres_server import PostgresServer


def test_write_then_read_across_stop_and_kill(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("survives_restarts")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ticks (market text, price numeric(30, 8))")
        conn.execute("INSERT INTO ticks VALUES ('KRW-BTC', %s)", (Decimal("143250000.12345678"),))

    postgres_server.stop()
    assert not postgres_server.running
    postgres_server.start()
    postgres_server.kill()
    postgres_server.start()

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT market, price FROM ticks").fetchall() == [
            ("KRW-BTC", Decimal("143250000.12345678"))
        ]
    postgres_server.drop_database("survives_restarts")


def test_postgres_db_is_a_fresh_database(postgres_db: str, postgres_server: PostgresServer) -> None:
    assert postgres_db.startswith(f"postgresql://postgres@127.0.0.1:{postgres_server.port}/t_")
    with psycopg.connect(postgres_db) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)


def test_dsn_and_version(postgres_server: PostgresServer) -> None:
    assert postgres_server.dsn == f"postgresql://postgres@127.0.0.1:{postgres_server.port}/postgres"
    with psycopg.connect(postgres_server.dsn) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()
    assert server_version is not None
    assert postgres_server.version == f"PostgreSQL {server_version[0].split()[0]}"
    assert re.fullmatch(r"PostgreSQL \d+\.\d+", postgres_server.version)


def test_only_loopback_listens(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.dsn) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)


def test_unsafe_database_names_are_refused(postgres_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="database name"):
        postgres_server.create_database('x"; DROP DATABASE postgres; --')
