-- One indicator engine, as TA-Lib computes it (see transforms/indicators.sql): mart.indicators gains the
-- new indicators, their smoothing state and updated_at; mart.indicators_1m holds the same per minute.
-- rsi_14 and atr_14 become Wilder's (TA-Lib's) definitions, so every stored row is recomputed: the
-- indicators watermark goes back to 0 and the next run rebuilds the table from the candles.

-- A recursive smoothing as a running aggregate: `smooth(value, seed, num, den) OVER (... ROWS UNBOUNDED
-- PRECEDING)` is NULL until the first row with a non-NULL seed, takes that seed as its value, and from
-- the next row on moves by num/den of the distance to the row's value: an EMA (2 / (N + 1)) or Wilder's
-- smoothing (1 / N). Exact numeric; each step's division keeps at least 16 significant digits of the move.
-- Seeding with the stored state of the row before a recomputed range makes a run continue the recursion.
CREATE FUNCTION cryptoflow_meta.smooth_step(state numeric, value numeric, seed numeric, num integer, den integer)
    RETURNS numeric LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF state IS NULL THEN
        RETURN seed;
    END IF;
    RETURN state + (value - state) * num / den;
END
$$;

CREATE AGGREGATE cryptoflow_meta.smooth(value numeric, seed numeric, num integer, den integer) (
    SFUNC = cryptoflow_meta.smooth_step,
    STYPE = numeric
);

-- What the indicators_ranges checks call out of range in a row of either indicator mart (NULL when
-- nothing): RSI outside [0, 100], a negative ATR or average volume, a non-positive average, bands out of
-- order, a histogram that is not MACD - signal.
CREATE FUNCTION cryptoflow_meta.indicator_problems(
    rsi_14 numeric, atr_14 numeric, avg_volume_30d numeric, ma_5 numeric, ma_20 numeric, ma_60 numeric,
    ma_120 numeric, ema_12 numeric, ema_26 numeric, bb_lower numeric, bb_middle numeric, bb_upper numeric,
    macd numeric, macd_signal numeric, macd_hist numeric)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT nullif(concat_ws(', ',
    CASE WHEN rsi_14 < 0 OR rsi_14 > 100 THEN concat('rsi_14 is ', rsi_14) END,
    CASE WHEN atr_14 < 0 THEN concat('atr_14 is ', atr_14) END,
    CASE WHEN avg_volume_30d < 0 THEN concat('avg_volume_30d is ', avg_volume_30d) END,
    CASE WHEN ma_5 <= 0 OR ma_20 <= 0 OR ma_60 <= 0 OR ma_120 <= 0 OR ema_12 <= 0 OR ema_26 <= 0
         THEN 'a moving average is not positive' END,
    CASE WHEN bb_lower > bb_middle OR bb_upper < bb_middle THEN 'Bollinger Bands out of order' END,
    CASE WHEN macd_hist <> macd - macd_signal THEN 'macd_hist is not macd - macd_signal' END), '')
$$;

ALTER TABLE mart.indicators
    ADD COLUMN ma_120 numeric,
    ADD COLUMN ema_12 numeric,
    ADD COLUMN ema_26 numeric,
    ADD COLUMN macd numeric,
    ADD COLUMN macd_signal numeric,
    ADD COLUMN macd_hist numeric,
    ADD COLUMN bb_middle numeric,
    ADD COLUMN bb_upper numeric,
    ADD COLUMN bb_lower numeric,
    ADD COLUMN bb_percent_b numeric,
    ADD COLUMN volume_zscore_30d numeric,
    -- The default serves writers that predate the column (the service's tests plant rows); the
    -- transform sets it itself.
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    -- Private smoothing state (not for readers): MACD's own 12-period EMA (TA-Lib seeds it at the 26th
    -- candle, unlike ema_12), and Wilder's average gain and loss behind rsi_14.
    ADD COLUMN state_macd_fast numeric,
    ADD COLUMN state_rsi_gain numeric,
    ADD COLUMN state_rsi_loss numeric;

CREATE TABLE mart.indicators_1m (
    market text NOT NULL,
    candle_start timestamptz NOT NULL,
    close numeric NOT NULL,
    ma_5 numeric,
    ma_20 numeric,
    ma_60 numeric,
    ma_120 numeric,
    ema_12 numeric,
    ema_26 numeric,
    macd numeric,
    macd_signal numeric,
    macd_hist numeric,
    rsi_14 numeric,
    atr_14 numeric,
    bb_middle numeric,
    bb_upper numeric,
    bb_lower numeric,
    bb_percent_b numeric,
    avg_volume_30d numeric,
    volume_zscore_30d numeric,
    golden_cross boolean NOT NULL DEFAULT false,
    dead_cross boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    state_macd_fast numeric,
    state_rsi_gain numeric,
    state_rsi_loss numeric,
    PRIMARY KEY (market, candle_start)
);

-- Readers poll max(updated_at); the 1-minute transform finds the candles changed since its last run.
CREATE INDEX indicators_updated_at ON mart.indicators (updated_at);
CREATE INDEX indicators_1m_updated_at ON mart.indicators_1m (updated_at);
CREATE INDEX candles_1m_updated_at ON mart.candles_1m (updated_at);

UPDATE cryptoflow_meta.watermarks SET last_seq = 0, updated_at = now() WHERE name = 'indicators';
