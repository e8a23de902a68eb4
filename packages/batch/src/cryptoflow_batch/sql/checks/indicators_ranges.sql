-- Out-of-range rows among those the indicators transform rewrote for lake ingest_seq (lo, hi]: per market,
-- from the first changed day to the 59th row after the last one (see transforms/indicators.sql). Out of
-- range: RSI outside [0, 100], a negative ATR or average volume, a non-positive moving average.
WITH changed AS (
    SELECT l.market, (min(l.candle_start) AT TIME ZONE 'UTC')::date AS first_day,
           (max(l.candle_start) AT TIME ZONE 'UTC')::date AS last_day
    FROM lake.candles AS l
    WHERE l.endpoint = 'candles/days' AND l.ingest_seq > %(lo)s AND l.ingest_seq <= %(hi)s
    GROUP BY l.market
)
SELECT concat('mart.indicators ', i.market, ' ', i.day, ': ', concat_ws(', ',
           CASE WHEN i.rsi_14 < 0 OR i.rsi_14 > 100 THEN concat('rsi_14 is ', i.rsi_14) END,
           CASE WHEN i.atr_14 < 0 THEN concat('atr_14 is ', i.atr_14) END,
           CASE WHEN i.avg_volume_30d < 0 THEN concat('avg_volume_30d is ', i.avg_volume_30d) END,
           CASE WHEN i.ma_5 <= 0 OR i.ma_20 <= 0 OR i.ma_60 <= 0 THEN 'a moving average is not positive' END))
FROM changed AS c
-- OFFSET 0: one index range scan per market on the primary key (market, day), not a scan of the table.
CROSS JOIN LATERAL (
    SELECT i.*
    FROM mart.indicators AS i
    WHERE i.market = c.market AND i.day >= c.first_day
      AND i.day <= coalesce((SELECT j.day FROM mart.indicators AS j
                             WHERE j.market = c.market AND j.day >= c.last_day
                             ORDER BY j.day OFFSET 59 LIMIT 1), 'infinity')
    OFFSET 0
) AS i
WHERE i.rsi_14 < 0 OR i.rsi_14 > 100 OR i.atr_14 < 0 OR i.avg_volume_30d < 0
   OR i.ma_5 <= 0 OR i.ma_20 <= 0 OR i.ma_60 <= 0
ORDER BY 1
