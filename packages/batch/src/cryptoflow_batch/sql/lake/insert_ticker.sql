-- One /v1/ticker/all or /v1/ticker body into one row per market. A re-run of the interval keeps the first
-- snapshot (the unique key makes it a no-op).
INSERT INTO lake.ticker (endpoint, market, interval_start, interval_end, run_id, request, collected_at, payload)
SELECT 'ticker', e ->> 'market', %(interval_start)s, %(interval_end)s, %(run_id)s, %(request)s,
       %(collected_at)s, e
FROM jsonb_array_elements(%(body)s::jsonb) AS e
WHERE split_part(e ->> 'market', '-', 1) = ANY (%(quotes)s)
ON CONFLICT (endpoint, market, interval_start) DO NOTHING
