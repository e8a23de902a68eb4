-- Exactly one ticker per market listed for the interval (lake.markets of the same run).
SELECT CASE WHEN t.market IS NULL THEN concat(m.market, ': listed but no ticker collected')
            ELSE concat(t.market, ': ticker collected but not listed (lake.ticker ingest_seq ', t.ingest_seq, ')')
       END
FROM (SELECT market FROM lake.markets WHERE interval_start = %(interval_start)s) AS m
FULL JOIN (SELECT market, ingest_seq FROM lake.ticker WHERE interval_start = %(interval_start)s) AS t
    ON t.market = m.market
WHERE t.market IS NULL OR m.market IS NULL
UNION ALL
SELECT concat('no markets were listed for the interval starting ', %(interval_start)s::timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM lake.markets WHERE interval_start = %(interval_start)s)
ORDER BY 1
