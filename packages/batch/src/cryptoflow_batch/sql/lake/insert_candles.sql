-- One page of candles (newest first) into one row per bucket in [since, until). A candle fetched again
-- replaces the stored one only when its payload changed, and then gets a new ingest_seq so the
-- incremental transforms pick the change up; an unchanged candle is left alone (re-runs are no-ops).
INSERT INTO lake.candles AS l
    (endpoint, market, candle_start, interval_start, interval_end, run_id, request, collected_at, payload)
SELECT DISTINCT ON (c.candle_start)
       %(endpoint)s, %(market)s, c.candle_start, %(interval_start)s, %(interval_end)s, %(run_id)s, %(request)s,
       %(collected_at)s, e
FROM jsonb_array_elements(%(body)s::jsonb) AS e
CROSS JOIN LATERAL (SELECT cryptoflow_meta.utc_ts(e ->> 'candle_date_time_utc') AS candle_start) AS c
WHERE e ->> 'market' = %(market)s
  AND c.candle_start >= %(since)s
  AND c.candle_start < %(until)s
ORDER BY c.candle_start, (e ->> 'timestamp')::bigint DESC
ON CONFLICT (endpoint, market, candle_start) DO UPDATE
    SET interval_start = EXCLUDED.interval_start,
        interval_end = EXCLUDED.interval_end,
        run_id = EXCLUDED.run_id,
        request = EXCLUDED.request,
        collected_at = EXCLUDED.collected_at,
        payload = EXCLUDED.payload,
        ingest_seq = EXCLUDED.ingest_seq
    WHERE l.payload IS DISTINCT FROM EXCLUDED.payload
