-- The raw layer: Upbit REST responses as JSONB, one row per (endpoint, market, time bucket or run interval).
-- JSONB keeps numbers as exact numeric. Every table is range-partitioned by month on its time key; the
-- loaders create partitions on demand with lake.ensure_month_partitions. ingest_seq orders rows by
-- arrival so transforms can work incrementally (cryptoflow_meta.watermarks).

CREATE SCHEMA IF NOT EXISTS lake;

-- Exact conversions used by loaders, transforms and checks.
CREATE FUNCTION cryptoflow_meta.ms_to_ts(ms bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT timestamptz '1970-01-01 00:00:00+00' + ms * interval '1 millisecond' $$;

-- Upbit's offset-less "yyyy-MM-ddTHH:mm:ss" (candle_date_time_utc) read as UTC.
CREATE FUNCTION cryptoflow_meta.utc_ts(value text) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT value::timestamp AT TIME ZONE 'UTC' $$;

-- A JSON number as numeric; NULL for JSON null, a missing key or any other type.
CREATE FUNCTION cryptoflow_meta.num(value jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(value) = 'number' THEN value::text::numeric END $$;

-- Monthly partitions [lo's month, hi's month] of a lake table, created when missing. Serialized by an
-- advisory lock so concurrent loaders do not race on the catalog. Months are UTC months.
CREATE FUNCTION lake.ensure_month_partitions(parent regclass, lo timestamptz, hi timestamptz)
    RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    parent_schema text;
    parent_name text;
    month timestamp := date_trunc('month', lo AT TIME ZONE 'UTC');
    last_month timestamp := date_trunc('month', hi AT TIME ZONE 'UTC');
    part text;
    created integer := 0;
BEGIN
    SELECT n.nspname, c.relname INTO parent_schema, parent_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    WHILE month <= last_month LOOP
        part := format('%s_p%s', parent_name, to_char(month, 'YYYYMM'));
        IF to_regclass(format('%I.%I', parent_schema, part)) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('cryptoflow:partitions'));
            IF to_regclass(format('%I.%I', parent_schema, part)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                    parent_schema, part, parent,
                    month AT TIME ZONE 'UTC', (month + interval '1 month') AT TIME ZONE 'UTC');
                created := created + 1;
            END IF;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;

-- /v1/market/all?is_details=true, one row per market per run interval.
CREATE SEQUENCE lake.markets_seq;
CREATE TABLE lake.markets (
    endpoint text NOT NULL,
    market text NOT NULL,
    interval_start timestamptz NOT NULL,
    interval_end timestamptz NOT NULL,
    run_id text NOT NULL,
    request text NOT NULL,
    collected_at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    ingest_seq bigint NOT NULL DEFAULT nextval('lake.markets_seq'),
    PRIMARY KEY (endpoint, market, interval_start)
) PARTITION BY RANGE (interval_start);
CREATE INDEX markets_ingest_seq ON lake.markets (ingest_seq);

-- /v1/ticker/all and /v1/ticker (endpoint 'ticker' for both; request says which call returned the row),
-- one row per market per run interval: a re-run of the interval keeps the first snapshot.
CREATE SEQUENCE lake.ticker_seq;
CREATE TABLE lake.ticker (
    endpoint text NOT NULL,
    market text NOT NULL,
    interval_start timestamptz NOT NULL,
    interval_end timestamptz NOT NULL,
    run_id text NOT NULL,
    request text NOT NULL,
    collected_at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    ingest_seq bigint NOT NULL DEFAULT nextval('lake.ticker_seq'),
    PRIMARY KEY (endpoint, market, interval_start)
) PARTITION BY RANGE (interval_start);
CREATE INDEX ticker_ingest_seq ON lake.ticker (ingest_seq);

-- /v1/candles/* (endpoint 'candles/days', 'candles/minutes/1', ...), one row per market per bucket:
-- a candle fetched again replaces the stored one only when it changed (and then gets a new ingest_seq).
CREATE SEQUENCE lake.candles_seq;
CREATE TABLE lake.candles (
    endpoint text NOT NULL,
    market text NOT NULL,
    candle_start timestamptz NOT NULL,
    interval_start timestamptz NOT NULL,
    interval_end timestamptz NOT NULL,
    run_id text NOT NULL,
    request text NOT NULL,
    collected_at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    ingest_seq bigint NOT NULL DEFAULT nextval('lake.candles_seq'),
    PRIMARY KEY (endpoint, market, candle_start)
) PARTITION BY RANGE (candle_start);
CREATE INDEX candles_ingest_seq ON lake.candles (ingest_seq);

-- Incremental transforms: the last lake ingest_seq each one has folded into its mart.
CREATE TABLE cryptoflow_meta.watermarks (
    name text PRIMARY KEY,
    last_seq bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Candle backfills remember how far back each market got, so an interrupted one resumes.
CREATE TABLE cryptoflow_meta.backfill_progress (
    endpoint text NOT NULL,
    market text NOT NULL,
    range_from timestamptz NOT NULL,
    range_to timestamptz NOT NULL,
    next_to timestamptz NOT NULL,
    pages integer NOT NULL DEFAULT 0,
    candles bigint NOT NULL DEFAULT 0,
    done boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint, market, range_from, range_to)
);
