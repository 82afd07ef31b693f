--- Keys: what an output depends on, as one hash and its named parts.
--
-- A key is made from a table of named values, `key.of("audio/1", {narration =
-- text, voice = "alloy", backend = "openai"})`. Values may be strings,
-- numbers, booleans, lists, tables of them, or other keys (a clip's key holds
-- the keys of its image and its narration, so that an edited narration
-- changes the clip's key too). The key's `id` (32 hex digits, XXH3-128) names
-- the output in the cache; its `lines` ("name:hash" a part, sorted) are what a
-- journal records, so that a rerun can say what changed ("narration",
-- "voice"). No secret (an API key) ever belongs in a key: it does not change
-- what is made, and keys are written to disk.
--
-- Each file a recipe makes has its key beside it, in `.NAME.key`: the key's
-- id and parts, the hash of the file's bytes when it was made, the hash of
-- the bytes it replaced, and what was learnt of the file when it was made (its
-- facts: a track's length, a clip's frames; see explainer.artifact).
-- @module explainer.key

local core = require "explainer_core"

local M = {}

local Key = {}
Key.__index = Key
Key.__tostring = function(k) return k.id end
M.Key = Key

--- Is `value` a key?
function M.is_key(value)
  return getmetatable(value) == Key
end

-- A value's bytes for hashing, with its type, so that 1 and "1" differ.
local function encode(value)
  local t = type(value)
  if t == "string" then return "s" .. value end
  if t == "number" then
    if math.type(value) == "integer" or value == math.floor(value) and math.abs(value) < 2^53 then
      return ("n%d"):format(math.floor(value))
    end
    return ("n%.17g"):format(value)
  end
  if t == "boolean" then return value and "T" or "F" end
  if t == "nil" then return "-" end
  error(("a key's value must be a string, number, boolean or table (got %s)"):format(t), 3)
end

local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

local function safe_name(name)
  return (tostring(name):gsub("[^%w_%.%-/]", "_"))
end

-- Flatten `value` under `name` into parts[name] = 16 hex digits.
local function flatten(parts, name, value, depth)
  if depth > 20 then error("a key's values are nested too deeply", 4) end
  if M.is_key(value) then
    for part, hash in pairs(value.parts) do parts[name .. "/" .. part] = hash end
  elseif type(value) == "table" and not is_list(value) then
    for k, v in pairs(value) do flatten(parts, name .. "/" .. safe_name(k), v, depth + 1) end
  elseif type(value) == "table" then
    local items = {}
    for i, v in ipairs(value) do
      if type(v) == "table" then
        local sub = {}
        flatten(sub, "", v, depth + 1)
        local lines = {}
        for part, hash in pairs(sub) do lines[#lines + 1] = part .. ":" .. hash end
        table.sort(lines)
        items[i] = "t" .. table.concat(lines, "\n")
      else
        items[i] = encode(v)
      end
    end
    parts[name] = core.hash("L" .. #items .. "\0" .. table.concat(items, "\0")):sub(1, 16)
  else
    parts[name] = core.hash(encode(value)):sub(1, 16)
  end
end

local function make(recipe, parts)
  local names = {}
  for name in pairs(parts) do names[#names + 1] = name end
  table.sort(names)
  local lines = {}
  for i, name in ipairs(names) do lines[i] = name .. ":" .. parts[name] .. "\n" end
  local text = table.concat(lines)
  return setmetatable({ id = core.hash(text), recipe = recipe, parts = parts, lines = text }, Key)
end

--- Make a key.
-- @tparam string recipe what makes the output, with a version ("audio/1"); a
--   new version of a recipe (one that makes other bytes) changes every key
-- @tparam table values name -> value (string, number, boolean, list, table, key)
-- @treturn table the key: `id`, `recipe`, `parts` (name -> hash), `lines`
function M.of(recipe, values)
  if type(recipe) ~= "string" then
    error("bad argument #1 to 'of' (string expected, got " .. type(recipe) .. ")", 2)
  end
  if type(values) ~= "table" then
    error("bad argument #2 to 'of' (table expected, got " .. type(values) .. ")", 2)
  end
  local parts = {}
  for name, value in pairs(values) do flatten(parts, safe_name(name), value, 0) end
  parts.recipe = core.hash(encode(recipe)):sub(1, 16)
  return make(recipe, parts)
end

--- The canonical lines of what a scene depends on, for the journal: from a
-- key, a table of values, a string, or nil (the scene's own content).
-- @return string|nil
function M.lines_of(value)
  if value == nil or type(value) == "string" then return value end
  if type(value) == "number" then return tostring(value) end
  if M.is_key(value) then return value.lines end
  if type(value) == "table" then return M.of("inputs", value).lines end
  error(("inputs(scene) must return a string, a table or a key (got %s)"):format(type(value)), 2)
end

--- The sidecar of an output: `dir/.NAME.key`.
function M.sidecar(path)
  local dir, base = path:match("^(.*)/([^/]*)$")
  if not dir then dir, base = ".", path end
  return dir .. "/." .. base .. ".key"
end

local HEADER = "explainer-key 1"

--- Read an output's sidecar.
-- @treturn table|nil `{id=, recipe=, content=, previous=, facts=, parts=}`; nil when
--   there is none
-- @treturn string|nil a message when there is one but it cannot be read (a
--   corrupt sidecar is never trusted)
function M.read(path)
  local f = io.open(M.sidecar(path), "rb")
  if not f then return nil end
  local text = f:read(65536) or ""
  f:close()
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  if lines[1] ~= HEADER then return nil, M.sidecar(path) .. ": not a key file" end
  local rec = { parts = {} }
  for i = 2, #lines do
    local field, value = lines[i]:match("^(%a+) (.*)$")
    if field == "part" then
      local name, hash = value:match("^(%S+) (%x+)$")
      if not name then return nil, M.sidecar(path) .. ": bad line " .. i end
      rec.parts[name] = hash
    elseif field then
      rec[field] = value
    end
  end
  if not (rec.id and rec.id:match("^%x+$") and rec.content and rec.content:match("^%x+$")) then
    return nil, M.sidecar(path) .. ": incomplete key file"
  end
  return rec
end

--- The text of a sidecar for `k`, made when the output's bytes hashed to
-- `content` (and replaced bytes that hashed to `previous`), with what was
-- learnt of those bytes when they were made (`facts`: one line of text,
-- read back as the record's `facts`).
function M.format(k, content, previous, facts)
  local out = { HEADER, "id " .. k.id, "recipe " .. k.recipe, "content " .. content }
  if previous then out[#out + 1] = "previous " .. previous end
  if facts then out[#out + 1] = "facts " .. facts:gsub("[\r\n]", " ") end
  local names = {}
  for name in pairs(k.parts) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do out[#out + 1] = "part " .. name .. " " .. k.parts[name] end
  return table.concat(out, "\n") .. "\n"
end

--- What differs between two sets of parts, as names for people.
-- @treturn {string,...}
function M.changed(old_parts, new_parts)
  local names = {}
  for name, hash in pairs(new_parts) do
    if old_parts[name] ~= hash then names[#names + 1] = name end
  end
  for name in pairs(old_parts) do
    if new_parts[name] == nil then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

return M
