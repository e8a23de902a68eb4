"""The baseline of the benchmark: a bare Django project whose only view returns a constant, served by the
same gunicorn configuration as the service (`python -m gunicorn bare_django:application`)."""

from __future__ import annotations

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path


def constant(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"market": "KRW-BTC", "trade_price": "104862000"})


settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-" + "k" * 40,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"],
)
urlpatterns = [path("constant/", constant)]
application = get_wsgi_application()
