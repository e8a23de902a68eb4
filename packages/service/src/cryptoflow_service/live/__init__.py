"""Live market state read from the hot path's Redis: tickers, trade streams, order books, the registry.

The layout is written by `cryptoflow-stream-sink` (`cryptoflow_contracts.redis_keys`): every record
field but `kind` as text, null fields left out; decimals are `str(Decimal)`, times epoch ms.
"""
