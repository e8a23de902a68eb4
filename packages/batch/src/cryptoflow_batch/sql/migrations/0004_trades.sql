-- The trade archive (cryptoflow-archive writes it): every trade once, partitioned by UTC day of its trade
-- time, and the minute and hour candles built from it in the database.

-- Every trade from Kafka (source 'ws' or 'rest-backfill') or fetched by the gap repair ('rest-repair').
-- Times are UTC epoch milliseconds as in the contract; prices and volumes exact numeric. The primary key
-- is unique per (market, sequential_id) within the partition key (a trade's time never changes), and
-- its column order also serves every read: one market's trades by time (candles, the API, exports).
CREATE TABLE lake.trades (
    market text NOT NULL,
    trade_timestamp bigint NOT NULL,
    sequential_id bigint NOT NULL,
    price numeric NOT NULL,
    volume numeric NOT NULL,
    side text NOT NULL,
    received_ms bigint NOT NULL,
    source text NOT NULL,
    PRIMARY KEY (market, trade_timestamp, sequential_id)
) PARTITION BY RANGE (trade_timestamp);

-- Daily partitions lake.trades_pYYYYMMDD for the UTC days of [lo_ms, hi_ms], created when missing.
CREATE FUNCTION lake.ensure_trade_partitions(lo_ms bigint, hi_ms bigint)
    RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day bigint := lo_ms - lo_ms % 86400000;
    part text;
    created integer := 0;
BEGIN
    WHILE day <= hi_ms LOOP
        part := 'trades_p' || to_char(cryptoflow_meta.ms_to_ts(day) AT TIME ZONE 'UTC', 'YYYYMMDD');
        IF to_regclass(format('lake.%I', part)) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('cryptoflow:partitions'));
            IF to_regclass(format('lake.%I', part)) IS NULL THEN
                EXECUTE format('CREATE TABLE lake.%I PARTITION OF lake.trades FOR VALUES FROM (%s) TO (%s)',
                               part, day, day + 86400000);
                created := created + 1;
            END IF;
        END IF;
        day := day + 86400000;
    END LOOP;
    RETURN created;
END
$$;

-- Retention: drop the daily partitions that end at or before before_ms; returns their names.
CREATE FUNCTION lake.drop_trade_partitions(before_ms bigint)
    RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'lake.trades'::regclass AND c.relname ~ '^trades_p[0-9]{8}$'
          AND (to_date(substr(c.relname, 9), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC'
              <= cryptoflow_meta.ms_to_ts(before_ms)
        ORDER BY c.relname
    LOOP
        PERFORM pg_advisory_xact_lock(hashtext('cryptoflow:partitions'));
        EXECUTE format('DROP TABLE lake.%I', part.relname);
        RETURN NEXT part.relname;
    END LOOP;
END
$$;

-- The candle marts are built from the archive for every market. Existing REST-built minute rows go: the
-- REST minute candles stay in lake.candles as the exchange's reference (the gap check reads them).
DELETE FROM mart.candles_1m;
DELETE FROM cryptoflow_meta.watermarks WHERE name = 'candles_1m';
ALTER TABLE mart.candles_1m
    ADD COLUMN trade_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN is_open boolean NOT NULL DEFAULT false;
-- LIKE ... INCLUDING ALL copies mart.candles_1m's indexes too, among them 0003's index on updated_at, which
-- readers poll (the 1-minute indicators).
CREATE TABLE mart.candles_1h (LIKE mart.candles_1m INCLUDING ALL);
-- Closing open candles scans only the open ones.
CREATE INDEX candles_1m_open ON mart.candles_1m (candle_start) WHERE is_open;
CREATE INDEX candles_1h_open ON mart.candles_1h (candle_start) WHERE is_open;

-- Rebuild the 1-minute candles of the given (market, minute start in ms) pairs from lake.trades, then
-- the 1-hour candles containing them. Work follows the minutes given, never the table. A row is written
-- only when a value changed, and only then gets a new updated_at. Returns the 1-minute rows changed.
-- Open and close are the first and last trade by (trade_timestamp, sequential_id): ids are not ordered.
CREATE FUNCTION mart.refresh_candles(markets text[], minutes_ms bigint[])
    RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    -- Writers of the same market (two archivers during a rebalance, the gap repair) take turns, so each
    -- rebuild reads every trade the other committed (each statement below takes a new snapshot).
    PERFORM pg_advisory_xact_lock(hashtext('cryptoflow:candles:' || m))
    FROM (SELECT DISTINCT m FROM unnest(markets) AS u(m) ORDER BY m) AS sorted;
    WITH keys AS (
        SELECT DISTINCT k.market, k.minute_ms FROM unnest(markets, minutes_ms) AS k(market, minute_ms)
    ), built AS (
        SELECT k.market, cryptoflow_meta.ms_to_ts(k.minute_ms) AS candle_start,
               a.open, a.high, a.low, a.close, a.volume, a.value, a.trades, a.last_ms
        FROM keys AS k
        CROSS JOIN LATERAL (
            SELECT (array_agg(t.price ORDER BY t.trade_timestamp, t.sequential_id))[1] AS open,
                   max(t.price) AS high, min(t.price) AS low,
                   (array_agg(t.price ORDER BY t.trade_timestamp DESC, t.sequential_id DESC))[1] AS close,
                   sum(t.volume) AS volume, sum(t.price * t.volume) AS value, count(*) AS trades,
                   max(t.trade_timestamp) AS last_ms
            FROM lake.trades AS t
            WHERE t.market = k.market
              AND t.trade_timestamp >= k.minute_ms AND t.trade_timestamp < k.minute_ms + 60000
        ) AS a
        WHERE a.trades > 0
    ), written AS (
        INSERT INTO mart.candles_1m AS m (
            market, candle_start, opening_price, high_price, low_price, trade_price, volume, value,
            last_trade_at, trade_count, is_open, updated_at)
        SELECT b.market, b.candle_start, b.open, b.high, b.low, b.close, b.volume, b.value,
               cryptoflow_meta.ms_to_ts(b.last_ms), b.trades,
               b.candle_start + interval '1 minute' > now(), clock_timestamp()
        FROM built AS b
        ON CONFLICT (market, candle_start) DO UPDATE
            SET opening_price = EXCLUDED.opening_price, high_price = EXCLUDED.high_price,
                low_price = EXCLUDED.low_price, trade_price = EXCLUDED.trade_price,
                volume = EXCLUDED.volume, value = EXCLUDED.value, last_trade_at = EXCLUDED.last_trade_at,
                trade_count = EXCLUDED.trade_count, is_open = EXCLUDED.is_open,
                updated_at = EXCLUDED.updated_at
            WHERE (m.opening_price, m.high_price, m.low_price, m.trade_price, m.volume, m.value,
                   m.last_trade_at, m.trade_count, m.is_open)
                  IS DISTINCT FROM
                  (EXCLUDED.opening_price, EXCLUDED.high_price, EXCLUDED.low_price, EXCLUDED.trade_price,
                   EXCLUDED.volume, EXCLUDED.value, EXCLUDED.last_trade_at, EXCLUDED.trade_count,
                   EXCLUDED.is_open)
        RETURNING 1
    )
    SELECT count(*) INTO changed FROM written;

    WITH hours AS (
        SELECT DISTINCT k.market, cryptoflow_meta.ms_to_ts(k.minute_ms - k.minute_ms % 3600000) AS hour
        FROM unnest(markets, minutes_ms) AS k(market, minute_ms)
    )
    INSERT INTO mart.candles_1h AS h (
        market, candle_start, opening_price, high_price, low_price, trade_price, volume, value,
        last_trade_at, trade_count, is_open, updated_at)
    SELECT k.market, k.hour, a.open, a.high, a.low, a.close, a.volume, a.value, a.last_trade_at,
           a.trades, k.hour + interval '1 hour' > now(), clock_timestamp()
    FROM hours AS k
    CROSS JOIN LATERAL (
        SELECT (array_agg(c.opening_price ORDER BY c.candle_start))[1] AS open,
               max(c.high_price) AS high, min(c.low_price) AS low,
               (array_agg(c.trade_price ORDER BY c.candle_start DESC))[1] AS close,
               sum(c.volume) AS volume, sum(c.value) AS value, max(c.last_trade_at) AS last_trade_at,
               sum(c.trade_count) AS trades, count(*) AS minutes
        FROM mart.candles_1m AS c
        WHERE c.market = k.market AND c.candle_start >= k.hour AND c.candle_start < k.hour + interval '1 hour'
    ) AS a
    WHERE a.minutes > 0
    ON CONFLICT (market, candle_start) DO UPDATE
        SET opening_price = EXCLUDED.opening_price, high_price = EXCLUDED.high_price,
            low_price = EXCLUDED.low_price, trade_price = EXCLUDED.trade_price,
            volume = EXCLUDED.volume, value = EXCLUDED.value, last_trade_at = EXCLUDED.last_trade_at,
            trade_count = EXCLUDED.trade_count, is_open = EXCLUDED.is_open, updated_at = EXCLUDED.updated_at
        WHERE (h.opening_price, h.high_price, h.low_price, h.trade_price, h.volume, h.value,
               h.last_trade_at, h.trade_count, h.is_open)
              IS DISTINCT FROM
              (EXCLUDED.opening_price, EXCLUDED.high_price, EXCLUDED.low_price, EXCLUDED.trade_price,
               EXCLUDED.volume, EXCLUDED.value, EXCLUDED.last_trade_at, EXCLUDED.trade_count,
               EXCLUDED.is_open);
    RETURN changed;
END
$$;

-- Mark the candles whose minute (hour) has ended as closed; returns the 1-minute rows closed.
CREATE FUNCTION mart.close_candles() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    closed integer;
BEGIN
    UPDATE mart.candles_1m SET is_open = false, updated_at = clock_timestamp()
    WHERE is_open AND candle_start + interval '1 minute' <= now();
    GET DIAGNOSTICS closed = ROW_COUNT;
    UPDATE mart.candles_1h SET is_open = false, updated_at = clock_timestamp()
    WHERE is_open AND candle_start + interval '1 hour' <= now();
    RETURN closed;
END
$$;

-- Each repair of the gap check: a minute whose archived candle differed from the exchange's.
CREATE TABLE cryptoflow_meta.trade_repairs (
    market text NOT NULL,
    minute timestamptz NOT NULL,
    trades_added integer NOT NULL,
    run_id text NOT NULL,
    repaired_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (market, minute, repaired_at)
);
