-- Out-of-range rows among those the 1-minute indicators transform rewrote for candles_1m updated_at in
-- (lo, hi] (microseconds since the epoch, read 5 minutes further back as the transform does): per market,
-- from the first changed candle to the end; the rules are cryptoflow_meta.indicator_problems.
WITH changed AS (
    SELECT c.market, min(c.candle_start) AS first_start
    FROM mart.candles_1m AS c
    WHERE c.updated_at > timestamptz 'epoch' + %(lo)s * interval '1 microsecond' - interval '5 minutes'
      AND c.updated_at <= timestamptz 'epoch' + %(hi)s * interval '1 microsecond'
    GROUP BY c.market
)
SELECT concat('mart.indicators_1m ', p.market, ' ', p.candle_start, ': ', p.problems)
FROM changed AS c
CROSS JOIN LATERAL (
    SELECT i.market, i.candle_start,
           cryptoflow_meta.indicator_problems(
               i.rsi_14, i.atr_14, i.avg_volume_30d, i.ma_5, i.ma_20, i.ma_60, i.ma_120, i.ema_12, i.ema_26,
               i.bb_lower, i.bb_middle, i.bb_upper, i.macd, i.macd_signal, i.macd_hist) AS problems
    FROM mart.indicators_1m AS i
    WHERE i.market = c.market AND i.candle_start >= c.first_start
    OFFSET 0
) AS p
WHERE p.problems IS NOT NULL
ORDER BY 1
