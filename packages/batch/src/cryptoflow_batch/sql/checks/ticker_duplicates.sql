-- Two rows of the interval for the same market (by the market the payload itself names), or a row whose
-- key column disagrees with its payload. The primary key cannot see either.
SELECT concat(d.market, ': ', d.n, ' rows in the interval (lake.ticker ingest_seq ', d.seqs, ')')
FROM (
    SELECT t.payload ->> 'market' AS market, count(*) AS n,
           string_agg(t.ingest_seq::text, ', ' ORDER BY t.ingest_seq) AS seqs
    FROM lake.ticker AS t
    WHERE t.interval_start = %(interval_start)s
    GROUP BY 1
    HAVING count(*) > 1
) AS d
UNION ALL
SELECT concat(t.market, ' (lake.ticker ingest_seq ', t.ingest_seq, '): payload names market ',
              coalesce(t.payload ->> 'market', 'null'))
FROM lake.ticker AS t
WHERE t.interval_start = %(interval_start)s
  AND t.market IS DISTINCT FROM t.payload ->> 'market'
ORDER BY 1
