-- Claim cooldown slots for outputs (churn alerts, signals, offers) in one round trip.
--
-- KEYS: one cooldown hash per claim. ARGV: one per claim, tab-separated: field, output_id, now_ms,
-- until_ms, group, capacity, reemit_only, rank, mode, expected (one argument per claim keeps
-- client packing cheap).
-- mode "cas" is a compare-and-set instead (the customer's tier in the state hash): the field is
-- set to output_id only if it still holds `expected` ("" for absent), so concurrent or repeated
-- decisions cannot both apply.
-- A claim succeeds when the slot is free, expired, already held by the same output id, or held with
-- a lower rank than this claim's (a churn alert whose level rose goes out despite the cooldown).
-- "Held by the same id" makes re-processing after a crash re-emit the identical output, never a new
-- one; reemit_only ("1" for re-processed duplicates) grants only that case.
-- Claims sharing a non-empty group (e.g. the ranked offers of one event) stop being granted once
-- `capacity` of them succeeded, so the best free candidate wins without a second round trip.
-- Slot value: "until_ms|output_id|rank". Reply: list of 1 (claimed) / 0 (in cooldown or group full).
local replies = {}
local granted_in_group = {}
for i = 1, #KEYS do
  local a = {}
  for piece in string.gmatch(ARGV[i], "([^\t]*)\t?") do a[#a + 1] = piece end
  local field, output_id = a[1], a[2]
  local now, until_ms = tonumber(a[3]), a[4]
  local group, capacity = a[5], tonumber(a[6])
  local reemit_only = a[7] == "1"
  local rank = tonumber(a[8])
  local granted = 1
  if a[9] == "cas" then
    local current = redis.call("HGET", KEYS[i], field) or ""
    if current == (a[10] or "") then
      redis.call("HSET", KEYS[i], field, output_id)
    else
      granted = 0
    end
    replies[i] = granted
  else
  if group ~= "" and (granted_in_group[group] or 0) >= capacity then granted = 0 end
  local current = redis.call("HGET", KEYS[i], field)
  if granted == 1 and current then
    local held_until, held_id, held_rank = string.match(current, "^([^|]+)|([^|]*)|?(%d*)$")
    held_rank = tonumber(held_rank) or 0
    local same = held_id == output_id
    if not same and now < tonumber(held_until) and rank <= held_rank then granted = 0 end
    if reemit_only and not same then granted = 0 end
  elseif reemit_only then
    granted = 0
  end
  if granted == 1 then
    redis.call("HSET", KEYS[i], field, until_ms .. "|" .. output_id .. "|" .. rank)
    if group ~= "" then granted_in_group[group] = (granted_in_group[group] or 0) + 1 end
  end
  replies[i] = granted
  end
end
return replies
