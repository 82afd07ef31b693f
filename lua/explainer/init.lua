--- explainer: batch-process the scenes of an explainer script.
-- The facade users `require "explainer"`: parsing, the workflow runner and
-- small helpers, on top of the C core (`explainer_core`).
-- @module explainer

local core = require "explainer_core"
local key = require "explainer.key"
local log = require "explainer.log"
local settings = require "explainer.settings"

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
  inputs = "function",
  -- workers, limits and resume
  jobs = "number",
  timeout = "number",
  retries = "number",
  retry_delay = "number",
  rate = "string",
  shard = "string",
  dry_run = "boolean",
  json = "boolean",
  -- reruns: the journal's name, the cache, power-cut safety
  workflow = "string",
  cache = "boolean",
  cache_dir = "string",
  durable = "boolean",
  -- the file's parse warnings (explainer.diagnostics)
  strict = "boolean",
  verbose = "boolean",
}
M.OPTION_TYPES = OPTION_TYPES

-- Options that also take a number ("rate = 2" is two starts a second).
local ALSO_NUMBER = { rate = true }

local function check_options(opts, level)
  for name, value in pairs(opts) do
    local want = OPTION_TYPES[name]
    if want == nil then
      error("orchestrate_workflow: unknown option '" .. tostring(name) .. "'", level + 1)
    end
    if type(value) ~= want and not (ALSO_NUMBER[name] and type(value) == "number") then
      error(("orchestrate_workflow: bad option '%s' (%s expected, got %s)")
        :format(name, want, type(value)), level + 1)
    end
  end
  if opts.explainer_path == nil then
    error("orchestrate_workflow: option 'explainer_path' (string) is required", level + 1)
  end
  if opts.process_scene == nil then
    error("orchestrate_workflow: option 'process_scene' (function) is required", level + 1)
  end
end

-- The longest any wait of a run may be: a week. (The core waits with poll(),
-- whose milliseconds are an int: 24 days.)
local WEEK = 7 * 24 * 3600

--- The bounds of the numeric options, as `{least, most, whole}` (`whole`: an
-- integer): what the core's fields hold and its waits can count. `jobs` is at
-- most 1024 worker processes (each holds three pipes), `retries` at most 1000,
-- `timeout` and `retry_delay` at most a week (604800 s); a `rate` is at least
-- one start a week, a `shard` K/N has N at most 2147483647.
M.OPTION_BOUNDS = {
  jobs = { 1, 1024, true },
  retries = { 0, 1000, true },
  timeout = { 0, WEEK },
  retry_delay = { 0, WEEK },
  rate = { 1 / WEEK, math.huge },
  shard = { 1, 2147483647, true },
}
local BOUNDS = M.OPTION_BOUNDS

local RATE_UNITS = { s = 1, sec = 1, second = 1, m = 60, min = 60, minute = 60,
                     h = 3600, hour = 3600 }

--- Scene starts a second from "60/min", "2/s", "100/hour" or a number: at
-- least one a week, and finite.
-- @treturn number|nil
-- @treturn string|nil message
function M.parse_rate(spec)
  local rate
  if type(spec) == "number" then
    rate = spec
  else
    local n, unit = tostring(spec):match("^%s*([%d.]+)%s*/%s*(%a+)%s*$")
    n = tonumber(n or spec)
    local period = unit and RATE_UNITS[unit:lower()] or (unit == nil and 1)
    if not n or n <= 0 or n == math.huge or not period then
      return nil, "rate: expected a rate like 60/min, 2/s or 100/hour, got '" .. tostring(spec) .. "'"
    end
    rate = n / period
  end
  if not (rate >= BOUNDS.rate[1] and rate < BOUNDS.rate[2]) then
    return nil, "rate: expected a finite rate of at least one start a week, got '" .. tostring(spec) .. "'"
  end
  return rate
end

--- "K/N" with 1 <= K <= N <= 2147483647 -> K, N.
-- @treturn integer|nil K
-- @treturn integer|string N, or a message
function M.parse_shard(spec)
  local ks, ns = tostring(spec):match("^%s*(%d+)%s*/%s*(%d+)%s*$")
  local k, n = math.tointeger(tonumber(ks)), math.tointeger(tonumber(ns))
  if ns and not (n and n <= BOUNDS.shard[2]) then
    return nil, ("shard: N is at most %d, got '%s'"):format(BOUNDS.shard[2], tostring(spec))
  elseif not (k and n and k >= 1 and k <= n) then
    return nil, "shard: expected K/N with 1 <= K <= N (e.g. 1/4), got '" .. tostring(spec) .. "'"
  end
  return k, n
end

-- nil, or why the number `value` is out of the option's bounds.
local function out_of_bounds(name, value)
  local b = BOUNDS[name]
  if not (value >= b[1] and value <= b[2]) or (b[3] and math.tointeger(value) == nil) then
    return ("%s: expected %s of at least %s and at most %s, got %s"):format(name,
      b[3] and "a whole number" or "a number", b[1], b[2], tostring(value))
  end
end

--- What each scene of the document depends on, from a workflow's
-- `inputs(scene, document, output_dir)`: a list of canonical lines
-- (explainer.key), one a scene in file order, and a list of the key ids the
-- output files should record (false where inputs gave no key); nil without
-- the hook.
local function scene_inputs(inputs, document, base)
  if not inputs then return nil end
  local list, ids = {}, {}
  for i = 1, #document.scenes do
    local scene = document.scenes[i]
    local dir = core.scene_output_dir(base, document.name, scene.scene_number)
    local ok, value = pcall(inputs, scene, document, dir)
    if not ok and getmetatable(value) == settings.Error then error(value, 0) end -- said as it is
    if not ok then
      error(("inputs(scene) failed for scene %s: %s"):format(tostring(scene.scene_number),
        tostring(value)), 0)
    end
    local lines_ok, lines = pcall(key.lines_of, value)
    if not lines_ok then
      error(("inputs(scene) for scene %s: %s"):format(tostring(scene.scene_number), lines), 0)
    end
    list[i] = lines or false
    -- A key is also what the output file records beside it: an output another
    -- workflow made, with no record in this one's journal, is judged by it.
    ids[i] = key.is_key(value) and value.id or false
  end
  return list, ids
end

-- The options as the core takes them: rate and shard converted, the inputs
-- computed. Returns nil, message for a value that cannot be converted.
local function core_options(opts, document)
  local c = {}
  for k, v in pairs(opts) do c[k] = v end
  c.inputs, c.shard, c.setup, c.finish, c.process_scene, c.explainer_path = nil, nil, nil, nil, nil, nil
  if opts.rate ~= nil then
    local rate, err = M.parse_rate(opts.rate)
    if not rate then return nil, err end
    c.rate = rate
  end
  if opts.shard ~= nil then
    local k, n = M.parse_shard(opts.shard)
    if not k then return nil, n end
    c.shard_index, c.shard_count = k, n
  end
  for _, name in ipairs { "jobs", "retries", "timeout", "retry_delay" } do
    if c[name] ~= nil then
      local why = out_of_bounds(name, c[name])
      if why then return nil, why end
      if BOUNDS[name][3] then c[name] = math.tointeger(c[name]) end
    end
  end
  c.inputs, c.output_keys = scene_inputs(opts.inputs, document, opts.output_base_dir or "output")
  return c
end

-- What the recipes and hooks of this run read: how to print, where the
-- cache is, whether outputs are forced or synced.
local function configure_run(opts)
  settings.progress = opts.progress or "auto"
  settings.file = opts.explainer_path
  settings.cache = opts.cache ~= false
  settings.cache_dir = opts.cache_dir
  settings.force = opts.skip_existing == false
  settings.durable = opts.durable == true
end

--- The error a setup or finish hook raised: `hook` names it, `message` says what
-- went wrong; tostring() gives "finish: <message>".
local HookError = {}
HookError.__index = HookError
HookError.__tostring = function(e) return e.hook .. ": " .. e.message end
M.HookError = HookError

local function call_hook(name, fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok and getmetatable(err) == settings.Error then error(err, 0) end -- a usage error
  if not ok then
    local message = type(err) == "table" and err.message or tostring(err)
    error(setmetatable({ hook = name, message = tostring(message) }, HookError), 0)
  end
end

-- finish, by one run of a workflow on a folder at a time: two runs ending
-- together would both join the film, the last rename winning (perhaps a
-- film of the other's fewer clips). The second waits, then finds the first's
-- work done (its film fresh).
local function call_finish(opts, stats, document)
  local dir = ("%s/.explainer/%s"):format(stats.output_dir, stats.workflow or "default")
  local lock, err = core.mkdir_p(dir)
  if lock then lock, err = core.lock(dir .. "/finish.lock") end
  if not lock then error(setmetatable({ hook = "finish", message = tostring(err) }, HookError), 0) end
  local ok, hook_err = pcall(call_hook, "finish", opts.finish, stats, document, opts)
  lock:unlock()
  if not ok then error(hook_err, 0) end
end

--- Run `process_scene(scene, output_dir)` over the scenes of a script.
-- Either `orchestrate_workflow(opts)` or `orchestrate_workflow(path, fn [, opts])`.
-- @tparam table opts explainer_path, process_scene, scene_numbers, skip_existing
--   (true), output_base_dir ("output"), output_filename ("final.png"),
--   continue_on_error (true), progress ("auto", "plain", "json", "quiet"),
--   setup(document, opts), finish(stats, document, opts) (an error raised in
--   either is re-raised as a HookError); inputs(scene, document, output_dir)
--   (what a scene's output depends on: a key, a table of values or a string;
--   default: the parsed scene); jobs (1: in this process; N: N worker processes),
--   timeout (seconds), retries (0), retry_delay (1 s, doubled each retry,
--   jittered), rate ("60/min"), shard ("K/N"), dry_run (false), json (the dry
--   run's plan as JSON), workflow (names the journal: "default"), cache
--   (true), cache_dir, durable (false); verbose (show every parse
--   warning, not the first 5), strict (any parse warning refuses the run)
-- @treturn table|nil stats: total, completed, skipped, failed, locked,
--   elapsed_time, failures, results, scenes (state, standing, reason,
--   attempts, seconds, error, output_dir per scene), output_dir (the
--   document's folder), output_base_dir, workflow, interrupted
--   ("SIGINT"/"SIGTERM" when a signal stopped it), fatal (why the run had to
--   stop: the journal could not be written)
-- @treturn string|nil message when the run could not start (unreadable file,
--   no scene header, duplicate scene numbers, warnings with `strict`, a bad
--   option value)
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
  configure_run(opts)
  -- Without hooks no user code sees the document table, so its scene tables
  -- can be made as processors need them (a rerun that skips all makes none).
  local document = doc:table(not (opts.setup or opts.finish or opts.inputs))
  -- The file's warnings first; no scenes, or --strict with warnings, is no run.
  local usable, why = require("explainer.diagnostics").before_run(document, opts)
  if not usable then return nil, why end
  -- A dry run runs nothing of the workflow's but inputs(scene).
  if opts.setup and not opts.dry_run then call_hook("setup", opts.setup, document, opts) end
  local copts, cerr = core_options(opts, document)
  if not copts then return nil, cerr end
  -- finish joins what every run made: the scenes another run had are waited for.
  copts.wait_for_others = opts.finish ~= nil and not opts.dry_run
  -- The storyboard page (explainer.board), kept up to date as scenes settle.
  local board = require("explainer.board_live").start(doc, document, opts, copts)
  if board then copts.on_scene, copts.on_scene_numbers = board.on_scene, board.numbers end
  local stats
  stats, err = core.run(doc, document, opts.process_scene, copts)
  if not stats then return nil, err end
  if not opts.dry_run and not stats.fatal then
    local dirs = {}
    for i, s in ipairs(stats.scenes) do dirs[i] = s.output_dir end
    require("explainer.sweep").after_run(stats.output_dir, dirs, stats.workflow)
  end
  -- An interrupted run stops: finish (the film's join) would replace a whole
  -- film with one of the clips made so far; --finish-only does it when asked.
  local finished, finish_err = true, nil
  if opts.finish and not opts.dry_run and not stats.fatal then
    if stats.interrupted then
      log.warn(("%s: interrupted (%s): finish was not run; `--finish-only` runs it on what is done")
        :format(opts.explainer_path, stats.interrupted))
    else
      if board then board:finishing() end
      finished, finish_err = pcall(call_finish, opts, stats, document)
    end
  end
  if board then board:close(stats, not finished and finish_err) end
  if not finished then error(finish_err, 0) end
  return stats
end

--- Where each scene of a script stands, from its workflow's journal.
-- @tparam string path the explainer script
-- @tparam[opt] table opts output_base_dir, output_filename, workflow,
--   scene_numbers, shard, inputs (as for orchestrate_workflow)
-- @treturn table|nil list of {scene_number, title, standing, reason,
--   attempts, seconds, output_dir}; standing is "new", "fresh", "exists",
--   "missing", "changed", "incomplete" or "failed"; reason says it for
--   people ("changed: narration", "missing clip.mp4", "running")
-- @treturn string|nil message
function M.status(path, opts)
  if type(path) ~= "string" then
    error("bad argument #1 to 'status' (string expected, got " .. type(path) .. ")", 2)
  end
  opts = opts or {}
  local doc, err = core.open(path)
  if not doc then return nil, err end
  local document = doc:table(not opts.inputs)
  if #document.scenes == 0 then
    return nil, require("explainer.diagnostics").no_scenes_message(path)
  end
  local copts, cerr = core_options(opts, document)
  if not copts then return nil, cerr end
  return core.status(doc, copts)
end

--- Is `path` fresh for `deps` (made by explainer.make with the same values and
-- file identities)? For a processor's "skip it" in one line.
-- @tparam string path
-- @tparam table deps name -> value; `files` = {paths} stands for those files
-- @tparam[opt] string recipe names what makes it, with a version ("summary/1")
-- @treturn boolean
function M.fresh(path, deps, recipe)
  local artifact = require "explainer.artifact"
  return artifact.standing(path, artifact.key_for(recipe, deps)) == "fresh"
end

--- Make `path` with `build(tmp)` unless it is fresh for `deps`; record what
-- made it. A file made by hand is kept.
-- @tparam string path
-- @tparam table deps name -> value; `files` = {paths} stands for those files
-- @tparam function build writes the output at the temporary path it is given;
--   returns true, or nil and a message
-- @tparam[opt] table opts `recipe` ("user"), `cache` (default false: a user's
--   output is cached only when asked), `kind` (media kind to check)
-- @treturn string|nil path
-- @treturn string "fresh", "kept", "cached" or "made"; or the message
function M.make(path, deps, build, opts)
  opts = opts or {}
  local artifact = require "explainer.artifact"
  local k = artifact.key_for(opts.recipe, deps)
  return artifact.make(path, k, build, { cache = opts.cache == true, kind = opts.kind })
end

M.key = key.of
M.say = log.say
M.progress = log.progress
M.warn = log.warn

--- Run only a workflow's `finish` hook, on the outputs already made: no scene
-- runs (nor `setup`). The stats are what `status` reads from the journal, so
-- after N sharded runs (`--shard K/N`) over one output folder, finish sees all
-- of their scenes. A done scene counts as completed, a failed one as failed
-- (with `failures`), one running elsewhere as locked; others (not run,
-- changed, incomplete, missing) only count in `total`.
-- @tparam table opts explainer_path (required), finish (without it, only the
--   stats are made); output_base_dir,
--   output_filename, scene_numbers, inputs as for orchestrate_workflow; the
--   other workflow options are accepted and passed on to finish
-- @treturn table|nil stats as orchestrate_workflow's, with finish_only = true
--   (results is empty and elapsed_time 0: no scene ran here)
-- @treturn string|nil message when the file or the journal cannot be read
function M.finish_only(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'finish_only' (table expected, got " .. type(opts) .. ")", 2)
  end
  if type(opts.explainer_path) ~= "string" then
    error("finish_only: option 'explainer_path' (string) is required", 2)
  end
  if opts.finish ~= nil and type(opts.finish) ~= "function" then
    error("finish_only: bad option 'finish' (function expected, got " .. type(opts.finish) .. ")", 2)
  end
  local document, err = M.parse(opts.explainer_path)
  if not document then return nil, err end
  local query = {}
  for _, name in ipairs { "output_base_dir", "output_filename", "workflow", "scene_numbers",
                          "shard", "inputs" } do
    query[name] = opts[name]
  end
  local scenes, status_err = M.status(opts.explainer_path, query)
  if not scenes then return nil, status_err end
  local base = opts.output_base_dir or "output"
  local stats = { total = #scenes, completed = 0, skipped = 0, failed = 0, locked = 0,
    elapsed_time = 0, failures = {}, results = {}, scenes = scenes, finish_only = true,
    output_base_dir = base, output_dir = base .. "/" .. document.name,
    workflow = opts.workflow or "default" }
  for _, s in ipairs(scenes) do
    if s.reason == "running" then
      stats.locked = stats.locked + 1
    elseif s.standing == "fresh" or s.standing == "exists" then
      stats.completed = stats.completed + 1
    elseif s.standing == "failed" then
      stats.failed = stats.failed + 1
      stats.failures[#stats.failures + 1] = { scene_number = s.scene_number,
        error = s.error or "failed in an earlier run" }
    end
  end
  if opts.finish then call_finish(opts, stats, document) end
  -- The storyboard page, as status sees the scenes now.
  local page, page_err = require("explainer.board").snapshot(document, { output_base_dir = base,
    output_filename = opts.output_filename, workflow = stats.workflow, inputs = opts.inputs,
    scene_numbers = opts.scene_numbers, standings = scenes })
  if page then
    require("explainer.board").announce(page)
  else
    log.warn(("%s: board: %s"):format(base, tostring(page_err)))
  end
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
