--- The board of a run as it goes (explainer.board): written at the run's
-- first scene, again at most once a second (`board.INTERVAL`) while scenes
-- start and settle and only when one did, then once more at the end with
-- where each scene stands for `explainer status`, the check's warnings, the
-- film and the estimated cost.
--
-- The core tells of each scene on the board through the run's
-- `on_scene(event, scene_number, reason, error, seconds, settled)` option
-- (events as in `--progress json`: start, retry, done, failed, skipped,
-- locked; `on_scene_numbers` lists the scenes; of the others, one event a
-- second), called in the run's own process, never from a worker. Nothing
-- here can fail a run: a board that cannot be written is a warning, said once.
--
--     local live = require("explainer.board_live").start(handle, document, opts, copts)
--     if live then copts.on_scene, copts.on_scene_numbers = live.on_scene, live.numbers end
--     local stats = core.run(handle, document, fn, copts)
--     if live then live:close(stats) end
-- @module explainer.board_live

local board = require "explainer.board"
local core = require "explainer_core"
local log = require "explainer.log"

local M = {}

local Live = {}
Live.__index = Live

--- Follow a run; nil for a run that writes no board (a dry run, or a shard:
-- the `--finish-only` after the shards writes it).
-- @param handle the Document userdata of the run
-- @tparam table document its table (scenes may be made as they are read)
-- @tparam table opts the run's options
-- @tparam table copts the options as the core takes them (for status)
function M.start(handle, document, opts, copts)
  if opts.dry_run or opts.shard then return nil end
  local base = opts.output_base_dir or "output"
  local self = setmetatable({ handle = handle, document = document, opts = opts, copts = copts,
    dir = (board.paths(base, document.name)), events = {}, cache = {}, next_write = 0,
    started = core.time(), settled = 0, shown = board.shown(document), on_board = {} }, Live)
  --- The scenes the core tells on_scene of each event (the others: one a second).
  self.numbers = {}
  for i, s in ipairs(self.shown) do
    self.numbers[i] = s.scene_number
    self.on_board[s.scene_number] = true
  end
  self.on_scene = M.listener(self)
  return self
end

--- What the core says of a scene (the run's on_scene), as a function: each
-- event of a scene on the board, one other a second. The page is written at
-- the first event, then at most once a second; and at the start of a scene
-- after one that took a second or more: such a scene may run for long, with
-- no event to write the page meanwhile, and is shown running at once.
function M.listener(self)
  local events, cache, on_board = self.events, self.cache, self.on_board
  local after_slow = false
  return function(event, number, reason, err, seconds, settled)
    self.settled = settled
    if event == "done" or event == "failed" then after_slow = seconds >= board.INTERVAL end
    if on_board[number] then
      events[number] = { event = event, reason = reason, error = err, seconds = seconds }
      cache[number] = nil
    end
    local now = core.time()
    local start_after_slow = after_slow and event == "start"
    if start_after_slow then after_slow = false end
    if now >= self.next_write or start_after_slow then self:write(now) end
  end
end

-- The scenes shown and what does not change during the run, at its first write.
function Live:prepare()
  local document = self.document
  local selected = self.opts.scene_numbers and #self.opts.scene_numbers or #document.scenes
  local ctx = { document = document, dir = self.dir, workflow = self.opts.workflow or "default",
    output_filename = self.opts.output_filename,
    shown = self.shown, measure = true, selected = selected, events = self.events }
  ctx.entry = function(scene)
    if self.light then return board.light_entry(scene, ctx) end
    local e = self.cache[scene.scene_number]
    if not e then
      e = board.scene_entry(scene, ctx)
      self.cache[scene.scene_number] = e
    end
    return e
  end
  self.ctx = ctx
end

function Live:page(final)
  if not self.ctx then self:prepare() end
  local ctx = self.ctx
  if final then
    ctx.running = false
  else
    ctx.events, ctx.running = self.events, true
    ctx.last = ("%s so far: %d of %d scenes settled"):format(board.clock(core.time() - self.started),
      math.min(self.settled, ctx.selected), ctx.selected)
    ctx.state = self.in_finish and os.date("The scenes are done; the workflow's finish is running (%H:%M:%S)")
      or os.date("A run is going on: this page follows it (%H:%M:%S)")
  end
  -- The first page is light (board.light_entry) and needs no board-data.js
  -- yet (the page asks for it again until there is one); the check's warnings
  -- come with the first full page.
  self.light = not final and not self.written
  if not self.light and not ctx.warnings then
    ctx.warnings, ctx.warnings_note = board.warnings(self.document)
  end
  local path, err = board.write(self.dir, board.collect(ctx), not final and self.written and "data",
    self.light and "page")
  if not path then error(err, 0) end
  self.written = true
  return path
end

function Live:write(now, final)
  self.next_write = now + board.INTERVAL
  local ok, path = pcall(self.page, self, final)
  if not ok then
    log.warn_once("board:" .. self.dir, ("%s/board.html: %s"):format(self.dir, tostring(path)))
    return nil
  end
  return path
end

--- The scenes are done: the page says the finish (the film) is under way.
function Live:finishing()
  self.in_finish = true
  self:write(core.time())
  self.finish_started = core.time()
end

--- The run is over: the last page, where each scene stands now.
-- @tparam table stats the run's
-- @tparam[opt] string finish_error what the workflow's finish raised
-- @treturn string|nil the page's path
function Live:close(stats, finish_error)
  if not self.ctx then
    local ok, err = pcall(self.prepare, self)
    if not ok then
      log.warn_once("board:" .. self.dir, ("%s/board.html: %s"):format(self.dir, tostring(err)))
      return nil
    end
  end
  local ctx = self.ctx
  local n = #self.document.scenes
  ctx.errors = {}
  for _, s in ipairs(stats.scenes or {}) do
    if s.error then ctx.errors[s.scene_number] = s.error end
  end
  if n <= board.MAX_SCENES then
    -- Where each shown scene stands now, by the rule of `explainer status`.
    local sopts = {}
    for k, v in pairs(self.copts) do sopts[k] = v end
    sopts.on_scene, sopts.on_scene_numbers, sopts.progress = nil, nil, "quiet"
    sopts.skip_existing, sopts.dry_run = nil, nil -- (status has no --no-skip: "forced" is a run's word)
    sopts.scene_numbers = self.numbers
    local ok, standings = pcall(core.status, self.handle, sopts)
    ctx.standings = {}
    for _, st in ipairs(ok and type(standings) == "table" and standings or {}) do
      ctx.standings[st.scene_number] = st
    end
    -- The cards made during the run stand as they are but for their standing.
    ctx.events = nil
    for number, e in pairs(self.cache) do e.standing, e.standing_text = board.standing_of(number, ctx) end
  end
  -- (A script of more: its cards say what the run did, as they did while it
  -- went; reading its whole journal again would cost the run more than its
  -- page is worth. `explainer board` says where they stand.)
  ctx.last = board.run_line(stats) .. (self.finish_started and ("; then its finish: %s")
    :format(board.clock(core.time() - self.finish_started)) or "")
  ctx.cost = n <= board.MAX_SCENES and board.cost(self.document, self.opts)
    or ("not estimated for a script of %d scenes (explainer estimate)"):format(n)
  local state = { os.date("Made by the run that ended %Y-%m-%d %H:%M") }
  if n > board.MAX_SCENES then
    state[#state + 1] = ("the cards say what it did (explainer board %s says where they stand)")
      :format(self.document.path or self.document.name)
  end
  if stats.interrupted then state[#state + 1] = "interrupted by " .. stats.interrupted end
  if stats.fatal then state[#state + 1] = "stopped: " .. stats.fatal end
  if finish_error then state[#state + 1] = tostring(finish_error) end
  ctx.state = table.concat(state, "; ")
  local path = self:write(core.time(), true)
  if path then board.announce(path) end
  return path
end

return M
