-- Settle checked customers: reschedule each to its next check, or drop it from the schedule.
--
-- KEYS[i] = the schedule shard of customer i (in a Redis Cluster one call holds the customers of
-- one shard). ARGV[1] = lease end ms the customers were taken with, then per customer i:
-- ARGV[2i] = customer id, ARGV[2i + 1] = next check ms or "" to drop.
-- A score still equal to our lease is ours to set. Any other score was written meanwhile (a new
-- event scheduled the customer, or our lease ran out and another worker took it): then the
-- later of the two wins and the customer is never dropped. A customer no longer in the schedule
-- was settled by someone else and stays out. Settling the same customers again changes nothing.
local leased = tonumber(ARGV[1])
for i = 1, #KEYS do
  local key, member, next_ms = KEYS[i], ARGV[2 * i], ARGV[2 * i + 1]
  local score = redis.call("ZSCORE", key, member)
  if score then
    score = tonumber(score)
    if score == leased then
      if next_ms == "" then
        redis.call("ZREM", key, member)
      else
        redis.call("ZADD", key, next_ms, member)
      end
    elseif next_ms ~= "" and tonumber(next_ms) > score then
      redis.call("ZADD", key, next_ms, member)
    end
  end
end
return 0
