"""Fixtures: the real stack for the service's tests.

PostgreSQL and Redis come from `cryptoflow_localstack.pytest_plugin`; the mart tables from
`cryptoflow_batch.db.upgrade`; the service's own tables from its Django migrations. The Celery worker and
the gunicorn server are started through `cryptoflow-service` (the CLI), with the same `CRYPTOFLOW_SERVICE_*`
variables a deployment sets. E-mail goes to a real SMTP server (aiosmtpd) and Slack alerts to a real HTTP
receiver, both on loopback.

Django in the test process itself is configured before any fixture can know the ports, so the session
fixture `_point_django_at_stack` re-points the few settings that name them (the DB, Redis, the broker,
SMTP, the webhook). Everything else is the production settings module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# `--import-mode=importlib` puts nothing on sys.path; the helpers live next to this file.
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptoflow_service.settings")
os.environ.setdefault("CRYPTOFLOW_SERVICE_SECRET_KEY", "test-only-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("CRYPTOFLOW_SERVICE_MINUTE_MARKETS", "KRW-BTC")

import django

django.setup()  # pytest-django finishes its own setup only when settings are loaded by then

from cryptoflow_localstack.postgres_server import PostgresServer  # noqa: E402
from cryptoflow_localstack.process import free_port  # noqa: E402
from cryptoflow_localstack.redis_server import RedisServer  # noqa: E402
from servicetest.processes import CeleryWorker, ServiceProcess  # noqa: E402
from servicetest.receivers import SmtpServer, WebhookReceiver  # noqa: E402

TEST_DB = "cryptoflow_service_test"
ALERT_MAX_RETRIES = 2


@dataclass(frozen=True)
class Stack:
    database_url: str
    redis_url: str
    broker_url: str
    smtp: SmtpServer
    webhook: WebhookReceiver

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a service process pointed at this stack."""
        return {
            "CRYPTOFLOW_SERVICE_DATABASE_URL": self.database_url,
            "CRYPTOFLOW_SERVICE_REDIS_URL": self.redis_url,
            "CRYPTOFLOW_SERVICE_CELERY_BROKER_URL": self.broker_url,
            "CRYPTOFLOW_SERVICE_SMTP_HOST": self.smtp.host,
            "CRYPTOFLOW_SERVICE_SMTP_PORT": str(self.smtp.port),
            "CRYPTOFLOW_SERVICE_SLACK_WEBHOOK_URL": self.webhook.url,
            "CRYPTOFLOW_SERVICE_ALERT_MAX_RETRIES": str(ALERT_MAX_RETRIES),
            "CRYPTOFLOW_SERVICE_ALERT_RETRY_BACKOFF_S": "0.2",
            "CRYPTOFLOW_SERVICE_SECRET_KEY": os.environ["CRYPTOFLOW_SERVICE_SECRET_KEY"],
            **extra,
        }


@pytest.fixture(scope="session")
def stack(postgres_server: PostgresServer, redis_server: RedisServer) -> Iterator[Stack]:
    from cryptoflow_batch.db import upgrade  # noqa: PLC0415 - pulls in the batch package only here

    postgres_server.drop_database(TEST_DB)
    database_url = postgres_server.create_database(TEST_DB)
    upgrade(database_url)  # the mart tables, exactly as the batch package creates them
    smtp = SmtpServer(free_port())
    smtp.start()
    webhook = WebhookReceiver()
    webhook.start()
    base = redis_server.url.rsplit("/", 1)[0]
    try:
        yield Stack(database_url, f"{base}/0", f"{base}/1", smtp, webhook)
    finally:
        webhook.stop()
        smtp.stop()


@pytest.fixture(scope="session")
def django_db_setup(stack: Stack, django_db_blocker: Any) -> None:
    """Replaces pytest-django's: the test database is the stack's (marts included), migrated here."""
    import dj_database_url  # noqa: PLC0415
    from django.conf import settings  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    from cryptoflow_service.celery_app import app  # noqa: PLC0415

    settings.DATABASES["default"].update(dj_database_url.parse(stack.database_url, conn_max_age=0))
    connections["default"].settings_dict.update(settings.DATABASES["default"])
    settings.CRYPTOFLOW_SERVICE = settings.CRYPTOFLOW_SERVICE.model_copy(
        update={
            "redis_url": stack.redis_url,
            "celery_broker_url": stack.broker_url,
            "slack_webhook_url": stack.webhook.url,
        }
    )
    settings.EMAIL_HOST, settings.EMAIL_PORT = stack.smtp.host, stack.smtp.port
    settings.CELERY_BROKER_URL = stack.broker_url
    app.conf.broker_url = stack.broker_url
    with django_db_blocker.unblock():
        call_command("migrate", verbosity=0)


MART_TABLES = (
    "mart.markets, mart.market_stats_24h, mart.candles_1d, mart.candles_1m, mart.candles_1h, mart.indicators,"
    " mart.indicators_1m, lake.trades"
)


@pytest.fixture(autouse=True)
def _truncate_committed_marts(request: pytest.FixtureRequest) -> Iterator[None]:
    """pytest-django flushes the service's tables after a transactional test, never unmanaged ones."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        from django.db import connection  # noqa: PLC0415

        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {MART_TABLES}")


@pytest.fixture
def redis_client(stack: Stack, redis_server: RedisServer) -> Any:
    """The hot path's Redis (DB 0), flushed: tests plant tickers, trades and books into it."""
    import redis  # noqa: PLC0415

    redis_server.flushdb(0)
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="session")
def celery_worker(
    stack: Stack, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryWorker]:
    """`cryptoflow-service worker` with two prefork processes (so two runs of a task can race)."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    worker = CeleryWorker(
        ["worker", "--pool", "prefork", "--concurrency", "2", "--without-gossip", "--without-mingle"],
        env=stack.env(),
        log_path=log,
    )
    try:
        worker.wait_for_log(r"celery@\S+ ready\.", timeout=180)  # a loaded 2-core machine is slow to fork
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def api_server(
    stack: Stack, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`cryptoflow-service serve` (gunicorn) on a free port; yields its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    server = ServiceProcess(
        ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=stack.env(CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE="off"),
        log_path=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_http(f"{base}/healthz", timeout=180)  # the shared 2-core machine can be slow
        yield base
    finally:
        server.stop()


@pytest.fixture
def mailbox(stack: Stack) -> Any:
    stack.smtp.mailbox.clear()
    return stack.smtp.mailbox


@pytest.fixture
def webhook(stack: Stack) -> Iterator[WebhookReceiver]:
    stack.webhook.state.reset()
    yield stack.webhook
    stack.webhook.state.reset()


@pytest.fixture
def api() -> Any:
    from rest_framework.test import APIClient  # noqa: PLC0415

    return APIClient()


@pytest.fixture
def token_user(db: None) -> Any:
    """A token holder: (user, token key)."""
    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from rest_framework.authtoken.models import Token  # noqa: PLC0415

    user = get_user_model().objects.create_user("alice", email="alice@example.com")
    return user, Token.objects.create(user=user).key
