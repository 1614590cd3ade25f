-- Forget customers of the unsharded schedule (sb:schedule) once they were copied into their shards.
--
-- KEYS[1] = the old schedule sorted set. ARGV = pairs (customer id, score ms it was copied with).
-- A customer is removed only if its score is still the one copied: a worker of the previous
-- version that moved it meanwhile (rescheduled, or took it under a lease) leaves it for the next
-- copy, so nothing written to the old key is lost. Running it again changes nothing.
-- Reply: how many customers were removed.
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call("ZSCORE", KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    redis.call("ZREM", KEYS[1], ARGV[i])
    removed = removed + 1
  end
end
return removed
