-- The `changed` query of transforms/indicators.sql for mart.indicators_1m: the markets whose minute
-- candles changed since the last run (updated_at in (lo, hi], microseconds since the epoch), each with
-- its first changed candle, whoever writes mart.candles_1m. The window reaches 5 minutes further back:
-- a writer's updated_at is its transaction's start, so a row can become visible after a later one;
-- reading it again costs little (an unchanged row is not rewritten).
SELECT c.market, min(c.candle_start) AS first_start
FROM mart.candles_1m AS c
WHERE c.updated_at > timestamptz 'epoch' + %(lo)s * interval '1 microsecond' - interval '5 minutes'
  AND c.updated_at <= timestamptz 'epoch' + %(hi)s * interval '1 microsecond'
GROUP BY c.market
