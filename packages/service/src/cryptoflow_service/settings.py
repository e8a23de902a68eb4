"""Django settings, built from one `ServiceSettings` read of the environment (`cryptoflow_service.config`).

Production (`CRYPTOFLOW_SERVICE_DEBUG` off, the default) refuses to start with the development secret key
or without allowed hosts; DEBUG (stack traces and settings on every error page) is refused unless every
allowed host is a loopback name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from pydantic import ValidationError

from cryptoflow_service import __version__
from cryptoflow_service.config import ENV_PREFIX, ServiceSettings
from cryptoflow_service.schedule import beat_schedule

try:
    CRYPTOFLOW_SERVICE = ServiceSettings()
except ValidationError as exc:  # name the variable, not pydantic's field path
    problems = "; ".join(
        f"{ENV_PREFIX}{'.'.join(str(part) for part in error['loc']).upper() or '(settings)'}: {error['msg']}"
        for error in exc.errors()
    )
    raise ImproperlyConfigured(f"invalid configuration: {problems}") from None

if not CRYPTOFLOW_SERVICE.debug and CRYPTOFLOW_SERVICE.insecure_secret():
    raise ImproperlyConfigured(
        f"{ENV_PREFIX}SECRET_KEY is unset, the development default, or shorter than 32 characters; "
        f"production ({ENV_PREFIX}DEBUG off) refuses to start with it. Set a long random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

if not CRYPTOFLOW_SERVICE.debug and not CRYPTOFLOW_SERVICE.allowed_hosts:
    raise ImproperlyConfigured(
        f"{ENV_PREFIX}ALLOWED_HOSTS is empty: production would refuse every request. List the host names "
        "the API answers to, e.g. `api.example.com,127.0.0.1`."
    )
if CRYPTOFLOW_SERVICE.debug and (exposed := CRYPTOFLOW_SERVICE.exposed_hosts()):
    raise ImproperlyConfigured(
        f"{ENV_PREFIX}DEBUG shows stack traces and settings to whoever reaches the API, so it is refused "
        f"with allowed hosts beyond loopback ({', '.join(exposed)}): turn DEBUG off, or keep "
        f"{ENV_PREFIX}ALLOWED_HOSTS to 127.0.0.1, localhost and [::1]."
    )

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = CRYPTOFLOW_SERVICE.secret_key.get_secret_value()
DEBUG = CRYPTOFLOW_SERVICE.debug
ALLOWED_HOSTS = CRYPTOFLOW_SERVICE.allowed_hosts

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's and Redoc's files, so /api/docs/ works offline
    "cryptoflow_service.marts",
    "cryptoflow_service.prediction",
    "cryptoflow_service.analysis",
    "cryptoflow_service.alerts",
    "cryptoflow_service.dashboard",
]

# The API authenticates writes with a token header, or with the dashboard's session (Django's login page;
# DRF then checks the CSRF token of every write). Sessions are read lazily: a request without the cookie
# never touches the session table. CORS only runs when origins are allowed (without any it would only add
# `Vary: origin`). WhiteNoise answers `/static/` itself (one dict lookup for every other path).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *(["corsheaders.middleware.CorsMiddleware"] if CRYPTOFLOW_SERVICE.cors_allowed_origins else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"  # no session table, no DB read
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/alerts/"
LOGOUT_REDIRECT_URL = "/"

ROOT_URLCONF = "cryptoflow_service.urls"
WSGI_APPLICATION = "cryptoflow_service.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES: dict[str, dict[str, Any]] = {
    "default": dict(
        dj_database_url.parse(CRYPTOFLOW_SERVICE.database_url, conn_max_age=60, conn_health_checks=True)
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Static files (Swagger UI's, from drf-spectacular-sidecar) are served by the app itself through WhiteNoise,
# straight from the installed packages: no collectstatic step in the image, the tests or the local stack.
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True

CORS_ALLOWED_ORIGINS = CRYPTOFLOW_SERVICE.cors_allowed_origins
CORS_URLS_REGEX = r"^/api/.*$"

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    # Token first: its `WWW-Authenticate` header keeps anonymous writes at 401 (not 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": [
        "cryptoflow_service.common.throttling.AnonRateThrottle",
        "cryptoflow_service.common.throttling.UserRateThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cryptoflow_service.common.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    "NUM_PROXIES": CRYPTOFLOW_SERVICE.trusted_proxies,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CryptoFlow API",
    "DESCRIPTION": (
        "Live Upbit market data from Redis and history from the PostgreSQL marts. Prices and sizes are "
        "decimal strings; times are UTC epoch milliseconds (with an ISO 8601 companion where useful)."
    ),
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # `symbol` documented wherever `market` is a query parameter (its alias, see common/params.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cryptoflow_service.common.params.document_aliases",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SignalKindEnum": "cryptoflow_service.analysis.models.SignalKind.choices",
        "IntervalEnum": "cryptoflow_service.analysis.models.Interval.choices",
        "RuleKindEnum": "cryptoflow_service.alerts.models.RuleKind.choices",
        "ChannelEnum": "cryptoflow_service.alerts.models.Channel.choices",
        "DeliveryStatusEnum": "cryptoflow_service.alerts.models.DeliveryStatus.choices",
    },
}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = CRYPTOFLOW_SERVICE.smtp_host
EMAIL_PORT = CRYPTOFLOW_SERVICE.smtp_port
EMAIL_HOST_USER = CRYPTOFLOW_SERVICE.smtp_user
EMAIL_HOST_PASSWORD = CRYPTOFLOW_SERVICE.smtp_password.get_secret_value()
EMAIL_USE_TLS = CRYPTOFLOW_SERVICE.smtp_use_tls
EMAIL_TIMEOUT = CRYPTOFLOW_SERVICE.smtp_timeout_s
DEFAULT_FROM_EMAIL = CRYPTOFLOW_SERVICE.email_from

CELERY_BROKER_URL = CRYPTOFLOW_SERVICE.celery_broker_url
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task lost with its worker runs again; every task is idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = beat_schedule(CRYPTOFLOW_SERVICE)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
