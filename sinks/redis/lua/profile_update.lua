-- Apply a batch of profile updates atomically and return, per update, the profile the rules need.
--
-- KEYS: 3 per update: state hash, day-bucket hash, dedupe ring (all hash-tagged {customer}).
-- ARGV[1] = number of bucket metrics M, ARGV[2] = retention days (>= the longest window),
-- ARGV[3] = dedupe capacity, ARGV[4] = comma-separated window lengths in days (ascending),
-- ARGV[5] = position (1-based) of the bucket metric counting customer activity, ARGV[6] = the
-- consumer group's committed offsets "code:partition:offset,..." (code: the input topic's number in
-- sinks/redis/keys.py TOPIC_CODES), then one argument per update, tab-separated (ids and values never
-- contain tabs): event_id, ts_ms, day, where it was read ("code:partition:offset", or empty), the M
-- bucket increments comma-separated, then (op, field, value) triples. One argument per update keeps
-- the client's command packing cheap.
-- ops: "mx" keep the max number, "mn" keep the min number, "sn" set "ts|value" if ts is not older,
-- "rn" (value "day,gap") extend a run of days "start,last,count": a day more than `gap` days after
-- the run's last day starts a new run (a payee paid again after a long pause is a new payee).
-- An empty event_id reads the profile "as of" the given day without changing anything.
--
-- Window sums are kept incrementally in the state hash ("w:<days>" = M comma-separated integers,
-- relative to the latest event day "ref_day"): an event adds its increments to the windows that
-- contain its day; when ref_day advances, the day buckets that fall out of a window are subtracted
-- (and buckets past the retention deleted). So an event costs O(windows x M), not O(days x M).
-- Dedupe (state field "ids_w" = "tiers"): the ring recognises a repeat of the customer's last
-- `capacity` events (producers that send an event twice) and of every event Kafka may deliver again
-- (not committed by the consumer group: a crash, an outage), however many those are. It keeps
-- "kept" 6-byte hashes (the first bytes of the SHA-1 of the id: a new id matches one of 256 others
-- by chance once in ~10^12 events), up to `capacity`, and "pending" entries that also say where
-- the event was read. A pending entry becomes a kept hash once its offset is committed (checked
-- when the customer's next event comes). The ring is one string, rewritten whole so Redis
-- allocates it exactly; a repeat is found with plain substring searches. Earlier layouts under the
-- same key are converted on first use: rings of 6-byte slots ("ids_w" = "6", cursor "ids_at") and
-- of 8-byte slots allocated whole (no "ids_w") become kept hashes, oldest first; a sorted set of
-- ids is replaced by a ring.
-- "act_days" counts days whose bucket first became active (the BG/NBD frequency), whatever the
-- order the events arrive in (within the retention).
-- Reply per update: {duplicate 0/1, state hash flat, window sums (windows x M) as one
-- comma-separated string, act_days}.
local M = tonumber(ARGV[1])
local retention = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local windows = {}
for w in string.gmatch(ARGV[4], "[^,]+") do windows[#windows + 1] = tonumber(w) end
local active_metric = tonumber(ARGV[5])
local WINDOW_FIELDS = {}
for w = 1, #windows do WINDOW_FIELDS[w] = "w:" .. windows[w] end

-- Buckets and window sums are stored as MessagePack arrays (packed in C by Redis' cmsgpack: far
-- cheaper than formatting numbers, and smaller); comma-separated text is still read (arguments,
-- and profiles written by earlier versions). A dense array holds every value up to the last that
-- is not zero (parse pads the rest). A sparse one, smaller when many values are zero (about 8 of
-- the 15 of a typical day), holds -(bitmap + 1) first, bit i-1 set when value i is not zero, then
-- those values in order; a dense array never starts below zero (its first value is a count).
local function parse(text)
  local values
  if text and #text > 0 and string.byte(text, 1) >= 0x90 then
    values = cmsgpack.unpack(text)
    if values[1] < 0 then
      local bitmap, packed, at = -values[1] - 1, values, 2
      values = {}
      for i = 1, M do
        if bitmap % 2 == 1 then
          values[i] = packed[at]
          at = at + 1
        else
          values[i] = 0
        end
        bitmap = math.floor(bitmap / 2)
      end
    end
  else
    values = {}
    if text then
      for v in string.gmatch(text, "[^,]+") do values[#values + 1] = tonumber(v) end
    end
  end
  for i = #values + 1, M do values[i] = 0 end
  return values
end

-- Bytes MessagePack takes for the negative integer `m`.
local function negative_size(m)
  if m >= -32 then return 1 elseif m >= -128 then return 2 elseif m >= -32768 then return 3 end
  return 5
end

-- The smaller of the dense and the sparse array (see parse). Trailing zeros are always left out;
-- at least one value stays, so the text is still an array.
local function format(values)
  local n = #values
  while n > 1 and values[n] == 0 do n = n - 1 end
  local sparse, bitmap, bit = {0}, 0, 1
  for i = 1, n do
    if values[i] ~= 0 then
      bitmap = bitmap + bit
      sparse[#sparse + 1] = values[i]
    end
    bit = bit * 2
  end
  local zeros = n - (#sparse - 1)
  if zeros > negative_size(-(bitmap + 1)) then
    sparse[1] = -(bitmap + 1)
    return cmsgpack.pack(sparse)
  end
  if n == #values then return cmsgpack.pack(values) end
  return cmsgpack.pack({unpack(values, 1, n)})
end

-- Dedupe ring (see the header): a 2-byte count n, then n "kept" id hashes of 6 bytes, oldest first,
-- then the "pending" entries of 15 bytes: an id hash and where the event was read, topic code (1
-- byte), partition (2), offset (6).
local HASH = 6
local SLOT = 15
local LAYOUT = "tiers"  -- state field "ids_w" of this layout
local NOWHERE = string.char(255) .. string.rep("\0", 8)  -- not read from Kafka (replays, tests)
local TWO32 = 4294967296
-- Pending entries beyond PENDING_FACTOR x capacity keep only their hash (bounded memory if commits
-- stall for long); a crash test customer had ~80 events uncommitted while a backlog was replayed.
local PENDING_FACTOR = 4

-- First offset not yet committed by the consumer group, per "code:partition" (ARGV[6]).
local committed = {}
for code, partition, offset in string.gmatch(ARGV[6], "(%d+):(%d+):(%d+)") do
  committed[code .. ":" .. partition] = tonumber(offset)
end

local function position_bytes(position)
  local code, partition, offset = string.match(position, "^(%d+):(%d+):(%d+)$")
  if not code then return NOWHERE end
  offset = tonumber(offset)
  local high = math.floor(offset / TWO32)
  return struct.pack(">BI2I2I4", tonumber(code), tonumber(partition), high, offset - high * TWO32)
end

-- Whether Kafka will never deliver the pending entry at `from` again: its offset is committed, or
-- it was not read from Kafka at all.
local function settled(pending, from)
  local code, partition, high, low = struct.unpack(">BI2I2I4", pending, from + HASH)
  if code == 255 then return true end
  local upto = committed[code .. ":" .. partition]
  return upto ~= nil and high * TWO32 + low < upto
end

local function id_hash(event_id)
  local hex = string.sub(redis.sha1hex(event_id), 1, HASH * 2)
  return (string.gsub(hex, "..", function(pair) return string.char(tonumber(pair, 16)) end))
end

-- The hashes of a ring left by an earlier version, oldest first: slots of `width` bytes (6, or 8
-- allocated whole with empty slots) and the cursor `at` of the slot written next.
local function legacy_hashes(old, width, at)
  local slots = #old / width
  local empty = string.rep("\0", width)
  local kept = {}
  for i = 0, slots - 1 do
    local from = ((at + i) % slots) * width
    local slot = string.sub(old, from + 1, from + width)
    if slot ~= empty then kept[#kept + 1] = string.sub(slot, 1, HASH) end
  end
  return kept
end

-- The ring as {kept, pending} strings, converted first if an earlier version wrote it (its hashes
-- are kept ones: as before, they cover the customer's last `capacity` events).
local function read_ring(seen_key, state_key, st)
  local ok, ring = pcall(redis.call, "GET", seen_key)
  if not ok then  -- a sorted set of ids from an earlier version
    redis.call("DEL", seen_key)
    ring = false
  end
  ring = ring or ""
  if st["ids_w"] ~= LAYOUT then
    local hashes = {}
    if #ring > 0 then hashes = legacy_hashes(ring, st["ids_w"] == "6" and 6 or 8, tonumber(st["ids_at"]) or 0) end
    ring = struct.pack(">I2", #hashes) .. table.concat(hashes)
    if #hashes > 0 then redis.call("SET", seen_key, ring) end
    -- written at once, not with the event's changes: a repeated event writes none of those
    redis.call("HSET", state_key, "ids_w", LAYOUT)
    if st["ids_at"] ~= nil then redis.call("HDEL", state_key, "ids_at") end  -- earlier rings' cursor
    st["ids_w"], st["ids_at"] = LAYOUT, nil
  end
  if #ring == 0 then return "", "" end
  local boundary = 2 + struct.unpack(">I2", ring) * HASH
  return string.sub(ring, 3, boundary), string.sub(ring, boundary + 1)
end

-- `needle` as a whole entry of `entries` (entries of `width` bytes).
local function has_entry(entries, needle, width)
  local from = 1
  while true do
    local at = string.find(entries, needle, from, true)
    if not at then return false end
    if (at - 1) % width == 0 then return true end
    from = at + 1
  end
end

-- Adds the event's entry: settled pending entries at the front move to the kept hashes (pending
-- ones behind an unsettled entry of another topic or partition wait for it), the oldest pending
-- beyond PENDING_FACTOR x `capacity` keep only their hash, and kept hashes beyond `capacity` go.
local function remember(seen_key, kept, pending, hash, position)
  local moved = {kept}
  local from = 1
  while from < #pending and settled(pending, from) do
    moved[#moved + 1] = string.sub(pending, from, from + HASH - 1)
    from = from + SLOT
  end
  pending = string.sub(pending, from) .. hash .. position_bytes(position)
  local over = #pending / SLOT - PENDING_FACTOR * capacity
  if over > 0 then
    for i = 0, over - 1 do moved[#moved + 1] = string.sub(pending, i * SLOT + 1, i * SLOT + HASH) end
    pending = string.sub(pending, over * SLOT + 1)
  end
  kept = table.concat(moved)
  if #kept > capacity * HASH then kept = string.sub(kept, #kept - capacity * HASH + 1) end
  redis.call("SET", seen_key, struct.pack(">I2", #kept / HASH) .. kept .. pending)
end

-- The state hash is read once per update into `st`; changes go to `st` and `dirty`, and are written
-- back with one HSET: a handful of Redis calls per event instead of two per field.
local function apply_op(st, dirty, op, field, value, ts)
  if op == "mx" or op == "mn" then
    local current = tonumber(st[field])
    local new = tonumber(value)
    if current == nil or (op == "mx" and new > current) or (op == "mn" and new < current) then
      st[field] = value
      dirty[field] = value
    end
  elseif op == "sn" then
    local current = st[field]
    local current_ts = current and tonumber(string.match(current, "^([^|]+)|")) or nil
    if current_ts == nil or ts >= current_ts then
      local stamped = string.format("%.0f", ts) .. "|" .. value
      st[field] = stamped
      dirty[field] = stamped
    end
  elseif op == "rn" then
    local day, gap = string.match(value, "^(-?%d+),(%d+)$")
    day, gap = tonumber(day), tonumber(gap)
    local start, last, count
    if st[field] then
      start, last, count = string.match(st[field], "^(-?%d+),(-?%d+),(%d+)$")
      start, last, count = tonumber(start), tonumber(last), tonumber(count)
    end
    local run
    if start == nil or day > last + gap then
      run = {day, day, 1}
    elseif day >= start then
      run = {start, math.max(last, day), count + 1}
    elseif start - day <= gap then
      run = {day, last, count + 1} -- a late event from just before the run: it started earlier
    end
    if run then
      local text = string.format("%d,%d,%d", run[1], run[2], run[3])
      st[field] = text
      dirty[field] = text
    end
  end
end

-- Buckets of the days first..last (inclusive) that exist, parsed.
local function buckets_between(days_key, first, last)
  local result = {}
  if last < first then return result end
  local fields = {}
  for d = first, last do fields[#fields + 1] = tostring(d) end
  local values = redis.call("HMGET", days_key, unpack(fields))
  for i = 1, #fields do
    if values[i] then result[#result + 1] = parse(values[i]) end
  end
  return result
end

-- Full recomputation from the buckets: profiles written before the incremental sums existed.
local function rebuild(days_key, ref_day)
  local sums = {}
  for w = 1, #windows do sums[w] = parse(nil) end
  local all = redis.call("HGETALL", days_key)
  for b = 1, #all, 2 do
    local age = ref_day - tonumber(all[b])
    local values = parse(all[b + 1])
    for w = 1, #windows do
      if age >= 0 and age < windows[w] then
        for i = 1, M do sums[w][i] = sums[w][i] + values[i] end
      end
    end
  end
  return sums
end

-- Window sums as of `to_day` from sums as of `from_day` (to_day > from_day): subtract leaving days.
local function advance(sums, days_key, from_day, to_day)
  for w = 1, #windows do
    local width = windows[w]
    if to_day - from_day >= width then
      sums[w] = parse(nil)
    else
      for _, values in ipairs(buckets_between(days_key, from_day - width + 1, to_day - width)) do
        for i = 1, M do sums[w][i] = sums[w][i] - values[i] end
      end
    end
  end
end

local function load_sums(st, days_key, ref_day)
  if ref_day == nil then
    local zeros = {}
    for w = 1, #windows do zeros[w] = parse(nil) end
    return zeros
  end
  if st[WINDOW_FIELDS[#windows]] == nil and redis.call("EXISTS", days_key) == 1 then
    return rebuild(days_key, ref_day)
  end
  local sums = {}
  for w = 1, #windows do sums[w] = parse(st[WINDOW_FIELDS[w]]) end
  return sums
end

local replies = {}
for u = 0, (#KEYS / 3) - 1 do
  local state_key, days_key, seen_key = KEYS[u * 3 + 1], KEYS[u * 3 + 2], KEYS[u * 3 + 3]
  local parts = {}
  for piece in string.gmatch(ARGV[7 + u], "([^\t]*)\t?") do parts[#parts + 1] = piece end
  local event_id = parts[1]
  local ts = tonumber(parts[2])
  local day = tonumber(parts[3])
  local position = parts[4]
  local increments = parse(parts[5])
  local nops = math.floor((#parts - 5) / 3)

  local raw = redis.call("HGETALL", state_key)
  local st = {}
  for i = 1, #raw, 2 do st[raw[i]] = raw[i + 1] end
  local dirty = {}
  local stored_ref = tonumber(st["ref_day"])
  local duplicate = 0
  local sums, hash, kept, pending
  if event_id == "" then
    -- a read as of `day`: windows move on with time, nothing is written
    sums = load_sums(st, days_key, stored_ref)
    if stored_ref ~= nil and day > stored_ref then advance(sums, days_key, stored_ref, day) end
  else
    hash = id_hash(event_id)
    kept, pending = read_ring(seen_key, state_key, st)
    if has_entry(kept, hash, HASH) or has_entry(pending, hash, SLOT) then duplicate = 1 end
  end
  if duplicate == 1 then
    sums = load_sums(st, days_key, stored_ref)
  elseif event_id ~= "" then
    remember(seen_key, kept, pending, hash, position)
    for i = 0, nops - 1 do
      apply_op(st, dirty, parts[6 + i * 3], parts[7 + i * 3], parts[8 + i * 3], ts)
    end
    apply_op(st, dirty, "mx", "last_ts", string.format("%.0f", ts), ts)
    apply_op(st, dirty, "mn", "first_ts", string.format("%.0f", ts), ts)
    local ref_day = stored_ref or day
    sums = load_sums(st, days_key, ref_day)
    if day > ref_day then
      advance(sums, days_key, ref_day, day)
      -- buckets past the retention are deleted for good
      if day - ref_day >= retention then
        redis.call("DEL", days_key)
      else
        local old = {}
        for d = ref_day - retention + 1, day - retention do old[#old + 1] = tostring(d) end
        if #old > 0 then redis.call("HDEL", days_key, unpack(old)) end
      end
      ref_day = day
    end
    if stored_ref ~= ref_day then dirty["ref_day"] = tostring(ref_day) end
    local age = ref_day - day
    if age < retention then
      local field = tostring(day)
      local values = parse(redis.call("HGET", days_key, field) or nil)
      local was_active = values[active_metric] > 0
      for i = 1, M do values[i] = values[i] + increments[i] end
      redis.call("HSET", days_key, field, format(values))
      if not was_active and values[active_metric] > 0 then
        local count = tostring((tonumber(st["act_days"]) or 0) + 1)
        st["act_days"] = count
        dirty["act_days"] = count
      end
      for w = 1, #windows do
        if age < windows[w] then
          for i = 1, M do sums[w][i] = sums[w][i] + increments[i] end
        end
      end
    end
    for w = 1, #windows do
      -- windows the event or the advance changed (after an advance every window changed)
      if age < windows[w] or st[WINDOW_FIELDS[w]] == nil then dirty[WINDOW_FIELDS[w]] = format(sums[w]) end
    end
    local fields = {}
    for field, value in pairs(dirty) do
      fields[#fields + 1] = field
      fields[#fields + 1] = value
      st[field] = value
    end
    if #fields > 0 then redis.call("HSET", state_key, unpack(fields)) end
  end

  local flat = {}
  for w = 1, #windows do
    for i = 1, M do flat[#flat + 1] = sums[w][i] end
  end
  local visible = {}
  for field, value in pairs(st) do
    if string.sub(field, 1, 2) ~= "w:" then  -- window sums are binary: returned in `flat`
      visible[#visible + 1] = field
      visible[#visible + 1] = value
    end
  end
  replies[#replies + 1] = {duplicate, visible, table.concat(flat, ","), tonumber(st["act_days"]) or 0}
end
return replies
