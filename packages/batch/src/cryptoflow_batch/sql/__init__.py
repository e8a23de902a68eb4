"""SQL files shipped with the package, loaded by name: ``load_sql("transforms/market_stats_24h")``."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from psycopg import sql


@cache
def load_text(name: str) -> str:
    """The text of ``cryptoflow_batch/sql/<name>.sql``."""
    resource = files(__package__).joinpath(f"{name}.sql")
    if not resource.is_file():
        raise FileNotFoundError(f"no SQL file named {name!r} in cryptoflow_batch/sql")
    return resource.read_text(encoding="utf-8")


def load_sql(name: str) -> sql.SQL:
    """A SQL file as a psycopg query object (``%(param)s`` placeholders, no string formatting)."""
    return sql.SQL(load_text(name))


def migration_names() -> list[str]:
    """Migration files (``NNNN_name``) in apply order."""
    folder = files(__package__).joinpath("migrations")
    return sorted(p.name.removesuffix(".sql") for p in folder.iterdir() if p.name.endswith(".sql"))
