--- explainer: batch-process the scenes of an explainer script.
-- The facade users `require "explainer"`: parsing, the workflow runner and
-- small helpers, on top of the C core (`explainer_core`).
-- @module explainer

local core = require "explainer_core"

local M = {
  _VERSION = core.version,
  core = core,
}

--- Parse an explainer script file.
-- @tparam string path
-- @treturn table|nil the document, or nil and a message naming the path
-- @treturn string|nil message
function M.parse(path)
  if type(path) ~= "string" then
    error("bad argument #1 to 'parse' (string expected, got " .. type(path) .. ")", 2)
  end
  return core.parse(path)
end

--- Parse explainer script text.
-- @tparam string text
-- @tparam[opt] string name the document's name (default "script")
-- @treturn table the document
function M.parse_string(text, name)
  if type(text) ~= "string" then
    error("bad argument #1 to 'parse_string' (string expected, got " .. type(text) .. ")", 2)
  end
  if name ~= nil and type(name) ~= "string" then
    error("bad argument #2 to 'parse_string' (string expected, got " .. type(name) .. ")", 2)
  end
  return core.parse_string(text, name)
end

--- The folder of one scene's outputs: `<base>/<name>/scene_NN`.
-- @tparam string base
-- @tparam string name the document's name
-- @tparam integer n the scene number
function M.scene_output_dir(base, name, n)
  return core.scene_output_dir(base, name, n)
end

--- Does `dir/filename` exist?
-- @tparam string dir
-- @tparam[opt="final.png"] string filename
function M.output_exists(dir, filename)
  return core.output_exists(dir, filename)
end

--- The narration of scene `n` of a file (inline, or from its NARRATION SCRIPT).
-- @treturn string|nil the narration; nil when the scene has none
-- @treturn string|nil a message when the file cannot be read
function M.get_narration_for_scene(path, n)
  local doc, err = M.parse(path)
  if not doc then return nil, err end
  for _, scene in ipairs(doc.scenes) do
    if scene.scene_number == n then return scene.narration end
  end
  return nil
end

-- Option names and the type each must have.
local OPTION_TYPES = {
  explainer_path = "string",
  process_scene = "function",
  scene_numbers = "table",
  skip_existing = "boolean",
  output_base_dir = "string",
  output_filename = "string",
  continue_on_error = "boolean",
  progress = "string",
  setup = "function",
  finish = "function",
}
M.OPTION_TYPES = OPTION_TYPES

local function check_options(opts, level)
  for key, value in pairs(opts) do
    local want = OPTION_TYPES[key]
    if want == nil then
      error("orchestrate_workflow: unknown option '" .. tostring(key) .. "'", level + 1)
    end
    if type(value) ~= want then
      error(("orchestrate_workflow: bad option '%s' (%s expected, got %s)")
        :format(key, want, type(value)), level + 1)
    end
  end
  if opts.explainer_path == nil then
    error("orchestrate_workflow: option 'explainer_path' (string) is required", level + 1)
  end
  if opts.process_scene == nil then
    error("orchestrate_workflow: option 'process_scene' (function) is required", level + 1)
  end
end

--- Run `process_scene(scene, output_dir)` over the scenes of a script.
-- Either `orchestrate_workflow(opts)` or `orchestrate_workflow(path, fn [, opts])`.
-- @tparam table opts explainer_path, process_scene, scene_numbers, skip_existing
--   (true), output_base_dir ("output"), output_filename ("final.png"),
--   continue_on_error (true), progress ("auto"), setup, finish
-- @treturn table|nil stats: total, completed, skipped, failed, elapsed_time,
--   failures, results, scenes
-- @treturn string|nil message when the run could not start (unreadable file,
--   duplicate scene numbers)
function M.orchestrate_workflow(opts, fn, more)
  if type(opts) == "string" then
    local merged = {}
    for k, v in pairs(more or {}) do merged[k] = v end
    merged.explainer_path, merged.process_scene = opts, fn
    opts = merged
  elseif type(opts) ~= "table" then
    error("bad argument #1 to 'orchestrate_workflow' (table or string expected, got "
      .. type(opts) .. ")", 2)
  end
  check_options(opts, 2)
  local doc, err = core.open(opts.explainer_path)
  if not doc then return nil, err end
  local document = doc:table()
  if opts.setup then opts.setup(document) end
  local stats
  stats, err = core.run(doc, document, opts.process_scene, opts)
  if not stats then return nil, err end
  if opts.finish then opts.finish(stats, document) end
  return stats
end

-- Process spawning and HTTP (from lexec.c), when the core has them.
M.exec = core.exec
if core.http_request then
  if package.searchpath("explainer.http", package.path) then
    M.http = require "explainer.http"
  else
    M.http = { request = core.http_request }
  end
end

return M
