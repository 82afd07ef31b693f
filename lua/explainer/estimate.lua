--- What a run will send and cost, before anything is spent:
-- `explainer estimate WORKFLOW FILE.txt`.
--
-- For each scene that is not fresh (see `explainer.status`: a fresh scene, or
-- one whose output exists, costs nothing), the requests the bundled recipes
-- would send with the backends the environment chooses: image generations
-- and edits, characters of speech, seconds of video; a file of the scene
-- that is fresh, kept (made by hand) or in the shared cache is not asked
-- for again. The cost comes from a dated price table (`explainer.prices`,
-- overridable with `EXPLAINER_PRICES=FILE`); the film's length from the
-- scenes' durations and their narration (measured when the track exists,
-- else from its words at the speaking rate, an offline voice paced to its
-- scene: `audio.estimate_seconds`).
--
-- What a workflow makes: its `makes` field (a list of `"image"`, `"audio"`,
-- `"video"`), else by its name (`video`: all three, `image`, `audio`,
-- `prompts`: nothing); another workflow is counted as `video`, and the
-- estimate says it assumed so.
-- @module explainer.estimate

local explainer = require "explainer"
local artifact = require "explainer.artifact"
local cache = require "explainer.cache"
local common = require "explainer.recipes.common"
local image = require "explainer.recipes.image"
local audio = require "explainer.recipes.audio"
local animate = require "explainer.recipes.animate"

local M = {}

-- ---- prices ----------------------------------------------------------------------

local KINDS = { "image", "edit", "speech", "video" }
local UNITS = { image = true, megapixel = true, ["million characters"] = true,
                ["thousand characters"] = true, second = true, video = true }

-- `origin` names where the path came from (--prices, EXPLAINER_PRICES).
local function read_prices_file(path, origin)
  local f, err = io.open(path, "rb")
  if not f then return nil, (origin and origin .. ": " or "") .. tostring(err) end
  local text = f:read("a") or ""
  f:close()
  local data
  if text:match("^%s*[{%[]") then
    local cjson = require "cjson.safe"
    local why
    data, why = cjson.decode(text)
    if type(data) ~= "table" then return nil, ("%s: not valid JSON (%s)"):format(path, tostring(why)) end
  else
    local chunk, why = load(text, "@" .. path, "t", {})   -- data only: no functions to call
    if not chunk then return nil, path .. ": " .. tostring(why) end
    -- A table of prices takes a few thousand instructions, not millions.
    debug.sethook(function() error("runs too long for a table of prices", 2) end, "", 10000000)
    local ok, value = pcall(chunk)
    debug.sethook()
    if not ok then return nil, path .. ": " .. tostring(value) end
    if type(value) ~= "table" then return nil, path .. ": must return a table of prices" end
    data = value
  end
  return data
end

--- The price table: `explainer.prices`, with the entries of the file
-- `path` (else `EXPLAINER_PRICES`) over it.
-- @tparam[opt] string path a Lua file returning a table, or a JSON file
-- @tparam[opt] string origin what gave `path`, for the message when it cannot
--   be opened (`"--prices"`; `EXPLAINER_PRICES` when the path is its)
-- @treturn table|nil `date`, `currency`, `source`, `file` (the override
-- read, if any), and `image`, `edit`, `speech`, `video` (`backend/model` ->
-- `{unit=, price=, by_size=}`)
-- @treturn string|nil message: the file cannot be read, or an entry is not a
-- price (`path: video["fal/x"]: unit must be one of ...`)
function M.prices(path, origin)
  local base = require "explainer.prices"
  local t = { date = base.date, currency = base.currency, source = base.source }
  for _, kind in ipairs(KINDS) do
    t[kind] = {}
    for name, entry in pairs(base[kind] or {}) do t[kind][name] = entry end
  end
  if path == nil then path, origin = os.getenv("EXPLAINER_PRICES"), "EXPLAINER_PRICES" end
  if path == nil or path == "" then return t end
  local data, err = read_prices_file(path, origin)
  if not data then return nil, err end
  t.file = path
  for _, field in ipairs { "date", "currency", "source" } do
    if data[field] ~= nil then t[field] = tostring(data[field]) end
  end
  for _, kind in ipairs(KINDS) do
    if data[kind] ~= nil and type(data[kind]) ~= "table" then
      return nil, ("%s: %s must be a table of prices"):format(path, kind)
    end
    for name, entry in pairs(data[kind] or {}) do
      if type(entry) ~= "table" or not UNITS[entry.unit] or type(entry.price) ~= "number" or entry.price < 0 then
        return nil, ('%s: %s["%s"]: expected {unit = ..., price = N}, unit one of image, megapixel, '
          .. 'million characters, thousand characters, second, video'):format(path, kind, tostring(name))
      end
      t[kind][name] = entry
    end
  end
  return t
end

local FAL_SIZES = { portrait_16_9 = { 576, 1024 }, landscape_16_9 = { 1024, 576 }, square_hd = { 1024, 1024 },
                    square = { 512, 512 }, portrait_4_3 = { 768, 1024 }, landscape_4_3 = { 1024, 768 } }

--- The price of `count` requests of a kind, or nil when the table has none.
-- @tparam table prices from `prices`
-- @tparam string kind `image`, `edit`, `speech` or `video`
-- @tparam string name `backend/model`
-- @tparam number amount images, characters, seconds or videos (by the unit)
-- @tparam[opt] table extra `size` (an image's "WxH" or fal size name),
-- `requests` (videos, for a per-video price)
-- @treturn number|nil the cost
function M.cost(prices, kind, name, amount, extra)
  local entry = prices[kind] and prices[kind][name]
  if not entry then return nil end
  extra = extra or {}
  local price = entry.by_size and extra.size and entry.by_size[extra.size] or entry.price
  if entry.unit == "megapixel" then
    local w, h = common.parse_size(extra.size)
    if not w and FAL_SIZES[extra.size or ""] then w, h = table.unpack(FAL_SIZES[extra.size]) end
    return amount * math.ceil((w or 1024) * (h or 1024) / 1e6) * price
  elseif entry.unit == "million characters" then
    return amount / 1e6 * price
  elseif entry.unit == "thousand characters" then
    return amount / 1e3 * price
  elseif entry.unit == "video" then
    return (extra.requests or amount) * price
  end
  return amount * price   -- image, second
end

-- ---- what a workflow makes ----------------------------------------------------------

local BUNDLED = { video = { "image", "audio", "video" }, image = { "image" }, audio = { "audio" }, prompts = {} }

--- What a workflow makes: its `makes` list, else the bundled one of its name.
-- @tparam table workflow
-- @tparam string name the workflow's name (`video`, ...)
-- @treturn table set (`image`, `audio`, `video` -> true)
-- @treturn boolean whether it was assumed (an unknown workflow counts as `video`)
function M.makes(workflow, name)
  local list, assumed = workflow.makes, false
  if type(list) ~= "table" then
    list = BUNDLED[name]
    if not list then list, assumed = BUNDLED.video, true end
  end
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set, assumed
end

-- ---- one file --------------------------------------------------------------------

-- Is a file there as it should be, or waiting in the cache? Then it costs nothing.
local function have(path, k)
  local standing = artifact.standing(path, k)
  if standing == "fresh" or standing == "foreign" then return true end
  local dir = cache.dir()
  if not dir then return false end
  local ext = path:match("(%.%w+)$") or ""
  -- The cache's layout (explainer.cache): v1/<first two hex digits>/<id><ext>.
  local f = io.open(("%s/v1/%s/%s%s"):format(dir, k.id:sub(1, 2), k.id, ext), "rb")
  if f then f:close() end
  return f ~= nil
end

local function add(t, field, n)
  t[field] = (t[field] or 0) + n
end

--- Estimate one file: what its run would send and cost.
-- @tparam string path the explainer script
-- @tparam table opts the run's options as `explainer.status` takes them
-- (`output_base_dir`, `output_filename`, `workflow`, `scene_numbers`,
-- `inputs`), and `makes` (a set, as `makes` gives it), `prices` (from
-- `prices`), `recipe` (options for the recipes; default: the document)
-- @treturn table|nil the estimate: `file`, `scenes` (`total`, `fresh`,
-- `to_make`), `images` (`backend`, `model`, `edit_model`, `generations`,
-- `edits`, `cards`, `reused`, `cost`), `speech` (`backend`, `model`,
-- `narrations`, `characters`, `reused`, `cost`), `video` (`backend`,
-- `model`, `requests`, `seconds`, `reused`, `cost`; nil without a backend),
-- `film_seconds`, `cost`, `unpriced` (the requests with no price), `complete`
-- @treturn string|nil message
function M.file(path, opts)
  local document, err = explainer.parse(path)
  if not document then return nil, err end
  local query = {}
  for _, k in ipairs { "output_base_dir", "output_filename", "workflow", "scene_numbers", "shard", "inputs" } do
    query[k] = opts[k]
  end
  local standings
  standings, err = explainer.status(path, query)
  if not standings then return nil, err end
  local by_number = {}
  for _, s in ipairs(document.scenes) do by_number[s.scene_number] = s end
  local makes, prices = opts.makes or M.makes({}, "video"), opts.prices
  local ropts = { document = document }
  for k, v in pairs(opts.recipe or {}) do ropts[k] = v end
  local is, as = image.settings(ropts), audio.settings(ropts)
  if not image.backends[is.backend] then
    return nil, ("unknown image backend '%s' (local, openai or fal)"):format(is.backend)
  end
  if not audio.backends[as.backend] then
    return nil, ("unknown audio backend '%s' (local, openai or elevenlabs)"):format(as.backend)
  end
  local vs
  if makes.video then
    vs, err = animate.settings(ropts)
    if err then return nil, err end
  end
  local out = {
    file = path,
    scenes = { total = #standings, fresh = 0, to_make = 0 },
    images = { backend = is.backend, model = is.model, edit_model = is.edit_model, size = is.size,
               generations = 0, edits = 0, cards = 0, reused = 0 },
    speech = { backend = as.backend, model = as.model, narrations = 0, characters = 0, reused = 0 },
    video = vs and { backend = vs.backend, model = vs.model, requests = 0, seconds = 0, reused = 0 } or nil,
    film_seconds = 0, unpriced = {},
  }
  local base = opts.output_base_dir or "output"
  for _, st in ipairs(standings) do
    local scene = by_number[st.scene_number]
    local dir = st.output_dir or explainer.scene_output_dir(base, document.name, st.scene_number)
    local fresh = st.standing == "fresh" or st.standing == "exists"
    local text = audio.narration_text(scene)
    -- The film: each clip as long as the scene, or its narration when longer.
    local spoken = 0
    if text then
      local track = dir .. "/narration.mp3"
      if artifact.standing(track, audio.key(scene, ropts)) == "fresh" then
        spoken = common.media_duration(track) or 0
      else
        spoken = audio.estimate_seconds(scene, ropts)
      end
    end
    out.film_seconds = out.film_seconds + math.max(tonumber(scene.duration) or 6, spoken)
    if fresh then
      out.scenes.fresh = out.scenes.fresh + 1
      goto next_scene
    end
    out.scenes.to_make = out.scenes.to_make + 1
    if makes.image or makes.video then
      local final = dir .. "/" .. (makes.video and "final.png" or (opts.output_filename or "final.png"))
      if is.backend == "local" then
        if not have(final, image.key(scene, ropts)) then add(out.images, "cards", 1) end
      else
        local steps = image.sources(scene, ropts)
        for i, step in ipairs(steps) do
          if have(dir .. "/" .. step.file, step.key) then
            add(out.images, "reused", 1)
          else
            add(out.images, i == 1 and "generations" or "edits", 1)
          end
        end
      end
    end
    if (makes.audio or makes.video) and text then
      if have(dir .. "/narration.mp3", audio.key(scene, ropts)) then
        add(out.speech, "reused", 1)
      else
        add(out.speech, "narrations", 1)
        add(out.speech, "characters", utf8.len(text) or #text)
      end
    end
    if vs then
      local picture = dir .. "/final.png"
      local part = image.key(scene, ropts)
      if artifact.standing(picture, part) == "foreign" then part = artifact.identity(picture) end
      local k = animate.key(scene, part, ropts)
      if k then
        if have(dir .. "/animation.mp4", k) then
          add(out.video, "reused", 1)
        else
          add(out.video, "requests", 1)
          add(out.video, "seconds", tonumber(animate.seconds(scene, vs)) or math.ceil(tonumber(scene.duration) or 6))
        end
      end
    end
    ::next_scene::
  end
  -- What it costs: nil for a part with a request the table has no price for.
  local total, complete = 0, true
  local function price(kind, name, amount, extra)
    if amount == 0 then return 0 end
    local c = M.cost(prices, kind, name, amount, extra)
    if not c then
      complete = false
      out.unpriced[#out.unpriced + 1] = kind .. " " .. name
      return nil
    end
    total = total + c
    return c
  end
  local function sum(a, b)
    if a == nil or b == nil then return nil end
    return a + b
  end
  if is.backend == "local" then
    out.images.cost = 0
  else
    out.images.cost = sum(price("image", is.backend .. "/" .. tostring(is.model), out.images.generations,
      { size = is.size }), price("edit", is.backend .. "/" .. tostring(is.edit_model), out.images.edits,
      { size = is.size }))
  end
  out.speech.cost = as.backend == "local" and 0
    or price("speech", as.backend .. "/" .. tostring(as.model), out.speech.characters)
  if out.video then
    out.video.cost = price("video", vs.backend .. "/" .. vs.model, out.video.seconds, { requests = out.video.requests })
  end
  -- The film's transitions: each clip is held for one at each end, so the
  -- film is that much longer than its clips (video.film).
  local fs = require("explainer.recipes.video").film_settings(ropts)
  if fs and fs.transition ~= "none" then
    out.film_seconds = out.film_seconds + (#standings + 1) * fs.transition_seconds
  end
  out.cost, out.complete = total, complete
  return out
end

-- ---- printing --------------------------------------------------------------------

local function money(x, currency)
  if x == nil then return "?" end
  local sign = (currency == "USD" or currency == nil) and "$" or ""
  return ("%s%.2f%s"):format(sign, x, sign == "" and (" " .. currency) or "")
end

local function group(n)
  local s = tostring(math.floor(n))
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

local function plural(n, one, many)
  return ("%s %s"):format(group(n), n == 1 and one or (many or one .. "s"))
end

local function with(backend, model, cost, currency)
  if backend == "local" then return backend .. ", free" end
  return ("%s %s, %s"):format(backend, tostring(model), money(cost, currency))
end

--- An estimate as lines for people.
-- @tparam table e from `file`
-- @tparam table prices from `prices`
-- @tparam[opt] table info `workflow` (its name), `makes`, `assumed`
-- @treturn string
function M.format(e, prices, info)
  info = info or {}
  local cur = prices.currency
  local lines = {}
  lines[#lines + 1] = ("%s with %s: %s to make, %s fresh (of %d)"):format(e.file, info.workflow or "the workflow",
    plural(e.scenes.to_make, "scene"), group(e.scenes.fresh), e.scenes.total)
  local makes = info.makes or { image = true, audio = true, video = true }
  if makes.image or makes.video then
    local i = e.images
    local what
    if i.backend == "local" then
      what = plural(i.cards, "card")
    else
      what = plural(i.generations, "generation") .. (i.edits > 0 and (" + " .. plural(i.edits, "edit")) or "")
    end
    if i.reused > 0 then what = what .. (" (%d already made)"):format(i.reused) end
    local model = tostring(i.model)
    if i.edits > 0 and i.edit_model ~= i.model then model = model .. " + " .. tostring(i.edit_model) end
    lines[#lines + 1] = ("  images   %s  [%s]"):format(what, with(i.backend, model, i.cost, cur))
  end
  if makes.audio or makes.video then
    local s = e.speech
    local what = plural(s.characters, "character") .. " in " .. plural(s.narrations, "narration")
    if s.reused > 0 then what = what .. (" (%d already spoken)"):format(s.reused) end
    lines[#lines + 1] = ("  speech   %s  [%s]"):format(what, with(s.backend, s.model, s.cost, cur))
  end
  if makes.video then
    if e.video then
      local v = e.video
      local what = plural(v.seconds, "second") .. " of video in " .. plural(v.requests, "request")
      if v.reused > 0 then what = what .. (" (%d already made)"):format(v.reused) end
      lines[#lines + 1] = ("  video    %s  [%s]"):format(what, with(v.backend, v.model, v.cost, cur))
    else
      lines[#lines + 1] = "  video    stills (no image-to-video backend)"
    end
    lines[#lines + 1] = ("  film     about %s (%d scene%s)"):format(
      e.film_seconds >= 60 and ("%dm %02ds"):format(e.film_seconds // 60, math.floor(e.film_seconds % 60 + 0.5))
      or ("%.0f s"):format(e.film_seconds), e.scenes.total, e.scenes.total == 1 and "" or "s")
  end
  lines[#lines + 1] = ("  cost     %s%s"):format(e.complete and "" or "at least ", money(e.cost, cur))
  for _, name in ipairs(e.unpriced) do
    lines[#lines + 1] = ("  note     no price for %s: add it with EXPLAINER_PRICES"):format(name)
  end
  if info.assumed then
    lines[#lines + 1] = "  note     the workflow does not say what it makes (makes = {...}): counted as video"
  end
  return table.concat(lines, "\n") .. "\n"
end

--- The line that dates the prices and names their file.
-- @tparam table prices from `prices`
-- @treturn string
function M.price_note(prices)
  return ("Prices of %s from %s (estimates: check the services' own pages)\n"):format(
    prices.date, prices.file or "lua/explainer/prices.lua")
end

return M
