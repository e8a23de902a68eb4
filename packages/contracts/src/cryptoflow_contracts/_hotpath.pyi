"""Types of the compiled half of `cryptoflow_contracts.hotpath` (`rust/lib.rs`)."""

from typing import Any

from cryptoflow_contracts.topics import Topic

class WsRecord:
    """A trade, ticker or orderbook frame turned into its Kafka record."""

    kind: str
    topic: Topic
    market: str
    timestamp: int
    """The frame's message time (exchange clock)."""
    value: bytes
    """`serialize(record_from_ws(parse_ws_frame(raw), ...))`, byte for byte."""
    sequential_id: int | None
    trade_timestamp: int | None
    """Both set for trades only."""
    def __init__(
        self,
        *,
        kind: str,
        topic: Topic,
        market: str,
        timestamp: int,
        value: bytes,
        sequential_id: int | None = None,
        trade_timestamp: int | None = None,
    ) -> None: ...

class StoredRecord:
    """What the sink needs of a trade, ticker or orderbook record."""

    kind: str
    market: str
    time_ms: int
    """`trade_timestamp` of a trade, `timestamp` of a ticker or orderbook: what orders them."""
    fields: tuple[str, ...]
    """The Redis hash or stream entry: field, value, field, value, ... (see `hotpath.redis_fields`)."""
    sequential_id: int | None
    market_state: str | None
    def __init__(
        self,
        *,
        kind: str,
        market: str,
        time_ms: int,
        fields: tuple[str, ...],
        sequential_id: int | None = None,
        market_state: str | None = None,
    ) -> None: ...

class FrameConverter:
    def __init__(
        self,
        type_key: str,
        levels: tuple[str, list[str], list[str]],
        unit_names: list[str],
        plans: list[dict[str, Any]],
    ) -> None: ...
    def convert(self, raw: bytes, received_ms: int, source: bytes) -> WsRecord | None: ...

class RecordConverter:
    def __init__(self, plan: dict[str, Any]) -> None: ...
    def convert(self, value: bytes) -> StoredRecord | None: ...
