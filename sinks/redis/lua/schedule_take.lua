-- Take up to ARGV[2] customers whose silence check is due and lease them, atomically.
--
-- KEYS[1] = schedule sorted set (member customer id, score next check ms).
-- ARGV[1] = now ms, ARGV[2] = most customers to take, ARGV[3] = lease end ms.
-- Taken customers get the lease end as their score: no other worker takes them meanwhile, and if
-- this one dies mid-check they are simply due again when the lease ends.
-- Reply: the customer ids taken, earliest due first.
local due = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call("ZADD", KEYS[1], ARGV[3], member)
end
return due
