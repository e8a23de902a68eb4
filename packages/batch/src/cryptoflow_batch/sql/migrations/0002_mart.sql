-- The marts cryptoflow-service reads through unmanaged Django models (names and columns are a contract:
-- add columns, never rename or drop). Times are timestamptz (UTC); prices and sizes exact numeric.

CREATE SCHEMA IF NOT EXISTS mart;

CREATE TABLE mart.markets (
    market text PRIMARY KEY,
    quote text NOT NULL,
    base text NOT NULL,
    korean_name text NOT NULL,
    english_name text NOT NULL,
    warning boolean NOT NULL,
    updated_at timestamptz NOT NULL,
    caution boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    listing_interval_start timestamptz NOT NULL
);

CREATE TABLE mart.market_stats_24h (
    market text NOT NULL,
    quote text NOT NULL,
    snapshot_at timestamptz NOT NULL,
    trade_price numeric,
    opening_price numeric,
    high_price numeric,
    low_price numeric,
    prev_closing_price numeric,
    change text,
    signed_change_price numeric,
    signed_change_rate numeric,
    acc_trade_volume_24h numeric,
    acc_trade_price_24h numeric,
    trade_timestamp timestamptz,
    PRIMARY KEY (market, snapshot_at)
);
CREATE INDEX market_stats_24h_snapshot_at ON mart.market_stats_24h (snapshot_at);

CREATE TABLE mart.candles_1d (
    market text NOT NULL,
    candle_start timestamptz NOT NULL,
    opening_price numeric NOT NULL,
    high_price numeric NOT NULL,
    low_price numeric NOT NULL,
    trade_price numeric NOT NULL,
    volume numeric NOT NULL,
    value numeric NOT NULL,
    last_trade_at timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (market, candle_start)
);

CREATE TABLE mart.candles_1m (LIKE mart.candles_1d INCLUDING ALL);

CREATE TABLE mart.indicators (
    market text NOT NULL,
    day date NOT NULL,
    close numeric NOT NULL,
    ma_5 numeric,
    ma_20 numeric,
    ma_60 numeric,
    rsi_14 numeric,
    atr_14 numeric,
    avg_volume_30d numeric,
    golden_cross boolean NOT NULL DEFAULT false,
    dead_cross boolean NOT NULL DEFAULT false,
    PRIMARY KEY (market, day)
);
