-- mart.market_stats_24h rows made from lake.ticker ingest_seq (lo, hi] with a null or non-positive price.
WITH batch AS (
    SELECT DISTINCT m.*
    FROM lake.ticker AS t
    JOIN mart.market_stats_24h AS m
      ON m.market = t.market
     AND m.snapshot_at = cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint)
    WHERE t.ingest_seq > %(lo)s AND t.ingest_seq <= %(hi)s
)
SELECT concat('mart.market_stats_24h ', b.market, ' @ ', b.snapshot_at, ': ',
              string_agg(concat(f.field, ' is ', coalesce(f.value::text, 'null')), ', ' ORDER BY f.field))
FROM batch AS b
CROSS JOIN LATERAL (VALUES ('trade_price', b.trade_price), ('opening_price', b.opening_price),
                           ('high_price', b.high_price), ('low_price', b.low_price),
                           ('prev_closing_price', b.prev_closing_price)) AS f(field, value)
WHERE coalesce(f.value <= 0, true)
GROUP BY b.market, b.snapshot_at
ORDER BY 1
