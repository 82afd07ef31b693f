--- The storyboard page of a run: `<out>/<name>/board.html`.
--
-- One card a scene, side by side: its number, title and timing against the
-- length of its narration (too fast, too slow), its frame and clip, its words
-- and an audio player of them, where it stands (the rule of `explainer
-- status`: fresh, new, changed: narration, failed: the error), the `explainer
-- check` warnings on its lines, its prompts folded; above them the film with
-- its captions, the totals, the time and the estimated cost, and the warnings.
--
-- The page is the template `board.html` beside this file with the board's
-- data in it as JSON (drawn by the page's script, every text as text); the
-- same data goes to `board-data.js` beside the page, which an open page loads
-- again every 2 seconds while the data says the run is going. Both are written
-- whole through a temporary file and a rename. A run writes them at its first
-- scene, at most once a second while scenes settle (`start`), and at its end.
--
-- A board shows at most `MAX_SCENES` scenes (a storyboard is for looking at;
-- `explainer board FILE --scenes A-B` shows others), and runs `explainer
-- check` only on scripts of at most that many scenes, so that a run of a
-- script of 10,000 scenes is not slowed by a page no one could read.
-- @module explainer.board

local core = require "explainer_core"
local lfs = require "lfs"

local M = {}

--- The most scenes a board shows.
M.MAX_SCENES = 200
--- Seconds between two writes of the data while a run goes on.
M.INTERVAL = 1
--- Words a minute a narration is assumed to take before it is spoken (the
-- pace of explainer check's pacing rule).
M.PACE = 150 -- = explainer.check.DEFAULT_PACE (board_spec checks it; check is loaded when needed)

-- ------------------------------------------------------------------ files

--- Where a document's board goes.
-- @tparam string base the output folder (`--output-dir`)
-- @tparam string name the document's name
-- @treturn string the folder, the page and its data file
function M.paths(base, name)
  local dir = base .. "/" .. name
  return dir, dir .. "/board.html", dir .. "/board-data.js"
end

local template_text
local function template()
  if not template_text then
    local here = package.searchpath("explainer.board", package.path)
    local path = here and here:gsub("board%.lua$", "board.html")
    local f, err = io.open(path or "board.html", "rb")
    if not f then error("the board's template: " .. tostring(err), 0) end
    template_text = f:read("a")
    f:close()
  end
  return template_text
end

-- Whole, or not at all: a temporary name as explainer.artifact makes them
-- (".NAME.<n>.tmp", which explainer.sweep removes if a killed run left one).
local function write_whole(path, text)
  local dir, base = path:match("^(.*)/([^/]*)$")
  local tmp = ("%s/.%s.%d.tmp"):format(dir, base, math.random(1, 1e9))
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if ok and closed then ok, werr = os.rename(tmp, path) else werr = werr or cerr end
  if not ok then
    os.remove(tmp)
    return nil, werr
  end
  return path
end

-- JSON for a page: every "<" escaped, so that no text can close the script
-- element it is in ("</script>") or open a comment. (cjson writes "/" as "\/"
-- and an empty list as {}: both fine for the page.)
local function page_json(data)
  local json = require("cjson").encode(data)
  if not json:find("<", 1, true) then return json end
  local parts, at = {}, 1 -- (found plainly: a pattern's gsub costs more than the encoding)
  local i = json:find("<", 1, true)
  while i do
    parts[#parts + 1] = json:sub(at, i - 1)
    at = i + 1
    i = json:find("<", at, true)
  end
  parts[#parts + 1] = json:sub(at)
  return table.concat(parts, "\\u003c")
end

local function fill(json)
  local text = template()
  local at, stop = text:find("/*BOARD_DATA*/", 1, true)
  return text:sub(1, at - 1) .. json .. text:sub(stop + 1)
end

--- The page with its data, as text.
-- @tparam table data from `collect`
function M.render(data)
  return fill(page_json(data))
end

--- Write the page and its data file (each whole, or not at all).
-- @tparam string dir the document's output folder
-- @tparam table data from `collect`
-- @tparam[opt] string data_only "data": only board-data.js (the page's own
--   copy is older); and `page_only` "page": only the page
-- @treturn string|nil the page's path, or nil and a message
function M.write(dir, data, data_only, page_only)
  local ok, err = core.mkdir_p(dir)
  if not ok then return nil, err end
  local json = page_json(data)
  if not page_only then ok, err = write_whole(dir .. "/board-data.js", "explainerBoard(" .. json .. ");\n") end
  if ok and not data_only then ok, err = write_whole(dir .. "/board.html", fill(json)) end
  if not ok then return nil, err end
  return dir .. "/board.html"
end

-- ------------------------------------------------------------------ media

-- A path relative to the page as a URL path: only unreserved characters and
-- "/" as they are.
local function url(rel)
  return (rel:gsub("[^%w%-%._~/]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- The first of `names` that is a non-empty file in dir/folder: its URL (with
-- its time, so that a page following a run shows the new one), path, attributes.
local function find(dir, folder, names)
  for _, name in ipairs(names) do
    if name then
      local rel = folder and (folder .. "/" .. name) or name
      local path = dir .. "/" .. rel
      local a = lfs.attributes(path)
      if a and a.mode == "file" and a.size > 0 then
        return ("%s?v=%d"):format(url(rel), a.modification), path, a
      end
    end
  end
end

local lengths = {} -- "path|time|size" -> seconds, or false when unknown

--- How long a sound or a film lasts, through the recipes (nil when unknown).
-- Kept for the same file, so that a run's page asks once per file.
local function length_of(path, a)
  local k = ("%s|%d|%d"):format(path, a.modification, a.size)
  if lengths[k] == nil then
    local ok, common = pcall(require, "explainer.recipes.common")
    local seconds
    if ok and type(common.media_duration) == "function" then
      local called, value = pcall(common.media_duration, path)
      seconds = called and tonumber(value) or nil
    end
    lengths[k] = seconds or false
  end
  return lengths[k] or nil
end

-- What a scene's folder may hold, by kind: the recipes' names first, and
-- the extensions by which the workflow's own output is one of them.
local KINDS = {
  image = { names = { "final.png" }, ext = { png = true, jpg = true, jpeg = true, webp = true, gif = true } },
  clip = { names = { "clip.mp4", "animation.mp4" }, ext = { mp4 = true, webm = true, mov = true } },
  audio = { names = { "narration.mp3" }, ext = { mp3 = true, wav = true, ogg = true, m4a = true } },
}

-- The names to look for: the workflow's own output first when it is of the kind.
local function names_of(kind, own)
  local k = KINDS[kind]
  local ext = own and own:match("%.(%w+)$")
  if not (ext and k.ext[ext:lower()]) then return k.names end
  local t = { own }
  for _, n in ipairs(k.names) do if n ~= own then t[#t + 1] = n end end
  return t
end

-- ------------------------------------------------------------------ scenes

local function secs(s)
  if s == math.floor(s) then return ("%d s"):format(s) end
  return ("%.1f s"):format(s)
end

-- Too fast: more speech than the scene holds (the clip grows to fit it, or
-- the words are rushed); too slow: under half of the scene spoken.
local function pacing(duration, spoken, estimated)
  if not spoken or not duration or duration <= 0 then return nil end
  local about = estimated and ("≈ %s of speech (at %d words a minute)"):format(secs(spoken), M.PACE)
    or secs(spoken) .. " of speech"
  if spoken > duration + 0.05 then
    return "too fast", ("too fast: %s in a %s scene"):format(about, secs(duration))
  elseif spoken < duration * 0.5 and duration - spoken >= 2 then
    return "too slow", ("too slow: %s in a %s scene"):format(about, secs(duration))
  end
end

-- Where a scene stands: while the run goes on, what the run said of it last;
-- else what `status` says (`failed` with the error its last run gave).
local function standing_of(number, ctx)
  local ev = ctx.events and ctx.events[number]
  if ev then
    local e = ev.event
    if e == "start" then return "running", "running (" .. (ev.reason or "new") .. ")" end
    if e == "retry" then return "running", "retrying after: " .. (ev.error or "failed") end
    if e == "done" then
      return "done", ("done (made now, %s)"):format(secs(tonumber(("%.1f"):format(ev.seconds or 0))))
    end
    if e == "failed" then return "failed", "failed: " .. (ev.error or "failed") end
    if e == "locked" then return "running", ev.reason or "locked by another run" end
    return (ev.reason or "fresh"):match("^%a+") or "fresh", ev.reason or "fresh"
  end
  local st = ctx.standings and ctx.standings[number]
  if not st then return "waiting", ctx.running and "waiting" or "not known" end
  if st.reason == "running" then return "running", "running (another run holds it)" end
  local err = st.standing == "failed" and ctx.errors and ctx.errors[number]
  return st.standing, err and ("failed: " .. err) or st.reason
end

-- One card's data.
local function scene_entry(scene, ctx)
  local folder = core.scene_output_dir("", "", scene.scene_number):match("[^/]+$")
  local image, clip, audio, audio_path, audio_attr
  if lfs.attributes(ctx.dir .. "/" .. folder, "mode") == "directory" then
    image = find(ctx.dir, folder, names_of("image", ctx.output_filename))
    clip = find(ctx.dir, folder, names_of("clip", ctx.output_filename))
    audio, audio_path, audio_attr = find(ctx.dir, folder, names_of("audio", ctx.output_filename))
  end
  local narration = not scene.no_narration and scene.narration or nil
  local spoken, estimated
  if narration then
    spoken = audio and ctx.measure and length_of(audio_path, audio_attr)
    if not spoken then -- (as explainer check counts them, for its pacing rule)
      spoken, estimated = require("explainer.check").words(narration) / M.PACE * 60, true
    end
  end
  local pace, pace_text = pacing(scene.duration, spoken, estimated)
  local standing, text = standing_of(scene.scene_number, ctx)
  return {
    number = scene.scene_number, title = scene.title or "", line = scene.line,
    duration = scene.duration, no_narration = scene.no_narration or nil, narration = narration,
    spoken = spoken and tonumber(("%.1f"):format(spoken)), spoken_estimated = estimated,
    pacing = pace, pacing_text = pace_text, standing = standing, standing_text = text,
    image = image, clip = clip, audio = narration and audio or nil, -- (a silent scene's track is silence)
    layout = scene.layout, initial_prompt = scene.initial_prompt, iterations = scene.iterations,
    final_prompt = scene.final_prompt, animation_prompt = scene.animation_prompt,
    warnings = ctx.scene_warnings and ctx.scene_warnings[scene.scene_number],
  }
end

-- ------------------------------------------------------------------ warnings

--- What a list of diagnostics holds, by severity as `explainer check` says
-- them: "1 error, 3 warnings, 1 note".
-- @tparam table list diagnostics
-- @treturn string
function M.problems(list)
  local c, parts = require("explainer.check").counts(list), {}
  for _, sev in ipairs { "error", "warning", "note" } do
    if c[sev] > 0 then parts[#parts + 1] = ("%d %s%s"):format(c[sev], sev, c[sev] == 1 and "" or "s") end
  end
  return table.concat(parts, ", ")
end

-- A heading that ends a scene's block (as explainer.check reads them).
local function is_block_heading(line)
  local hashes = line:match("^(#+)")
  return hashes ~= nil and #hashes <= 2
end

--- The check's warnings of a document, each with the scene it is about
-- (`scene`, when it is on a scene's lines or names it).
-- @tparam table document
-- @treturn table diagnostics (explainer.check's, or the parse warnings alone
--   for a script over MAX_SCENES scenes)
-- @treturn string|nil why the check was not run
function M.warnings(document)
  local diagnostics = require "explainer.diagnostics"
  local n = #document.scenes
  local list, lines, note
  local f = n <= M.MAX_SCENES and document.path and io.open(document.path, "rb")
  if f then
    local bytes = f:read("a")
    f:close()
    list, lines = require("explainer.check").check_text(bytes, document.path, {}, document)
  else
    list = diagnostics.from_document(document, true)
    note = n > M.MAX_SCENES and ("explainer check is not run for a board of a script of %d scenes "
      .. "(over %d): `explainer check %s` lists every warning"):format(n, M.MAX_SCENES, document.path or "")
  end
  -- Each scene's block: from its header to the next heading of level 1 or 2.
  local blocks = {}
  for i = 1, (lines and n or 0) do
    local s = document.scenes[i]
    local last = s.line
    while lines[last + 1] and not is_block_heading(lines[last + 1]) do last = last + 1 end
    blocks[#blocks + 1] = { s.line, last, s.scene_number }
  end
  for _, d in ipairs(list) do
    local named = d.message:match("^scenes? (%d+)[: ]")
    if d.rule == "pacing" and named then d.scene = tonumber(named) end
    for _, b in ipairs(d.scene == nil and blocks or {}) do
      if d.line >= b[1] and d.line <= b[2] then d.scene = b[3] break end
    end
  end
  return list, note
end

-- ------------------------------------------------------------------ the board

local function clock(s)
  s = math.floor((s or 0) + 0.5)
  return ("%dm %02ds"):format(s // 60, s % 60)
end

local function plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

-- The film beside the scene folders, and its captions.
local function film(ctx, entries)
  local name = ctx.document.name
  local video, path, a = find(ctx.dir, nil, { name .. ".mp4" })
  if not video then return nil end
  local f = { video = video }
  for _, e in ipairs(entries) do -- its poster: the first scene's frame
    if e.image then f.poster = e.image break end
  end
  local vtt, vtt_path = find(ctx.dir, nil, { name .. ".vtt" })
  if vtt then
    f.captions = vtt
    local h = io.open(vtt_path, "rb")
    local text = h and h:read(1 << 20)
    if h then h:close() end
    f.captions_text = text
  end
  local length = ctx.measure and length_of(path, a)
  f.note = (length and ("%s of film"):format(secs(tonumber(("%.1f"):format(length)))) or name .. ".mp4")
    .. (vtt and (", captions " .. name .. ".vtt") or ", no captions file")
  return f
end

local function totals(ctx, entries, all)
  local rows = {}
  local counts, order = {}, {}
  for _, e in ipairs(entries) do
    if not counts[e.standing] then order[#order + 1] = e.standing end
    counts[e.standing] = (counts[e.standing] or 0) + 1
  end
  local parts = {}
  for _, w in ipairs(order) do parts[#parts + 1] = counts[w] .. " " .. w end
  rows[#rows + 1] = { "Scenes", ("%d%s: %s"):format(all, #entries < all and (" (%d shown)"):format(#entries) or "",
    table.concat(parts, ", ")) }
  local length, spoken, measured, estimated = 0, 0, 0, 0
  for _, e in ipairs(entries) do
    length = length + (e.duration or 0)
    if e.spoken then
      spoken = spoken + e.spoken
      if e.spoken_estimated then estimated = estimated + 1 else measured = measured + 1 end
    end
  end
  rows[#rows + 1] = { "Length", ("%s in the script (%s)"):format(clock(ctx.document.total_duration),
    secs(ctx.document.total_duration)) }
  rows[#rows + 1] = { "Speech", ("%s%s in %s%s"):format(estimated > 0 and "≈ " or "", clock(spoken),
    plural(measured + estimated, "narration"), estimated > 0 and (" (%d not spoken yet: from their words)")
      :format(estimated) or "") }
  if ctx.warnings then
    rows[#rows + 1] = { "Check", #ctx.warnings == 0 and "no problems" or (M.problems(ctx.warnings) .. ", below") }
  end
  if ctx.last then rows[#rows + 1] = { ctx.running and "Running" or "Last run", ctx.last } end
  if ctx.cost then rows[#rows + 1] = { "Estimated cost", ctx.cost } end
  rows[#rows + 1] = { "Workflow", ctx.workflow or "default" }
  return rows
end

--- The board's data.
-- @tparam table ctx `document` (a document table), `dir` (its output folder),
--   `workflow` (its name), `output_filename`; `standings` (scene number ->
--   `explainer.status` entry), `errors` (scene number -> its last error),
--   `events` (scene number -> what the running run said of it last),
--   `warnings` (from `warnings`) and `warnings_note`, `shown` (the scene
--   tables to show, in order), `last` (a line about the run), `cost` (a line),
--   `state` (a line), `running`, `measure` (ask the length of each narration)
-- @treturn table what the page draws
function M.collect(ctx)
  local document = ctx.document
  if ctx.warnings and not ctx.scene_warnings then
    ctx.scene_warnings = {}
    for _, d in ipairs(ctx.warnings) do
      if d.scene then
        local l = ctx.scene_warnings[d.scene] or {}
        l[#l + 1] = d
        ctx.scene_warnings[d.scene] = l
      end
    end
  end
  local entries = {}
  for i, scene in ipairs(ctx.shown) do
    entries[i] = ctx.entry and ctx.entry(scene) or scene_entry(scene, ctx)
  end
  local all = #document.scenes
  local sub = { document.path or document.name, plural(all, "scene") }
  if document.format then sub[#sub + 1] = document.format end
  if document.audience then sub[#sub + 1] = "for " .. document.audience end
  if document.style then sub[#sub + 1] = "style: " .. document.style end
  local data = {
    version = 1, name = document.name, title = document.title or document.name,
    subtitle = table.concat(sub, " · "), state = ctx.state, running = ctx.running == true,
    updated = os.date("%Y-%m-%d %H:%M:%S"), workflow = ctx.workflow,
    film = film(ctx, entries), totals = totals(ctx, entries, all), warnings = ctx.warnings or {},
    problems = ctx.warnings and M.problems(ctx.warnings) or "",
    warnings_note = ctx.warnings_note, scenes = entries,
  }
  local last = ctx.shown[#ctx.shown]
  if #entries < all and last then
    data.more = ("%d of the script's %d scenes are on this board. `explainer board %s --scenes A-B` "
      .. "shows others (at most %d)."):format(#entries, all, document.path or document.name, M.MAX_SCENES)
  end
  return data
end

M.scene_entry = scene_entry

--- "Board: PATH" on stderr for a person (plain progress; a JSON reader knows
-- where the page goes, and --quiet says nothing).
function M.announce(path)
  local mode = require("explainer.settings").progress
  if mode == "auto" or mode == "plain" then require("explainer.log").say("Board: " .. path) end
end

--- A card's first words, for a run's first page: what the script says of
-- the scene's heading and where it stands; the rest comes with the next page.
-- (A run of quick scenes is over before anyone could read a page: its first
-- costs little.)
-- @tparam table scene
-- @tparam table ctx as for `collect`
function M.light_entry(scene, ctx)
  local standing, text = standing_of(scene.scene_number, ctx)
  return { number = scene.scene_number, title = scene.title or "", duration = scene.duration,
    standing = standing, standing_text = text, pending = true }
end
M.standing_of = standing_of
M.clock = clock

--- The scene tables a board shows: those of `numbers` (in file order), else
-- the script's first `MAX_SCENES`.
-- @tparam table document
-- @tparam[opt] table numbers scene numbers
function M.shown(document, numbers)
  local want
  if numbers then
    want = {}
    for _, n in ipairs(numbers) do want[n] = true end
  end
  local list = {}
  for i = 1, #document.scenes do
    if #list >= M.MAX_SCENES then break end
    local s = document.scenes[i]
    if not want or want[s.scene_number] then list[#list + 1] = s end
  end
  return list
end

--- The estimated cost, as a line: what a run of the workflow with this
-- environment's backends would spend now (fresh scenes and made files cost
-- nothing; local backends are free, and then nothing more is asked).
-- @tparam table document the script's
-- @tparam table opts `workflow` (its name), `workflow_table`, and the status
--   options (`output_base_dir`, `output_filename`, `inputs`)
-- @treturn string
function M.cost(document, opts)
  -- A workflow that loaded none of the recipes (the clients of the paid
  -- services) sends them nothing; the estimate (and the recipes it loads)
  -- would only say so, at a cost to every short run.
  if not package.loaded["explainer.recipes.common"] and not (opts.workflow_table or {}).makes then
    return "nothing: the workflow uses none of explainer's recipes"
  end
  local ok, line = pcall(function()
    local estimate = require "explainer.estimate"
    local makes, assumed = estimate.makes(opts.workflow_table or {}, opts.workflow or "default")
    if assumed then
      return "not estimated: the workflow does not say what it makes (makes = {...})"
    end
    local ropts = { document = document }
    local function backend(kind) return require("explainer.recipes." .. kind).settings(ropts).backend end
    local paid = ((makes.image or makes.video) and backend("image") ~= "local")
      or ((makes.audio or makes.video) and backend("audio") ~= "local")
      or (makes.video and require("explainer.recipes.animate").settings(ropts) ~= nil)
    if not paid then return "$0.00: this environment's backends are all local (free)" end
    local prices, perr = estimate.prices()
    if not prices then return "not estimated: " .. tostring(perr) end
    local e, err = estimate.file(document.path, { output_base_dir = opts.output_base_dir,
      output_filename = opts.output_filename, workflow = opts.workflow, inputs = opts.inputs,
      makes = makes, prices = prices })
    if not e then return "not estimated: " .. tostring(err) end
    local money = prices.currency == "USD" and ("$%.2f"):format(e.cost) or ("%.2f %s"):format(e.cost, prices.currency)
    return ("%s%s to make the %s not fresh with this environment's backends (prices of %s)")
      :format(e.complete and "" or "at least ", money, plural(e.scenes.to_make, "scene"), prices.date)
  end)
  if not ok then return "not estimated: " .. tostring(line) end
  return line
end

--- What the last run in a folder said, when it was of `workflow`: each failed
-- scene's error, and a line about it.
-- @tparam string dir the document's output folder
-- @tparam string workflow
-- @treturn table `errors` (scene number -> message), `last` (a line or nil)
function M.last_run(dir, workflow)
  local f = io.open(dir .. "/report.json", "rb")
  local r = f and require("cjson.safe").decode(f:read("a"))
  if f then f:close() end
  if type(r) ~= "table" then return { errors = {} } end
  if r.workflow ~= workflow then
    return { errors = {}, last = ("the last run here was of the workflow %s"):format(tostring(r.workflow)) }
  end
  local errors = {}
  for _, s in ipairs(type(r.scenes) == "table" and r.scenes or {}) do
    if type(s) == "table" and s.state == "failed" and type(s.error) == "string" then
      errors[s.scene_number] = s.error
    end
  end
  local when = lfs.attributes(dir .. "/report.json", "modification")
  return { errors = errors, last = M.run_line(r, when) }
end

--- A line about a run: its time, what it made, skipped and failed.
-- @tparam table r stats or report.json: elapsed_time, completed, skipped,
--   failed, interrupted
-- @tparam[opt] number when its end (seconds since the epoch)
function M.run_line(r, when)
  local function n(v) return math.tointeger(tonumber(v) or 0) or 0 end
  local line = ("%s: %d made, %d skipped, %d failed"):format(clock(tonumber(r.elapsed_time)),
    n(r.completed), n(r.skipped), n(r.failed))
  if type(r.interrupted) == "string" then line = line .. ", interrupted by " .. r.interrupted end
  if when then line = line .. os.date(" (ended %Y-%m-%d %H:%M)", when) end
  return line
end

--- Write the board of a document as `explainer status` sees it now (the
-- `board` command, `--finish-only`).
-- @tparam table document the parsed document
-- @tparam table opts `output_base_dir`, `output_filename`, `workflow` (its
--   name), `workflow_table`, `inputs` (the workflow's), `scene_numbers` (those
--   to show); `standings` (an `explainer.status` list, else asked here)
-- @treturn string|nil the page's path, or nil and a message
function M.snapshot(document, opts)
  local base = opts.output_base_dir or "output"
  local dir = M.paths(base, document.name)
  local shown = M.shown(document, opts.scene_numbers)
  local standings = opts.standings
  if not standings then
    local numbers = {}
    for i, s in ipairs(shown) do numbers[i] = s.scene_number end
    local err
    standings, err = require("explainer").status(document.path, { output_base_dir = base,
      output_filename = opts.output_filename, workflow = opts.workflow, inputs = opts.inputs,
      scene_numbers = numbers })
    if not standings then return nil, err end
  end
  local by, running = {}, false
  for _, st in ipairs(standings) do
    by[st.scene_number] = st
    running = running or st.reason == "running"
  end
  local report = M.last_run(dir, opts.workflow)
  local warnings, note = M.warnings(document)
  local cost = #document.scenes <= M.MAX_SCENES and M.cost(document, opts)
    or ("not estimated for a script of %d scenes (explainer estimate)"):format(#document.scenes)
  local data = M.collect { document = document, dir = dir, workflow = opts.workflow,
    output_filename = opts.output_filename, standings = by, errors = report.errors,
    warnings = warnings, warnings_note = note, shown = shown, last = report.last, cost = cost,
    running = running, measure = true,
    state = running and os.date("A run is going on: this page follows it (%H:%M:%S)")
      or os.date("Where each scene stands, as explainer status says (%Y-%m-%d %H:%M)") }
  return M.write(dir, data)
end

return M
