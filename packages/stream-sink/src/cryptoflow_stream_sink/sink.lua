#!lua name=cryptoflow_sink_1
-- Redis functions of cryptoflow-stream-sink (Redis >= 7.0). Each call touches the keys of ONE market
-- (they share the `{market}` hash tag), so the library works unchanged on Redis Cluster.
-- The `_1` in the names is the library's version: a change of behaviour gets new names (and a new
-- constant in writer.py), so old and new sinks can run side by side during a rolling upgrade.

local function score_arg(x)
  return string.format('%d', x)
end

-- The exactly-once guard of one market is a sorted set: member = sequential_id, score = trade_timestamp.
-- It keeps the ids of the newest `guard_size` trades that lie within `horizon_ms` of the newest trade.
-- Its floor is the oldest trade time it still vouches for; a trade older than the floor cannot be
-- told apart from one already written and trimmed, so it is not written (counted as `expired`).
local function guard_floor(ids, guard_size, horizon)
  local newest = redis.call('ZRANGE', ids, -1, -1, 'WITHSCORES')
  if newest[1] == nil then
    return nil
  end
  local floor = tonumber(newest[2]) - horizon
  if redis.call('ZCARD', ids) >= guard_size then
    local oldest = redis.call('ZRANGE', ids, 0, 0, 'WITHSCORES')
    floor = math.max(floor, tonumber(oldest[2]))
  end
  return floor
end

local function trim_guard(ids, guard_size, horizon)
  local newest = redis.call('ZRANGE', ids, -1, -1, 'WITHSCORES')
  if newest[1] == nil then
    return
  end
  redis.call('ZREMRANGEBYSCORE', ids, '-inf', '(' .. score_arg(tonumber(newest[2]) - horizon))
  local excess = redis.call('ZCARD', ids) - guard_size
  if excess > 0 then
    -- Cut by score, not by rank: trades sharing the cut's millisecond all stay, so everything
    -- removed lies strictly below the new floor.
    local cut = redis.call('ZRANGE', ids, excess, excess, 'WITHSCORES')
    redis.call('ZREMRANGEBYSCORE', ids, '-inf', '(' .. cut[2])
  end
end

-- KEYS: guard (sorted set), trades stream.
-- ARGV: maxlen, guard_size, horizon_ms, then per trade: sequential_id, trade_timestamp, n, n field/value pairs.
-- Returns {written, duplicates, expired}.
local function write_trades(keys, args)
  local ids, stream = keys[1], keys[2]
  local maxlen = args[1]
  local guard_size = tonumber(args[2])
  local horizon = tonumber(args[3])
  local floor = guard_floor(ids, guard_size, horizon)
  local written, duplicates, expired = 0, 0, 0
  local i = 4
  while i <= #args do
    local sid, ts, n = args[i], tonumber(args[i + 1]), tonumber(args[i + 2])
    local first, last = i + 3, i + 2 + 2 * n
    if floor ~= nil and ts < floor then
      expired = expired + 1
    elseif redis.call('ZSCORE', ids, sid) then
      duplicates = duplicates + 1
    else
      -- Stream first: a script is not rolled back on error, and an id must never be guarded
      -- without its entry.
      redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(args, first, last))
      redis.call('ZADD', ids, score_arg(ts), sid)
      written = written + 1
    end
    i = last + 1
  end
  trim_guard(ids, guard_size, horizon)
  return {written, duplicates, expired}
end

-- KEYS: hash of the latest record (ticker or orderbook).
-- ARGV: name of the exchange-time field, its value, then the record's field/value pairs.
-- Replaces the hash unless it holds a strictly newer record. Returns 1 if written, 0 if stale.
local function write_latest(keys, args)
  local key, ts_field, ts = keys[1], args[1], tonumber(args[2])
  local current = redis.call('HGET', key, ts_field)
  if current and tonumber(current) > ts then
    return 0
  end
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(args, 3))
  return 1
end

-- KEYS: the markets registry (hash: market -> JSON object of strings).
-- ARGV: per market: market, quote_currency, last_seen_ms, status ('' = not known), status_ms.
-- last_seen only moves forward; status comes from the newest record that carries one.
local function touch_markets(keys, args)
  local registry = keys[1]
  for i = 1, #args, 5 do
    local market, quote, seen, status, status_ms = args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4]
    local raw = redis.call('HGET', registry, market)
    local entry = raw and cjson.decode(raw) or {quote_currency = quote}
    if entry.last_seen_ms == nil or tonumber(seen) > tonumber(entry.last_seen_ms) then
      entry.last_seen_ms = seen
    end
    if status ~= '' and (entry.status_ms == nil or tonumber(status_ms) >= tonumber(entry.status_ms)) then
      entry.status = status
      entry.status_ms = status_ms
    end
    redis.call('HSET', registry, market, cjson.encode(entry))
  end
  return #args / 5
end

redis.register_function('cryptoflow_sink_1_trades', write_trades)
redis.register_function('cryptoflow_sink_1_latest', write_latest)
redis.register_function('cryptoflow_sink_1_markets', touch_markets)
