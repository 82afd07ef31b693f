--- The command line of `explainer` (the host calls `main(arg)`).
-- @module explainer.cli

local explainer = require "explainer"
local diagnostics = require "explainer.diagnostics"
local core = explainer.core

local M = {}

-- The commands in the order they are listed, each with what runs it (set at
-- the end, below them all), and by name.
local COMMANDS, DISPATCH

--- The names of the commands, in the order they are listed.
function M.commands()
  local names = {}
  for i, c in ipairs(COMMANDS) do names[i] = c[1] end
  return names
end

local USAGE = [[
usage: explainer SCRIPT.lua FILE.txt [FILE.txt ...] [options]
       explainer run SCRIPT.lua FILE.txt [FILE.txt ...] [options]
       explainer check FILE.txt [FILE.txt ...] [--json] [--pace WPM] [--disable RULE,...]
       explainer init [FILE.txt] [--scenes N] [--format 9:16|16:9|1:1] [--title T]
       explainer parse FILE.txt [--json] [--verbose]
       explainer narration FILE.txt [--json] [--verbose] [--strict]
       explainer status SCRIPT.lua FILE.txt [--output-dir DIR] [--output-filename NAME]
                        [--scenes LIST] [--shard K/N] [--json]
       explainer estimate SCRIPT.lua FILE.txt [--output-dir DIR] [--scenes LIST]
                          [--prices FILE] [--json]
       explainer board [SCRIPT.lua] FILE.txt [--output-dir DIR] [--serve [PORT] ]
       explainer cache [prune --max-size SIZE] [--cache-dir DIR] [--json]
       explainer scripts [--path]
       explainer slurm SCRIPT.lua FILE.txt ... [--tasks N] [--print] [options]
                 [sbatch options as --name=value] [-- sbatch options]
       explainer help [COMMAND | WORKFLOW] | --help | --version

Runs the workflow SCRIPT.lua (a Lua file returning a table with
process_scene(scene, output_dir)) over every scene of each FILE. A bundled
workflow runs by its name: explainer video FILE.txt (explainer scripts
lists them). `run` says the same explicitly, for a SCRIPT named like a command.

options:
  --scenes LIST          only these scenes, e.g. 1,3,5 or 2-6
  --no-skip              process scenes even when their output exists
  --output-dir DIR       base folder of the outputs (default: output)
  --output-filename NAME the file whose presence means "done" (default: final.png)
  --abort-on-error       stop at the first failed scene
  --quiet                no progress output
  --progress MODE        auto, plain, json (one JSON event a line) or quiet
  -j, --jobs N           run N scenes at once (1 to 1024), each in its own
                         process
  --timeout SECONDS      kill a scene (and all it started) running longer
                         (at most a week: 604800)
  --retries N            try a failed scene N more times (at most 1000), with
                         backoff
  --retry-delay SECONDS  the first backoff (default 1; doubles each time)
  --rate N/UNIT          at most N scene starts per s, min or hour (60/min)
  --shard K/N            only the K-th of N equal parts of the scenes
  --dry-run              list what would run and why; run nothing
  --json                 with --dry-run: the list as JSON on stdout
  --cache-dir DIR        the shared cache of images, speech and clips
                         (default: $XDG_CACHE_HOME/explainer)
  --no-cache             neither use nor fill the cache
  --durable              sync each scene's journal record and outputs to disk
  --finish-only          run no scene: only the workflow's finish, on what
                         the journal says is done (e.g. after --shard runs;
                         not with --no-finish or --dry-run)
  --no-finish            run the scenes but not the workflow's finish
  --verbose              show every warning about FILE, not the first 5
  --strict               any warning about FILE or SCRIPT: exit 2, run nothing

A scene is skipped when it is fresh: done before with the same inputs (its
text, and the workflow's settings such as the voice) and its output is
there. The workflow's journal in OUT/NAME/.explainer/WORKFLOW tells a fresh
scene from a changed or an interrupted one; `status` says which and why.

Each option is given once. Two FILEs of one name (a/talk.txt b/talk.txt, or
talk.txt talk.md) would share OUT/talk/: refused, as is a FILE given twice.

exit status: 0 all scenes done or skipped, 1 a scene failed,
             2 bad usage or an unusable input file,
             130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP
]]

local function stderr(fmt, ...)
  io.stderr:write(fmt:format(...), "\n")
end

--- "1 scene", "2 scenes": `n` and the word, singular for 1 (`plural` when an s
-- does not make it).
local function count(n, word, plural)
  return ("%d %s"):format(n, n == 1 and word or plural or word .. "s")
end

local argparse = require "explainer.args"
local usage_error = argparse.usage_error
local number_flag = argparse.number
local yes = function() return true end

--- "1,3,5" or "2-4,7" -> {1,3,5} / {2,3,4,7} (explainer.args).
M.parse_scene_list = argparse.scene_list

-- Flags of a workflow run: name -> {option key, takes a value, convert}.
local RUN_FLAGS = argparse.RUN_FLAGS
M.RUN_FLAGS = RUN_FLAGS

-- What `help COMMAND` and `COMMAND --help` print (the run's is USAGE). help()
-- fills in the lists of check's and help's, and takes slurm's from its module
-- and a bundled workflow's from its script.
local HELP = {
  parse = [=[
usage: explainer parse FILE.txt [--json] [--verbose]

Prints the parsed document: a summary with one line a scene (title, duration,
what it has), or with --json the whole document as JSON (the contract's keys,
every warning among them). After the summary, the file's warnings on stderr
(the first 5; --verbose for all). Exit 2 when the file cannot be read or has
no scenes (docs/format.md says which headers start one).
]=],
  narration = [=[
usage: explainer narration FILE.txt [--json] [--verbose] [--strict]

Prints each scene's narration (inline, or from the NARRATION SCRIPT section):
"Scene N: text" lines, or with --json a list of {scene_number, title,
narration}. The file's warnings come first on stderr (the first 5; --verbose
for all); --strict makes any warning exit 2.
]=],
  status = [=[
usage: explainer status SCRIPT.lua FILE.txt [...] [--output-dir DIR]
                        [--output-filename NAME] [--scenes LIST] [--shard K/N]
                        [--json] [--verbose] [--strict]

Where each scene of FILE stands for the workflow SCRIPT, and why: new, fresh,
exists (output there, no record), missing FILE, changed: PARTS, incomplete,
failed, or running (another run holds it). Runs nothing. The file's warnings
come first on stderr. How reruns decide: docs/reruns.md.
]=],
  check = [=[
usage: explainer check FILE.txt [FILE.txt ...] [--json] [--pace WPM]
                       [--disable RULE[,RULE...]] [--caret | --no-caret]

Lints explainer scripts before anything is spent on them. Each problem is a
line on stderr, FILE:LINE:COL: error|warning|note: message [rule], followed on
a terminal (or with --caret) by the line and a caret under the column. --json
prints a list of {file, line, column, severity, rule, message} on stdout.
  --pace WPM       the narrator's words a minute for the pacing rule (150;
                   from 1 to 1000)
  --disable RULE   switch rules off (comma-separated, or given again; see
                   docs/check.md)
Rules: %s

Exit status: 1 when there is an error, 2 when a file cannot be read, else 0.
]=],
  init = [=[
usage: explainer init [FILE.txt] [--scenes N] [--format 9:16|16:9|1:1] [--title T]

Writes a blank explainer script: the header, N scenes (default 12, at most
1000; scene 0 a silent title card) each with narration, layout, a Nano Banana iterative prompt
and an animation prompt, and [placeholders] where the writing goes. Without
FILE it goes to stdout; an existing FILE is never overwritten (exit 2).
`explainer check` on it reports only the placeholders.
]=],
}
HELP.run = USAGE
HELP.help = [=[
usage: explainer help [COMMAND | WORKFLOW]

How to use COMMAND, or what the bundled WORKFLOW does and how to run it;
without either, how to run a workflow (as explainer --help).
Commands: %s
Workflows: %s
]=]
HELP.cache = [=[
usage: explainer cache [--cache-dir DIR] [--json]
       explainer cache prune --max-size SIZE [--cache-dir DIR] [--json]

The shared cache of what costs money or time (remote images, speech, encoded
clips), named by the key of what made each entry: prints its folder, entries
and size, or removes the least recently used entries until it holds at most
SIZE (2G, 500M, 10k). The folder: --cache-dir, else $EXPLAINER_CACHE_DIR,
else $XDG_CACHE_HOME/explainer, else ~/.cache/explainer.
]=]
HELP.estimate = [=[
usage: explainer estimate SCRIPT.lua FILE.txt [FILE.txt ...] [--prices FILE] [--json]
                          [--output-dir DIR] [--scenes LIST]

Before anything is spent: what a run of SCRIPT would send (image generations
and edits, characters of speech, seconds of video) and what it would cost from
a dated price table (lua/explainer/prices.lua; --prices or EXPLAINER_PRICES
for your own, Lua or JSON), with the film's expected length. Scenes already
fresh, and files already made or in the cache, cost nothing.
]=]
HELP.scripts = [=[
usage: explainer scripts [--path]

Lists the bundled workflows (video, image, audio, prompts), one line each;
--path prints where each is. Run one by its name: explainer video FILE.txt.
]=]

--- Split argv into positionals and flag overrides (explainer.args).
M.parse_args = argparse.parse

-- lua-cjson is loaded only by the commands that print JSON (start-up time).
local json = setmetatable({}, { __index = function(t, k)
  local mod = require "explainer.json"
  setmetatable(t, { __index = mod })
  return mod[k]
end })
local function list(t) return json.list(t) end

-- ---------------------------------------------------------------- commands

local function load_document(path)
  local doc, err = explainer.parse(path)
  if not doc then
    stderr("explainer: %s", err)
    return nil
  end
  return doc
end

-- A file's warnings before what a command prints, and whether to go on: a file
-- without scenes, or with warnings under --strict, is exit 2.
local function preflight(doc, o)
  local ok, why = diagnostics.before_run(doc, { verbose = o.verbose, strict = o.strict })
  if not ok then stderr("explainer: %s", why) end
  return ok
end

-- Text from a script, for a person's screen: control characters (an ESC in a
-- title could move the cursor or retitle the window) shown as \xNN.
local function shown(text)
  return (tostring(text):gsub("[%z\1-\31\127]", function(c) return ("\\x%02x"):format(c:byte()) end))
end
M.shown = shown

local function words(text) return require("explainer.check").words(text) end
local function fmt_seconds(s) return require("explainer.check").seconds(s) end

local function cmd_parse(args)
  local positional, o = M.parse_args(args, { ["--json"] = { "json", false },
    ["--verbose"] = RUN_FLAGS["--verbose"] })
  if #positional ~= 1 then usage_error("parse takes one FILE") end
  if o.json then
    -- Straight from the C structs (json_out.c): no Lua tables for a big script.
    -- true and the scene count, or nil and a message
    local written, scenes = core.write_json(positional[1])
    if not written then
      stderr("explainer: %s", scenes)
      return 2
    end
    if scenes == 0 then -- the document is printed, but it is unusable
      stderr("explainer: %s", diagnostics.no_scenes_message(positional[1]))
      return 2
    end
    return 0
  end
  -- The summary walks the scenes once: tables made one at a time (memory).
  local handle, err = core.open(positional[1])
  if not handle then
    stderr("explainer: %s", err)
    return 2
  end
  local doc = handle:table(true)
  local out = {}
  out[#out + 1] = ("%s: %s"):format(shown(doc.path), shown(doc.title or "(untitled)"))
  out[#out + 1] = ("  %s%s, %s total%s%s"):format(count(#doc.scenes, "scene"),
    doc.declared_scenes and (" (%d declared)"):format(doc.declared_scenes) or "",
    fmt_seconds(doc.total_duration),
    doc.format and (", " .. shown(doc.format)) or "",
    doc.audience and (", for " .. shown(doc.audience)) or "")
  if doc.style then out[#out + 1] = "  style: " .. shown(doc.style) end
  for _, s in ipairs(doc.scenes) do
    local notes = {}
    if s.no_narration then notes[#notes + 1] = "no narration"
    elseif s.narration then notes[#notes + 1] = count(words(s.narration), "word") .. " narrated"
    else notes[#notes + 1] = "no narration text" end
    if s.initial_prompt then
      notes[#notes + 1] = "image prompt" .. (#s.iterations > 0
        and " + " .. count(#s.iterations, "iteration") or "")
    end
    if s.final_prompt then notes[#notes + 1] = "final prompt" end
    if s.animation_prompt then notes[#notes + 1] = "animation" end
    out[#out + 1] = ("  Scene %d: %s (%s) - %s  [line %d]"):format(s.scene_number,
      shown(s.title), fmt_seconds(s.duration), table.concat(notes, ", "), s.line)
  end
  io.stdout:write(table.concat(out, "\n"), "\n")
  diagnostics.print(diagnostics.from_document(doc),
    { limit = not o.verbose and diagnostics.SHOWN or nil })
  if #doc.scenes == 0 then
    stderr("explainer: %s", diagnostics.no_scenes_message(doc.path))
    return 2
  end
  return 0
end

local function cmd_narration(args)
  local positional, o = M.parse_args(args, { ["--json"] = { "json", false },
    ["--verbose"] = RUN_FLAGS["--verbose"], ["--strict"] = RUN_FLAGS["--strict"] })
  if #positional ~= 1 then usage_error("narration takes one FILE") end
  local doc = load_document(positional[1])
  if not doc then return 2 end
  if not preflight(doc, o) then return 2 end
  if o.json then
    local items = {}
    for _, s in ipairs(doc.scenes) do
      items[#items + 1] = { scene_number = s.scene_number, title = s.title,
        narration = s.narration == nil and json.null or s.narration }
    end
    io.stdout:write(json.encode(list(items)), "\n")
    return 0
  end
  for _, s in ipairs(doc.scenes) do
    if s.narration then
      -- a narration's own line breaks stay line breaks, indented under it
      local text = shown(s.narration):gsub("\\x0d\\x0a", "\\x0a"):gsub("\\x0a", "\n  "):gsub(" +\n", "\n")
      io.stdout:write(("Scene %d: %s\n"):format(s.scene_number, text))
    end
  end
  return 0
end

-- What the host binary tells main(): executable, scripts_dir (src/main.c).
local host = {}

--- The folder of the bundled workflow scripts (video, image, ...), or nil.
function M.scripts_dir()
  if host.scripts_dir then return host.scripts_dir end
  -- Installed beside the modules (a LuaRocks tree): explainer/scripts/.
  local found = package.searchpath("explainer.scripts.video", package.path)
  return found and found:match("^(.*)/[^/]*$")
end

-- The leading comment of a script: its lines without the comment marks ("" for
-- a blank one), the first without the "name.lua -- " it starts with.
local function script_comment(path)
  local lines = {}
  for line in io.lines(path) do
    local text = line:match("^%-%-+%s?(.*)$")
    if not text then break end
    lines[#lines + 1] = text
  end
  if lines[1] then lines[1] = lines[1]:gsub("^%S*%.lua%s+%-%-%s*", "") end
  return lines
end

--- The first sentence of a script's leading comment.
local function script_summary(path)
  local paragraph = {}
  for _, line in ipairs(script_comment(path)) do
    if not line:match("%S") then break end
    paragraph[#paragraph + 1] = line
  end
  local text = table.concat(paragraph, " "):gsub("%s+", " ")
  return text:match("^(.-%.)%s") or text
end

-- The bundled workflows' names, sorted, and their folder; nil when not found.
local function bundled_workflows()
  local dir = M.scripts_dir()
  if not dir then return nil end
  local names = {}
  for entry in require("lfs").dir(dir) do
    names[#names + 1] = entry:match("^([%w_%-]+)%.lua$")
  end
  table.sort(names)
  return names, dir
end

-- What a word of the command line may name: a command or a bundled workflow.
local function known_words()
  local names = M.commands()
  for _, name in ipairs(bundled_workflows() or {}) do names[#names + 1] = name end
  return names
end

-- "did you mean 'video'?" when `word` is a typo of a command or bundled workflow.
local function did_you_mean(word)
  local hint = diagnostics.suggest(word, known_words())
  return hint and ("did you mean '%s'?"):format(hint)
end

--- A workflow argument as a path: a file that exists as given, else a bare
-- name (`video` or `video.lua`) of a bundled script.
-- @tparam string name
-- @treturn string the path to load
function M.find_workflow(name)
  local function readable(path)
    local f = io.open(path, "r")
    if f then f:close() end
    return f ~= nil
  end
  if readable(name) then return name end
  local bare = name:match("^([%w_%-]+)%.lua$") or name:match("^[%w_%-]+$")
  local dir = bare and M.scripts_dir()
  if dir and readable(dir .. "/" .. bare .. ".lua") then
    return dir .. "/" .. bare .. ".lua"
  end
  return name
end

--- Load a workflow script: a Lua file that returns a table with process_scene.
-- @treturn table|nil the workflow, or nil and a message
function M.load_workflow(path)
  local chunk, err = loadfile(path)
  if not chunk then
    local f = io.open(path, "r")
    if not f then
      local bare = path:match("^([%w_%-]+)%.lua$") or path:match("^[%w_%-]+$")
      local hint = bare and did_you_mean(bare)
      if hint then
        return nil, ("%s: not a workflow script (.lua) or a command (%s); %s"):format(path,
          table.concat(M.commands(), ", "), hint)
      end
      return nil, path .. ": cannot open workflow script" .. (bare
        and " (nor is it a command or a bundled workflow: see explainer scripts)" or "")
    end
    f:close()
    return nil, err
  end
  local ok, workflow = pcall(chunk)
  if not ok then return nil, path .. ": " .. tostring(workflow) end
  if type(workflow) ~= "table" or type(workflow.process_scene) ~= "function" then
    return nil, path .. ": must return a table with a process_scene function"
  end
  return workflow
end

-- Keys a workflow's table may hold: the options, the hooks (explainer_path is
-- the command line's).
local WORKFLOW_KEYS = {}
for key in pairs(explainer.OPTION_TYPES) do WORKFLOW_KEYS[key] = true end
for _, key in ipairs { "setup", "finish", "inputs" } do WORKFLOW_KEYS[key] = true end
WORKFLOW_KEYS.explainer_path = nil

--- Diagnostics for the keys of a workflow's table that explainer does not know
-- ("output_filname": did you mean output_filename?).
function M.workflow_warnings(path, workflow)
  return diagnostics.workflow_keys(path, workflow, WORKFLOW_KEYS)
end

-- Exit status of a run stopped by a signal, as a shell reports it.
local SIGNAL_STATUS = { SIGINT = 130, SIGTERM = 143, SIGHUP = 129 }

local STATUS_FLAGS = {
  ["--verbose"] = RUN_FLAGS["--verbose"],
  ["--strict"] = RUN_FLAGS["--strict"],
  ["--output-dir"] = RUN_FLAGS["--output-dir"],
  ["--output-filename"] = RUN_FLAGS["--output-filename"],
  ["--scenes"] = RUN_FLAGS["--scenes"],
  ["--shard"] = RUN_FLAGS["--shard"],
  ["--json"] = { "json", false, yes },
}

-- SCRIPT.lua FILE.txt ... with flags: positional, overrides and the workflow,
-- or nil after saying why.

-- Is `path` a workflow script? A .lua file, or a file Lua can load.
local function is_workflow_path(path)
  if path:match("%.lua$") then return true end
  local f = io.open(path, "rb")
  if not f then return false end
  local head = f:read(4096) or ""
  f:close()
  return head:find("\0", 1, true) == nil and loadfile(path) ~= nil
end

local function workflow_args(args, flags, usage)
  local positional, overrides = M.parse_args(args, flags)
  -- A file that is there but is no workflow (the script's text, given first):
  -- say what was expected. A name that is no file goes on to the lookup of the
  -- bundled workflows, which says where it looked.
  local first = positional[1] and M.find_workflow(positional[1])
  local exists = first and io.open(first, "rb")
  if exists then exists:close() end
  if exists and not is_workflow_path(first) then
    local swapped = false
    for i = 2, #positional do swapped = swapped or positional[i]:match("%.lua$") ~= nil end
    usage_error(("the first argument must be a workflow script (.lua), got '%s'%s")
      :format(positional[1], swapped and "; did you swap SCRIPT.lua and FILE.txt?" or ""))
  end
  if #positional < 2 then usage_error(usage) end
  local workflow, err = M.load_workflow(M.find_workflow(positional[1]))
  if not workflow then
    stderr("explainer: %s", err)
    return nil
  end
  local warnings = M.workflow_warnings(positional[1], workflow)
  local progress = overrides.progress or workflow.progress
  diagnostics.print(warnings, { mode = progress == "json" and "json"
    or progress == "quiet" and "quiet" or "text" })
  if #warnings > 0 and (overrides.strict or workflow.strict) then
    stderr("explainer: %s: %s and --strict: nothing was run", positional[1],
      count(#warnings, "warning"))
    return nil
  end
  return positional, overrides, workflow
end

--- The journal's name for a workflow script: its `workflow` field, else the
-- script's file name without .lua ("scripts/video.lua" -> "video").
function M.workflow_name(script, workflow)
  if type(workflow.workflow) == "string" then return workflow.workflow end
  return (script:match("([^/]+)$") or script):gsub("%.lua$", "")
end

-- The options of a run (or status) of `workflow` on `file`: the script's
-- table, then the flags over it.
local function run_options(script, workflow, overrides, file)
  local opts = {}
  for key in pairs(explainer.OPTION_TYPES) do opts[key] = workflow[key] end
  opts.workflow = M.workflow_name(script, workflow)
  for key, value in pairs(overrides) do opts[key] = value end
  opts.explainer_path = file
  return opts
end

--- nil, or why the FILEs cannot share a run: each one's outputs go to
-- `<base>/<name>/`, named by its stem, so a/talk.txt and b/talk.txt (or
-- talk.txt and talk.md) would overwrite each other's scenes, journal, report
-- and film; a FILE given twice would be run twice.
-- @tparam table files the paths
-- @tparam string base the output folder
-- @treturn string|nil the message
function M.shared_folder(files, base)
  local seen = {}
  for _, file in ipairs(files) do
    local name = core.path_stem(file)
    local first = seen[name]
    if first == file then
      return file .. ": given twice"
    elseif first then
      return ("%s: same output folder as %s (%s/%s/); their outputs would overwrite each other")
        :format(file, first, base, name)
    end
    seen[name] = file
  end
end

-- The FILEs of a command have each an output folder of its own; false after
-- saying which do not.
local function files_apart(script, workflow, overrides, files)
  if #files < 2 then return true end
  local base = run_options(script, workflow, overrides, files[1]).output_base_dir
  local why = M.shared_folder(files, base or "output")
  if why then stderr("explainer: %s", why) end
  return why == nil
end

-- One file's status as text: a line a scene, the reasons in a column as wide
-- as the widest, two spaces, the titles; then the counts.
local function print_status(file, scenes)
  local function columns(text) return utf8.len(text) or #text end
  local counts, order, width = {}, {}, 0
  for _, s in ipairs(scenes) do width = math.max(width, columns(shown(s.reason))) end
  io.stdout:write(file, "\n")
  for _, s in ipairs(scenes) do
    local reason = shown(s.reason)
    local line = ("  Scene %-4d %s%s  %s"):format(s.scene_number, reason,
      (" "):rep(width - columns(reason)), shown(s.title or ""))
    io.stdout:write((line:gsub("%s+$", "")), "\n")
    local word = s.reason == "running" and "running" or s.standing
    if not counts[word] then order[#order + 1] = word end
    counts[word] = (counts[word] or 0) + 1
  end
  local parts = {}
  for _, r in ipairs(order) do parts[#parts + 1] = counts[r] .. " " .. r end
  io.stdout:write("  ", count(#scenes, "scene"), ": ", table.concat(parts, ", "), "\n")
end

local function cmd_status(args)
  local positional, overrides, workflow =
    workflow_args(args, STATUS_FLAGS, "status takes SCRIPT.lua and FILE.txt")
  if not positional then return 2 end
  local named = table.move(positional, 2, #positional, 1, {})
  if not files_apart(positional[1], workflow, overrides, named) then return 2 end
  -- Every file's standing before any is printed: an unusable one is exit 2
  -- with nothing on stdout.
  local files = {}
  for i = 2, #positional do
    local file = positional[i]
    local opts = run_options(positional[1], workflow, overrides, file)
    opts.json, opts.process_scene, opts.setup, opts.finish = nil, nil, nil, nil
    opts.verbose, opts.strict = nil, nil
    local doc = load_document(file)
    if not doc or not preflight(doc, { verbose = overrides.verbose,
        strict = overrides.strict or workflow.strict }) then
      return 2 -- said
    end
    local scenes, err = explainer.status(file, opts)
    if not scenes then
      stderr("explainer: %s", err)
      return 2
    end
    files[#files + 1] = { path = file, scenes = scenes }
  end
  if not overrides.json then
    for _, f in ipairs(files) do print_status(f.path, f.scenes) end
    return 0
  end
  local all = {}
  for _, f in ipairs(files) do
    for _, s in ipairs(f.scenes) do
      all[#all + 1] = { file = f.path, scene_number = s.scene_number,
        title = s.title or json.null, status = s.standing, reason = s.reason,
        attempts = s.attempts, seconds = s.seconds, output_dir = s.output_dir }
    end
  end
  io.stdout:write(json.encode(list(all)), "\n")
  return 0
end

-- explainer estimate SCRIPT FILE...: what a run would send and cost (estimate.lua).
local ESTIMATE_FLAGS = {
  ["--prices"] = { "prices", true, function(value, name)
    if value == "" then usage_error(name .. " needs a file") end
    return value
  end },
  ["--cache-dir"] = RUN_FLAGS["--cache-dir"],
}
for name, spec in pairs(STATUS_FLAGS) do ESTIMATE_FLAGS[name] = spec end

local function cmd_estimate(args)
  local positional, overrides, workflow =
    workflow_args(args, ESTIMATE_FLAGS, "estimate takes SCRIPT.lua and FILE.txt")
  if not positional then return 2 end
  local named = table.move(positional, 2, #positional, 1, {})
  if not files_apart(positional[1], workflow, overrides, named) then return 2 end
  local estimate = require "explainer.estimate"
  require("explainer.settings").cache_dir = overrides.cache_dir
  local prices, err = estimate.prices(overrides.prices, "--prices")
  if not prices then
    stderr("explainer: %s", err)
    return 2
  end
  local name = M.workflow_name(positional[1], workflow)
  local makes, assumed = estimate.makes(workflow, name)
  -- Every file's estimate before any is printed: an unusable one is exit 2
  -- with nothing on stdout.
  local all = {}
  for i = 2, #positional do
    local opts = run_options(positional[1], workflow, overrides, positional[i])
    opts.makes, opts.prices = makes, prices
    local e, run_err = estimate.file(positional[i], opts)
    if not e then
      stderr("explainer: %s", run_err)
      return 2
    end
    all[#all + 1] = e
  end
  if overrides.json then
    for _, e in ipairs(all) do
      e.unpriced = list(e.unpriced)
      e.workflow, e.assumed, e.prices = name, assumed, { date = prices.date, currency = prices.currency,
        source = prices.source, file = prices.file or json.null }
    end
    io.stdout:write(json.encode(list(all)), "\n")
    return 0
  end
  io.stdout:write(estimate.price_note(prices))
  for _, e in ipairs(all) do
    io.stdout:write(estimate.format(e, prices, { workflow = name, makes = makes, assumed = assumed }))
  end
  return 0
end

-- explainer board [SCRIPT] FILE: the storyboard page (explainer.board).
HELP.board = [=[
usage: explainer board [SCRIPT.lua] FILE.txt [--workflow SCRIPT] [--output-dir DIR]
                       [--output-filename NAME] [--scenes LIST] [--serve [PORT]]

Writes OUT/NAME/board.html, the storyboard of FILE (every run writes it too,
and keeps it up to date while it goes) and prints its path: a card a scene
with its frame and clip, its narration and an audio player of it, its length
against the narration's (too fast, too slow), where it stands for the
workflow (as explainer status says, failed with its error) and the warnings
of explainer check on its lines; above them the film with its captions, the
totals, the last run's time, the estimated cost and the warnings. One page
that needs no network: open it from its folder.

The workflow whose state it shows: SCRIPT.lua (or --workflow SCRIPT), else
the workflow of the last run in that folder (its report.json says which).
  --scenes LIST    the scenes to show (at most 200; default: the first 200)
  --serve [PORT]   then serve the folder on http://127.0.0.1:PORT/ (8000) with
                   python3 -m http.server, until Ctrl-C
]=]

local BOARD_FLAGS = {
  ["--workflow"] = { "workflow_script", true },
  ["--output-dir"] = RUN_FLAGS["--output-dir"],
  ["--output-filename"] = RUN_FLAGS["--output-filename"],
  ["--scenes"] = RUN_FLAGS["--scenes"],
  ["--serve"] = { "serve", false, yes },
  ["--verbose"] = RUN_FLAGS["--verbose"],
  ["--strict"] = RUN_FLAGS["--strict"],
}

local function cmd_board(args)
  -- --serve takes an optional PORT: the word after it when it is a number.
  local argv, port = {}, nil
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      table.move(args, i, #args, #argv + 1, argv)
      break
    end
    local value = a:match("^%-%-serve=(.*)$")
    -- a word of letters and digits that starts with a digit is meant as the
    -- port ("80x" too: a usage error, not a file named 80x)
    if value or (a == "--serve" and (args[i + 1] or ""):match("^%d[%w]*$")) then
      port = value or args[i + 1]
      i = i + (value and 0 or 1)
      a = "--serve"
    end
    argv[#argv + 1] = a
    i = i + 1
  end
  local positional, o = M.parse_args(argv, BOARD_FLAGS)
  if #positional < 1 or #positional > 2 then usage_error("board takes FILE.txt, or SCRIPT.lua and FILE.txt") end
  if #positional == 2 and o.workflow_script then
    usage_error("board: the workflow is SCRIPT.lua or --workflow, not both")
  end
  if port and not (tonumber(port) and math.tointeger(tonumber(port)) and tonumber(port) >= 1
      and tonumber(port) <= 65535) then
    usage_error("--serve: expected a port from 1 to 65535, got '" .. port .. "'")
  end
  local file = positional[#positional]
  local doc = load_document(file)
  if not doc or not preflight(doc, o) then return 2 end
  local base = o.output_base_dir or "output"
  local script = #positional == 2 and positional[1] or o.workflow_script
  if not script then -- the workflow of the last run in the folder
    local report = ("%s/%s/report.json"):format(base, doc.name)
    local f = io.open(report, "rb")
    local r = f and require("cjson.safe").decode(f:read("a"))
    if f then f:close() end
    if type(r) ~= "table" or type(r.workflow) ~= "string" then
      stderr("explainer: %s: no run of %s there yet to take the workflow from; name it: "
        .. "explainer board SCRIPT.lua %s", report, file, file)
      return 2
    end
    local found = io.open(M.find_workflow(r.workflow), "rb")
    if found then found:close() end
    if not found then
      stderr("explainer: %s: the last run there was of the workflow '%s', which is not a bundled "
        .. "one; name its script: explainer board SCRIPT.lua %s", report, r.workflow, file)
      return 2
    end
    script = r.workflow
  end
  local workflow, err = M.load_workflow(M.find_workflow(script))
  if not workflow then
    stderr("explainer: %s", err)
    return 2
  end
  local opts = run_options(script, workflow, o, file)
  opts.workflow_table = workflow
  local page, page_err = require("explainer.board").snapshot(doc, opts)
  if not page then
    stderr("explainer: %s", page_err)
    return 2
  end
  io.stdout:write(page, "\n")
  if not o.serve then return 0 end
  -- A well-kept server, on this machine only, until Ctrl-C (which ends this
  -- process; the server, its child, dies with it).
  local url = ("http://127.0.0.1:%d/board.html"):format(tonumber(port or 8000))
  -- The URL is said once the server says it listens (a port in use is then
  -- only the error, not "Serving" first).
  local announced = false
  local r, exec_err = explainer.exec({ "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
    "--directory", page:match("^(.*)/[^/]*$"), tostring(tonumber(port or 8000)) }, {
    on_stdout = function()
      if announced then return end
      announced = true
      io.stdout:write(url, "\n")
      io.stdout:flush()
      stderr("Serving %s on %s; Ctrl-C stops", page:match("^(.*)/[^/]*$"), url)
    end })
  if not r then
    stderr("explainer: %s", exec_err)
    return 2
  end
  if r.status ~= 0 then
    stderr("explainer: python3 -m http.server: %s", (r.stderr:match("([^\n]+)\n?$") or "exit " .. r.status))
    return 1
  end
  return 0
end

-- Several FILEs: each is checked as its run will check it (readable, with
-- scenes, no duplicate numbers, --strict, its journal) by a quiet dry run that
-- runs none of the workflow's code, before the first file runs: a bad last file
-- costs nothing. One FILE is checked so by its run (unless `always`: `explainer
-- slurm` checks before it submits). false after naming the bad one; else true
-- and, when the FILEs were checked, the most scenes one of them would run.
function M.files_usable(script, workflow, overrides, files, always)
  if not files_apart(script, workflow, overrides, files) then return false end
  if #files < 2 and not always then return true end
  local most = 0 -- scenes a FILE would run
  for _, file in ipairs(files) do
    local opts = run_options(script, workflow, overrides, file)
    opts.dry_run, opts.json, opts.progress = true, nil, "quiet"
    opts.setup, opts.finish, opts.inputs = nil, nil, nil
    local ok, stats, err = pcall(explainer.orchestrate_workflow, opts)
    if not (ok and stats) then
      stderr("explainer: %s", tostring(ok and err or stats))
      return false
    end
    most = math.max(most, stats.total)
  end
  return true, most
end

-- --finish-only: the workflow's finish on what is done, no scene run.
local function finish_only(file, opts)
  local ok, stats, err = pcall(explainer.finish_only, opts)
  if not ok and getmetatable(stats) == explainer.HookError then
    stderr("explainer: %s: %s", file, tostring(stats))
    return 1
  elseif not ok or not stats then
    stderr("explainer: %s", tostring(ok and err or stats))
    return 2
  end
  stderr("Finish only for %s: %s, %d done, %d failed, %d not done", file,
    count(stats.total, "scene"), stats.completed, stats.failed, stats.total - stats.completed - stats.failed)
  return stats.failed > 0 and 1 or 0
end

local function cmd_scripts(args)
  local _, o = M.parse_args(args, { ["--path"] = { "path", false } })
  local names, dir = bundled_workflows()
  if not dir then
    stderr("explainer: the bundled workflow scripts were not found (set EXPLAINER_SCRIPTS_DIR)")
    return 2
  end
  if o.path then
    io.stdout:write(dir, "\n")
    return 0
  end
  local width = 0
  for _, name in ipairs(names) do width = math.max(width, #name) end
  for _, name in ipairs(names) do
    io.stdout:write(("%-" .. width .. "s  %s\n"):format(name, script_summary(dir .. "/" .. name .. ".lua")))
  end
  return 0
end

-- Flags of a run that cannot go together: --finish-only runs only the
-- workflow's finish, --no-finish all but it, and a dry run runs nothing.
local RUN_EXCLUSIVE = {
  { "finish_only", "no_finish", "--finish-only", "--no-finish" },
  { "finish_only", "dry_run", "--finish-only", "--dry-run" },
}

local function cmd_run(args)
  local positional, overrides, workflow =
    workflow_args(args, RUN_FLAGS, "expected SCRIPT.lua and at least one FILE.txt")
  if not positional then return 2 end
  if overrides.json and not overrides.dry_run then usage_error("--json goes with --dry-run") end
  argparse.exclusive(overrides, RUN_EXCLUSIVE)
  local status = 0
  local only_finish, no_finish = overrides.finish_only, overrides.no_finish
  overrides.finish_only, overrides.no_finish = nil, nil
  local files = table.move(positional, 2, #positional, 1, {})
  if not M.files_usable(positional[1], workflow, overrides, files) then return 2 end
  for i = 2, #positional do
    local opts = run_options(positional[1], workflow, overrides, positional[i])
    if no_finish then opts.finish = nil end
    if only_finish then
      status = math.max(status, finish_only(positional[i], opts))
      goto next_file
    end
    local ok, stats, run_err = pcall(explainer.orchestrate_workflow, opts)
    if not ok and getmetatable(stats) == explainer.HookError then
      -- The workflow itself failed (e.g. the film could not be assembled).
      stderr("explainer: %s: %s", positional[1], tostring(stats))
      status = math.max(status, 1)
    elseif not ok then
      stderr("explainer: %s", tostring(stats))
      status = math.max(status, 2)
    elseif not stats then
      stderr("explainer: %s", run_err)
      status = math.max(status, 2)
    elseif stats.interrupted then
      return SIGNAL_STATUS[stats.interrupted] or 130 -- and no further files
    elseif stats.fatal then
      -- The journal could not be written: nothing after this can be trusted.
      stderr("explainer: %s", stats.fatal)
      return 1
    elseif stats.failed > 0 then
      status = math.max(status, 1)
    end
    ::next_file::
  end
  return status
end

local CACHE_FLAGS = {
  ["--cache-dir"] = { "cache_dir", true },
  ["--max-size"] = { "max_size", true, argparse.size },
  ["--json"] = { "json", false, yes },
}

-- explainer cache [prune --max-size SIZE] [--cache-dir DIR]
local function cmd_cache(args)
  local cache = require "explainer.cache"
  local settings = require "explainer.settings"
  local positional, o = M.parse_args(args, CACHE_FLAGS)
  settings.cache_dir = o.cache_dir
  local dir = cache.dir()
  if not dir then
    stderr("explainer: %s", os.getenv("EXPLAINER_NO_CACHE") and "the cache is off (EXPLAINER_NO_CACHE is set)"
      or "no cache folder (set EXPLAINER_CACHE_DIR, XDG_CACHE_HOME or HOME, or give --cache-dir)")
    return 2
  end
  local action = positional[1]
  if action == nil then
    if o.max_size then usage_error("--max-size goes with 'cache prune'") end
    local st = cache.stats(dir)
    if o.json then
      io.stdout:write(json.encode(st), "\n")
    else
      -- a folder that is not there is most often a mistyped --cache-dir
      local missing = require("lfs").attributes(dir, "mode") ~= "directory" and " (no such folder yet)" or ""
      io.stdout:write(("%s%s\n  %s, %s\n"):format(dir, missing, count(st.entries, "entry", "entries"),
        cache.format_size(st.bytes)))
    end
    return 0
  elseif action == "prune" and #positional == 1 then
    if not o.max_size then usage_error("cache prune needs --max-size SIZE (like 2G, 500M)") end
    local r = cache.prune(dir, o.max_size)
    if o.json then
      io.stdout:write(json.encode(r), "\n")
    else
      io.stdout:write(("%s\n  removed %s (%s); %s, %s left\n"):format(dir,
        count(r.removed, "entry", "entries"), cache.format_size(r.freed),
        count(r.entries, "entry", "entries"), cache.format_size(r.bytes)))
    end
    return 0
  end
  usage_error("cache takes no argument, or 'prune --max-size SIZE'")
end

M.usage_error = usage_error

local function rule_names()
  local names = {}
  for rule in pairs(diagnostics.RULES) do
    if rule ~= "workflow-key" then names[#names + 1] = rule end
  end
  table.sort(names)
  return names
end

-- --disable adds up over repeats: the set of the command line being read.
local disabled = {}

local function disable_flag(value, name)
  local set = disabled
  for rule in value:gmatch("[^,%s]+") do
    if not diagnostics.RULES[rule] then
      usage_error(("%s: no rule '%s' (rules: %s)"):format(name, rule,
        table.concat(rule_names(), ", ")))
    end
    set[rule] = true
  end
  return set
end

-- A narrator's words a minute: the fastest speech is about 600.
local MAX_PACE = 1000

local CHECK_FLAGS = {
  ["--json"] = { "json", false },
  ["--pace"] = { "pace", true, number_flag { 1, MAX_PACE } },
  ["--disable"] = { "disable", true, disable_flag, many = true },
  ["--caret"] = { "caret", false, function() return true end },
  ["--no-caret"] = { "caret", false, function() return false end },
}

local function stderr_is_terminal()
  local ok = os.execute("test -t 2")
  return ok == true
end

local function cmd_check(args)
  disabled = {}
  local positional, o = M.parse_args(args, CHECK_FLAGS)
  if #positional == 0 then usage_error("check takes at least one FILE") end
  local check = require "explainer.check"
  local caret = o.caret
  if caret == nil and not o.json then caret = stderr_is_terminal() end
  local status, all = 0, {}
  for _, path in ipairs(positional) do
    local found, lines = check.check_file(path, { pace = o.pace, disable = o.disable })
    if not found then
      stderr("explainer: %s", lines)
      status = 2
    else
      local counts = check.counts(found)
      if counts.error > 0 then status = math.max(status, 1) end
      if o.json then
        for _, d in ipairs(found) do all[#all + 1] = d end
      else
        diagnostics.print(found, { lines = caret and function(_, n) return lines[n] end })
        local parts = {}
        for _, severity in ipairs { "error", "warning", "note" } do
          local n = counts[severity]
          if n > 0 then parts[#parts + 1] = count(n, severity) end
        end
        stderr("%s: %s", path, #parts > 0 and table.concat(parts, ", ") or "no problems")
      end
    end
  end
  if o.json then
    local items = {}
    for i, d in ipairs(all) do
      items[i] = { file = d.file, line = d.line, column = d.column, severity = d.severity,
        rule = d.rule, message = d.message }
    end
    io.stdout:write(json.encode(list(items)), "\n")
  end
  return status
end

local function format_flag(value, name)
  if not require("explainer.template").FORMATS[value] then
    usage_error(name .. ": expected 9:16, 16:9 or 1:1, got '" .. value .. "'")
  end
  return value
end

-- Scenes of a blank script (a few MB at most).
local MAX_INIT_SCENES = 1000

local INIT_FLAGS = {
  ["--scenes"] = { "scenes", true, number_flag { 1, MAX_INIT_SCENES, true } },
  ["--format"] = { "format", true, format_flag },
  ["--title"] = { "title", true },
}

local function cmd_init(args)
  local positional, o = M.parse_args(args, INIT_FLAGS)
  if #positional > 1 then usage_error("init takes at most one FILE") end
  local text = require("explainer.template").render(o)
  local path = positional[1]
  if not path then
    io.stdout:write(text)
    return 0
  end
  local existing = io.open(path, "r")
  if existing then
    existing:close()
    stderr("explainer: %s: already exists; init does not overwrite a file", path)
    return 2
  end
  local f, err = io.open(path, "w")
  if not f then
    stderr("explainer: %s", err)
    return 2
  end
  f:write(text)
  f:close()
  stderr("explainer: wrote %s (%s); fill in the [placeholders], then: explainer check %s",
    path, count(o.scenes or 12, "scene"), path)
  return 0
end

-- What a bundled workflow does (its script's leading comment) and how to run
-- it; nil when `name` is none.
local function workflow_help(name)
  local names, dir = bundled_workflows()
  local found = false
  for _, n in ipairs(names or {}) do found = found or n == name end
  if not found then return nil end
  local path = dir .. "/" .. name .. ".lua"
  -- Its examples name it by its path in the source tree: by its name here.
  local about = table.concat(script_comment(path), "\n"):gsub("scripts/" .. name .. "%.lua", name)
    :gsub("^%l", string.upper)
  return ("usage: explainer %s FILE.txt [FILE.txt ...] [options]\n\n%s\n\n"
    .. "The bundled workflow %s (%s); it takes a run's options (explainer help run).\n")
    :format(name, about, name, path)
end

-- help TOPIC: a command's usage, or a bundled workflow's; no topic: a run's.
local function help(topic)
  topic = topic or "run"
  if topic == "--help" or topic == "-h" then topic = "help" end
  local text = HELP[topic]
  if topic == "check" then
    text = text:format(table.concat(rule_names(), ", "))
  elseif topic == "help" then
    text = text:format(table.concat(M.commands(), ", "),
      table.concat(bundled_workflows() or {}, ", "))
  elseif topic == "slurm" then
    text = require("explainer.slurm").USAGE
  end
  text = text or workflow_help(topic)
  if not text then
    local hint = did_you_mean(topic)
    usage_error(("help: no command '%s'%s"):format(topic,
      hint and "; " .. hint or ", nor a bundled workflow"))
  end
  io.stdout:write(text)
  return 0
end

COMMANDS = { { "check", cmd_check }, { "init", cmd_init }, { "parse", cmd_parse },
  { "narration", cmd_narration }, { "status", cmd_status }, { "estimate", cmd_estimate },
  { "run", cmd_run }, { "board", cmd_board }, { "cache", cmd_cache }, { "scripts", cmd_scripts },
  { "slurm", function(rest) return require("explainer.slurm").command(rest, M, host) end },
  { "help", function(rest) return help(rest[1]) end } }
DISPATCH = {}
for _, c in ipairs(COMMANDS) do DISPATCH[c[1]] = c[2] end

-- Does the command line ask for help (COMMAND --help, SCRIPT.lua --help)?
local function asks_help(argv)
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "--help" or a == "-h" then return true end
  end
  return false
end

--- Entry point: returns the exit status.
-- @tparam table args the command line (arg)
-- @tparam[opt] table host_info from the host binary: executable, scripts_dir
function M.main(args, host_info)
  host = host_info or {}
  local cmd = args[1]
  local rest = table.move(args, 2, #args, 1, {})
  local command = DISPATCH[cmd] and cmd -- nil: a run, SCRIPT.lua FILE...
  local ok, status = pcall(function()
    if cmd == nil or cmd == "--help" or cmd == "-h" then
      io.stdout:write(USAGE)
      return cmd == nil and 2 or 0
    elseif cmd == "--version" or cmd == "-V" then
      io.stdout:write("explainer ", explainer._VERSION, "\n")
      return 0
    elseif not command then
      return asks_help(args) and help("run") or cmd_run(args)
    end
    -- (help's own words are its topic: help --help is help help)
    if command ~= "help" and asks_help(rest) then return help(command) end
    return DISPATCH[command](rest)
  end)
  if ok then return status end
  if getmetatable(status) == argparse.UsageError then
    local message = status.message
    if status.option and command and command ~= "run" then
      message = ("%s takes no option '%s'"):format(command, status.option)
    end
    stderr("explainer: %s (see %s)", message,
      command and command ~= "run" and "explainer help " .. command or "explainer --help")
    return 2
  end
  error(status, 0)
end

return M
