-- Closed minute candles joined with their 1-minute indicator row, for the markets that have indicator rows.
-- float8 on purpose (model features, never stored prices).
SELECT c.market,
       (extract(epoch FROM c.candle_start) * 1000)::bigint AS start_ms,
       c.trade_price::float8 AS close,
       i.ma_5::float8, i.ma_20::float8, i.ma_60::float8, i.rsi_14::float8, i.macd::float8,
       i.macd_signal::float8, i.bb_percent_b::float8, i.atr_14::float8, i.volume_zscore_30d::float8
FROM mart.candles_1m AS c
JOIN mart.indicators_1m AS i ON i.market = c.market AND i.candle_start = c.candle_start
WHERE c.candle_start >= %(since)s AND c.candle_start + interval '1 minute' <= %(closed_before)s
ORDER BY c.market, c.candle_start
