-- Indicator rows of the markets whose daily candles arrived in lake ingest_seq (lo, hi] that are out of
-- range: RSI outside [0, 100], a negative ATR or average volume, a non-positive moving average.
SELECT concat('mart.indicators ', i.market, ' ', i.day, ': ', concat_ws(', ',
           CASE WHEN i.rsi_14 < 0 OR i.rsi_14 > 100 THEN concat('rsi_14 is ', i.rsi_14) END,
           CASE WHEN i.atr_14 < 0 THEN concat('atr_14 is ', i.atr_14) END,
           CASE WHEN i.avg_volume_30d < 0 THEN concat('avg_volume_30d is ', i.avg_volume_30d) END,
           CASE WHEN i.ma_5 <= 0 OR i.ma_20 <= 0 OR i.ma_60 <= 0 THEN 'a moving average is not positive' END))
FROM mart.indicators AS i
JOIN (
    SELECT market, (min(candle_start) AT TIME ZONE 'UTC')::date AS from_day
    FROM lake.candles
    WHERE endpoint = 'candles/days' AND ingest_seq > %(lo)s AND ingest_seq <= %(hi)s
    GROUP BY market
) AS c ON c.market = i.market AND i.day >= c.from_day
WHERE i.rsi_14 < 0 OR i.rsi_14 > 100 OR i.atr_14 < 0 OR i.avg_volume_30d < 0
   OR i.ma_5 <= 0 OR i.ma_20 <= 0 OR i.ma_60 <= 0
ORDER BY 1
