-- Shared by every script of the Redis frontier (src/frontier/redis/).
-- KEYS[1] is the job's key prefix, `collector:{JOB}:`. Times are the
-- server's milliseconds, so workers on several machines share one clock.
-- An origin is in `ready` exactly while its queue holds URLs; its score is
-- the earliest time its next request may start (rate, Crawl-delay,
-- back-off), or FULL while it has its cap of requests in flight.
local p = KEYS[1]
local FULL = 9007199254740991

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function split3(s)
  local a = string.find(s, '\n', 1, true)
  local b = string.find(s, '\n', a + 1, true)
  return string.sub(s, 1, a - 1), string.sub(s, a + 1, b - 1), string.sub(s, b + 1)
end

local function score_of(origin, cap)
  local inflight = tonumber(redis.call('HGET', p .. 'inflight', origin) or '0')
  if inflight >= cap then
    return FULL
  end
  return tonumber(redis.call('HGET', p .. 'next', origin) or '0')
end

-- One request of `origin` is no longer in flight.
local function free_slot(origin, cap)
  redis.call('HINCRBY', p .. 'inflight', origin, -1)
  if redis.call('LLEN', p .. 'q:' .. origin) > 0 then
    redis.call('ZADD', p .. 'ready', score_of(origin, cap), origin)
  end
end

-- Puts lease `id` back at the head of its origin's queue, for any worker.
local function requeue(id, cap)
  local data = redis.call('HGET', p .. 'lease', id)
  redis.call('ZREM', p .. 'leases', id)
  if not data then
    return
  end
  redis.call('HDEL', p .. 'lease', id)
  local owner, origin, entry = split3(data)
  redis.call('SREM', p .. 'w:' .. owner, id)
  redis.call('LPUSH', p .. 'q:' .. origin, entry)
  redis.call('HINCRBY', p .. 'n', 'queued', 1)
  redis.call('HINCRBY', p .. 'n', 'budget', -1)
  if redis.call('SREM', p .. 'released', id) == 0 then
    free_slot(origin, cap)
  else
    redis.call('ZADD', p .. 'ready', score_of(origin, cap), origin)
  end
end

-- Leases whose deadline passed (their worker died) go back to the queues.
local function reclaim(now, cap)
  local expired = redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', now, 'LIMIT', 0, 100)
  for _, id in ipairs(expired) do
    requeue(id, cap)
  end
  if #expired > 0 then
    redis.call('HINCRBY', p .. 'n', 'reclaimed', #expired)
  end
end

-- Everything `worker` holds goes back to the queues; returns how many.
local function requeue_held(worker, cap)
  local held = redis.call('SMEMBERS', p .. 'w:' .. worker)
  for _, id in ipairs(held) do
    requeue(id, cap)
  end
  redis.call('DEL', p .. 'w:' .. worker)
  redis.call('HDEL', p .. 'last', worker)
  return #held
end

local function counts()
  return tonumber(redis.call('HGET', p .. 'n', 'queued') or '0'), redis.call('ZCARD', p .. 'leases')
end
