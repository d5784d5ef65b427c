-- A live worker's heartbeat: it is seen now, and its leases' deadlines
-- move on. ARGV: worker, lease ms. Returns the leases it holds.
local now = now_ms()
redis.call('ZADD', p .. 'workers', now, ARGV[1])
redis.call('HSET', p .. 'lease_ms', ARGV[1], ARGV[2])
local ids = redis.call('SMEMBERS', p .. 'w:' .. ARGV[1])
for _, id in ipairs(ids) do
  redis.call('ZADD', p .. 'leases', 'XX', now + tonumber(ARGV[2]), id)
end
return #ids
