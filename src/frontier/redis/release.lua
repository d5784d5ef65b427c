-- The requests of these leases ended (their records are on their way to
-- the sink): their origins' slots are free for any worker. ARGV: cap, ids.
local cap = tonumber(ARGV[1])
for i = 2, #ARGV do
  local data = redis.call('HGET', p .. 'lease', ARGV[i])
  if data and redis.call('SADD', p .. 'released', ARGV[i]) == 1 then
    local _, origin, _ = split3(data)
    free_slot(origin, cap)
  end
end
return 0
