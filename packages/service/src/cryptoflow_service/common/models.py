"""Model field types shared by the service's own tables and the unmanaged mart models."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class NumericField(models.DecimalField):  # type: ignore[type-arg]
    """PostgreSQL `numeric` without precision or scale: exact decimals of any size, as in the marts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_digits"] = None
        kwargs["decimal_places"] = None
        super().__init__(*args, **kwargs)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        # Precision and scale are left out on purpose (E130/E132 demand them).
        return [error for error in super().check(**kwargs) if error.id not in {"fields.E130", "fields.E132"}]

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "numeric"

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, args, kwargs
