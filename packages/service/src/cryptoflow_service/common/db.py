"""INSERT ... ON CONFLICT DO NOTHING RETURNING id: which rows this call created, race-free.

Django's `bulk_create(ignore_conflicts=True)` cannot tell which rows were new; idempotent detection
and alerting need exactly that (only the inserting worker alerts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


def insert_ignore_returning_ids(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, constraint: str
) -> list[int]:
    """Insert `rows` (column -> value; every row the same columns); return the ids of those inserted.
    Rows that hit `constraint` (a unique constraint of `model`) are skipped."""
    if not rows:
        return []
    columns = list(rows[0])
    quote = connection.ops.quote_name
    values = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in rows)
    # Identifiers quoted by the database backend, values as %s parameters: nothing from a request is spliced.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) "  # noqa: S608
        f"VALUES {values} ON CONFLICT ON CONSTRAINT {quote(constraint)} DO NOTHING RETURNING id"
    )
    params = [row[column] for row in rows for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
