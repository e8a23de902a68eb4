from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cryptoflow_service.analysis.services import MA_LONG, MA_SHORT


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/index.html", {"short_window": MA_SHORT, "long_window": MA_LONG})
