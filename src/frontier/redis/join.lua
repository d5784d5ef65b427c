-- A worker starts. The first worker's scope (ARGV[3], readable text) is
-- the job's; the reply is the job's, for the worker to compare. Leases
-- still held under this worker's name belong to an earlier process of
-- that name, which is gone: they go back to the queues.
-- ARGV: worker, cap, identity.
redis.call('SET', p .. 'identity', ARGV[3], 'NX')
local known = redis.call('GET', p .. 'identity')
if known ~= ARGV[3] then
  return known
end
local held = requeue_held(ARGV[1], tonumber(ARGV[2]))
if held > 0 then
  redis.call('HINCRBY', p .. 'n', 'reclaimed', held)
end
redis.call('ZADD', p .. 'workers', now_ms(), ARGV[1])
return known
