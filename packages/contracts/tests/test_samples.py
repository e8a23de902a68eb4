"""Every recorded sample decodes, and every invariant listed in the samples README holds."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest

from cryptoflow_contracts.records import TradeRecord, record_from_rest_trade, record_from_ws
from cryptoflow_contracts.rest import (
    RestCandleDay,
    RestCandleMinute,
    RestMarket,
    RestModel,
    RestOrderbook,
    RestTicker,
    RestTradeTick,
    parse_rest_list,
)
from cryptoflow_contracts.ticks import is_on_krw_tick, krw_tick_size
from cryptoflow_contracts.ws import (
    WsCandle,
    WsError,
    WsFrame,
    WsListSubscriptions,
    WsOrderbook,
    WsStatus,
    WsTicker,
    WsTrade,
    parse_ws_frame,
)

_F = TypeVar("_F", WsTicker, WsOrderbook)

REST_MODELS: dict[str, type[RestModel]] = {
    "rest-market-all.json": RestMarket,
    "rest-ticker.json": RestTicker,
    "rest-candles-minutes-1.json": RestCandleMinute,
    "rest-candles-days.json": RestCandleDay,
    "rest-trades-ticks.json": RestTradeTick,
    "rest-orderbook.json": RestOrderbook,
}
WS_MODELS: dict[str, tuple[type[WsFrame], ...]] = {
    "ws-trade.jsonl": (WsTrade,),
    "ws-ticker.jsonl": (WsTicker,),
    "ws-ticker-simple.jsonl": (WsTicker,),
    "ws-orderbook.jsonl": (WsOrderbook,),
    "ws-candle.jsonl": (WsCandle,),
    "ws-control.jsonl": (WsStatus, WsListSubscriptions, WsError),
}


def test_every_sample_file_decodes(samples_dir: Path) -> None:
    decoded: dict[str, int] = {}
    for path in sorted(samples_dir.iterdir()):
        if path.name == "README.md":
            continue
        if path.name in WS_MODELS:
            lines = [line for line in path.read_bytes().splitlines() if line.strip()]
            frames = [parse_ws_frame(line) for line in lines]
            assert all(isinstance(f, WS_MODELS[path.name]) for f in frames), path.name
            decoded[path.name] = len(frames)
        elif path.name in REST_MODELS:
            decoded[path.name] = len(parse_rest_list(path.read_bytes(), REST_MODELS[path.name]))
        else:
            pytest.fail(f"sample {path.name} has no decoder in this test: add it")
    assert decoded == {
        "rest-candles-days.json": 3,
        "rest-candles-minutes-1.json": 5,
        "rest-market-all.json": 10,
        "rest-orderbook.json": 2,
        "rest-ticker.json": 3,
        "rest-trades-ticks.json": 7,
        "ws-candle.jsonl": 4,
        "ws-control.jsonl": 4,
        "ws-orderbook.jsonl": 9,
        "ws-ticker-simple.jsonl": 9,
        "ws-ticker.jsonl": 12,
        "ws-trade.jsonl": 12,
    }


def _trades(ws_frames: dict[str, list[WsFrame]]) -> list[WsTrade]:
    return [f for f in ws_frames["ws-trade.jsonl"] if isinstance(f, WsTrade)]


def _tickers(ws_frames: dict[str, list[WsFrame]], name: str = "ws-ticker.jsonl") -> list[WsTicker]:
    return [f for f in ws_frames[name] if isinstance(f, WsTicker)]


def _books(ws_frames: dict[str, list[WsFrame]]) -> list[WsOrderbook]:
    return [f for f in ws_frames["ws-orderbook.jsonl"] if isinstance(f, WsOrderbook)]


def _last_by_market(frames: list[_F]) -> dict[str, _F]:
    return {frame.market: frame for frame in frames}


@pytest.mark.parametrize("name", ["ws-ticker.jsonl", "ws-ticker-simple.jsonl"])
def test_ticker_ask_and_bid_volumes_add_up(ws_frames: dict[str, list[WsFrame]], name: str) -> None:
    for ticker in _tickers(ws_frames, name):
        assert ticker.acc_ask_volume + ticker.acc_bid_volume == ticker.acc_trade_volume


def test_ticker_signed_change(ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]) -> None:
    rest = parse_rest_list(rest_bytes["rest-ticker.json"], RestTicker)
    tickers: list[WsTicker | RestTicker] = [
        *_tickers(ws_frames),
        *_tickers(ws_frames, "ws-ticker-simple.jsonl"),
        *rest,
    ]
    for ticker in tickers:
        assert ticker.signed_change_price == ticker.trade_price - ticker.prev_closing_price
        assert ticker.change_price == abs(ticker.signed_change_price)  # absolute (pitfall 2)
        assert ticker.change == ("RISE" if ticker.signed_change_price > 0 else "FALL")


def test_each_ticker_matches_exactly_one_trade(ws_frames: dict[str, list[WsFrame]]) -> None:
    trades = _trades(ws_frames)
    tickers = _tickers(ws_frames)
    assert len(tickers) == len(trades)
    for ticker in tickers:
        matches = [
            t
            for t in trades
            if t.code == ticker.code
            and t.trade_timestamp == ticker.trade_timestamp
            and t.trade_price == ticker.trade_price
            and t.trade_volume == ticker.trade_volume
            and t.ask_bid == ticker.ask_bid
        ]
        assert len(matches) == 1, ticker


def test_trades_print_at_the_touch(ws_frames: dict[str, list[WsFrame]]) -> None:
    for trade in _trades(ws_frames):
        touch = trade.best_ask_price if trade.ask_bid == "BID" else trade.best_bid_price
        assert trade.trade_price == touch, trade


def test_orderbook_totals_equal_level_sums(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    books: list[WsOrderbook | RestOrderbook] = [
        *_books(ws_frames),
        *parse_rest_list(rest_bytes["rest-orderbook.json"], RestOrderbook),
    ]
    for book in books:
        assert len(book.orderbook_units) == 30
        assert book.total_ask_size == sum((u.ask_size for u in book.orderbook_units), Decimal(0))
        assert book.total_bid_size == sum((u.bid_size for u in book.orderbook_units), Decimal(0))


def test_prices_are_on_the_krw_tick_grid(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    prices: list[Decimal] = []
    for trade in _trades(ws_frames):
        prices += [trade.trade_price, trade.prev_closing_price]
        prices += [p for p in (trade.best_ask_price, trade.best_bid_price) if p is not None]
    for ticker in _tickers(ws_frames):
        prices += [ticker.opening_price, ticker.high_price, ticker.low_price, ticker.trade_price]
    books: list[WsOrderbook | RestOrderbook] = [
        *_books(ws_frames),
        *parse_rest_list(rest_bytes["rest-orderbook.json"], RestOrderbook),
    ]
    for book in books:
        prices += [p for u in book.orderbook_units for p in (u.ask_price, u.bid_price)]
    for candle in [
        *ws_frames["ws-candle.jsonl"],
        *parse_rest_list(rest_bytes["rest-candles-days.json"], RestCandleDay),
    ]:
        assert isinstance(candle, WsCandle | RestCandleDay)
        prices += [candle.opening_price, candle.high_price, candle.low_price, candle.trade_price]
    assert len(prices) > 600
    off_grid = [p for p in prices if not is_on_krw_tick(p)]
    assert off_grid == []
    # The bands the README names: 1,000 KRW for BTC and ETH, 1 KRW for XRP.
    assert {krw_tick_size(t.trade_price) for t in _trades(ws_frames) if t.code != "KRW-XRP"} == {
        Decimal(1000)
    }
    assert {krw_tick_size(t.trade_price) for t in _trades(ws_frames) if t.code == "KRW-XRP"} == {Decimal(1)}


TICKER_FIELDS_SHARED_WITH_REST = (
    "trade_date",
    "trade_time",
    "trade_timestamp",
    "opening_price",
    "high_price",
    "low_price",
    "trade_price",
    "prev_closing_price",
    "change",
    "change_price",
    "signed_change_price",
    "change_rate",
    "signed_change_rate",
    "trade_volume",
    "acc_trade_volume",
    "acc_trade_volume_24h",
    "acc_trade_price",
    "acc_trade_price_24h",
    "highest_52_week_price",
    "highest_52_week_date",
    "lowest_52_week_price",
    "lowest_52_week_date",
)


def test_rest_ticker_equals_last_ws_ticker(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    last = _last_by_market(_tickers(ws_frames))
    rest = parse_rest_list(rest_bytes["rest-ticker.json"], RestTicker)
    assert {t.market for t in rest} == set(last)
    for ticker in rest:
        ws = last[ticker.market]
        assert {f: getattr(ticker, f) for f in TICKER_FIELDS_SHARED_WITH_REST} == {
            f: getattr(ws, f) for f in TICKER_FIELDS_SHARED_WITH_REST
        }


def test_rest_orderbook_equals_last_ws_orderbook(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    last = _last_by_market(_books(ws_frames))
    rest = parse_rest_list(rest_bytes["rest-orderbook.json"], RestOrderbook)
    assert len(rest) == 2
    for book in rest:
        ws = last[book.market]
        assert (book.total_ask_size, book.total_bid_size, book.level) == (
            ws.total_ask_size,
            ws.total_bid_size,
            ws.level,
        )
        # REST writes 104862000 where WS writes 104862000.0: equal as decimals.
        assert [u.model_dump() for u in book.orderbook_units] == [u.model_dump() for u in ws.orderbook_units]


def test_day_candle_matches_the_ticker(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    ticker = _last_by_market(_tickers(ws_frames))["KRW-BTC"]
    today = parse_rest_list(rest_bytes["rest-candles-days.json"], RestCandleDay)[0]
    assert today.candle_acc_trade_volume == ticker.acc_trade_volume
    assert today.candle_acc_trade_price == ticker.acc_trade_price
    assert today.trade_price == ticker.trade_price
    assert today.high_price == ticker.high_price
    assert (today.opening_price, today.low_price) == (ticker.opening_price, ticker.low_price)


def test_minute_candle_close_matches_the_ticker(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    ticker = _last_by_market(_tickers(ws_frames))["KRW-BTC"]
    minutes = parse_rest_list(rest_bytes["rest-candles-minutes-1.json"], RestCandleMinute)
    assert minutes[0].trade_price == ticker.trade_price
    assert {m.unit for m in minutes} == {1}


def test_day_candles_chain_through_prev_closing_price(rest_bytes: dict[str, bytes]) -> None:
    days = parse_rest_list(rest_bytes["rest-candles-days.json"], RestCandleDay)  # newest first
    for newer, older in itertools.pairwise(days):
        assert newer.prev_closing_price == older.trade_price
    for day in days:
        assert day.prev_closing_price is not None
        assert day.change_price == day.trade_price - day.prev_closing_price  # signed in REST (pitfall 2)


def test_every_ws_btc_trade_is_in_the_rest_trades(
    ws_frames: dict[str, list[WsFrame]], rest_bytes: dict[str, bytes]
) -> None:
    ticks = parse_rest_list(rest_bytes["rest-trades-ticks.json"], RestTradeTick)
    rest = {t.sequential_id: record_from_rest_trade(t, received_ms=0) for t in ticks}
    ws_btc = [t for t in _trades(ws_frames) if t.code == "KRW-BTC"]
    assert len(ws_btc) == 6
    assert len(rest) == len(ws_btc) + 1  # plus one older trade
    same = ("market", "sequential_id", "trade_timestamp", "price", "volume", "side", "prev_closing_price")
    for trade in ws_btc:
        from_ws = record_from_ws(trade, received_ms=0)
        from_rest = rest[trade.sequential_id]
        assert {f: getattr(from_rest, f) for f in (*same, "change", "change_price")} == {
            f: getattr(from_ws, f) for f in (*same, "change", "change_price")
        }


def test_sequential_ids_are_not_ordered_but_sort_by_time_then_id(ws_frames: dict[str, list[WsFrame]]) -> None:
    btc = [record_from_ws(t, received_ms=0) for t in _trades(ws_frames) if t.code == "KRW-BTC"]
    arrival = [r.sequential_id for r in btc]
    assert arrival != sorted(arrival)  # pitfall 4: the last frame is an older trade
    ordered: list[TradeRecord] = sorted(btc, key=lambda r: (r.trade_timestamp, r.sequential_id))
    assert [r.sequential_id for r in ordered] == sorted(arrival)
