-- lake.markets rows with ingest_seq in (lo, hi] -> mart.markets. The newest listing wins; a market missing
-- from the newest listing of the batch is marked inactive (delisted), never deleted. An older listing
-- arriving late (a catch-up run) changes nothing that a newer one already set.
WITH batch AS (
    SELECT * FROM lake.markets WHERE ingest_seq > %(lo)s AND ingest_seq <= %(hi)s
), newest AS (
    SELECT DISTINCT ON (market) * FROM batch ORDER BY market, interval_start DESC, ingest_seq DESC
), last_listing AS (
    SELECT max(interval_start) AS at FROM batch
), listed AS (
    SELECT market FROM batch WHERE interval_start = (SELECT at FROM last_listing)
), upserted AS (
    INSERT INTO mart.markets AS m (
        market, quote, base, korean_name, english_name, warning, caution, active, updated_at,
        listing_interval_start)
    SELECT n.market,
           split_part(n.market, '-', 1),
           split_part(n.market, '-', 2),
           n.payload ->> 'korean_name',
           n.payload ->> 'english_name',
           coalesce((n.payload -> 'market_event' ->> 'warning')::boolean,
                    n.payload ->> 'market_warning' = 'CAUTION', false),
           coalesce((SELECT bool_or(v::boolean)
                     FROM jsonb_each_text(n.payload -> 'market_event' -> 'caution') AS c(k, v)), false),
           n.market IN (SELECT market FROM listed),
           n.collected_at,
           n.interval_start
    FROM newest AS n
    ON CONFLICT (market) DO UPDATE
        SET quote = EXCLUDED.quote,
            base = EXCLUDED.base,
            korean_name = EXCLUDED.korean_name,
            english_name = EXCLUDED.english_name,
            warning = EXCLUDED.warning,
            caution = EXCLUDED.caution,
            active = EXCLUDED.active,
            updated_at = EXCLUDED.updated_at,
            listing_interval_start = EXCLUDED.listing_interval_start
        WHERE m.listing_interval_start <= EXCLUDED.listing_interval_start
    RETURNING 1
), delisted AS (
    UPDATE mart.markets AS m
    SET active = false, listing_interval_start = (SELECT at FROM last_listing)
    WHERE m.active
      AND m.listing_interval_start < (SELECT at FROM last_listing)
      AND split_part(m.market, '-', 1) IN (SELECT split_part(market, '-', 1) FROM batch)
      AND m.market NOT IN (SELECT market FROM newest)
    RETURNING 1
)
SELECT (SELECT count(*) FROM upserted) + (SELECT count(*) FROM delisted)
