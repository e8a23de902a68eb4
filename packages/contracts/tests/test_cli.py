"""`cryptoflow-contracts decode` and `schema export`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from cryptoflow_contracts.cli import main
from cryptoflow_contracts.schema import PUBLIC_MODELS, build_document, dump_document, find_package_root
from cryptoflow_contracts.version import CONTRACT_VERSION

EXPECTED_KINDS = {
    "ws-trade.jsonl": ["trade"] * 12,
    "ws-ticker.jsonl": ["ticker"] * 12,
    "ws-ticker-simple.jsonl": ["ticker"] * 9,
    "ws-orderbook.jsonl": ["orderbook"] * 9,
    "ws-candle.jsonl": ["candle"] * 4,
    "ws-control.jsonl": ["status", "list_subscriptions", "error", "error"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_decode_every_sample_exits_0(
    samples_dir: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["decode", str(samples_dir / name)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["kind"] for o in objects] == EXPECTED_KINDS[name]
    for o in objects:
        if o["kind"] in {"trade", "ticker", "orderbook", "candle"}:
            assert o["market"] in {"KRW-BTC", "KRW-ETH", "KRW-XRP"}


def test_decoded_trade_fields(samples_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["decode", str(samples_dir / "ws-trade.jsonl")])
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["sequential_id"] == 17732781281500000
    assert (first["price"], first["volume"], first["side"]) == ("104862000.0", "0.00412", "BID")
    assert first["received_ms"] == first["timestamp"] == 1773278128154


def test_decoded_control_frames(samples_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["decode", str(samples_dir / "ws-control.jsonl")])
    status, subscriptions, error, _ = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert status == {"kind": "status", "status": "UP"}
    assert subscriptions["result"][0]["codes"] == ["KRW-BTC", "KRW-ETH", "KRW-XRP"]
    assert error == {"kind": "error", "name": "INVALID_PARAM", "message": "Invalid parameter."}


def test_a_broken_line_is_reported_and_decoding_goes_on(
    samples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (samples_dir / "ws-trade.jsonl").read_bytes().splitlines()
    planted = [
        lines[0],
        b"",
        lines[1].replace(b'"trade_price":3151000.0', b'"trade_price":"3151000.0"'),
        b"   ",
        lines[2],
        b"{oops",
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(planted) + b"\n")
    assert main(["decode", str(path)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2  # the two good lines; blank lines skipped
    assert err.splitlines() == [
        "line 3: trade.trade_price: Input should be a JSON number (Decimal or int, never float), "
        "got str '3151000.0'",
        "line 6: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ]


def test_decode_reads_stdin(
    samples_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (samples_dir / "ws-candle.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["decode", "-"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_decode_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_schema_export_is_deterministic_and_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["schema", "export", "--out", str(first)]) == 0
    assert main(["schema", "export", "--out", str(second)]) == 0
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    document = json.loads(text)
    assert document["version"] == CONTRACT_VERSION
    assert sorted(document["models"]) == sorted(PUBLIC_MODELS)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert main(["schema", "export", "--out", "-"]) == 0
    assert capsys.readouterr().out.endswith(text)


def test_committed_snapshot_matches_the_export() -> None:
    committed = find_package_root() / "schemas" / f"{CONTRACT_VERSION}.json"
    assert committed.read_text(encoding="utf-8") == dump_document(build_document()), (
        "run `cryptoflow-contracts schema export`"
    )


def test_package_root_is_found_from_the_repository(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    assert find_package_root(root.parents[1]) == root  # the repository root: packages/contracts below it
    assert find_package_root(root / "tests") == root
    # A pyproject of another distribution is not it. (Installed from a wheel, outside the repository,
    # nothing is found: the error says to pass the path.)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n', encoding="utf-8")
    try:
        found: Path | None = find_package_root(tmp_path)
    except FileNotFoundError as exc:
        assert "pass the path explicitly" in str(exc)  # noqa: PT017
        found = None
    assert found != tmp_path


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["decode"], ["schema"], ["nope"]):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
    capsys.readouterr()


REST_SAMPLES = {
    "rest-candles-days.json": ("candles/days", "RestCandleDay", 3),
    "rest-candles-minutes-1.json": ("/v1/candles/minutes/1", "RestCandleMinute", 5),
    "rest-market-all.json": ("market/all", "RestMarket", 10),
    "rest-orderbook.json": ("orderbook", "RestOrderbook", 2),
    "rest-ticker.json": ("v1/ticker", "RestTicker", 3),
    "rest-trades-ticks.json": ("trades/ticks", "RestTradeTick", 7),
}


@pytest.mark.parametrize("name", sorted(REST_SAMPLES))
def test_decode_rest_every_sample_body(
    samples_dir: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint, kind, count = REST_SAMPLES[name]
    assert main(["decode", "--rest", endpoint, str(samples_dir / name)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["kind"] for o in objects] == [kind] * count
    assert all(o["market"].startswith(("KRW-", "BTC-", "USDT-")) for o in objects)


def test_decode_rest_keeps_exact_numbers(samples_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["decode", "--rest", "ticker", str(samples_dir / "rest-ticker.json")])
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (first["market"], first["trade_price"], first["trade_timestamp"]) == (
        "KRW-BTC",
        "104862000.0",
        1773278132054,
    )


def test_decode_rest_refusals(samples_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ticker = str(samples_dir / "rest-ticker.json")
    assert main(["decode", "--rest", "nope", ticker]) == 2
    err = capsys.readouterr().err
    assert err.startswith("decode: unknown REST endpoint 'nope'; known: market/all, ticker")
    assert err.count("\n") == 1
    assert main(["decode", "--rest", "orderbook", ticker]) == 1  # a ticker body is not an order book
    err = capsys.readouterr().err
    assert err.startswith("body: RestOrderbook[0]")
    assert err.count("\n") == 1
    error_body = tmp_path / "error.json"
    error_body.write_text('{"error":{"name":"invalid_query_payload","message":"bad"}}')
    assert main(["decode", "--rest", "ticker", str(error_body)]) == 1
    assert capsys.readouterr().err == "body: an Upbit error answer: invalid_query_payload: bad\n"
