-- Synthetic lake.ticker rows: %(markets)s markets x intervals first..last (10 minutes each).
INSERT INTO lake.ticker (endpoint, market, interval_start, interval_end, run_id, request, collected_at, payload)
SELECT 'ticker', m.code, iv.start, iv.start + interval '10 minutes', 'bench', 'bench',
       iv.start + interval '10 minutes',
       jsonb_build_object(
           'market', m.code, 'trade_date', '20250101', 'trade_time', '000000',
           'trade_timestamp', (extract(epoch FROM iv.start) * 1000)::bigint + 599000,
           'timestamp', (extract(epoch FROM iv.start) * 1000)::bigint + 600000,
           'opening_price', p.price, 'high_price', p.price * 1.02, 'low_price', p.price * 0.98,
           'trade_price', p.price * 1.01, 'prev_closing_price', p.price, 'change', 'RISE',
           'change_price', p.price * 0.01, 'change_rate', 0.01, 'signed_change_price', p.price * 0.01,
           'signed_change_rate', 0.01, 'trade_volume', 0.5, 'acc_trade_price', 123456789.5,
           'acc_trade_price_24h', 987654321.25, 'acc_trade_volume', 1234.5, 'acc_trade_volume_24h', 4321.125,
           'highest_52_week_price', p.price * 2, 'highest_52_week_date', '2024-03-14',
           'lowest_52_week_price', p.price / 2, 'lowest_52_week_date', '2024-08-05')
FROM generate_series(%(first)s::int, %(last)s::int) AS n
CROSS JOIN LATERAL (SELECT %(base)s::timestamptz + n * interval '10 minutes' AS start) AS iv
CROSS JOIN generate_series(1, %(markets)s::int) AS k
CROSS JOIN LATERAL (SELECT 'KRW-C' || k AS code) AS m
CROSS JOIN LATERAL (SELECT round((1000 + k + (n %% 97))::numeric, 2) AS price) AS p
