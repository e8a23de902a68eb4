"""``cryptoflow-localstack up/status/down``: detached servers that outlive the command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from cryptoflow_localstack.cli import main
from cryptoflow_localstack.process import free_port, port_open
from cryptoflow_localstack.settings import kafka_version


@pytest.fixture
def cli_env() -> Iterator[dict[str, str]]:
    # A folder the 'postgres' account can enter when the tests run as root (pytest's own is 0700).
    state = Path(tempfile.mkdtemp(prefix="cryptoflow-localstack-cli-"))
    state.chmod(0o755)
    env = os.environ | {
        "CRYPTOFLOW_STATE_DIR": str(state),
        "CRYPTOFLOW_KAFKA_PORT": str(free_port()),
        "CRYPTOFLOW_KAFKA_CONTROLLER_PORT": str(free_port()),
        "CRYPTOFLOW_PG_PORT": str(free_port()),
        "CRYPTOFLOW_REDIS_PORT": str(free_port()),
    }
    try:
        yield env
    finally:
        cli(env, "down")
        shutil.rmtree(state, ignore_errors=True)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cryptoflow_localstack", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_up_status_down(cli_env: dict[str, str]) -> None:
    up = cli(cli_env, "up")
    assert up.returncode == 0, up.stderr
    for expected in (
        f"Kafka {kafka_version()}",
        "PostgreSQL ",
        "Redis ",
        f"127.0.0.1:{cli_env['CRYPTOFLOW_KAFKA_PORT']}",
    ):
        assert expected in up.stdout

    # The command has exited; the servers have not.
    status = cli(cli_env, "status")
    assert status.returncode == 0, status.stdout
    assert status.stdout.count(" up ") == 3
    client = redis.Redis(port=int(cli_env["CRYPTOFLOW_REDIS_PORT"]))
    assert client.ping()
    client.close()
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{cli_env['CRYPTOFLOW_PG_PORT']}/postgres") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    again = cli(cli_env, "up", "redis")
    assert again.returncode == 0
    assert "already running" in again.stdout

    down = cli(cli_env, "down")
    assert down.returncode == 0
    assert down.stdout.count("stopped") == 3
    assert not port_open("127.0.0.1", int(cli_env["CRYPTOFLOW_KAFKA_PORT"]))
    stopped = cli(cli_env, "status")
    assert stopped.returncode == 1
    assert stopped.stdout.count(" down ") == 3


def test_a_malformed_port_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRYPTOFLOW_REDIS_PORT", "six-three-seven-nine")
    assert main(["status", "redis"]) == 2  # a malformed setting is a user error (was 1)
    err = capsys.readouterr().err
    assert "CRYPTOFLOW_REDIS_PORT='six-three-seven-nine' is not a port number" in err
    assert err.count("\n") == 1
    monkeypatch.delenv("CRYPTOFLOW_REDIS_PORT")
    assert main(["install", "--kafka-version", "latest"]) == 2
    assert "--kafka-version='latest' is not a Kafka version" in capsys.readouterr().err


def test_an_unknown_service_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "zookeeper"]) == 2
    assert "unknown service(s) zookeeper" in capsys.readouterr().err
