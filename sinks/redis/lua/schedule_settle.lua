-- Settle checked customers: reschedule each to its next check, or drop it from the schedule.
--
-- KEYS[1] = schedule sorted set. ARGV[1] = lease end ms the customers were taken with,
-- then pairs (customer id, next check ms or "" to drop).
-- A score still equal to our lease is ours to set. Any other score was written meanwhile (a new
-- event scheduled the customer, or our lease ran out and another worker took it): then the
-- later of the two wins and the customer is never dropped. A customer no longer in the schedule
-- was settled by someone else and stays out.
local leased = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local member, next_ms = ARGV[i], ARGV[i + 1]
  local score = redis.call("ZSCORE", KEYS[1], member)
  if score then
    score = tonumber(score)
    if score == leased then
      if next_ms == "" then
        redis.call("ZREM", KEYS[1], member)
      else
        redis.call("ZADD", KEYS[1], next_ms, member)
      end
    elseif next_ms ~= "" and tonumber(next_ms) > score then
      redis.call("ZADD", KEYS[1], next_ms, member)
    end
  end
end
return 0
