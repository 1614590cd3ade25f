-- Write profiles the worker computed, each only if nobody wrote it since the worker read it.
--
-- KEYS: 2 per customer (one hash tag): profile string, cooldown hash (field "tier").
-- ARGV: 2 per customer: the version the worker read (the string's first 4 bytes; empty when there
-- was none), and the new string (its first 4 bytes the next version), or empty to write nothing and
-- only check that the version is still the one read (a batch of repeats changes nothing).
-- A profile already equal to the new string counts as written: the call was sent again after its
-- reply was lost. Any other version means another writer (a worker that took the partition over,
-- or one that has not yet noticed it lost it): nothing is written, and the worker reads again.
-- Reply per customer: {1 written or current, 0 someone else wrote; tier or false}.
local replies = {}
for i = 0, #KEYS / 2 - 1 do
  local key, expected, new = KEYS[i * 2 + 1], ARGV[i * 2 + 1], ARGV[i * 2 + 2]
  local current = redis.call("GETRANGE", key, 0, 3)
  local ok = 0
  if current == expected then
    if new ~= "" then redis.call("SET", key, new) end
    ok = 1
  elseif new ~= "" and current == string.sub(new, 1, 4) and redis.call("GET", key) == new then
    ok = 1
  end
  replies[#replies + 1] = {ok, redis.call("HGET", KEYS[i * 2 + 2], "tier")}
end
return replies
