-- Two candles in [start, end) for the same market and bucket by what the payload itself says, or a row
-- whose key columns disagree with its payload. The primary key cannot see either.
SELECT concat(%(endpoint)s::text, ' ', d.market, ' ', d.bucket, ': ', d.n, ' rows (lake.candles ingest_seq ',
              d.seqs, ')')
FROM (
    SELECT c.payload ->> 'market' AS market, c.payload ->> 'candle_date_time_utc' AS bucket, count(*) AS n,
           string_agg(c.ingest_seq::text, ', ' ORDER BY c.ingest_seq) AS seqs
    FROM lake.candles AS c
    WHERE c.endpoint = %(endpoint)s AND c.candle_start >= %(start)s AND c.candle_start < %(end)s
    GROUP BY 1, 2
    HAVING count(*) > 1
) AS d
UNION ALL
SELECT concat(c.endpoint, ' ', c.market, ' ', c.candle_start, ' (lake.candles ingest_seq ', c.ingest_seq,
              '): payload names ', coalesce(c.payload ->> 'market', 'null'), ' ',
              coalesce(c.payload ->> 'candle_date_time_utc', 'null'))
FROM lake.candles AS c
WHERE c.endpoint = %(endpoint)s AND c.candle_start >= %(start)s AND c.candle_start < %(end)s
  AND (c.market IS DISTINCT FROM c.payload ->> 'market'
       OR c.candle_start IS DISTINCT FROM cryptoflow_meta.utc_ts(c.payload ->> 'candle_date_time_utc'))
ORDER BY 1
