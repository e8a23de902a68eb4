-- Every lake.ticker row of ingest_seq (lo, hi] has its mart.market_stats_24h row.
SELECT concat(t.market, ' (lake.ticker ingest_seq ', t.ingest_seq, '): no mart.market_stats_24h row for snapshot ',
              coalesce(cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint)::text, 'null'))
FROM lake.ticker AS t
LEFT JOIN mart.market_stats_24h AS m
  ON m.market = t.market
 AND m.snapshot_at = cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint)
WHERE t.ingest_seq > %(lo)s AND t.ingest_seq <= %(hi)s
  AND m.market IS NULL
ORDER BY 1
