"""Field types shared by the Upbit models and the Kafka records."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

Side = Literal["ASK", "BID"]
"""Taker side: `ASK` = the seller took liquidity, `BID` = the buyer did."""
Change = Literal["RISE", "EVEN", "FALL"]
StreamType = Literal["SNAPSHOT", "REALTIME"]
MarketState = Literal["PREVIEW", "ACTIVE", "DELISTED"]
MarketWarning = Literal["NONE", "CAUTION"]

EpochMs = Annotated[int, Field(strict=True, ge=0)]
"""UTC epoch milliseconds."""
MarketCode = Annotated[str, StringConstraints(strict=True, min_length=1)]

# Upbit writes dates and times differently per message type (pitfall 1), so each format has its own type.
DashDate = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{4}-\d{2}-\d{2}$")]
"""`yyyy-MM-dd`: WS trade `trade_date`, 52-week dates, REST `trade_date_utc`."""
CompactDate = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{8}$")]
"""`yyyyMMdd`: ticker `trade_date`."""
ColonTime = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{2}:\d{2}:\d{2}$")]
"""`HH:mm:ss`: WS trade `trade_time`, REST `trade_time_utc`."""
CompactTime = Annotated[str, StringConstraints(strict=True, pattern=r"^\d{6}$")]
"""`HHmmss`: ticker `trade_time`."""
CandleDateTime = Annotated[
    str, StringConstraints(strict=True, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
]
"""`yyyy-MM-ddTHH:mm:ss`, the start of a candle's bucket."""
