"""Typed access to the one `ServiceSettings` instance that `cryptoflow_service.settings` built."""

from __future__ import annotations

from typing import cast

from django.conf import settings

from cryptoflow_service.config import ServiceSettings


def service_config() -> ServiceSettings:
    return cast(ServiceSettings, settings.CRYPTOFLOW_SERVICE)
