from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cryptoflow_service.common.conf import service_config


def dashboard(request: HttpRequest) -> HttpResponse:
    config = service_config()
    return render(
        request,
        "dashboard/index.html",
        {"short_window": config.ma_short_window, "long_window": config.ma_long_window},
    )
