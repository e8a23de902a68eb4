-- One page of /v1/trades/ticks (newest first) into lake.trades as 'rest-repair': only the trades of
-- [lo_ms, hi_ms); trades the archive already holds are skipped. JSONB keeps the numbers exact.
INSERT INTO lake.trades (market, trade_timestamp, sequential_id, price, volume, side, received_ms, source)
SELECT %(market)s, (e ->> 'timestamp')::bigint, (e ->> 'sequential_id')::bigint,
       cryptoflow_meta.num(e -> 'trade_price'), cryptoflow_meta.num(e -> 'trade_volume'), e ->> 'ask_bid',
       %(received_ms)s, 'rest-repair'
FROM jsonb_array_elements(%(body)s::jsonb) AS e
WHERE (e ->> 'timestamp')::bigint >= %(lo_ms)s AND (e ->> 'timestamp')::bigint < %(hi_ms)s
ON CONFLICT DO NOTHING
