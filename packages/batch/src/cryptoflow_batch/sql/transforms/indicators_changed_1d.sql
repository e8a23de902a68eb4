-- The `changed` query of transforms/indicators.sql for mart.indicators: the markets whose daily candles
-- arrived in lake ingest_seq (lo, hi], each with its first changed candle.
SELECT l.market, min(l.candle_start) AS first_start
FROM lake.candles AS l
WHERE l.endpoint = 'candles/days' AND l.ingest_seq > %(lo)s AND l.ingest_seq <= %(hi)s
GROUP BY l.market
