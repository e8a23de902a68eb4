-- Tickers of the interval with a missing, null, non-numeric or non-positive price.
SELECT concat(t.market, ' (lake.ticker ingest_seq ', t.ingest_seq, '): ',
              string_agg(concat(f.field, ' is ', coalesce(t.payload ->> f.field, 'null')), ', ' ORDER BY f.field))
FROM lake.ticker AS t
CROSS JOIN unnest(ARRAY['trade_price', 'opening_price', 'high_price', 'low_price', 'prev_closing_price'])
    AS f(field)
WHERE t.interval_start = %(interval_start)s
  AND coalesce(cryptoflow_meta.num(t.payload -> f.field) <= 0, true)
GROUP BY t.market, t.ingest_seq
ORDER BY 1
