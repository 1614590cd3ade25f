-- Claim cooldown slots for outputs (churn alerts, signals, offers) in one round trip.
--
-- KEYS: one per claim (the cooldown hash, also for "cas"; the offer log for "offer" and "resp").
-- In a Redis Cluster one call holds the claims of one hash slot (sinks/redis/claims.py groups them):
-- a customer's keys share their hash tag, so a customer's claims are always in one call.
-- ARGV: one per claim, tab-separated (one argument per claim keeps client packing cheap);
-- sinks/redis/claims.py `pack` is the one place that writes them, field by field as listed here:
--   a[1] field, a[2] output_id, a[3] now_ms, a[4] until_ms, a[5] group, a[6] capacity,
--   a[7] reemit_only ("1"/"0"), a[8] rank, a[9] mode ("" cooldown, "cas", "offer", "resp"),
--   then per mode: a[10] expected ("cas"); a[10]..a[17] ("offer", below); a[10], a[11] ("resp").
-- mode "cas" is a compare-and-set instead (the customer's tier, field "tier" of the cooldown hash,
-- which no cooldown slot can be named: those are "alert" and "rule:<id>..."): the field is
-- set to output_id only if it still holds `expected` ("" for absent), so concurrent or repeated
-- decisions cannot both apply.
-- A claim succeeds when the slot is free, expired, already held by the same output id, or held with
-- a lower rank than this claim's (a churn alert whose level rose goes out despite the cooldown).
-- "Held by the same id" makes re-processing after a crash re-emit the identical output, never a new
-- one; reemit_only ("1" for re-processed duplicates) grants only that case.
-- Claims of one customer sharing a non-empty group (the ranked offers of one event) stop being
-- granted once `capacity` of them succeeded, so the best free candidate wins without a second
-- round trip. A group is per customer (the hash tag of the claim's key): two customers' claims
-- with the same group name (silence checks of one day share the event id "check:<date>") never
-- count against each other, whether they are in one call (one server) or not (a cluster).
-- mode "offer" claims a next-best offer against the customer's offer log (KEYS[i] = the hash
-- sb:{id}:offers, field = offer event id, value = "ts|offer_id|product|channel|expires_ms|strategy|
-- status|status_ts|status_event"): field = offer id, output_id = offer event id, until_ms - now_ms =
-- the offer's cool-off, then a[10] channels in preference order (comma-separated), a[11] expires_ms,
-- a[12] strategy, a[13] product, a[14] caps "count:period_ms:channel;..." (channel "" = all),
-- a[15] decline cool-off ms, a[16] fatigue "negatives:within_ms:cooloff_ms", a[17] keep_ms.
-- Reply "1|channel|new" or "1|channel|again" (this event's offer already granted: re-emit, same id
-- and channel), else "0|reason": duplicate, max_per_event, cooldown, declined, fatigue, cap,
-- channel_cap. Caps and cool-offs are checked and the log written in this one atomic call, so two
-- workers (or two events in one batch) cannot both take the last slot.
-- mode "resp" records a customer's response to an offer: field = reference (offer event id or
-- offer id), output_id = the response event's id, a[10] = accepted | declined, a[11] = product.
-- The matching entry is the one with that event id, else the latest of that offer id, else the
-- latest unanswered one of that product. Reply "new|offer_id|strategy" when recorded now,
-- "again|offer_id|strategy" when this response was already recorded, "answered|offer_id|strategy"
-- when another response was, "none" when nothing matches.
-- mode "tags" judges the customer's tag set (KEYS[i] = the cooldown hash, field "tags", value
-- "tag:since_ms,...|trigger=+a,-b;..." : the tags held, sorted, each with when it was gained, then
-- the last 8 triggers that changed the set and their changes): output_id = the trigger's id,
-- a[10] the tags whose condition holds now (sorted, comma-separated), a[11] tags not judged now
-- (their rule failed: kept as they are), a[12] the customer id, a[13] the ruleset version. A tag
-- held and not holding is lost, one holding and not held is gained. Reply "new|+a:id,-b:id" for
-- the changes made now (id = the first 32 hex digits of sha1("tag|customer|tag|gained or
-- lost|trigger|version"), the tag change signal's id), "again|..." when this trigger already made
-- its changes (re-emitted, same ids), "" for none. reemit_only grants only "again".
-- mode "tl" adds to the customer's timeline (KEYS[i] = the string sb:{id}:timeline: the events, an
-- empty line, the outputs; entries "ts|kind|id|summary", one a line, newest first): a[10] / a[11]
-- how many events / outputs to keep, a[12] the event's entry ("" for a silence check), a[13]...
-- output notes "back|entry": added when the claim `back` places before this one in the call was
-- granted (0: unconditionally); an entry "T|ts" stands for every tag change that claim ("tags")
-- replied. An entry whose id is already there, or older than every kept
-- one of a full list, is not added (a re-delivered event adds nothing). Reply 1.
-- Slot value: "until_ms|output_id|rank". Reply: one per claim: 1 (claimed) / 0 (in cooldown or
-- group full) for cooldowns and "cas", the strings above for "offer" and "resp"
-- (sinks/redis/claims.py `parse` reads them).
local function split(text, sep)
  local out, start = {}, 1
  while true do
    local at = string.find(text, sep, start, true)
    if not at then
      out[#out + 1] = string.sub(text, start)
      return out
    end
    out[#out + 1] = string.sub(text, start, at - 1)
    start = at + 1
  end
end

local function log_entries(key)
  local raw = redis.call("HGETALL", key)
  local list = {}
  for j = 1, #raw, 2 do
    local f = split(raw[j + 1], "|")
    list[#list + 1] = {
      id = raw[j], ts = tonumber(f[1]) or 0, offer = f[2] or "", product = f[3] or "",
      channel = f[4] or "", expires = tonumber(f[5]) or 0, strategy = f[6] or "",
      status = f[7] or "", status_ts = tonumber(f[8]) or 0, status_event = f[9] or "",
    }
  end
  return list
end

local function encode(e)
  return table.concat({
    string.format("%.0f", e.ts), e.offer, e.product, e.channel, string.format("%.0f", e.expires),
    e.strategy, e.status, string.format("%.0f", e.status_ts), e.status_event,
  }, "|")
end

local function near(a, b, span) return math.abs(a - b) < span end

-- Why the offer may not be made now ("" when it may), from the customer's offer log.
local function offer_block(list, offer_id, now, cooldown, decline_cooloff, fatigue)
  local negatives = {}
  for _, e in ipairs(list) do
    if e.offer == offer_id then
      if near(now, e.ts, cooldown) then return "cooldown" end
      if e.status == "declined" then
        if near(now, e.status_ts, decline_cooloff) then return "declined" end
        negatives[#negatives + 1] = e.status_ts
      elseif e.status == "" and e.expires < now then
        negatives[#negatives + 1] = e.expires  -- ignored: expired unanswered
      end
    end
  end
  table.sort(negatives)
  local n, within, pause = fatigue[1], fatigue[2], fatigue[3]
  for k = n, #negatives do
    if negatives[k] - negatives[k - n + 1] <= within and now >= negatives[k] and now - negatives[k] < pause then
      return "fatigue"
    end
  end
  return ""
end

local function count(list, now, period, channel)
  local c = 0
  for _, e in ipairs(list) do
    if near(now, e.ts, period) and (channel == "" or e.channel == channel) then c = c + 1 end
  end
  return c
end

-- The first preferred channel every cap allows, or nil and the reason.
local function pick_channel(list, now, channels, caps)
  for _, cap in ipairs(caps) do
    if cap.channel == "" and count(list, now, cap.period, "") >= cap.count then return nil, "cap" end
  end
  for _, channel in ipairs(channels) do
    local free = true
    for _, cap in ipairs(caps) do
      if cap.channel == channel and count(list, now, cap.period, channel) >= cap.count then free = false end
    end
    if free then return channel, "" end
  end
  return nil, "channel_cap"
end

local function claim_offer(key, a, granted_in_group)
  local offer_id, event_id, now = a[1], a[2], tonumber(a[3])
  local group, capacity, reemit_only = a[5], tonumber(a[6]), a[7] == "1"
  local full = group ~= "" and (granted_in_group[group] or 0) >= capacity
  local held = redis.call("HGET", key, event_id)
  if held and not full then
    granted_in_group[group] = (granted_in_group[group] or 0) + 1
    return "1|" .. (split(held, "|")[4] or "") .. "|again"
  end
  if reemit_only then return "0|duplicate" end
  if full then return "0|max_per_event" end
  local list = log_entries(key)
  local f = split(a[16], ":")
  local fatigue = {tonumber(f[1]), tonumber(f[2]), tonumber(f[3])}
  local why = offer_block(list, offer_id, now, tonumber(a[4]) - now, tonumber(a[15]), fatigue)
  if why ~= "" then return "0|" .. why end
  local caps = {}
  if a[14] ~= "" then
    for _, spec in ipairs(split(a[14], ";")) do
      local c = split(spec, ":")
      caps[#caps + 1] = {count = tonumber(c[1]), period = tonumber(c[2]), channel = c[3] or ""}
    end
  end
  local channel, reason = pick_channel(list, now, split(a[10], ","), caps)
  if not channel then return "0|" .. reason end
  local entry = {
    ts = now, offer = offer_id, product = a[13], channel = channel, expires = tonumber(a[11]),
    strategy = a[12], status = "", status_ts = 0, status_event = "",
  }
  redis.call("HSET", key, event_id, encode(entry))
  local keep = tonumber(a[17])
  for _, e in ipairs(list) do  -- forget what no rule looks back to any more
    if e.ts < now - keep and e.status_ts < now - keep then redis.call("HDEL", key, e.id) end
  end
  granted_in_group[group] = (granted_in_group[group] or 0) + 1
  return "1|" .. channel .. "|new"
end

local function record_response(key, a)
  local reference, response_event, now = a[1], a[2], tonumber(a[3])
  local status, product = a[10], a[11] or ""
  local list = log_entries(key)
  local found
  for _, e in ipairs(list) do
    if e.id == reference then found = e end
  end
  if not found then
    for _, e in ipairs(list) do
      if reference ~= "" and e.offer == reference and (not found or e.ts > found.ts) then found = e end
    end
  end
  if not found and product ~= "" then
    for _, e in ipairs(list) do
      if e.product == product and e.status == "" and (not found or e.ts > found.ts) then found = e end
    end
  end
  if not found then return "none" end
  if found.status ~= "" then
    return (found.status_event == response_event and "again" or "answered") .. "|" .. found.offer .. "|" .. found.strategy
  end
  found.status, found.status_ts, found.status_event = status, now, response_event
  redis.call("HSET", key, found.id, encode(found))
  return "new|" .. found.offer .. "|" .. found.strategy
end


local TAG_LOG = 8

local function tag_id(customer, tag, change, trigger, version)
  local text = "tag|" .. customer .. "|" .. tag .. "|" .. change .. "|" .. trigger .. "|" .. version
  return string.sub(redis.sha1hex(text), 1, 32)
end

-- "+a,-b" -> "+a:id,-b:id"
local function with_ids(changes, customer, trigger, version)
  local out = {}
  for _, c in ipairs(split(changes, ",")) do
    local change = string.sub(c, 1, 1) == "+" and "gained" or "lost"
    out[#out + 1] = c .. ":" .. tag_id(customer, string.sub(c, 2), change, trigger, version)
  end
  return table.concat(out, ",")
end

local function listed(text)
  local set = {}
  if text ~= "" then
    for _, name in ipairs(split(text, ",")) do set[name] = true end
  end
  return set
end

local function claim_tags(key, a)
  local field, trigger, now, reemit_only = a[1], a[2], a[3], a[7] == "1"
  local holding, customer, version = a[10] or "", a[12] or "", a[13] or ""
  local raw = redis.call("HGET", key, field) or ""
  local bar = string.find(raw, "|", 1, true)
  local set_text = bar and string.sub(raw, 1, bar - 1) or raw
  local log_text = bar and string.sub(raw, bar + 1) or ""
  local records = log_text == "" and {} or split(log_text, ";")
  for _, r in ipairs(records) do
    local eq = string.find(r, "=", 1, true)
    if eq and string.sub(r, 1, eq - 1) == trigger then
      return "again|" .. with_ids(string.sub(r, eq + 1), customer, trigger, version)
    end
  end
  if reemit_only then return "" end
  local names, since = {}, {}
  if set_text ~= "" then
    for _, e in ipairs(split(set_text, ",")) do
      local colon = string.find(e, ":", 1, true)
      local name = string.sub(e, 1, colon - 1)
      names[#names + 1] = name
      since[name] = string.sub(e, colon + 1)
    end
  end
  if table.concat(names, ",") == holding then return "" end  -- the usual case: nothing changed
  local now_holding, unjudged = listed(holding), listed(a[11] or "")
  local changes, kept = {}, {}
  for _, name in ipairs(names) do
    if now_holding[name] or unjudged[name] then
      kept[#kept + 1] = name
    else
      changes[#changes + 1] = "-" .. name
    end
  end
  if holding ~= "" then
    for _, name in ipairs(split(holding, ",")) do
      if not since[name] then
        changes[#changes + 1] = "+" .. name
        since[name] = now
        kept[#kept + 1] = name
      end
    end
  end
  if #changes == 0 then return "" end
  table.sort(kept)
  local set = {}
  for _, name in ipairs(kept) do set[#set + 1] = name .. ":" .. since[name] end
  records[#records + 1] = trigger .. "=" .. table.concat(changes, ",")
  while #records > TAG_LOG do table.remove(records, 1) end
  redis.call("HSET", key, field, table.concat(set, ",") .. "|" .. table.concat(records, ";"))
  return "new|" .. with_ids(table.concat(changes, ","), customer, trigger, version)
end

local function granted_reply(r)
  return r == 1 or (type(r) == "string" and string.sub(r, 1, 2) == "1|")
end

local function entry_id(e) return string.match(e, "^[^|]*|[^|]*|([^|]*)") end  -- its 3rd field
local function entry_ts(e) return tonumber(string.match(e, "^(%-?%d+)")) or 0 end

-- Insert `entry` ("ts|kind|id|summary") into `list` (newest first) unless its id is there or it
-- would fall off a full list; true when added.
local function add_entry(list, entry, cap)
  local id = entry_id(entry)
  local ts = entry_ts(entry)
  for _, e in ipairs(list) do
    if entry_id(e) == id then return false end
  end
  local at = #list + 1
  for j, e in ipairs(list) do
    if entry_ts(e) <= ts then
      at = j
      break
    end
  end
  if at > cap then return false end
  table.insert(list, at, entry)
  while #list > cap do table.remove(list) end
  return true
end

local function entries(text)
  if text == "" then return {} end
  return split(text, "\n")
end

-- `add_entry` on the list stored as `text` (its entries one a line), without splitting it in the
-- usual case: an entry newer than the list's first whose id is nowhere in it goes first, the list
-- cut to `cap`. Returns the new text and true when added, the text and false when not.
local function add_to_text(text, entry, cap)
  local id = entry_id(entry)
  local fast = cap >= 1 and id ~= nil and id ~= "" and not string.find(text, "|" .. id, 1, true)
    and (text == "" or entry_ts(text) <= entry_ts(entry))
  if not fast then
    local list = entries(text)
    local added = add_entry(list, entry, cap)
    return table.concat(list, "\n"), added
  end
  if text == "" then return entry, true end
  local out, at = entry .. "\n" .. text, 0
  for _ = 1, cap do
    at = string.find(out, "\n", at + 1, true)
    if not at then return out, true end
  end
  return string.sub(out, 1, at - 1), true
end

local function write_timeline(key, a, i, replies)
  local cap_events, cap_outputs = tonumber(a[10]), tonumber(a[11])
  local raw = redis.call("GET", key) or ""
  local brk = string.find(raw, "\n\n", 1, true)
  local events = brk and string.sub(raw, 1, brk - 1) or raw
  local outputs_text = brk and string.sub(raw, brk + 2) or ""
  local outputs  -- the outputs' list, split only when an output may be added
  local changed = false
  if (a[12] or "") ~= "" then events, changed = add_to_text(events, a[12], cap_events) end
  for n = 13, #a do
    local note = a[n]
    local bar = note and string.find(note, "|", 1, true)
    if bar then
      local back, entry = tonumber(string.sub(note, 1, bar - 1)), string.sub(note, bar + 1)
      local reply = 1
      if back > 0 then reply = replies[i - back] end  -- nil (no such claim in this call): not granted
      if string.sub(entry, 1, 2) == "T|" then
        if type(reply) == "string" and reply ~= "" then
          outputs = outputs or entries(outputs_text)
          local ts = string.sub(entry, 3)
          for _, c in ipairs(split(string.sub(reply, string.find(reply, "|", 1, true) + 1), ",")) do
            local colon = string.find(c, ":", 1, true)
            local word = string.sub(c, 1, 1) == "+" and "gained" or "lost"
            local line = ts .. "|signal|" .. string.sub(c, colon + 1) .. "|tag " .. word .. " "
              .. string.sub(c, 2, colon - 1)
            if add_entry(outputs, line, cap_outputs) then changed = true end
          end
        end
      elseif granted_reply(reply) then
        outputs = outputs or entries(outputs_text)
        if add_entry(outputs, entry, cap_outputs) then changed = true end
      end
    end
  end
  if changed then
    redis.call("SET", key, events .. "\n\n" .. (outputs and table.concat(outputs, "\n") or outputs_text))
  end
  return 1
end

local replies = {}
local granted_in_group = {}
for i = 1, #KEYS do
  local a = {}
  for piece in string.gmatch(ARGV[i], "([^\t]*)\t?") do a[#a + 1] = piece end
  if a[5] ~= "" then  -- a group is the customer's (their keys' hash tag): never shared with another
    a[5] = (string.match(KEYS[i], "{(.-)}") or KEYS[i]) .. "\t" .. a[5]
  end
  local field, output_id = a[1], a[2]
  local now, until_ms = tonumber(a[3]), a[4]
  local group, capacity = a[5], tonumber(a[6])
  local reemit_only = a[7] == "1"
  local rank = tonumber(a[8])
  local granted = 1
  if a[9] == "offer" then
    replies[i] = claim_offer(KEYS[i], a, granted_in_group)
  elseif a[9] == "resp" then
    replies[i] = record_response(KEYS[i], a)
  elseif a[9] == "tags" then
    replies[i] = claim_tags(KEYS[i], a)
  elseif a[9] == "tl" then
    replies[i] = write_timeline(KEYS[i], a, i, replies)
  elseif a[9] == "cas" then
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
