-- Load profiles for the worker to compute on (sinks/redis/profiles.py): per customer its stored
-- string and its tier, and, when it has no string yet, what the earlier three-key layout left (the
-- worker converts it on first use and then deletes it).
--
-- KEYS: 5 per customer (one hash tag): profile string, cooldown hash (field "tier"), and the
-- earlier layout's state hash, day-bucket hash and dedupe ring. ARGV: one per customer, the
-- version the worker already holds in memory ("" for none, or no ARGV at all).
-- Reply per customer: {profile or false (or 1: still the version held), tier or false, earlier
-- state flat ({} when none), earlier day buckets flat, earlier ring or false}.
local replies = {}
for i = 0, #KEYS / 5 - 1 do
  local k = i * 5
  local held = ARGV[i + 1]
  local blob
  if held and held ~= "" and redis.call("GETRANGE", KEYS[k + 1], 0, 3) == held then
    blob = 1
  else
    blob = redis.call("GET", KEYS[k + 1])
  end
  local tier = redis.call("HGET", KEYS[k + 2], "tier")
  local state, days, ring = {}, {}, false
  if not blob and redis.call("EXISTS", KEYS[k + 3]) == 1 then
    state = redis.call("HGETALL", KEYS[k + 3])
    days = redis.call("HGETALL", KEYS[k + 4])
    if redis.call("TYPE", KEYS[k + 5]).ok == "string" then ring = redis.call("GET", KEYS[k + 5]) end
  end
  replies[#replies + 1] = {blob, tier, state, days, ring}
end
return replies
