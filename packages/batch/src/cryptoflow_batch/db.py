"""Connections and schema migrations of the CryptoFlow database (``lake``, ``mart``, ``cryptoflow_meta``).

Migrations are the ``sql/migrations/NNNN_name.sql`` files, applied in order, each in its own transaction,
and recorded with a checksum in ``cryptoflow_meta.schema_migrations``. An applied file must never change:
``upgrade`` refuses to run when one did.
"""

from __future__ import annotations

import hashlib
import logging

import psycopg
from psycopg import sql

from cryptoflow_batch.sql import load_text, migration_names

log = logging.getLogger(__name__)

# One session-level advisory lock: two `db upgrade` at stack start wait for each other instead of racing.
_MIGRATION_LOCK = "cryptoflow:migrations"


class MigrationError(RuntimeError):
    """The database's migration history does not match the files of this package."""


# Session settings of every connection. TimeZone: ``date_trunc`` and ``::date`` mean UTC days. jit off: our
# statements are short (incremental transforms, checks, loads) or bound by I/O (full builds), and a
# plan whose estimate crosses jit_above_cost spent 0.4-4.5 s compiling for nothing (measured).
_OPTIONS = "-c TimeZone=UTC -c jit=off"


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection with the session settings above (UTC days, no JIT)."""
    conn = psycopg.connect(dsn, autocommit=autocommit, options=_OPTIONS)
    return conn


async def connect_async(dsn: str, *, autocommit: bool = False) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(dsn, autocommit=autocommit, options=_OPTIONS)


def _checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def applied_migrations(conn: psycopg.Connection) -> dict[str, str]:
    """Applied migration name -> checksum (empty when the table does not exist yet)."""
    exists = conn.execute("SELECT to_regclass('cryptoflow_meta.schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT name, checksum FROM cryptoflow_meta.schema_migrations").fetchall()
    return {name: checksum for name, checksum in rows}


def upgrade(dsn: str) -> list[str]:
    """Apply every migration the database lacks; returns the names applied (empty when up to date)."""
    applied: list[str] = []
    with connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (_MIGRATION_LOCK,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS cryptoflow_meta")
            conn.execute(
                """CREATE TABLE IF NOT EXISTS cryptoflow_meta.schema_migrations (
                       name text PRIMARY KEY,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = applied_migrations(conn)
            known = migration_names()
            unknown = sorted(set(done) - set(known))
            if unknown:
                raise MigrationError(f"the database has migrations this package does not know: {unknown}")
            for name in known:
                text = load_text(f"migrations/{name}")
                if name in done:
                    if done[name] != _checksum(text):
                        raise MigrationError(f"migration {name} changed after it was applied; add a new one")
                    continue
                with conn.transaction():
                    conn.execute(sql.SQL(text))
                    conn.execute(
                        "INSERT INTO cryptoflow_meta.schema_migrations (name, checksum) VALUES (%s, %s)",
                        (name, _checksum(text)),
                    )
                log.info("applied migration %s", name)
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (_MIGRATION_LOCK,))
    return applied


def create_database(admin_dsn: str, name: str) -> bool:
    """Create database ``name`` on the server of ``admin_dsn`` unless it exists; True when created."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True
