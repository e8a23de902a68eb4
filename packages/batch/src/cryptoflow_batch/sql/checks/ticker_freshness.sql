-- Tickers of the interval that were already stale when collected (the exchange's snapshot time is more
-- than max_age before collected_at), and an interval with no tickers at all.
-- (Messages use concat(), not format(): a literal percent sign would clash with the query parameters.)
SELECT concat(t.market, ' (lake.ticker ingest_seq ', t.ingest_seq, '): snapshot ',
              coalesce(cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint)::text, 'missing'), ' is ',
              t.collected_at - cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint),
              ' older than its collection at ', t.collected_at)
FROM lake.ticker AS t
WHERE t.interval_start = %(interval_start)s
  AND (NOT t.payload ? 'timestamp'
       OR t.collected_at - cryptoflow_meta.ms_to_ts((t.payload ->> 'timestamp')::bigint)
          > %(max_age_s)s * interval '1 second')
UNION ALL
SELECT concat('no tickers were collected for the interval starting ', %(interval_start)s::timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM lake.ticker WHERE interval_start = %(interval_start)s)
ORDER BY 1
