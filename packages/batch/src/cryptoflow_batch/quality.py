"""Data-quality checks: SQL files under ``sql/checks`` that return one line per offending row.

A check passes when its query returns nothing. :func:`run_check` raises :class:`DataQualityError` with
a message that names the rows (the first 20, and how many there were), so a failed Airflow task says
what is wrong without anyone opening the database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg

from cryptoflow_batch.sql import load_sql

log = logging.getLogger(__name__)

SHOWN = 20


class DataQualityError(Exception):
    """A check found offending rows; ``problems`` holds one line per row."""

    def __init__(self, check: str, problems: list[str], context: str = "") -> None:
        self.check = check
        self.problems = problems
        shown = "\n  ".join(problems[:SHOWN])
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        where = f" ({context})" if context else ""
        super().__init__(
            f"data-quality check {check} failed{where}: {len(problems)} problem(s):\n  {shown}{more}"
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def find_problems(conn: psycopg.Connection, check: str, params: Mapping[str, object]) -> CheckResult:
    rows = conn.execute(load_sql(f"checks/{check}"), dict(params)).fetchall()
    return CheckResult(check, [str(row[0]) for row in rows])


def run_check(conn: psycopg.Connection, check: str, params: Mapping[str, object], context: str = "") -> None:
    """Run one check; raise :class:`DataQualityError` naming the offending rows when it finds any."""
    result = find_problems(conn, check, params)
    if not result.ok:
        raise DataQualityError(check, result.problems, context)
    log.info("data-quality check %s passed (%s)", check, context)
