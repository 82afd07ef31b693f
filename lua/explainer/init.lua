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
  -- workers, limits and resume (docs/runs.md)
  jobs = "number",
  timeout = "number",
  retries = "number",
  retry_delay = "number",
  rate = "string",
  shard = "string",
  dry_run = "boolean",
  inputs = "function",
  -- the file's parse warnings (explainer.diagnostics)
  strict = "boolean",
  verbose = "boolean",
}
M.OPTION_TYPES = OPTION_TYPES

-- Options that also take a number ("rate = 2" is two starts a second).
local ALSO_NUMBER = { rate = true }

local function check_options(opts, level)
  for key, value in pairs(opts) do
    local want = OPTION_TYPES[key]
    if want == nil then
      error("orchestrate_workflow: unknown option '" .. tostring(key) .. "'", level + 1)
    end
    if type(value) ~= want and not (ALSO_NUMBER[key] and type(value) == "number") then
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

--- The error a setup or finish hook raised: `hook` names it, `message` says what
-- went wrong; tostring() gives "finish: <message>".
local HookError = {}
HookError.__index = HookError
HookError.__tostring = function(e) return e.hook .. ": " .. e.message end
M.HookError = HookError

local function call_hook(name, fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    local message = type(err) == "table" and err.message or tostring(err)
    error(setmetatable({ hook = name, message = tostring(message) }, HookError), 0)
  end
end

--- Run `process_scene(scene, output_dir)` over the scenes of a script.
-- Either `orchestrate_workflow(opts)` or `orchestrate_workflow(path, fn [, opts])`.
-- @tparam table opts explainer_path, process_scene, scene_numbers, skip_existing
--   (true), output_base_dir ("output"), output_filename ("final.png"),
--   continue_on_error (true), progress ("auto", "plain", "json", "quiet"),
--   setup(document, opts), finish(stats, document, opts) (an error raised in
--   either is re-raised as a HookError); jobs (1: in this process; N: N worker processes), timeout
--   (seconds), retries (0), retry_delay (1 s, doubled each retry, jittered),
--   rate ("60/min"), shard ("K/N"), dry_run (false), inputs(scene) (what a
--   scene's output depends on, as a string; default: the parsed scene);
--   verbose (show every parse warning, not the first 5), strict (any parse
--   warning refuses the run)
-- @treturn table|nil stats: total, completed, skipped, failed, locked,
--   elapsed_time, failures, results, scenes (state, reason, attempts, seconds,
--   error per scene), interrupted ("SIGINT"/"SIGTERM" when a signal stopped it)
-- @treturn string|nil message when the run could not start (unreadable file,
--   no scene header, duplicate scene numbers, warnings with `strict`)
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
  -- Without hooks no user code sees the document table, so its scene tables
  -- can be made as processors need them (a rerun that skips all makes none).
  local document = doc:table(not (opts.setup or opts.finish or opts.inputs))
  -- The file's warnings first; no scenes, or --strict with warnings, is no run.
  local usable, why = require("explainer.diagnostics").before_run(document, opts)
  if not usable then return nil, why end
  -- A dry run runs nothing of the workflow's but inputs(scene).
  if opts.setup and not opts.dry_run then call_hook("setup", opts.setup, document, opts) end
  local stats
  stats, err = core.run(doc, document, opts.process_scene, opts)
  if not stats then return nil, err end
  if opts.finish and not opts.dry_run then
    call_hook("finish", opts.finish, stats, document, opts)
  end
  return stats
end

--- Where each scene of a script stands, from the journal of its output folder.
-- @tparam string path the explainer script
-- @tparam[opt] table opts output_base_dir, output_filename, scene_numbers,
--   shard, inputs (as for orchestrate_workflow)
-- @treturn table|nil list of {scene_number, title, reason, attempts, seconds,
--   output_dir}; reason is "done", "changed", "missing", "incomplete", "failed",
--   "running", "exists" (done, no journal) or "not run"
-- @treturn string|nil message
function M.status(path, opts)
  if type(path) ~= "string" then
    error("bad argument #1 to 'status' (string expected, got " .. type(path) .. ")", 2)
  end
  opts = opts or {}
  local doc, err = core.open(path)
  if not doc then return nil, err end
  if #doc:table(true).scenes == 0 then
    return nil, require("explainer.diagnostics").no_scenes_message(path)
  end
  local query = {}
  for k, v in pairs(opts) do query[k] = v end
  if opts.inputs then query.document = doc:table() end
  return core.status(doc, query)
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
