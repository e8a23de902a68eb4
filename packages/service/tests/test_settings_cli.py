"""Settings read from the environment once, and the command line."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from cryptoflow_service.cli import main
from cryptoflow_service.config import INSECURE_SECRET_KEY, ServiceSettings
from cryptoflow_service.schedule import beat_schedule

SETUP = "import django; django.setup(); print('started')"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFLOW_SERVICE_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "cryptoflow_service.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_the_insecure_default_secret() -> None:
    result = run_python(SETUP)
    assert result.returncode != 0
    assert "CRYPTOFLOW_SERVICE_SECRET_KEY is unset, the development default" in result.stderr
    short = run_python(SETUP, CRYPTOFLOW_SERVICE_SECRET_KEY="short")
    assert short.returncode != 0
    assert "shorter than 32" in short.stderr
    assert run_python(SETUP, CRYPTOFLOW_SERVICE_DEBUG="true").stdout.strip() == "started"
    assert run_python(SETUP, CRYPTOFLOW_SERVICE_SECRET_KEY="x" * 40).stdout.strip() == "started"


def test_production_refuses_no_hosts_and_debug_beyond_loopback() -> None:
    secret = {"CRYPTOFLOW_SERVICE_SECRET_KEY": "x" * 40}
    empty = run_python(SETUP, **secret, CRYPTOFLOW_SERVICE_ALLOWED_HOSTS="")
    assert empty.returncode != 0
    assert "CRYPTOFLOW_SERVICE_ALLOWED_HOSTS is empty" in empty.stderr
    exposed = run_python(
        SETUP,
        **secret,
        CRYPTOFLOW_SERVICE_DEBUG="1",
        CRYPTOFLOW_SERVICE_ALLOWED_HOSTS="api.example.com,localhost",
    )
    assert exposed.returncode != 0
    assert "DEBUG shows stack traces" in exposed.stderr
    assert "(api.example.com)" in exposed.stderr
    loopback = run_python(
        SETUP, CRYPTOFLOW_SERVICE_DEBUG="1", CRYPTOFLOW_SERVICE_ALLOWED_HOSTS="localhost,[::1]"
    )
    assert loopback.stdout.strip() == "started", loopback.stderr
    public = run_python(SETUP, **secret, CRYPTOFLOW_SERVICE_ALLOWED_HOSTS="api.example.com")
    assert public.stdout.strip() == "started", public.stderr


def test_a_malformed_variable_is_named() -> None:
    result = run_python(SETUP, CRYPTOFLOW_SERVICE_DEBUG="1", CRYPTOFLOW_SERVICE_SMTP_PORT="twenty-five")
    assert result.returncode != 0
    assert "CRYPTOFLOW_SERVICE_SMTP_PORT" in result.stderr
    poll = run_python(SETUP, CRYPTOFLOW_SERVICE_DEBUG="1", CRYPTOFLOW_SERVICE_INDICATORS_POLL_EVERY_S="0")
    assert "CRYPTOFLOW_SERVICE_INDICATORS_POLL_EVERY_S" in poll.stderr
    rate = run_python(SETUP, CRYPTOFLOW_SERVICE_DEBUG="1", CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE="lots")
    assert "CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE" in rate.stderr


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOFLOW_SERVICE_ALLOWED_HOSTS", "api.example.com, 127.0.0.1")
    monkeypatch.setenv("CRYPTOFLOW_SERVICE_MINUTE_MARKETS", "krw-btc,KRW-ETH")
    monkeypatch.setenv("CRYPTOFLOW_SERVICE_VOLUME_SPIKE_MULTIPLE", "2.5")
    config = ServiceSettings()
    assert config.allowed_hosts == ["api.example.com", "127.0.0.1"]
    assert config.minute_markets == ["KRW-BTC", "KRW-ETH"]
    assert str(config.volume_spike_multiple) == "2.5"
    assert config.cors_allowed_origins == []
    assert not config.debug
    assert ServiceSettings(secret_key=INSECURE_SECRET_KEY).insecure_secret()  # type: ignore[arg-type]


def test_cors_and_trusted_proxies_from_the_environment() -> None:
    probe = (
        "import django; django.setup(); from django.conf import settings; from django.test import Client; "
        "response = Client(HTTP_HOST='127.0.0.1')"
        ".get('/api/realtime-price/x/', HTTP_ORIGIN='https://app.example'); "
        "print(response.status_code, response.get('Access-Control-Allow-Origin'), "
        "settings.REST_FRAMEWORK['NUM_PROXIES'])"
    )
    quiet = {"CRYPTOFLOW_SERVICE_DEBUG": "1", "CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE": "off"}
    assert run_python(probe, **quiet).stdout.split() == ["400", "None", "0"]
    configured = run_python(
        probe,
        **quiet,
        CRYPTOFLOW_SERVICE_CORS_ALLOWED_ORIGINS="https://app.example",
        CRYPTOFLOW_SERVICE_TRUSTED_PROXIES="1",
    )
    assert configured.stdout.split() == ["400", "https://app.example", "1"], configured.stderr


def test_the_beat_schedule_lives_in_one_place() -> None:
    from cryptoflow_service.celery_app import app  # noqa: PLC0415

    schedule = beat_schedule(ServiceSettings(minute_markets=[]))
    assert {entry["task"] for entry in schedule.values()} == {
        "analysis.scan_if_changed",
        "analysis.volume_scan",
        "alerts.evaluate_price_rules",
        "alerts.evaluate_mart_rules",
        "alerts.redeliver_stalled",
    }
    app.loader.import_default_modules()
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)  # every one is registered
    assert schedule["price-rules"]["schedule"] == 2.0  # price rules within seconds
    assert "scan-minute-on-change" not in schedule
    minute = beat_schedule(ServiceSettings(minute_markets=["KRW-BTC"]))["scan-minute-on-change"]
    assert minute["kwargs"] == {"interval": "1m"}


@pytest.mark.django_db
def test_createtoken(capsys: Any) -> None:
    assert main(["createtoken", "carol", "--email", "carol@example.com"]) == 0
    key = capsys.readouterr().out.strip()
    token = Token.objects.get(key=key)
    assert token.user.get_username() == "carol"
    assert token.user.email == "carol@example.com"
    assert main(["createtoken", "carol"]) == 0
    assert capsys.readouterr().out.strip() == key  # the same token again


def test_migrate_a_fresh_database(postgres_db: str) -> None:
    env = {"CRYPTOFLOW_SERVICE_DATABASE_URL": postgres_db, "CRYPTOFLOW_SERVICE_SECRET_KEY": "y" * 40}
    result = run_python("from cryptoflow_service.cli import main; raise SystemExit(main(['migrate']))", **env)
    assert result.returncode == 0, result.stderr
    check = run_python(
        "from cryptoflow_service.cli import main; main(['manage', 'makemigrations', '--check', '--dry-run'])",
        **env,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_usage_errors(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--pool", "solo"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --pool solo" in capsys.readouterr().err


STACK_ENV = Path(__file__).resolve().parents[3] / "deploy" / "local" / "stack.env"


def _after_stack_env(state_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`set -a; . deploy/local/stack.env; set +a`, then `cryptoflow-service ARGV` (what the README says)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFLOW_")}
    command = shlex.join([sys.executable, "-m", "cryptoflow_service", *argv])
    script = f"set -a; . {shlex.quote(str(STACK_ENV))}; set +a; exec {command}"
    return subprocess.run(
        ["bash", "-c", script],
        env={**clean, "CRYPTOFLOW_STATE_DIR": str(state_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_after_stack_env_reads_make_ups_secret(tmp_path: Path) -> None:
    """The stack file lacked the service's secret: `manage createtoken` died with a Django traceback. Now
    it reads the secret `make up` wrote; without one, the answer is one line naming the variable, exit 2."""
    missing = _after_stack_env(tmp_path, "manage", "check")
    assert missing.returncode == 2
    assert missing.stderr.startswith("cryptoflow-service: CRYPTOFLOW_SERVICE_SECRET_KEY is unset")
    assert missing.stderr.count("\n") == 1
    (tmp_path / "service-secret-key").write_text("s" * 48 + "\n")
    ready = _after_stack_env(tmp_path, "manage", "check")
    assert ready.returncode == 0, ready.stderr
    assert "no issues" in ready.stdout


def test_a_malformed_setting_is_one_line_and_exit_2() -> None:
    result = run_python(
        "from cryptoflow_service.cli import main; raise SystemExit(main(['createtoken', 'dave']))",
        CRYPTOFLOW_SERVICE_DEBUG="1",
        CRYPTOFLOW_SERVICE_SMTP_PORT="twenty-five",
    )
    assert result.returncode == 2
    assert result.stderr.startswith("cryptoflow-service: invalid configuration: CRYPTOFLOW_SERVICE_SMTP_PORT")
    assert "Traceback" not in result.stderr
