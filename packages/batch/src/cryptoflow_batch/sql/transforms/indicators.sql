-- One template for both indicator marts (see transforms.py): a candle mart -> its indicators mart, for the
-- markets the `changed` CTE names (with the first changed candle of each). Placeholders: changed (the
-- CTE's query), candles, target, key (the target's time column) and key_of_k (k.candle_start as a key).
--
-- Definitions, as TA-Lib computes them over the candles a market has (one row per candle, a missing day is
-- no row), each NULL until TA-Lib gives a value:
--   ma_N              SMA(close, N), N = 5, 20, 60, 120
--   ema_12, ema_26    EMA(close, N): the SMA of the first N closes, then + 2 / (N + 1) of each move
--   macd, macd_signal, macd_hist
--                     MACD(12, 26, 9): TA-Lib seeds MACD's own 12-period EMA with the SMA of the 12
--                     closes up to the 26th candle (state_macd_fast), so the line fast - slow exists from
--                     the 26th candle; the signal is a 9-period EMA of the line seeded with the SMA of its
--                     first 9 values; all three appear from the 34th candle, hist = macd - signal
--   rsi_14            RSI(14): Wilder's average gain and loss (state_rsi_gain / state_rsi_loss) seeded with
--                     the means of the first 14 moves, then (13 * avg + move) / 14;
--                     100 * gain / (gain + loss), 0 when there is no move at all
--   atr_14            ATR(14): true range max(high - low, |high - prev close|, |low - prev close|) from
--                     the second candle; the mean of the first 14, then Wilder's smoothing
--   bb_middle, bb_upper, bb_lower
--                     BBANDS(20, 2, 2, SMA): the SMA 20 +/- 2 population standard deviations of the closes
--   bb_percent_b      (close - bb_lower) / (bb_upper - bb_lower), NULL when the bands touch
--   avg_volume_30d    SMA(volume, 30); volume_zscore_30d (volume - SMA 30) / population STDDEV 30 (NULL
--                     when the volume did not vary)
--   golden_cross      ma_5 above ma_20 on this candle and not above it on the previous one; dead_cross
--                     the opposite
--
-- Incremental: the window values need at most the 119 candles before a row; the smoothed ones continue
-- from the stored state of the row before (cryptoflow_meta.smooth, seeded with it). Per market the
-- statement reads the candles from the 119th before the first changed one to the end, the stored rows of
-- the 8 candles before the first changed one, and rewrites the rows from the first changed candle on. A
-- new candle costs one row plus a window of 120, whatever the length of the history; a corrected old
-- candle recomputes forward from itself. A row is written (and its updated_at moved) only when a value
-- changed.
WITH changed AS (
    {changed}
), bounds AS MATERIALIZED (
    -- MATERIALIZED: computed once per market (inlined, each reference re-ran the walks row by row).
    -- read_from: the 119th candle before the first changed one; state_from: the 8th (the signal's seed
    -- window needs the MACD line of 8 stored rows); anchor: the one just before it (each absent when the
    -- history is shorter). Each is a short walk along the primary key.
    SELECT c.market, c.first_start,
           coalesce((SELECT k.candle_start FROM {candles} AS k
                     WHERE k.market = c.market AND k.candle_start < c.first_start
                     ORDER BY k.candle_start DESC OFFSET 118 LIMIT 1), '-infinity') AS read_from,
           coalesce((SELECT k.candle_start FROM {candles} AS k
                     WHERE k.market = c.market AND k.candle_start < c.first_start
                     ORDER BY k.candle_start DESC OFFSET 7 LIMIT 1), '-infinity') AS state_from,
           coalesce((SELECT k.candle_start FROM {candles} AS k
                     WHERE k.market = c.market AND k.candle_start < c.first_start
                     ORDER BY k.candle_start DESC LIMIT 1), c.first_start) AS anchor
    FROM changed AS c
), src AS (
    SELECT b.market, b.first_start, b.anchor, k.candle_start, k.key, k.high_price, k.low_price, k.close,
           k.volume, s.ema_12 AS s_ema_12, s.ema_26 AS s_ema_26, s.macd_signal AS s_macd_signal,
           s.atr_14 AS s_atr_14, s.state_macd_fast AS s_macd_fast, s.state_rsi_gain AS s_rsi_gain,
           s.state_rsi_loss AS s_rsi_loss,
           lag(k.close) OVER (PARTITION BY b.market ORDER BY k.candle_start) AS prev_close
    FROM bounds AS b
    -- OFFSET 0 keeps the subquery as it is written: one index range scan per market, never a join
    -- that reads every candle of the table and filters afterwards.
    CROSS JOIN LATERAL (
        SELECT k.candle_start, {key_of_k} AS key, k.high_price, k.low_price, k.trade_price AS close, k.volume
        FROM {candles} AS k
        WHERE k.market = b.market AND k.candle_start >= b.read_from
        OFFSET 0
    ) AS k
    -- The stored state of the 8 candles before the first changed one (an index lookup each, none for
    -- the other rows; OFFSET 0 again: flattened, this became a hash join over the whole target table).
    LEFT JOIN LATERAL (
        SELECT s.* FROM {target} AS s
        WHERE k.candle_start >= b.state_from AND k.candle_start < b.first_start
          AND s.market = b.market AND s.{key} = k.key
        OFFSET 0
    ) AS s ON true
), moves AS (
    SELECT s.*,
           CASE WHEN s.prev_close IS NOT NULL THEN greatest(s.close - s.prev_close, 0) END AS gain,
           CASE WHEN s.prev_close IS NOT NULL THEN greatest(s.prev_close - s.close, 0) END AS loss,
           CASE WHEN s.prev_close IS NOT NULL
                THEN greatest(s.high_price - s.low_price, abs(s.high_price - s.prev_close),
                              abs(s.low_price - s.prev_close)) END AS true_range,
           s.candle_start < s.first_start AS stored
    FROM src AS s
), sums AS (
    -- Running sums (one window pass; exact numeric), so that every fixed window below is a difference
    -- of two of them instead of a window aggregate of its own.
    SELECT m.*,
           row_number() OVER run AS n,
           sum(m.close) OVER run AS c1, sum(m.close * m.close) OVER run AS c2,
           sum(m.volume) OVER run AS v1, sum(m.volume * m.volume) OVER run AS v2,
           count(m.gain) OVER run AS moves, sum(coalesce(m.gain, 0)) OVER run AS g1,
           sum(coalesce(m.loss, 0)) OVER run AS l1, sum(coalesce(m.true_range, 0)) OVER run AS t1
    FROM moves AS m
    WINDOW run AS (PARTITION BY m.market ORDER BY m.candle_start ROWS UNBOUNDED PRECEDING)
), lags AS (
    -- The sums N rows back (NULL before the first row read: the window then starts at that row).
    SELECT s.*,
           coalesce(lag(s.c1, 5) OVER k, 0) AS c1_5, coalesce(lag(s.c1, 12) OVER k, 0) AS c1_12,
           coalesce(lag(s.c1, 20) OVER k, 0) AS c1_20, coalesce(lag(s.c2, 20) OVER k, 0) AS c2_20,
           coalesce(lag(s.c1, 26) OVER k, 0) AS c1_26, coalesce(lag(s.c1, 60) OVER k, 0) AS c1_60,
           coalesce(lag(s.c1, 120) OVER k, 0) AS c1_120,
           coalesce(lag(s.v1, 30) OVER k, 0) AS v1_30, coalesce(lag(s.v2, 30) OVER k, 0) AS v2_30,
           coalesce(lag(s.moves, 14) OVER k, 0) AS moves_14, coalesce(lag(s.g1, 14) OVER k, 0) AS g1_14,
           coalesce(lag(s.l1, 14) OVER k, 0) AS l1_14, coalesce(lag(s.t1, 14) OVER k, 0) AS t1_14
    FROM sums AS s
    WINDOW k AS (PARTITION BY s.market ORDER BY s.candle_start)
), windows AS (
    -- A row at or after the first changed candle has its 119 predecessors read (or all of them), so
    -- n >= N there exactly when the market has N candles up to it.
    SELECT l.*,
           CASE WHEN l.n >= 5 THEN (l.c1 - l.c1_5) / 5 END AS ma_5,
           CASE WHEN l.n >= 12 THEN (l.c1 - l.c1_12) / 12 END AS sma_12,
           CASE WHEN l.n >= 20 THEN (l.c1 - l.c1_20) / 20 END AS ma_20,
           CASE WHEN l.n >= 20 THEN (20 * (l.c2 - l.c2_20) - (l.c1 - l.c1_20) * (l.c1 - l.c1_20)) / 400 END AS var_20,
           CASE WHEN l.n >= 26 THEN (l.c1 - l.c1_26) / 26 END AS sma_26,
           l.n >= 26 AS has_26,
           CASE WHEN l.n >= 60 THEN (l.c1 - l.c1_60) / 60 END AS ma_60,
           CASE WHEN l.n >= 120 THEN (l.c1 - l.c1_120) / 120 END AS ma_120,
           CASE WHEN l.moves - l.moves_14 = 14 THEN (l.g1 - l.g1_14) / 14 END AS seed_gain,
           CASE WHEN l.moves - l.moves_14 = 14 THEN (l.l1 - l.l1_14) / 14 END AS seed_loss,
           CASE WHEN l.moves - l.moves_14 = 14 THEN (l.t1 - l.t1_14) / 14 END AS seed_tr,
           CASE WHEN l.n >= 30 THEN (l.v1 - l.v1_30) / 30 END AS avg_volume_30d,
           CASE WHEN l.n >= 30 THEN (30 * (l.v2 - l.v2_30) - (l.v1 - l.v1_30) * (l.v1 - l.v1_30)) / 900 END AS var_volume_30
    FROM lags AS l
), smoothed AS (
    -- From the anchor on: the anchor's stored state seeds each recursion (NULL when it had none yet,
    -- and then the recursion seeds itself where TA-Lib does); later rows only move it.
    SELECT w.*,
           cryptoflow_meta.smooth(w.close, CASE WHEN w.stored THEN w.s_ema_12 ELSE w.sma_12 END, 2, 13)
               FILTER (WHERE w.candle_start >= w.anchor) OVER run AS ema_12,
           cryptoflow_meta.smooth(w.close, CASE WHEN w.stored THEN w.s_ema_26 ELSE w.sma_26 END, 2, 27)
               FILTER (WHERE w.candle_start >= w.anchor) OVER run AS ema_26,
           cryptoflow_meta.smooth(
               w.close, CASE WHEN w.stored THEN w.s_macd_fast WHEN w.has_26 THEN w.sma_12 END, 2, 13)
               FILTER (WHERE w.candle_start >= w.anchor) OVER run AS macd_fast,
           cryptoflow_meta.smooth(w.gain, CASE WHEN w.stored THEN w.s_rsi_gain ELSE w.seed_gain END, 1, 14)
               FILTER (WHERE w.candle_start >= w.anchor) OVER run AS rsi_gain,
           cryptoflow_meta.smooth(w.loss, CASE WHEN w.stored THEN w.s_rsi_loss ELSE w.seed_loss END, 1, 14)
               FILTER (WHERE w.candle_start >= w.anchor) OVER run AS rsi_loss,
           cryptoflow_meta.smooth(w.true_range, CASE WHEN w.stored THEN w.s_atr_14 ELSE w.seed_tr END, 1, 14)
               FILTER (WHERE w.candle_start >= w.anchor) OVER run AS atr_14
    FROM windows AS w
    WINDOW run AS (PARTITION BY w.market ORDER BY w.candle_start ROWS UNBOUNDED PRECEDING)
), macd_line AS (
    -- The MACD line: stored state before the first changed candle, just computed from it on.
    SELECT s.*,
           CASE WHEN s.stored THEN s.s_macd_fast - s.s_ema_26 ELSE s.macd_fast - s.ema_26 END AS line
    FROM smoothed AS s
), line_windows AS (
    SELECT l.*,
           CASE WHEN count(l.line) OVER w9 = 9 THEN avg(l.line) OVER w9 END AS seed_signal,
           lag(l.ma_5) OVER (PARTITION BY l.market ORDER BY l.candle_start) AS prev_ma_5,
           lag(l.ma_20) OVER (PARTITION BY l.market ORDER BY l.candle_start) AS prev_ma_20
    FROM macd_line AS l
    WINDOW w9 AS (PARTITION BY l.market ORDER BY l.candle_start ROWS 8 PRECEDING)
), signal AS (
    SELECT l.*,
           cryptoflow_meta.smooth(l.line, CASE WHEN l.stored THEN l.s_macd_signal ELSE l.seed_signal END, 2, 10)
               FILTER (WHERE l.candle_start >= l.anchor) OVER run AS macd_signal,
           sqrt(l.var_20) AS sd_20
    FROM line_windows AS l
    WINDOW run AS (PARTITION BY l.market ORDER BY l.candle_start ROWS UNBOUNDED PRECEDING)
), out_rows AS (
    SELECT x.market, x.key, x.close, x.ma_5, x.ma_20, x.ma_60, x.ma_120, x.ema_12, x.ema_26,
           CASE WHEN x.macd_signal IS NOT NULL THEN x.line END AS macd,
           x.macd_signal,
           x.line - x.macd_signal AS macd_hist,
           CASE WHEN x.rsi_gain + x.rsi_loss = 0 THEN 0
                ELSE 100 * x.rsi_gain / (x.rsi_gain + x.rsi_loss) END AS rsi_14,
           x.atr_14,
           x.ma_20 AS bb_middle,
           x.ma_20 + 2 * x.sd_20 AS bb_upper,
           x.ma_20 - 2 * x.sd_20 AS bb_lower,
           CASE WHEN x.sd_20 > 0 THEN (x.close - (x.ma_20 - 2 * x.sd_20)) / (4 * x.sd_20) END AS bb_percent_b,
           x.avg_volume_30d,
           CASE WHEN x.var_volume_30 > 0 THEN (x.volume - x.avg_volume_30d) / sqrt(x.var_volume_30) END
               AS volume_zscore_30d,
           coalesce(x.ma_5 > x.ma_20 AND x.prev_ma_5 <= x.prev_ma_20, false) AS golden_cross,
           coalesce(x.ma_5 < x.ma_20 AND x.prev_ma_5 >= x.prev_ma_20, false) AS dead_cross,
           x.macd_fast AS state_macd_fast, x.rsi_gain AS state_rsi_gain, x.rsi_loss AS state_rsi_loss
    FROM signal AS x
    WHERE NOT x.stored  -- the rows before only fed the windows and seeded the recursions
)
INSERT INTO {target} AS t (
    market, {key}, close, ma_5, ma_20, ma_60, ma_120, ema_12, ema_26, macd, macd_signal, macd_hist, rsi_14,
    atr_14, bb_middle, bb_upper, bb_lower, bb_percent_b, avg_volume_30d, volume_zscore_30d, golden_cross,
    dead_cross, state_macd_fast, state_rsi_gain, state_rsi_loss, updated_at)
SELECT o.*, now() FROM out_rows AS o
ON CONFLICT (market, {key}) DO UPDATE
    SET close = EXCLUDED.close,
        ma_5 = EXCLUDED.ma_5,
        ma_20 = EXCLUDED.ma_20,
        ma_60 = EXCLUDED.ma_60,
        ma_120 = EXCLUDED.ma_120,
        ema_12 = EXCLUDED.ema_12,
        ema_26 = EXCLUDED.ema_26,
        macd = EXCLUDED.macd,
        macd_signal = EXCLUDED.macd_signal,
        macd_hist = EXCLUDED.macd_hist,
        rsi_14 = EXCLUDED.rsi_14,
        atr_14 = EXCLUDED.atr_14,
        bb_middle = EXCLUDED.bb_middle,
        bb_upper = EXCLUDED.bb_upper,
        bb_lower = EXCLUDED.bb_lower,
        bb_percent_b = EXCLUDED.bb_percent_b,
        avg_volume_30d = EXCLUDED.avg_volume_30d,
        volume_zscore_30d = EXCLUDED.volume_zscore_30d,
        golden_cross = EXCLUDED.golden_cross,
        dead_cross = EXCLUDED.dead_cross,
        state_macd_fast = EXCLUDED.state_macd_fast,
        state_rsi_gain = EXCLUDED.state_rsi_gain,
        state_rsi_loss = EXCLUDED.state_rsi_loss,
        updated_at = EXCLUDED.updated_at
    WHERE (t.close, t.ma_5, t.ma_20, t.ma_60, t.ma_120, t.ema_12, t.ema_26, t.macd, t.macd_signal,
           t.macd_hist, t.rsi_14, t.atr_14, t.bb_middle, t.bb_upper, t.bb_lower, t.bb_percent_b,
           t.avg_volume_30d, t.volume_zscore_30d, t.golden_cross, t.dead_cross, t.state_macd_fast,
           t.state_rsi_gain, t.state_rsi_loss)
          IS DISTINCT FROM
          (EXCLUDED.close, EXCLUDED.ma_5, EXCLUDED.ma_20, EXCLUDED.ma_60, EXCLUDED.ma_120, EXCLUDED.ema_12,
           EXCLUDED.ema_26, EXCLUDED.macd, EXCLUDED.macd_signal, EXCLUDED.macd_hist, EXCLUDED.rsi_14,
           EXCLUDED.atr_14, EXCLUDED.bb_middle, EXCLUDED.bb_upper, EXCLUDED.bb_lower, EXCLUDED.bb_percent_b,
           EXCLUDED.avg_volume_30d, EXCLUDED.volume_zscore_30d, EXCLUDED.golden_cross, EXCLUDED.dead_cross,
           EXCLUDED.state_macd_fast, EXCLUDED.state_rsi_gain, EXCLUDED.state_rsi_loss)
