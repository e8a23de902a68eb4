-- Out-of-range rows among those the indicators transform rewrote for lake ingest_seq (lo, hi]: per market,
-- from the first changed day to the end (see transforms/indicators.sql); the rules are
-- cryptoflow_meta.indicator_problems.
WITH changed AS (
    SELECT l.market, (min(l.candle_start) AT TIME ZONE 'UTC')::date AS first_day
    FROM lake.candles AS l
    WHERE l.endpoint = 'candles/days' AND l.ingest_seq > %(lo)s AND l.ingest_seq <= %(hi)s
    GROUP BY l.market
)
SELECT concat('mart.indicators ', p.market, ' ', p.day, ': ', p.problems)
FROM changed AS c
-- OFFSET 0: one index range scan per market on the primary key (market, day), not a scan of the table.
CROSS JOIN LATERAL (
    SELECT i.market, i.day,
           cryptoflow_meta.indicator_problems(
               i.rsi_14, i.atr_14, i.avg_volume_30d, i.ma_5, i.ma_20, i.ma_60, i.ma_120, i.ema_12, i.ema_26,
               i.bb_lower, i.bb_middle, i.bb_upper, i.macd, i.macd_signal, i.macd_hist) AS problems
    FROM mart.indicators AS i
    WHERE i.market = c.market AND i.day >= c.first_day
    OFFSET 0
) AS p
WHERE p.problems IS NOT NULL
ORDER BY 1
