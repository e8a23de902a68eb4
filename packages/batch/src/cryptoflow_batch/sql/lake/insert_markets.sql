-- One /v1/market/all body (raw text, parsed here so numbers never pass through a binary float) into one
-- row per market of the wanted quote currencies. A re-run of the interval keeps the first rows.
INSERT INTO lake.markets (endpoint, market, interval_start, interval_end, run_id, request, collected_at, payload)
SELECT 'market/all', e ->> 'market', %(interval_start)s, %(interval_end)s, %(run_id)s, %(request)s,
       %(collected_at)s, e
FROM jsonb_array_elements(%(body)s::jsonb) AS e
WHERE split_part(e ->> 'market', '-', 1) = ANY (%(quotes)s)
ON CONFLICT (endpoint, market, interval_start) DO NOTHING
