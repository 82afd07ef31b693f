--- JSON output of the command line (narration, status), with null for absent
-- values and [] for empty lists. `parse --json` is written in C (json_out.c).
-- @module explainer.json

local cjson = require "cjson"

local M = {}
M.null = cjson.null
-- lua-cjson 2.1.0 encodes every empty table as {}; lists marked with this
-- placeholder become [] after encoding. Its control characters are escaped
-- by the encoder, so no value of a script can look like it.
local EMPTY_LIST = "\1explainer:empty-list\1"
local EMPTY_LIST_JSON = cjson.encode(EMPTY_LIST)

--- Mark a list so that it encodes as [] when empty.
function M.list(t)
  if #t == 0 then return EMPTY_LIST end
  return t
end

--- cjson.encode, with the lists marked by M.list written as [] and "/" as
-- itself (lua-cjson 2.1.0 writes "\/", which the C writer of the run's JSON
-- does not). Every "/" is escaped by cjson, so each "\/" is one escape.
function M.encode(value)
  local text = cjson.encode(value)
  if text:find(EMPTY_LIST_JSON, 1, true) then
    text = text:gsub(EMPTY_LIST_JSON:gsub("%p", "%%%0"), "[]")
  end
  return (text:gsub("\\/", "/"))
end
M.EMPTY_LIST = EMPTY_LIST

return M
