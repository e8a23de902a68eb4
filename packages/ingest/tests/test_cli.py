from __future__ import annotations

from pathlib import Path

import pytest

import cryptoflow_ingest
from cryptoflow_ingest.cli import main
from upbit_sim.testing import SimProcess


def test_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRYPTOFLOW_INGEST_ORDERBOOK_DEPTH", "7")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "CRYPTOFLOW_INGEST_ORDERBOOK_DEPTH" in err
    assert "(1, 5, 15, 30)" in err


def test_option_overrides_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRYPTOFLOW_INGEST_WS_FORMAT", "SIMPLE")
    assert main(["--ws-format", "BOGUS"]) == 2
    assert "CRYPTOFLOW_INGEST_WS_FORMAT (--ws-format)" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"cryptoflow-ingest {cryptoflow_ingest.__version__}")


def test_unreachable_kafka_fails_with_exit_code_1(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    code = main(
        [
            *("--kafka-bootstrap", "127.0.0.1:1", "--rest-url", "http://127.0.0.1:1"),
            *("--metrics-port", "0", "--state-file", str(tmp_path / "state.json")),
        ]
    )
    assert code == 1
    assert "cryptoflow-ingest failed" in caplog.text


def test_user_errors_are_one_line_and_exit_2(sim: SimProcess, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown or malformed market, several bad values: one line naming each, exit 2, no traceback."""
    common = ["--rest-url", sim.rest_url, "--kafka-bootstrap", "127.0.0.1:1", "--metrics-port", "0"]
    assert main([*common, "--markets", "KRW-BTC,KRW-NOPE"]) == 2
    assert capsys.readouterr().err == (
        f"cryptoflow-ingest: unknown market(s) KRW-NOPE: not listed by {sim.rest_url}\n"
    )
    assert main([*common, "--markets", "KRWBTC", "--orderbook-depth", "7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cryptoflow-ingest: invalid settings: ")
    assert err.count("\n") == 1
    assert "CRYPTOFLOW_INGEST_MARKETS (--markets): Value error, not a market code" in err
    assert "CRYPTOFLOW_INGEST_ORDERBOOK_DEPTH (--orderbook-depth)" in err
