"""The `upbit-sim` command as other packages run it: a real process on port 0, first line, SIGTERM."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from upbit_sim.cli import main
from upbit_sim.testing import SimProcess, parse_banner


def test_serve_prints_urls_first_and_stops_cleanly(upbit_sim: SimProcess) -> None:
    assert upbit_sim.ws_url.startswith("ws://127.0.0.1:")
    assert upbit_sim.ws_url.endswith("/websocket/v1")
    assert upbit_sim.admin_url == upbit_sim.rest_url + "/admin"
    with urllib.request.urlopen(f"{upbit_sim.rest_url}/v1/market/all", timeout=5) as response:
        markets = json.loads(response.read())
    assert [m["market"] for m in markets] == ["KRW-BTC", "KRW-ETH", "KRW-XRP", "BTC-ETH"]
    assert upbit_sim.admin("GET", "/stats")["mode"] == "generate"
    assert upbit_sim.admin("POST", "/faults/rest_error", {"status": 503, "count": 1}) == {
        "rest_error": {"status": 503, "count": 1}
    }
    assert upbit_sim.stop() == 0


def test_cli_arguments_and_environment(upbit_sim_factory: Callable[..., SimProcess]) -> None:
    sim = upbit_sim_factory(
        "--codes",
        "KRW-BTC,USDT-ETH",
        "--rest-rate-limit",
        "3",
        env={"UPBIT_SIM_SEED": "42", "UPBIT_SIM_RATE": "10"},
    )
    stats = sim.admin("GET", "/stats")
    assert list(stats["markets"]) == ["KRW-BTC", "USDT-ETH"]
    assert stats["generator"]["rate"] == 10.0
    statuses = []
    for _ in range(6):
        try:
            with urllib.request.urlopen(f"{sim.rest_url}/v1/market/all", timeout=5) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    assert 429 in statuses  # the explicit limit wins over --no-limits


def test_help_documents_everything(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    expected = (
        "--markets --rate --seed --replay --replay-speed --fault --schedule --idle-timeout --status-interval "
        "--rest-rate-limit --ws-connect-rate-limit --ws-subscribe-per-sec --no-limits "
        "/admin/stats /admin/trades drop_every rest_error UPBIT_SIM_"
    )
    for text in expected.split():
        assert text in out, text


def test_bad_settings_fail_at_start_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPBIT_SIM_RATE", "fast")
    assert main(["serve"]) == 2
    assert "UPBIT_SIM_RATE" in capsys.readouterr().err
    monkeypatch.delenv("UPBIT_SIM_RATE")
    assert main(["serve", "--replay", "/nonexistent/file.jsonl"]) == 2
    assert "replay file not found" in capsys.readouterr().err
    assert main(["serve", "--fault", "explode"]) == 2
    capsys.readouterr()
    assert main(["serve", "--rate", "-1", "--markets", "0", "--replay-speed", "slow"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # every bad value on one line, no traceback
    for named in ("UPBIT_SIM_RATE", "UPBIT_SIM_MARKETS", "UPBIT_SIM_REPLAY_SPEED"):
        assert named in err


def test_a_taken_port_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--markets", "2", "--history-days", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"upbit-sim: cannot serve on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


def test_banner_parsing() -> None:
    urls = parse_banner(
        "upbit-sim ws=ws://127.0.0.1:1/websocket/v1 rest=http://127.0.0.1:1 admin=http://127.0.0.1:1/admin\n"
    )
    assert urls["rest"] == "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="not an upbit-sim banner"):
        parse_banner("hello")


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "upbit_sim", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("upbit-sim ")
    assert Path(__file__).exists()
