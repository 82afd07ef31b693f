--- JSON output of documents, with null for absent values and [] for empty lists.
-- @module explainer.json

local cjson = require "cjson"

local M = {}
M.null = cjson.null
local null = cjson.null
-- lua-cjson 2.1.0 encodes every empty table as {}; lists marked with this
-- placeholder become [] after encoding. Its control characters are escaped
-- by the encoder, so no value of a script can look like it.
local EMPTY_LIST = "\1explainer:empty-list\1"
local EMPTY_LIST_JSON = cjson.encode(EMPTY_LIST)

function M.list(t)
  if #t == 0 then return EMPTY_LIST end
  return t
end

local SCENE_KEYS = { "scene_number", "title", "duration", "line", "no_narration",
  "narration", "layout", "initial_prompt", "iterations", "final_prompt",
  "animation_prompt", "prompt", "fields" }
local DOC_KEYS = { "name", "path", "title", "declared_scenes", "style", "format",
  "audience", "total_duration", "scenes", "warnings" }

local function json_scene(scene)
  local t = {}
  for _, k in ipairs(SCENE_KEYS) do
    local v = scene[k]
    if v == nil then v = null end
    t[k] = v
  end
  t.iterations = M.list(scene.iterations)
  return t
end

--- The document as JSON text, with null for absent values.
function M.document(doc)
  local t = {}
  for _, k in ipairs(DOC_KEYS) do
    local v = doc[k]
    if v == nil then v = null end
    t[k] = v
  end
  local scenes = {}
  for i, scene in ipairs(doc.scenes) do scenes[i] = json_scene(scene) end
  t.scenes = M.list(scenes)
  t.warnings = M.list(doc.warnings)
  return M.encode(t)
end

function M.encode(value)
  local text = cjson.encode(value)
  if text:find(EMPTY_LIST_JSON, 1, true) then
    text = text:gsub(EMPTY_LIST_JSON:gsub("%p", "%%%0"), "[]")
  end
  return text
end
M.EMPTY_LIST = EMPTY_LIST


return M
