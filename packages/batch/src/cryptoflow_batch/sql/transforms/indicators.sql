-- mart.candles_1d -> mart.indicators, for the markets whose daily candles arrived in lake ingest_seq
-- (lo, hi]. Every indicator is a function of a fixed number of trailing candles (at most 60, for ma_60), so
-- a changed candle only changes its own row and the 59 rows after it, and recomputing a row needs the 59
-- rows before it. Per market the statement therefore reads the candles from 59 before the first changed
-- one to 59 after the last changed one, and rewrites the rows from the first changed candle to that end:
-- an incremental run costs in proportion to the new candles, whatever the length of the history.
--
-- Definitions (window functions over closed UTC-day candles, one row per traded day):
--   ma_N           mean close of the last N candles (NULL until N exist)
--   rsi_14         Cutler's RSI: 100 - 100 / (1 + mean gain / mean loss) over the last 14 close-to-close
--                  moves (100 when there is no loss, 50 when there is no move at all)
--   atr_14         mean true range of the last 14 candles, TR = max(high - low, |high - prev close|,
--                  |low - prev close|) (needs the previous close)
--   avg_volume_30d mean volume of the last 30 candles
--   golden_cross   ma_5 above ma_20 today and not above it the day before; dead_cross the opposite
-- Simple means rather than Wilder's smoothing keep every value a pure window function (no recursion),
-- which is what makes the incremental recompute exact.
WITH changed AS (
    SELECT l.market, min(l.candle_start) AS first_start, max(l.candle_start) AS last_start
    FROM lake.candles AS l
    WHERE l.endpoint = 'candles/days' AND l.ingest_seq > %(lo)s AND l.ingest_seq <= %(hi)s
    GROUP BY l.market
), bounds AS (
    -- read_from: the 59th candle before the first changed one; read_to: the 59th after the last changed
    -- one (open-ended when the history is shorter). Each is a short walk along the primary key.
    SELECT c.market, c.first_start,
           coalesce((SELECT k.candle_start FROM mart.candles_1d AS k
                     WHERE k.market = c.market AND k.candle_start < c.first_start
                     ORDER BY k.candle_start DESC OFFSET 58 LIMIT 1), '-infinity') AS read_from,
           coalesce((SELECT k.candle_start FROM mart.candles_1d AS k
                     WHERE k.market = c.market AND k.candle_start >= c.last_start
                     ORDER BY k.candle_start OFFSET 59 LIMIT 1), 'infinity') AS read_to
    FROM changed AS c
), src AS (
    SELECT b.market, b.first_start, k.candle_start, k.high_price, k.low_price, k.close, k.volume,
           lag(k.close) OVER (PARTITION BY b.market ORDER BY k.candle_start) AS prev_close
    FROM bounds AS b
    -- OFFSET 0 keeps the subquery as it is written: one index range scan per market, never a join
    -- that reads every candle of the table and filters afterwards.
    CROSS JOIN LATERAL (
        SELECT k.candle_start, k.high_price, k.low_price, k.trade_price AS close, k.volume
        FROM mart.candles_1d AS k
        WHERE k.market = b.market AND k.candle_start >= b.read_from AND k.candle_start <= b.read_to
        OFFSET 0
    ) AS k
), moves AS (
    SELECT s.*,
           CASE WHEN s.prev_close IS NOT NULL THEN greatest(s.close - s.prev_close, 0) END AS gain,
           CASE WHEN s.prev_close IS NOT NULL THEN greatest(s.prev_close - s.close, 0) END AS loss,
           CASE WHEN s.prev_close IS NOT NULL
                THEN greatest(s.high_price - s.low_price, abs(s.high_price - s.prev_close),
                              abs(s.low_price - s.prev_close)) END AS true_range
    FROM src AS s
), windows AS (
    SELECT m.market, m.first_start, m.candle_start, m.close,
           count(*) OVER w5 AS n5, avg(m.close) OVER w5 AS mean5,
           count(*) OVER w20 AS n20, avg(m.close) OVER w20 AS mean20,
           count(*) OVER w60 AS n60, avg(m.close) OVER w60 AS mean60,
           count(m.gain) OVER w14 AS n14, avg(m.gain) OVER w14 AS mean_gain, avg(m.loss) OVER w14 AS mean_loss,
           count(m.true_range) OVER w14 AS ntr14, avg(m.true_range) OVER w14 AS mean_tr,
           count(*) OVER w30 AS n30, avg(m.volume) OVER w30 AS mean_volume30
    FROM moves AS m
    WINDOW w5 AS (PARTITION BY m.market ORDER BY m.candle_start ROWS 4 PRECEDING),
           w14 AS (PARTITION BY m.market ORDER BY m.candle_start ROWS 13 PRECEDING),
           w20 AS (PARTITION BY m.market ORDER BY m.candle_start ROWS 19 PRECEDING),
           w30 AS (PARTITION BY m.market ORDER BY m.candle_start ROWS 29 PRECEDING),
           w60 AS (PARTITION BY m.market ORDER BY m.candle_start ROWS 59 PRECEDING)
), indicators AS (
    SELECT w.market, w.first_start, w.candle_start, w.close,
           CASE WHEN w.n5 = 5 THEN w.mean5 END AS ma_5,
           CASE WHEN w.n20 = 20 THEN w.mean20 END AS ma_20,
           CASE WHEN w.n60 = 60 THEN w.mean60 END AS ma_60,
           CASE WHEN w.n14 = 14 THEN
               CASE WHEN w.mean_loss = 0 AND w.mean_gain = 0 THEN 50
                    WHEN w.mean_loss = 0 THEN 100
                    ELSE 100 - 100 / (1 + w.mean_gain / w.mean_loss) END
           END AS rsi_14,
           CASE WHEN w.ntr14 = 14 THEN w.mean_tr END AS atr_14,
           CASE WHEN w.n30 = 30 THEN w.mean_volume30 END AS avg_volume_30d
    FROM windows AS w
), crosses AS (
    SELECT i.*,
           lag(i.ma_5) OVER (PARTITION BY i.market ORDER BY i.candle_start) AS prev_ma_5,
           lag(i.ma_20) OVER (PARTITION BY i.market ORDER BY i.candle_start) AS prev_ma_20
    FROM indicators AS i
)
INSERT INTO mart.indicators AS t (
    market, day, close, ma_5, ma_20, ma_60, rsi_14, atr_14, avg_volume_30d, golden_cross, dead_cross)
SELECT x.market, (x.candle_start AT TIME ZONE 'UTC')::date, x.close, x.ma_5, x.ma_20, x.ma_60, x.rsi_14,
       x.atr_14, x.avg_volume_30d,
       coalesce(x.ma_5 > x.ma_20 AND x.prev_ma_5 <= x.prev_ma_20, false),
       coalesce(x.ma_5 < x.ma_20 AND x.prev_ma_5 >= x.prev_ma_20, false)
FROM crosses AS x
WHERE x.candle_start >= x.first_start  -- the rows before only fed the windows
ON CONFLICT (market, day) DO UPDATE
    SET close = EXCLUDED.close,
        ma_5 = EXCLUDED.ma_5,
        ma_20 = EXCLUDED.ma_20,
        ma_60 = EXCLUDED.ma_60,
        rsi_14 = EXCLUDED.rsi_14,
        atr_14 = EXCLUDED.atr_14,
        avg_volume_30d = EXCLUDED.avg_volume_30d,
        golden_cross = EXCLUDED.golden_cross,
        dead_cross = EXCLUDED.dead_cross
    WHERE (t.close, t.ma_5, t.ma_20, t.ma_60, t.rsi_14, t.atr_14, t.avg_volume_30d, t.golden_cross,
           t.dead_cross)
          IS DISTINCT FROM
          (EXCLUDED.close, EXCLUDED.ma_5, EXCLUDED.ma_20, EXCLUDED.ma_60, EXCLUDED.rsi_14, EXCLUDED.atr_14,
           EXCLUDED.avg_volume_30d, EXCLUDED.golden_cross, EXCLUDED.dead_cross)
