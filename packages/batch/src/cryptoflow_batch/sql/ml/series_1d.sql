-- Closed daily candles joined with their indicator row, per market, oldest first (the ML features' input).
-- Numbers leave PostgreSQL as float8 here on purpose: they become model features, never stored prices.
SELECT c.market,
       (extract(epoch FROM c.candle_start) * 1000)::bigint AS start_ms,
       c.trade_price::float8 AS close,
       i.ma_5::float8, i.ma_20::float8, i.ma_60::float8, i.rsi_14::float8, i.macd::float8,
       i.macd_signal::float8, i.bb_percent_b::float8, i.atr_14::float8, i.volume_zscore_30d::float8
FROM mart.candles_1d AS c
LEFT JOIN mart.indicators AS i ON i.market = c.market AND i.day = (c.candle_start AT TIME ZONE 'UTC')::date
WHERE c.candle_start >= %(since)s AND c.candle_start + interval '1 day' <= %(closed_before)s
ORDER BY c.market, c.candle_start
