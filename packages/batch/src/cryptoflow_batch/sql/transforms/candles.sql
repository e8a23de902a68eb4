-- One template for both candle marts (see transforms.py): lake.candles rows of one endpoint with
-- ingest_seq in (lo, hi] -> one mart table. Only closed buckets: a candle collected before its bucket
-- ended stays out until it is fetched again after. An updated candle replaces the earlier one (same
-- key), never a second row. The placeholders mart, endpoint and bucket are filled in before execution.
INSERT INTO {mart} AS m (
    market, candle_start, opening_price, high_price, low_price, trade_price, volume, value, last_trade_at,
    updated_at)
SELECT DISTINCT ON (l.market, l.candle_start)
       l.market, l.candle_start,
       cryptoflow_meta.num(l.payload -> 'opening_price'),
       cryptoflow_meta.num(l.payload -> 'high_price'),
       cryptoflow_meta.num(l.payload -> 'low_price'),
       cryptoflow_meta.num(l.payload -> 'trade_price'),
       cryptoflow_meta.num(l.payload -> 'candle_acc_trade_volume'),
       cryptoflow_meta.num(l.payload -> 'candle_acc_trade_price'),
       cryptoflow_meta.ms_to_ts((l.payload ->> 'timestamp')::bigint),
       l.collected_at
FROM lake.candles AS l
WHERE l.endpoint = {endpoint}
  AND l.ingest_seq > %(lo)s AND l.ingest_seq <= %(hi)s
  AND l.candle_start + interval {bucket} <= l.collected_at
ORDER BY l.market, l.candle_start, l.ingest_seq DESC
ON CONFLICT (market, candle_start) DO UPDATE
    SET opening_price = EXCLUDED.opening_price,
        high_price = EXCLUDED.high_price,
        low_price = EXCLUDED.low_price,
        trade_price = EXCLUDED.trade_price,
        volume = EXCLUDED.volume,
        value = EXCLUDED.value,
        last_trade_at = EXCLUDED.last_trade_at,
        updated_at = EXCLUDED.updated_at
    WHERE (m.opening_price, m.high_price, m.low_price, m.trade_price, m.volume, m.value, m.last_trade_at)
          IS DISTINCT FROM
          (EXCLUDED.opening_price, EXCLUDED.high_price, EXCLUDED.low_price, EXCLUDED.trade_price,
           EXCLUDED.volume, EXCLUDED.value, EXCLUDED.last_trade_at)
