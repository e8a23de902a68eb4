-- Synthetic daily lake.candles rows: %(markets)s markets x days first..last.
INSERT INTO lake.candles (endpoint, market, candle_start, interval_start, interval_end, run_id, request,
                          collected_at, payload)
SELECT 'candles/days', m.code, d.start, d.start, d.start + interval '1 day', 'bench', 'bench',
       d.start + interval '1 day 1 minute',
       jsonb_build_object(
           'market', m.code, 'candle_date_time_utc', to_char(d.start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'),
           'opening_price', p.o, 'high_price', greatest(p.o, p.c) * 1.01, 'low_price', least(p.o, p.c) * 0.99,
           'trade_price', p.c, 'timestamp', (extract(epoch FROM d.start) * 1000)::bigint + 86399000,
           'candle_acc_trade_price', 1000000.5 + k, 'candle_acc_trade_volume', 100.25 + (n %% 13))
FROM generate_series(%(first)s::int, %(last)s::int) AS n
CROSS JOIN LATERAL (SELECT %(base)s::timestamptz + n * interval '1 day' AS start) AS d
CROSS JOIN generate_series(1, %(markets)s::int) AS k
CROSS JOIN LATERAL (SELECT 'KRW-C' || k AS code) AS m
CROSS JOIN LATERAL (SELECT round((1000 + 50 * sin(n / 7.0 + k))::numeric, 2) AS o,
                           round((1000 + 50 * sin((n + 1) / 7.0 + k))::numeric, 2) AS c) AS p
