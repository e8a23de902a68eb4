-- lake.ticker rows with ingest_seq in (lo, hi] -> mart.market_stats_24h, one row per market per ticker
-- snapshot (the ticker's own `timestamp`). Cost follows the new lake rows: the range scan uses the
-- ingest_seq index of each partition. Upserted; a row changes only when a value differs.
INSERT INTO mart.market_stats_24h AS m (
    market, quote, snapshot_at, trade_price, opening_price, high_price, low_price, prev_closing_price,
    change, signed_change_price, signed_change_rate, acc_trade_volume_24h, acc_trade_price_24h,
    trade_timestamp)
SELECT DISTINCT ON (s.market, s.snapshot_at)
       s.market, s.quote, s.snapshot_at, s.trade_price, s.opening_price, s.high_price, s.low_price,
       s.prev_closing_price, s.change, s.signed_change_price, s.signed_change_rate,
       s.acc_trade_volume_24h, s.acc_trade_price_24h, s.trade_timestamp
FROM (
    SELECT t.market,
           split_part(t.market, '-', 1) AS quote,
           cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint) AS snapshot_at,
           cryptoflow_meta.num(t.payload -> 'trade_price') AS trade_price,
           cryptoflow_meta.num(t.payload -> 'opening_price') AS opening_price,
           cryptoflow_meta.num(t.payload -> 'high_price') AS high_price,
           cryptoflow_meta.num(t.payload -> 'low_price') AS low_price,
           cryptoflow_meta.num(t.payload -> 'prev_closing_price') AS prev_closing_price,
           t.payload ->> 'change' AS change,
           cryptoflow_meta.num(t.payload -> 'signed_change_price') AS signed_change_price,
           cryptoflow_meta.num(t.payload -> 'signed_change_rate') AS signed_change_rate,
           cryptoflow_meta.num(t.payload -> 'acc_trade_volume_24h') AS acc_trade_volume_24h,
           cryptoflow_meta.num(t.payload -> 'acc_trade_price_24h') AS acc_trade_price_24h,
           cryptoflow_meta.ms_to_ts((t.payload ->> 'trade_timestamp')::bigint) AS trade_timestamp,
           t.ingest_seq
    FROM lake.ticker AS t
    WHERE t.ingest_seq > %(lo)s AND t.ingest_seq <= %(hi)s
      AND t.payload ? 'timestamp'
) AS s
ORDER BY s.market, s.snapshot_at, s.ingest_seq DESC
ON CONFLICT (market, snapshot_at) DO UPDATE
    SET quote = EXCLUDED.quote,
        trade_price = EXCLUDED.trade_price,
        opening_price = EXCLUDED.opening_price,
        high_price = EXCLUDED.high_price,
        low_price = EXCLUDED.low_price,
        prev_closing_price = EXCLUDED.prev_closing_price,
        change = EXCLUDED.change,
        signed_change_price = EXCLUDED.signed_change_price,
        signed_change_rate = EXCLUDED.signed_change_rate,
        acc_trade_volume_24h = EXCLUDED.acc_trade_volume_24h,
        acc_trade_price_24h = EXCLUDED.acc_trade_price_24h,
        trade_timestamp = EXCLUDED.trade_timestamp
    WHERE (m.quote, m.trade_price, m.opening_price, m.high_price, m.low_price, m.prev_closing_price,
           m.change, m.signed_change_price, m.signed_change_rate, m.acc_trade_volume_24h,
           m.acc_trade_price_24h, m.trade_timestamp)
          IS DISTINCT FROM
          (EXCLUDED.quote, EXCLUDED.trade_price, EXCLUDED.opening_price, EXCLUDED.high_price,
           EXCLUDED.low_price, EXCLUDED.prev_closing_price, EXCLUDED.change, EXCLUDED.signed_change_price,
           EXCLUDED.signed_change_rate, EXCLUDED.acc_trade_volume_24h, EXCLUDED.acc_trade_price_24h,
           EXCLUDED.trade_timestamp)
