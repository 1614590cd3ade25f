-- Apply a batch of profile updates atomically and return, per update, the profile the rules need.
--
-- KEYS: 3 per update: state hash, day-bucket hash, dedupe sorted set (all hash-tagged {customer}).
-- ARGV[1] = number of bucket metrics M, ARGV[2] = retention days, ARGV[3] = dedupe capacity,
-- ARGV[4] = comma-separated window lengths in days (ascending), then per update:
--   event_id, ts_ms, day, M bucket increments, op count N, then N triples (op, field, value).
-- ops: "mx" keep the max number, "mn" keep the min number, "sn" set "ts|value" if ts is not older.
-- ARGV[5] = position (1-based) of the bucket metric counting customer activity: days with activity
-- are counted for the BG/NBD model, order-independently: active buckets in retention, plus those
-- trimmed so far (state field act_trimmed).
-- An empty event_id reads the profile without changing it.
-- Reply per update: {duplicate 0/1, state hash flat, window sums flat (windows x M), active days in
-- the retained buckets}.
local M = tonumber(ARGV[1])
local retention = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local windows = {}
for w in string.gmatch(ARGV[4], "[^,]+") do windows[#windows + 1] = tonumber(w) end

local function parse_bucket(text)
  local values = {}
  for v in string.gmatch(text, "[^,]+") do values[#values + 1] = tonumber(v) end
  for i = #values + 1, M do values[i] = 0 end
  return values
end

local function format_bucket(values)
  local parts = {}
  for i = 1, M do parts[i] = string.format("%.0f", values[i]) end
  return table.concat(parts, ",")
end

local function apply_op(state_key, op, field, value, ts)
  if op == "mx" or op == "mn" then
    local current = tonumber(redis.call("HGET", state_key, field))
    local new = tonumber(value)
    if current == nil or (op == "mx" and new > current) or (op == "mn" and new < current) then
      redis.call("HSET", state_key, field, value)
    end
  elseif op == "sn" then
    local current = redis.call("HGET", state_key, field)
    local current_ts = current and tonumber(string.match(current, "^([^|]+)|")) or nil
    if current_ts == nil or ts >= current_ts then
      redis.call("HSET", state_key, field, string.format("%.0f", ts) .. "|" .. value)
    end
  end
end

local active_metric = tonumber(ARGV[5])
local replies = {}
local pos = 6
for u = 0, (#KEYS / 3) - 1 do
  local state_key, days_key, seen_key = KEYS[u * 3 + 1], KEYS[u * 3 + 2], KEYS[u * 3 + 3]
  local event_id = ARGV[pos]
  local ts = tonumber(ARGV[pos + 1])
  local day = tonumber(ARGV[pos + 2])
  local increments = {}
  for i = 1, M do increments[i] = tonumber(ARGV[pos + 2 + i]) end
  local nops = tonumber(ARGV[pos + 3 + M])
  local ops_pos = pos + 4 + M
  pos = ops_pos + nops * 3

  local duplicate = 0
  if event_id == "" then
    duplicate = 0 -- a read: nothing to apply
  elseif redis.call("ZSCORE", seen_key, event_id) then
    duplicate = 1
  else
    redis.call("ZADD", seen_key, ts, event_id)
    if redis.call("ZCARD", seen_key) > capacity then
      redis.call("ZREMRANGEBYRANK", seen_key, 0, -(capacity + 1))
    end
    for i = 0, nops - 1 do
      apply_op(state_key, ARGV[ops_pos + i * 3], ARGV[ops_pos + i * 3 + 1], ARGV[ops_pos + i * 3 + 2], ts)
    end
    apply_op(state_key, "mx", "ref_day", tostring(day), ts)
    apply_op(state_key, "mx", "last_ts", string.format("%.0f", ts), ts)
    apply_op(state_key, "mn", "first_ts", string.format("%.0f", ts), ts)
    local ref_day = tonumber(redis.call("HGET", state_key, "ref_day"))
    if day > ref_day - retention then
      local field = tostring(day)
      local current = redis.call("HGET", days_key, field)
      local values = current and parse_bucket(current) or parse_bucket("")
      for i = 1, M do values[i] = values[i] + increments[i] end
      redis.call("HSET", days_key, field, format_bucket(values))
    end
  end

  -- windows end at the latest event day, or later for a read "as of" a later day (silence checks)
  local ref_day = math.max(tonumber(redis.call("HGET", state_key, "ref_day")) or day, day)
  local sums = {}
  local active_days = 0
  for i = 1, #windows * M do sums[i] = 0 end
  local buckets = redis.call("HGETALL", days_key)
  for b = 1, #buckets, 2 do
    local age = ref_day - tonumber(buckets[b])
    if age >= retention then
      -- only an applied event trims: a read "as of" a later day (a silence check while a backlog
      -- is still being consumed) must not delete history that later events will still be read with
      if event_id ~= "" then
        if parse_bucket(buckets[b + 1])[active_metric] > 0 then
          redis.call("HINCRBY", state_key, "act_trimmed", 1)
        end
        redis.call("HDEL", days_key, buckets[b])
      end
    elseif age >= 0 then
      local values = parse_bucket(buckets[b + 1])
      if values[active_metric] > 0 then active_days = active_days + 1 end
      for w = 1, #windows do
        if age < windows[w] then
          local base = (w - 1) * M
          for i = 1, M do sums[base + i] = sums[base + i] + values[i] end
        end
      end
    end
  end
  replies[#replies + 1] = {duplicate, redis.call("HGETALL", state_key), sums, active_days}
end
return replies
