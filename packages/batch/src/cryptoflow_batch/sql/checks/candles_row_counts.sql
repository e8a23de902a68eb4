-- Every expected market has at least one candle in [start, end) (up to allowed_missing may lack one: a
-- bucket without trades has no candle), and no candle belongs to a market outside the list.
WITH expected AS (
    SELECT unnest(%(markets)s::text[]) AS market
), got AS (
    SELECT market, count(*) AS n FROM lake.candles
    WHERE endpoint = %(endpoint)s AND candle_start >= %(start)s AND candle_start < %(end)s
    GROUP BY market
), missing AS (
    SELECT e.market FROM expected AS e LEFT JOIN got AS g USING (market) WHERE g.market IS NULL
)
SELECT concat(%(endpoint)s::text, ' ', m.market, ': no candle in [', %(start)s::timestamptz, ', ',
              %(end)s::timestamptz, ')')
FROM missing AS m
WHERE (SELECT count(*) FROM missing) > %(allowed_missing)s
UNION ALL
SELECT concat(%(endpoint)s::text, ' ', g.market, ': ', g.n, ' candles but the market is not in the list')
FROM got AS g LEFT JOIN expected AS e USING (market)
WHERE e.market IS NULL
ORDER BY 1
