-- Holds `origin` back for every worker. ARGV: origin, wait ms, 1 for a
-- Crawl-delay (the wait becomes the least spacing between starts from
-- now on) or 0 for a 429/503 back-off, and the interval of the rate.
-- After a back-off the paused request is retried at its end, so that
-- start counts: the next lease comes an interval later.
local origin, wait = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local next_start = now + wait
if ARGV[3] == '1' then
  local old = tonumber(redis.call('HGET', p .. 'spacing', origin) or '0')
  redis.call('HSET', p .. 'spacing', origin, math.max(old, wait))
else
  next_start = next_start + tonumber(redis.call('HGET', p .. 'spacing', origin) or ARGV[4])
end
local known = tonumber(redis.call('HGET', p .. 'next', origin) or '0')
if next_start > known then
  redis.call('HSET', p .. 'next', origin, next_start)
  local score = redis.call('ZSCORE', p .. 'ready', origin)
  if score and tonumber(score) < next_start then
    redis.call('ZADD', p .. 'ready', next_start, origin)
  end
end
return 0
