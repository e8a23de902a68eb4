"""The pytest plugin seen from a test session of its own (pytester)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cryptoflow_localstack.pytest_plugin import _stop_orphans
from cryptoflow_localstack.redis_server import RedisServer


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    # The inner sessions get the options the workspace sets, so pytest-asyncio stays quiet.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_versions_are_printed_and_a_stopped_server_is_started_again(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_leaves_redis_killed(redis_server):
            redis_server.kill()

        def test_finds_redis_running(redis_server, redis_db):
            assert redis_server.command("PING") == "PONG"
            assert redis_db.endswith("/0")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "localstack: Redis *.*.* on 127.0.0.1:* (started in * s)",
            "localstack: Redis * was left stopped by the previous test; starting it again",
        ]
    )


def test_unique_names_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import re
        seen = set()

        def test_one(kafka_topic_prefix, kafka_group_id):
            seen.update({kafka_topic_prefix, kafka_group_id})
            assert re.fullmatch(r"test\\.test-one\\.[0-9a-f]{6}\\.", kafka_topic_prefix)

        def test_two(kafka_topic_prefix, kafka_group_id):
            assert not {kafka_topic_prefix, kafka_group_id} & seen
            assert re.fullmatch(r"test-test-two-[0-9a-f]{6}", kafka_group_id)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("args", "env", "header"),
    [
        ((), {}, "kafka_broker runs Kafka 3.9.1"),
        ((), {"CRYPTOFLOW_KAFKA_VERSION": "4.1.1"}, "kafka_broker runs Kafka 4.1.1"),
        (("--kafka-version=4.0.0",), {"CRYPTOFLOW_KAFKA_VERSION": "4.1.1"}, "kafka_broker runs Kafka 4.0.0"),
    ],
)
def test_kafka_version_comes_from_option_then_environment(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    env: dict[str, str],
    header: str,
) -> None:
    monkeypatch.delenv("CRYPTOFLOW_KAFKA_VERSION", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"localstack: services start on first use; {header}"])


def test_a_malformed_kafka_version_stops_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", "--kafka-version=latest")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kafka-version='latest' is not a Kafka version like 3.9.1*"])


def test_docker_mode_is_refused_not_ignored(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTOFLOW_SERVICES", "docker")
    pytester.makepyfile("def test_needs_redis(redis_server): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CRYPTOFLOW_SERVICES='docker' is not supported*"])


def test_servers_of_a_dead_session_are_stopped_and_live_ones_kept(tmp_path: Path) -> None:
    dead_pid = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True).stdout
    orphan = RedisServer(tmp_path / "pytest-1" / "redis0")
    alive = RedisServer(tmp_path / "pytest-2" / "redis0")
    for server, owner in ((orphan, dead_pid), (alive, str(os.getpid()))):
        server.state_dir.mkdir(parents=True)
        (server.state_dir / "owner.pid").write_text(owner)
        server.start()
    try:
        said: list[str] = []
        _stop_orphans(tmp_path / "pytest-3", said.append)
        # It returns once every thread of the orphan is gone, so its parent (this test) can reap it now.
        assert not orphan.running
        assert alive.running
        assert said == [
            f"stopping a server left running by dead session {dead_pid.strip()}: {orphan.state_dir}"
        ]
    finally:
        orphan.stop()
        alive.stop()
