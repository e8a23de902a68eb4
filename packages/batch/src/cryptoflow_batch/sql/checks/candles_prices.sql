-- Candles in [start, end) with a missing, null or non-positive price, a negative volume or value, or a
-- high/low that contradicts the other prices.
WITH c AS (
    SELECT c.*,
           cryptoflow_meta.num(c.payload -> 'opening_price') AS o,
           cryptoflow_meta.num(c.payload -> 'high_price') AS h,
           cryptoflow_meta.num(c.payload -> 'low_price') AS l,
           cryptoflow_meta.num(c.payload -> 'trade_price') AS cl
    FROM lake.candles AS c
    WHERE c.endpoint = %(endpoint)s AND c.candle_start >= %(start)s AND c.candle_start < %(end)s
), problems AS (
    SELECT c.market, c.candle_start, c.ingest_seq,
           concat(f.field, ' is ', coalesce(c.payload ->> f.field, 'null')) AS problem
    FROM c
    -- floor 0: must be > 0 (prices); floor -1: must be >= 0 (volume, value)
    CROSS JOIN (VALUES ('opening_price', 0), ('high_price', 0), ('low_price', 0), ('trade_price', 0),
                       ('candle_acc_trade_volume', -1), ('candle_acc_trade_price', -1)) AS f(field, floor)
    WHERE coalesce(cryptoflow_meta.num(c.payload -> f.field) <= 0 AND f.floor = 0
                   OR cryptoflow_meta.num(c.payload -> f.field) < 0, true)
    UNION ALL
    SELECT c.market, c.candle_start, c.ingest_seq, concat('high ', c.h, ' is below open/close/low')
    FROM c WHERE c.h < greatest(c.o, c.cl, c.l)
    UNION ALL
    SELECT c.market, c.candle_start, c.ingest_seq, concat('low ', c.l, ' is above open/close/high')
    FROM c WHERE c.l > least(c.o, c.cl, c.h)
)
SELECT concat(%(endpoint)s::text, ' ', market, ' ', candle_start, ' (lake.candles ingest_seq ', ingest_seq, '): ',
              string_agg(problem, ', ' ORDER BY problem))
FROM problems
GROUP BY market, candle_start, ingest_seq
ORDER BY 1
