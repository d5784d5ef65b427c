-- Marks leases done together with their records, appended to the job's
-- stream in the same step. ARGV: cap, then (id, fetched 1/0, failed 1/0,
-- record or '') quadruples. A lease that is no longer held (it expired
-- and went back to the queue) is skipped with its record: whoever leases
-- it again writes it. Returns {acknowledged, stale}.
local cap = tonumber(ARGV[1])
local n = p .. 'n'
local acked, stale = 0, 0
for i = 2, #ARGV, 4 do
  local id = ARGV[i]
  local data = redis.call('HGET', p .. 'lease', id)
  if not data then
    stale = stale + 1
  else
    acked = acked + 1
    local owner, origin, _ = split3(data)
    redis.call('HDEL', p .. 'lease', id)
    redis.call('ZREM', p .. 'leases', id)
    redis.call('SREM', p .. 'w:' .. owner, id)
    if redis.call('SREM', p .. 'released', id) == 0 then
      free_slot(origin, cap)
    end
    if ARGV[i + 1] == '1' then
      redis.call('HINCRBY', n, 'fetched', 1)
    else
      redis.call('HINCRBY', n, 'budget', -1)
    end
    if ARGV[i + 3] ~= '' then
      redis.call('XADD', p .. 'records', '*', 'r', ARGV[i + 3])
      redis.call('HINCRBY', n, 'done', 1)
      redis.call('HINCRBY', p .. 'done', origin, 1)
      if ARGV[i + 2] == '1' then
        redis.call('HINCRBY', n, 'failed', 1)
        redis.call('HINCRBY', p .. 'failed', origin, 1)
      end
    end
  end
end
if stale > 0 then
  redis.call('HINCRBY', n, 'stale', stale)
end
return {acked, stale}
