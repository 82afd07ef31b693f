--- Recipe: one image per scene, `final.png` in the scene's folder.
--
-- Backends (option `backend`, or `EXPLAINER_IMAGE_BACKEND`):
--
-- * `local` (default, offline): the frame its Layout Design describes, as a
--   wireframe (explainer.recipes.frame): the background, the on-screen text
--   at its position, each visual element as a labelled placeholder; or,
--   with `EXPLAINER_CARD=storyboard`, the storyboard card of its production
--   notes (explainer.recipes.card).
-- * `openai`: POST `{OPENAI_BASE_URL}/images/generations` with
--   `{model, prompt, size, n}`; `b64_json` and `url` answers both work.
-- * `fal`: POST `https://fal.run/<model>` (fal's synchronous endpoint) with
--   `{prompt, image_size, num_images}`; the image URL it answers is downloaded.
--
-- With a service, the generated image is its own file (`generated.png`,
-- what costs money) and `final.png` is the frame with it: the image on the
-- plate, the on-screen text set over it, never asked of the model.
--
-- The frame is made of two layers beside it, `plate.png` (what the film
-- pans over) and `text.png` (the on-screen text, transparent, that the clip
-- fades in over the plate), each with its own key: an edited text remakes
-- the text layer, `final.png` and the clip, not the image.
--
-- API keys come from the environment (`OPENAI_API_KEY`, `FAL_KEY`) or
-- `opts.api_key`, travel only in headers and are masked in every message.
-- @module explainer.recipes.image

local core = require "explainer_core"
local artifact = require "explainer.artifact"
local http = require "explainer.http"
local key = require "explainer.key"
local log = require "explainer.log"
local media = require "explainer.media"
local base64 = require "explainer.recipes.base64"
local card = require "explainer.recipes.card"
local colour = require "explainer.recipes.colour"
local common = require "explainer.recipes.common"
local frame = require "explainer.recipes.frame"
local layout = require "explainer.recipes.layout"
local magick = require "explainer.recipes.magick"
local settings = require "explainer.settings"

local M = {}

--- The frame's recipe version (in its key): the plate's and text's keys.
M.FRAME_VERSION = "frame/2"
--- The storyboard card's (`EXPLAINER_CARD=storyboard`), in its key.
M.CARD_VERSION = card.CARD_VERSION
--- The share of the frame at each edge that nothing written comes into:
-- the film's motion (EXPLAINER_MOTION_ZOOM, 0.06) hides up to that much.
M.SAFE = layout.SAFE
M.card_content = card.card_content
M.draw_card = card.draw_card
M.palette = colour.palette
M.card_error = magick.error

local function trim(s)
  return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

local function present(s)
  return type(s) == "string" and trim(s) ~= ""
end

--- The prompt sent to an image API for a scene: its `initial_prompt`, or
-- one built from its title, layout and animation prompt.
-- @tparam table scene
-- @tparam[opt] table document (its `format` and `style` help the model)
-- @treturn string
function M.prompt_for(scene, document)
  if present(scene.initial_prompt) then return trim(scene.initial_prompt) end
  local aspect = common.aspect(document and document.format)
  local parts = {
    string.format("A clean, minimalist %s explainer-video frame.", aspect == "9:16" and "vertical 9:16"
                  or aspect == "16:9" and "horizontal 16:9" or "square 1:1"),
  }
  if document and present(document.style) then parts[#parts + 1] = "Style: " .. trim(document.style) .. "." end
  if present(scene.title) then parts[#parts + 1] = "Scene: " .. trim(scene.title) .. "." end
  if present(scene.layout) then
    -- The on-screen text is set over the image afterwards, never drawn by the model.
    local lines = {}
    for _, item in ipairs(layout.items(scene.layout)) do
      local label = (item.label or ""):lower()
      if not (label:find("text") or label:find("title") or label:find("headline") or label:find("caption")) then
        lines[#lines + 1] = (item.label and (item.label .. ": ") or "") .. item.text
      end
    end
    if #lines > 0 then parts[#parts + 1] = "Layout: " .. table.concat(lines, "; ") end
  end
  if present(scene.animation_prompt) then
    parts[#parts + 1] = "Visual elements: " .. trim(scene.animation_prompt)
  end
  parts[#parts + 1] = "No lettering, captions or words in the image."
  return table.concat(parts, " ")
end

local function is_png(data)
  return data:sub(1, 8) == "\137PNG\r\n\26\n"
end

-- Store image bytes as a PNG at path: as they are when they are one, else
-- converted by ImageMagick.
local function store_png(data, path)
  if is_png(data) then return common.write_file(path, data) end
  local src = path .. ".src"
  local ok, err = common.write_file(src, data)
  if ok then
    ok, err = common.run({ "convert", common.safe_path(src), "PNG24:" .. path }, { timeout = 120 })
    if not ok then err = "the image the service sent could not be converted to PNG: " .. err end
  end
  os.remove(src)
  return ok, err
end

-- Decoded image bytes from a service's answer: stored only when they are an
-- image (a base64 text that decodes to an error page fails here, clearly).
local function store_image(bytes, path, service)
  if not media.accepted("image")[media.kind_of(bytes)] then
    return nil, ("%s: the answer's image is not an image (first bytes: %s)"):format(service,
      media.preview(bytes:sub(1, 16), 40, #bytes > 16))
  end
  return store_png(bytes, path)
end

local function download(url, path, opts)
  local client = http.client { name = "image download", retries = opts.retries,
                               backoff = opts.backoff, timeout = opts.timeout }
  local response, err = client:request { method = "GET", url = url, follow_redirects = true,
                                         expect = "image" }
  if not response then return nil, err end
  return store_png(response.body, path)
end

local OPENAI_SIZES = {
  ["gpt"] = { ["9:16"] = "1024x1536", ["16:9"] = "1536x1024", ["1:1"] = "1024x1024" },
  ["dall-e-3"] = { ["9:16"] = "1024x1792", ["16:9"] = "1792x1024", ["1:1"] = "1024x1024" },
  ["dall-e-2"] = { ["9:16"] = "1024x1024", ["16:9"] = "1024x1024", ["1:1"] = "1024x1024" },
}

--- The size asked of OpenAI for a model and a document format.
function M.openai_size(model, format)
  local family = model:find("^dall%-e%-3") and "dall-e-3" or model:find("^dall%-e%-2") and "dall-e-2" or "gpt"
  return OPENAI_SIZES[family][common.aspect(format)]
end

local function openai_client(opts, s)
  local k = common.api_key(opts, "OPENAI_API_KEY")
  if not k then return nil, "OPENAI_API_KEY is not set (the openai image backend needs it)" end
  return http.client {
    name = "OpenAI images", base_url = s.base_url, headers = { Authorization = "Bearer " .. k },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout,
  }
end

-- The image of an OpenAI images answer (generations or edits): `b64_json`
-- decoded, or `url` downloaded.
local function openai_image(data, path, opts)
  local item = type(data.data) == "table" and data.data[1]
  if type(item) ~= "table" then return nil, "OpenAI images: the answer holds no image" end
  if type(item.b64_json) == "string" then
    local bytes, why = base64.decode(item.b64_json)
    if not bytes then return nil, "OpenAI images: b64_json is not valid base64 (" .. tostring(why) .. ")" end
    return store_image(bytes, path, "OpenAI images")
  elseif type(item.url) == "string" then
    return download(item.url, path, opts)
  end
  return nil, "OpenAI images: the answer has neither b64_json nor url"
end

local function generate_openai(scene, path, opts)
  local s = M.settings(opts)
  local client, err = openai_client(opts, s)
  if not client then return nil, err end
  local data
  data, err = client:json {
    method = "POST", path = "/images/generations",
    json = { model = s.model, prompt = M.prompt_for(scene, opts.document), size = s.size, n = 1 },
  }
  if not data then return nil, err end
  return openai_image(data, path, opts)
end

local FAL_SIZES = { ["9:16"] = "portrait_16_9", ["16:9"] = "landscape_16_9", ["1:1"] = "square_hd" }

local function fal_client(opts, s)
  local k = common.api_key(opts, "FAL_KEY")
  if not k then return nil, "FAL_KEY is not set (the fal image backend needs it)" end
  return http.client {
    name = "fal", base_url = s.base_url, headers = { Authorization = "Key " .. k },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout,
  }
end

-- The image of a fal answer: `images[0].url`, downloaded (a data: URL decoded).
local function fal_image(data, path, opts)
  local image = type(data.images) == "table" and data.images[1]
  if type(image) ~= "table" or type(image.url) ~= "string" then
    return nil, "fal: the answer holds no image URL"
  end
  if image.url:find("^data:") then
    local b64 = image.url:match("^data:[^,]*;base64,(.*)$")
    local bytes, why = base64.decode(b64 or "")
    if not b64 or not bytes then return nil, "fal: unreadable data URL (" .. tostring(why or "not base64") .. ")" end
    return store_image(bytes, path, "fal")
  end
  return download(image.url, path, opts)
end

local function generate_fal(scene, path, opts)
  local s = M.settings(opts)
  local w, h = common.parse_size(s.size)
  local client, err = fal_client(opts, s)
  if not client then return nil, err end
  local data
  data, err = client:json {
    method = "POST", path = "/" .. s.model:gsub("^/+", ""),
    json = { prompt = M.prompt_for(scene, opts.document),
             image_size = w and { width = w, height = h } or s.size, num_images = 1 },
  }
  if not data then return nil, err end
  return fal_image(data, path, opts)
end

-- ---- edits: the script's own iterations, each an edit of the image before --------

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  if not data then return nil, path .. ": unreadable" end
  return data
end

--- A file as a `data:` URI (base64 by coreutils' `base64`), for APIs that
-- take an image inline.
-- @tparam string path
-- @tparam[opt="image/png"] string mime
-- @treturn string|nil the URI
-- @treturn string|nil message
function M.data_uri(path, mime)
  local r, err = common.run({ "base64", "-w", "0", common.safe_path(path) }, { timeout = 60 })
  if not r then return nil, err end
  return "data:" .. (mime or "image/png") .. ";base64," .. r.stdout:gsub("%s+", "")
end

-- OpenAI: POST /images/edits, multipart/form-data with the previous image.
local function edit_openai(prompt, previous, path, opts)
  local s = M.settings(opts)
  local client, err = openai_client(opts, s)
  if not client then return nil, err end
  local bytes
  bytes, err = read_file(previous)
  if not bytes then return nil, err end
  local body, ctype = http.multipart {
    { name = "model", value = s.edit_model },
    { name = "image", filename = "image.png", content_type = "image/png", data = bytes },
    { name = "prompt", value = prompt },
    { name = "size", value = s.size },
    { name = "n", value = "1" },
  }
  local data
  data, err = client:json { method = "POST", path = "/images/edits", body = body,
                            headers = { ["Content-Type"] = ctype } }
  if not data then return nil, err end
  return openai_image(data, path, opts)
end

-- fal: POST <edit model> (nano-banana's edit) with the previous image inline.
local function edit_fal(prompt, previous, path, opts)
  local s = M.settings(opts)
  local client, err = fal_client(opts, s)
  if not client then return nil, err end
  local uri
  uri, err = M.data_uri(previous, "image/png")
  if not uri then return nil, err end
  local data
  data, err = client:json {
    method = "POST", path = "/" .. s.edit_model:gsub("^/+", ""),
    json = { prompt = prompt, image_urls = { uri }, num_images = 1, output_format = "png" },
  }
  if not data then return nil, err end
  return fal_image(data, path, opts)
end

--- The backends that edit an image, by name: each
-- `function(prompt, previous_path, path, opts)` returning `true` or `nil,
-- message`.
M.editors = { openai = edit_openai, fal = edit_fal }

local function edits_on(opts)
  local v = common.option(opts, "edits", "EXPLAINER_IMAGE_EDITS", false)
  if type(v) == "string" then v = v:lower() end
  return v == true or v == "on" or v == "1" or v == "true" or v == "yes"
end

--- Can the chosen backend and model edit images? (fal: always, through its
-- edit model; OpenAI: the gpt-image models and dall-e-2.)
-- @tparam table s `image.settings(opts)`
-- @treturn boolean
function M.edits_supported(s)
  if s.backend == "fal" then return true end
  if s.backend == "openai" then
    return (s.model or ""):find("^gpt%-image") ~= nil or (s.model or ""):find("^dall%-e%-2") ~= nil
  end
  return false
end

-- The local backend's whole image at `path`: the storyboard card, or the
-- frame (its layers drawn beside it and removed).
local function generate_local(scene, path, opts)
  local s = M.settings(opts)
  local w, h = common.parse_size(s.size)
  if s.card == "storyboard" then return card.draw_card(scene, path, w, h, M.style_of(opts)) end
  return frame.draw(scene, path, w, h, { style = M.style_of(opts) })
end

M.backends = { ["local"] = generate_local, openai = generate_openai, fal = generate_fal }

local DEFAULT_MODEL = { openai = "gpt-image-1", fal = "fal-ai/flux/schnell" }
local DEFAULT_EDIT_MODEL = { fal = "fal-ai/nano-banana/edit" }
local BASE_ENV = { openai = "OPENAI_BASE_URL", fal = "FAL_BASE_URL" }
local DEFAULT_BASE = { openai = "https://api.openai.com/v1", fal = "https://fal.run" }

--- The cards `EXPLAINER_CARD` chooses offline: `frame` (the layout's frame)
-- or `storyboard` (the production notes).
M.CARDS = { frame = true, storyboard = true }

-- The frame's size: `frame_size` (the film's, from the video recipe), else
-- the document's format's.
local function frame_size(opts)
  local w, h = common.parse_size(opts.frame_size)
  if not w then w, h = common.frame_size(common.format_of(opts)) end
  return w, h
end

--- What the options choose: `backend`, and the `model`, `size` and
-- `base_url` it uses (offline: the frame's size and the `card`, `frame` or
-- `storyboard`); `edits` (true when the script's iterations and final prompt
-- are to be sent as edits and the backend can) with the `edit_model`;
-- `frame` (the size of `final.png`, "WxH").
function M.settings(opts)
  opts = opts or {}
  local backend = common.option(opts, "backend", "EXPLAINER_IMAGE_BACKEND", "local")
  local s = { backend = backend }
  if backend == "local" then
    local w, h = common.size_option(opts, "size", "EXPLAINER_IMAGE_SIZE")
    if not w then w, h = frame_size(opts) end
    s.size = w .. "x" .. h
    s.frame = s.size
    s.card = common.option(opts, "card", "EXPLAINER_CARD", "frame")
    if not M.CARDS[s.card] then
      settings.fail("EXPLAINER_CARD: '" .. tostring(s.card) .. "' is not a card (frame or storyboard)")
    end
  else
    local w, h = frame_size(opts)
    s.frame = w .. "x" .. h
    s.model = common.option(opts, "model", "EXPLAINER_IMAGE_MODEL", DEFAULT_MODEL[backend])
    s.size = common.option(opts, "size", "EXPLAINER_IMAGE_SIZE", backend == "openai"
      and M.openai_size(s.model or "", common.format_of(opts))
      or FAL_SIZES[common.aspect(common.format_of(opts))])
    s.base_url = common.option(opts, "base_url", BASE_ENV[backend], DEFAULT_BASE[backend])
    if edits_on(opts) and M.edits_supported(s) then
      s.edits = true
      s.edit_model = common.option(opts, "edit_model", "EXPLAINER_IMAGE_EDIT_MODEL",
        DEFAULT_EDIT_MODEL[backend] or s.model)
    end
  end
  return s
end

--- The steps of a scene's image when edits are on: the initial prompt makes
-- the first image (`initial.png`), then each iteration (`iteration_1.png`,
-- ...) and the 2-step final prompt (`generated.png`) is an edit of the image
-- before it. Each step's key holds the key of the step before.
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table|nil list of `{file=, prompt=, key=, edit=}` (nil when the
-- image is one generation: edits off, a backend that cannot edit, or a scene
-- with neither iterations nor a final prompt)
function M.steps(scene, opts)
  opts = opts or {}
  local s = M.settings(opts)
  if not s.edits then return nil end
  local prompts = {}
  for _, step in ipairs(scene.iterations or {}) do
    if present(step) then
      prompts[#prompts + 1] = { file = "iteration_" .. (#prompts + 1) .. ".png", prompt = trim(step) }
    end
  end
  if present(scene.final_prompt) then
    prompts[#prompts + 1] = { file = M.GENERATED, prompt = trim(scene.final_prompt) }
  end
  if #prompts == 0 then return nil end
  local first = { file = "initial.png", prompt = M.prompt_for(scene, opts.document) }
  first.key = key.of("image/1", { prompt = first.prompt, backend = s.backend, model = s.model,
                                   size = s.size, base_url = s.base_url })
  local steps = { first }
  for _, step in ipairs(prompts) do
    step.edit = true
    step.key = key.of("image-edit/1", { previous = steps[#steps].key, prompt = step.prompt,
      backend = s.backend, model = s.edit_model, size = s.size, base_url = s.base_url })
    steps[#steps + 1] = step
  end
  return steps
end

--- The Style line a card takes its colours from: `opts.style`, else the
-- document's `style`.
-- @tparam[opt] table opts
-- @treturn string|nil
function M.style_of(opts)
  if opts and opts.style then return opts.style end
  return opts and opts.document and opts.document.style or nil
end

--- The file a service's image is kept in, beside `final.png`.
M.GENERATED = "generated.png"

-- The key of a service's image: the last step of an edit chain, or the one
-- generation.
local function source_key(scene, opts, s)
  local steps = M.steps(scene, opts)
  if steps then return steps[#steps].key end
  return key.of("image/1", { prompt = M.prompt_for(scene, opts.document), backend = s.backend,
                             model = s.model, size = s.size, base_url = s.base_url })
end

--- The images a service makes for a scene, each with its file and key: the
-- steps of an edit chain (`steps`), or the one generation (`generated.png`);
-- nil offline.
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table|nil list of `{file=, key=}`
function M.sources(scene, opts)
  opts = opts or {}
  local s = M.settings(opts)
  if s.backend == "local" then return nil end
  return M.steps(scene, opts) or { { file = M.GENERATED, key = source_key(scene, opts, s) } }
end

-- A value as one part of a key, whatever its shape: the id of a key of it
-- alone (explainer.key's canonical hash), so that no field name of it
-- becomes a part's name.
local function one(value)
  return key.of("part", { value = value }).id
end

-- What a frame shows, as its script says it, each as one part named as a
-- person would name it: what `status` says changed. The parsed words, not
-- the places and colours worked out from them (those follow from these
-- and the recipe: a new background colours the text too, a new size moves
-- every box, and only `background` or `size` is what changed).
local function frame_parts(scene, opts, d)
  local spec = layout.for_scene(scene)
  local texts, visuals = {}, {}
  for i, t in ipairs(spec.texts) do texts[i] = { t.text, t.role, t.position or {} } end
  for i, v in ipairs(spec.visuals) do visuals[i] = { v.label or "", v.emoji or "", v.position or {} } end
  local palette = colour.palette(M.style_of(opts))
  return {
    text = one(texts), visuals = one(visuals), pattern = spec.pattern.name,
    background = one(layout.background(spec.background, palette)),
    style = one { palette.background, palette.accent },
    size = d.width .. "x" .. d.height, captions = d.speaks,
  }
end

--- A scene's frame in layers, as `generate` makes it: what is drawn
-- (`frame.design`), the plate's and the text layer's files and keys, the
-- service's image when there is one (`source`), and the frame's key (that
-- of `final.png`). nil for the storyboard card, which is one image.
--
-- Each layer's key holds what it draws, in parts named as a person would
-- (`background`, `visuals`, `text`, `size`, the service's `image`). The
-- frame's holds what its script says (`frame_parts`: `text`, `background`,
-- `style`, `visuals`, `pattern`, `size`, `captions`, `image`), and the two
-- layers' keys as parts named `recipe` (`plate.png/recipe`,
-- `text.png/recipe`): what is drawn follows from the named parts and the
-- recipe, so `status` names the layers only when nothing named changed (a
-- new recipe).
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table|nil `{design=, plate={file=, key=}, text={file=, key=},
--   source={file=, key=}|nil, key=}`
function M.layers(scene, opts)
  opts = opts or {}
  local s = M.settings(opts)
  if s.backend == "local" and s.card == "storyboard" then return nil end
  local w, h = common.parse_size(s.frame)
  local d = frame.design(scene, w, h, { style = M.style_of(opts), image = s.backend ~= "local" })
  local source = s.backend ~= "local" and { file = M.GENERATED, key = source_key(scene, opts, s) } or nil
  local p, size = d.plate, w .. "x" .. h
  local plate = key.of(frame.PLATE_VERSION, {
    background = one(p.background), size = size, image = source and source.key or false,
    visuals = one { p.visuals, p.frame or false, p.image or false, p.region or false },
  })
  local text = key.of(frame.TEXT_VERSION, { text = one(d.text.groups), size = size })
  local parts = frame_parts(scene, opts, d)
  parts.image = source and source.key or false
  parts["plate.png"] = { recipe = plate.id }
  parts["text.png"] = { recipe = text.id }
  return {
    design = d, source = source,
    plate = { file = "plate.png", key = plate }, text = { file = "text.png", key = text },
    key = key.of(M.FRAME_VERSION, parts),
  }
end

-- The storyboard card's key: everything it shows (its header, title, layout
-- bullets, prompt and refinements), its colours and size.
local function card_key(scene, opts, s)
  local c = card.card_content(scene)
  local p = colour.palette(M.style_of(opts))
  local items = {}
  for i, item in ipairs(c.layout) do
    items[i] = { item.level, item.label or false, item.text, item.number or item.plain or false }
  end
  return key.of(M.CARD_VERSION, { header = c.header, title = c.title, layout = items,
    prompt_label = c.prompt_label or "", prompt = c.prompt or "", iterations = c.iterations,
    colours = { p.background, p.band, p.band_text, p.title, p.text, p.muted, p.accent, p.label },
    size = s.size })
end

--- The key of a scene's image (`final.png`): the frame's (its plate's and
-- text layer's, which hold everything they draw, and the service's image),
-- or the storyboard card's (everything it shows, its colours and size).
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table the key (explainer.key)
function M.key(scene, opts)
  opts = opts or {}
  local s = M.settings(opts)
  if s.backend == "local" and s.card == "storyboard" then return card_key(scene, opts, s) end
  return M.layers(scene, opts).key
end

local SPEC = {
  kind = "image", backends = M.backends, env = "EXPLAINER_IMAGE_BACKEND",
  names = "local, openai or fal", filename = "final.png", media = "png",
  key = M.key,
  build = function(make, scene, tmp, opts) return make(scene, tmp, opts) end,
}

-- A service's image made before it had its own file was `final.png` itself:
-- taken from there (what it cost is not paid again).
local function adopt(path, k, final)
  if artifact.standing(path, k) ~= "missing" then return end
  local rec = key.read(final)
  if rec and rec.id == k.id and artifact.standing(final, k) == "fresh" then
    artifact.make(path, k, function(tmp) return core.copy_file(final, tmp) end, { kind = "png" })
  end
end

-- The steps of an edit chain, each made unless fresh (so a changed
-- iteration remakes that step and those after it, nothing before), then the
-- last one copied to `generated.png`.
local function generate_chain(scene, output_dir, opts, steps)
  local backend = M.backends[M.settings(opts).backend]
  local editor = M.editors[M.settings(opts).backend]
  local previous, how
  for i, step in ipairs(steps) do
    local path = output_dir .. "/" .. step.file
    local made
    made, how = artifact.make(path, step.key, function(tmp)
      if i == 1 then return backend(scene, tmp, opts) end
      return editor(step.prompt, previous, tmp, opts)
    end, { kind = "png" })
    if not made then return nil, how end
    previous = path
  end
  local generated = output_dir .. "/" .. M.GENERATED
  if previous == generated then return generated, how end
  local made
  made, how = artifact.make(generated, steps[#steps].key, function(tmp)
    return core.copy_file(previous, tmp)
  end, { kind = "png" })
  if not made then return nil, how end
  return generated, how
end

-- The service's image (`generated.png`): one generation, or a chain of edits.
local function generate_source(scene, output_dir, opts, s)
  local fn, err = common.backend("image", M.backends, opts, "EXPLAINER_IMAGE_BACKEND", SPEC.names)
  if not fn then return nil, err end
  local src = M.layers(scene, opts).source
  local path = output_dir .. "/" .. src.file
  adopt(path, src.key, output_dir .. "/" .. (opts.filename or "final.png"))
  if edits_on(opts) then
    if not M.edits_supported(s) then
      log.warn_once("edits:" .. s.backend .. ":" .. tostring(s.model), ("the %s image backend%s cannot edit "
        .. "images: each scene's image is made from its initial prompt alone"):format(s.backend,
        s.model and (" with " .. s.model) or ""))
    end
    local steps = M.steps(scene, opts)
    if steps then return generate_chain(scene, output_dir, opts, steps) end
  end
  local made, how = artifact.make(path, src.key, function(tmp) return fn(scene, tmp, opts) end, { kind = "png" })
  if not made then return nil, how end
  return path, how
end

--- Make a scene's image, unless the one there is fresh: offline, the frame
-- (its plate, its text layer, then `final.png`) or the storyboard card;
-- with a service, its image first (`generated.png`; with edits on, a chain:
-- see `steps`), then the frame with it.
-- @tparam table scene a scene table (docs/lua-api.md keys)
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `backend` (`local`, `openai`, `fal`; default
-- `EXPLAINER_IMAGE_BACKEND` or `local`), `card` (`frame` or `storyboard`;
-- default `EXPLAINER_CARD` or `frame`), `filename` (default `final.png`),
-- `document` or `format` (the frame's aspect), `frame_size` ("WxH", the
-- film's), `style`, `model`, `size`, `api_key`, `base_url`, `retries`,
-- `backoff`, `timeout`, `edits` (default `EXPLAINER_IMAGE_EDITS` or off),
-- `edit_model`
-- @treturn string|nil the image's path
-- @treturn string how it came: "fresh", "kept", "cached" or "made"; or a message
function M.generate(scene, output_dir, opts)
  common.check_scene_args("generate", scene, output_dir, 2)
  opts = opts or {}
  local ok, s = pcall(M.settings, opts)
  if not ok then return nil, tostring(s) end
  if not M.backends[s.backend] then return common.generate(SPEC, scene, output_dir, opts) end
  local l = M.layers(scene, opts)
  if not l then return common.generate(SPEC, scene, output_dir, opts) end
  local source
  if l.source then
    local err
    source, err = generate_source(scene, output_dir, opts, s)
    if not source then return nil, err end
  end
  -- The three files are drawn together, once, by the first of them that
  -- has to be made (one run of ImageMagick); each is then kept, taken from
  -- the cache or moved into place under its own key.
  local paths = { plate = output_dir .. "/" .. l.plate.file, text = output_dir .. "/" .. l.text.file,
                  frame = output_dir .. "/" .. (opts.filename or "final.png") }
  local drawn, drawn_err
  local function draw()
    if drawn == nil then
      drawn = {}
      for name, path in pairs(paths) do drawn[name] = artifact.temp_beside(path, ".png") end
      local done
      done, drawn_err = frame.draw_layers(l.design, drawn, source)
      if not done then drawn = false end
    end
    return drawn
  end
  local function take(name)
    return function(tmp)
      local files = draw()
      if not files then return nil, drawn_err end
      return os.rename(files[name], tmp)
    end
  end
  local made, how
  for _, part in ipairs { { "plate", l.plate.key }, { "text", l.text.key }, { "frame", l.key } } do
    made, how = artifact.make(paths[part[1]], part[2], take(part[1]), { kind = "png" })
    if not made then break end
  end
  for _, tmp in pairs(drawn or {}) do os.remove(tmp) end
  if not made then return nil, how end
  return paths.frame, how
end

return M
