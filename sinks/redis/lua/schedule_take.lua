-- Take customers whose silence check is due from schedule shards and lease them, atomically.
--
-- KEYS = schedule shards (sorted sets: member customer id, score next check ms); in a Redis
-- Cluster one call holds the shards of one slot (one shard: each has its own hash tag).
-- ARGV[1] = now ms, ARGV[2] = lease end ms, ARGV[2 + i] = most customers to take from KEYS[i].
-- Taken customers get the lease end as their score: no other worker takes them meanwhile, and if
-- this one dies mid-check they are simply due again when the lease ends.
-- Reply: one list per key, the customer ids taken from it, earliest due first.
local taken = {}
for i = 1, #KEYS do
  local due = {}
  local most = tonumber(ARGV[2 + i])
  if most > 0 then
    due = redis.call("ZRANGEBYSCORE", KEYS[i], "-inf", ARGV[1], "LIMIT", 0, most)
    for _, member in ipairs(due) do
      redis.call("ZADD", KEYS[i], ARGV[2], member)
    end
  end
  taken[i] = due
end
return taken
