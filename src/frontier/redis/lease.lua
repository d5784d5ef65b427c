-- Leases the next URL of an origin that may start now. ARGV: worker,
-- lease ms, cap, interval ms (from --rate; Crawl-delay may raise it per
-- origin), max pages (-1: none), origins to look at, and a token that
-- makes a retried call (its reply lost) return the same lease.
-- Returns {1, id, origin, entry, queued, leased}, {2, wait ms, queued,
-- leased} when nothing may start yet, or {0, 0, 0, 0} when the job is over.
local worker, cap = ARGV[1], tonumber(ARGV[3])
local last = redis.call('HGET', p .. 'last', worker)
if last then
  local sp = string.find(last, ' ', 1, true)
  if string.sub(last, 1, sp - 1) == ARGV[7] then
    local id = string.sub(last, sp + 1)
    local data = redis.call('HGET', p .. 'lease', id)
    if data then
      local _, origin, entry = split3(data)
      local q, l = counts()
      return {1, tonumber(id), origin, entry, q, l}
    end
  end
end
local now = now_ms()
reclaim(now, cap)
local n = p .. 'n'
local max_pages = tonumber(ARGV[5])
if max_pages >= 0 and tonumber(redis.call('HGET', n, 'budget') or '0') >= max_pages then
  local q, l = counts()
  if l == 0 then
    return {0, 0, q, l}
  end
  return {2, 100, q, l}
end
local ready = redis.call('ZRANGEBYSCORE', p .. 'ready', '-inf', now, 'LIMIT', 0, tonumber(ARGV[6]))
for _, origin in ipairs(ready) do
  local entry = redis.call('LPOP', p .. 'q:' .. origin)
  if not entry then
    redis.call('ZREM', p .. 'ready', origin)
  else
    local inflight = redis.call('HINCRBY', p .. 'inflight', origin, 1)
    local interval = tonumber(redis.call('HGET', p .. 'spacing', origin) or ARGV[4])
    local next_start = now + interval
    redis.call('HSET', p .. 'next', origin, next_start)
    if redis.call('LLEN', p .. 'q:' .. origin) == 0 then
      redis.call('ZREM', p .. 'ready', origin)
    elseif inflight >= cap then
      redis.call('ZADD', p .. 'ready', FULL, origin)
    else
      redis.call('ZADD', p .. 'ready', next_start, origin)
    end
    redis.call('HINCRBY', n, 'queued', -1)
    redis.call('HINCRBY', n, 'budget', 1)
    local id = redis.call('HINCRBY', n, 'seq', 1)
    redis.call('HSET', p .. 'lease', id, worker .. '\n' .. origin .. '\n' .. entry)
    redis.call('ZADD', p .. 'leases', now + tonumber(ARGV[2]), id)
    redis.call('SADD', p .. 'w:' .. worker, id)
    redis.call('HSET', p .. 'last', worker, ARGV[7] .. ' ' .. id)
    local q, l = counts()
    return {1, id, origin, entry, q, l}
  end
end
local q, l = counts()
if q == 0 and l == 0 then
  return {0, 0, q, l}
end
-- Ask again when the first origin is due or the first lease expires.
local at = now + 1000
local first = redis.call('ZRANGE', p .. 'ready', 0, 0, 'WITHSCORES')
if first[2] then
  at = math.min(at, tonumber(first[2]))
end
local deadline = redis.call('ZRANGE', p .. 'leases', 0, 0, 'WITHSCORES')
if deadline[2] then
  at = math.min(at, tonumber(deadline[2]))
end
return {2, math.max(at - now, 1), q, l}
