-- A worker stops: whatever it still holds (requests cut short by a
-- shutdown) goes back to the queues now rather than at the deadline.
-- ARGV: worker, cap. Returns the leases handed back.
local held = requeue_held(ARGV[1], tonumber(ARGV[2]))
redis.call('ZREM', p .. 'workers', ARGV[1])
redis.call('HDEL', p .. 'lease_ms', ARGV[1])
return held
