-- Claim cooldown slots for outputs (churn rules, offers) in one round trip.
--
-- KEYS: one cooldown hash per claim. ARGV per claim: field, output_id, now_ms, until_ms, group, capacity,
-- reemit_only ("1" for re-processed duplicates: granted only if this very output already holds the slot).
-- A claim succeeds when the slot is free, expired, or already held by the same output id:
-- the last case makes re-processing after a crash re-emit the identical output, never a new one.
-- Claims sharing a non-empty group (e.g. the ranked offers of one event) stop being granted once
-- `capacity` of them succeeded, so the best free candidate wins without a second round trip.
-- Reply: list of 1 (claimed) / 0 (in cooldown or group full).
local replies = {}
local granted_in_group = {}
for i = 1, #KEYS do
  local base = (i - 1) * 7
  local field, output_id = ARGV[base + 1], ARGV[base + 2]
  local now, until_ms = tonumber(ARGV[base + 3]), ARGV[base + 4]
  local group, capacity = ARGV[base + 5], tonumber(ARGV[base + 6])
  local reemit_only = ARGV[base + 7] == "1"
  local granted = 1
  if group ~= "" and (granted_in_group[group] or 0) >= capacity then granted = 0 end
  local current = redis.call("HGET", KEYS[i], field)
  if granted == 1 and current then
    local held_until, held_id = string.match(current, "^([^|]+)|(.*)$")
    if held_id ~= output_id and now < tonumber(held_until) then granted = 0 end
    if reemit_only and held_id ~= output_id then granted = 0 end
  elseif reemit_only then
    granted = 0
  end
  if granted == 1 then
    redis.call("HSET", KEYS[i], field, until_ms .. "|" .. output_id)
    if group ~= "" then granted_in_group[group] = (granted_in_group[group] or 0) + 1 end
  end
  replies[i] = granted
end
return replies
