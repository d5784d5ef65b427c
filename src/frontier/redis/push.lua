-- Adds candidates. ARGV: cap, then (fingerprint, origin, entry) triples;
-- an empty entry is a URL beyond the depth limit: refused, and not marked
-- seen, so that a shorter path to it is admitted later.
-- Returns one admission per candidate: 0 queued, 1 duplicate, 2 too deep.
local cap = tonumber(ARGV[1])
local out = {}
local queued = 0
for i = 2, #ARGV, 3 do
  local origin, entry = ARGV[i + 1], ARGV[i + 2]
  if entry == '' then
    out[#out + 1] = 2 - redis.call('SISMEMBER', p .. 'seen', ARGV[i])
  elseif redis.call('SADD', p .. 'seen', ARGV[i]) == 0 then
    out[#out + 1] = 1
  else
    redis.call('RPUSH', p .. 'q:' .. origin, entry)
    queued = queued + 1
    if not redis.call('ZSCORE', p .. 'ready', origin) then
      redis.call('ZADD', p .. 'ready', score_of(origin, cap), origin)
    end
    out[#out + 1] = 0
  end
end
if queued > 0 then
  redis.call('HINCRBY', p .. 'n', 'queued', queued)
end
return out
