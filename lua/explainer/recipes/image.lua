--- Recipe: one image per scene, `final.png` in the scene's folder.
--
-- Backends (option `backend`, or `EXPLAINER_IMAGE_BACKEND`):
--
-- * `local` (default, offline): a storyboard card drawn with ImageMagick —
--   the scene's number, duration and title, and its image prompt (or its
--   layout when it has none), wrapped to fit, in DejaVu Sans; sized to the
--   document's frame (9:16 -> 1080x1920, 16:9 -> 1920x1080, 1:1 -> 1080x1080).
-- * `openai`: POST `{OPENAI_BASE_URL}/images/generations` with
--   `{model, prompt, size, n}`; `b64_json` and `url` answers both work.
-- * `fal`: POST `https://fal.run/<model>` (fal's synchronous endpoint) with
--   `{prompt, image_size, num_images}`; the image URL it answers is downloaded.
--
-- API keys come from the environment (`OPENAI_API_KEY`, `FAL_KEY`) or
-- `opts.api_key`, travel only in headers and are masked in every message.
-- @module explainer.recipes.image

local http = require "explainer.http"
local key = require "explainer.key"
local media = require "explainer.media"
local base64 = require "explainer.recipes.base64"
local common = require "explainer.recipes.common"

local M = {}

local FONT_DIR = "/usr/share/fonts/truetype/dejavu/"

local function font(file, name)
  local f = io.open(FONT_DIR .. file, "rb")
  if f then
    f:close()
    return FONT_DIR .. file
  end
  return name
end

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
    local layout = trim(scene.layout):gsub("\n%s*%-?%s*", "; "):gsub("^%-%s*", "")
    parts[#parts + 1] = "Layout: " .. layout
  end
  if present(scene.animation_prompt) then
    parts[#parts + 1] = "Visual elements: " .. trim(scene.animation_prompt)
  end
  return table.concat(parts, " ")
end

-- ImageMagick reads caption: text for escapes: "\" and "%" are special, and
-- a leading "@" means "read this file". Make the text mean only itself.
local function caption_text(s)
  s = tostring(s):gsub("\\", "\\\\"):gsub("%%", "%%%%")
  if s:sub(1, 1) == "@" then s = "\\" .. s end
  return s
end

local function shorten(s, max_chars)
  s = trim(s):gsub("[ \t]+", " ")
  if utf8.len(s) and utf8.len(s) > max_chars then
    s = s:sub(1, utf8.offset(s, max_chars + 1) - 1):gsub("%s+%S*$", "") .. " …"
  end
  return s
end

-- Break text into lines of at most `width` characters, at spaces. ImageMagick
-- wraps caption: text itself, but first measures it as one line, and a long
-- prompt on one line is wider than the pixel limit of its security policy.
local function wrap(text, width)
  local lines, line = {}, ""
  local words = {}
  for word in text:gmatch("%S+") do
    while (utf8.len(word) or #word) > width do   -- a URL, a hash: cut it
      local cut = utf8.offset(word, width + 1) or (width + 1)
      words[#words + 1] = word:sub(1, cut - 1)
      word = word:sub(cut)
    end
    words[#words + 1] = word
  end
  for _, word in ipairs(words) do
    if line == "" then
      line = word
    elseif (utf8.len(line) or #line) + 1 + (utf8.len(word) or #word) <= width then
      line = line .. " " .. word
    else
      lines[#lines + 1] = line
      line = word
    end
  end
  if line ~= "" then lines[#lines + 1] = line end
  return lines
end

-- ImageMagick 6 refuses a caption: whose length times its point size passes
-- the width limit of its policy (16K pixels here), however it wraps: render
-- a long text as several captions of whole lines, stacked.
local function caption_chunks(lines, pointsize)
  local chunks, chunk, chars = {}, {}, 0
  local limit = math.floor(12000 / pointsize)
  for _, l in ipairs(lines) do
    local n = (utf8.len(l) or #l) + 1
    if #chunk > 0 and chars + n > limit then
      chunks[#chunks + 1] = table.concat(chunk, "\n")
      chunk, chars = {}, 0
    end
    chunk[#chunk + 1] = l
    chars = chars + n
  end
  if #chunk > 0 then chunks[#chunks + 1] = table.concat(chunk, "\n") end
  return chunks
end

-- A point size that fills a w x h box with n characters of DejaVu Sans,
-- within [min, max]; and how many characters fit at the smallest.
local function fit_pointsize(w, h, n, min, max)
  local ps = math.sqrt(w * h / (0.62 * 1.3 * math.max(n, 1)))
  ps = math.max(min, math.min(max, math.floor(ps)))
  local capacity = math.floor(w * h / (0.62 * 1.3 * ps * ps) * 0.9)
  return ps, capacity
end

--- What a card shows under the title: a label and a text (the image
-- prompt, else the layout, the animation prompt or the narration).
-- @treturn string label ("IMAGE PROMPT", "LAYOUT", ...; "" for none)
-- @treturn string text
function M.card_text(scene)
  local label, body = "IMAGE PROMPT", scene.initial_prompt
  if not present(body) and present(scene.final_prompt) then body = scene.final_prompt end
  if not present(body) then label, body = "LAYOUT", scene.layout end
  if not present(body) then label, body = "ANIMATION", scene.animation_prompt end
  if not present(body) then label, body = "NARRATION", scene.narration end
  if not present(body) then label, body = "", "" end
  return label, body
end

--- Draw a storyboard card for a scene.
-- @tparam table scene
-- @tparam string path where to write the PNG
-- @tparam number width
-- @tparam number height
-- @treturn true|nil
-- @treturn string|nil message
function M.draw_card(scene, path, width, height)
  local base = math.min(width, height)
  local margin = math.floor(width * 0.067)
  local inner = width - 2 * margin
  local band = math.floor(base * 0.15)
  local regular = font("DejaVuSans.ttf", "DejaVu-Sans")
  local bold = font("DejaVuSans-Bold.ttf", "DejaVu-Sans-Bold")

  local label, body = M.card_text(scene)

  local header = string.format("SCENE %s  ·  %s s", tostring(scene.scene_number or "?"),
                               string.format("%g", tonumber(scene.duration) or 6))
  local title_ps = math.floor(base / 14)
  local title_h = math.floor(title_ps * 1.25 * 3.2)
  local title_y = band + math.floor(base * 0.06)
  local label_ps = math.floor(base / 36)
  local label_y = title_y + title_h + math.floor(base * 0.03)
  local body_y = label_y + math.floor(label_ps * 2.2)
  local body_h = height - body_y - margin
  local text = shorten(body, 4000)
  local body_ps, capacity = fit_pointsize(inner, body_h, utf8.len(text) or #text,
                                          math.floor(base / 42), math.floor(base / 20))
  local chunks = caption_chunks(wrap(shorten(text, capacity), math.floor(inner / (0.6 * body_ps))), body_ps)

  local argv = {
    "convert", "-size", width .. "x" .. height, "xc:#f5f3ee",
    "-fill", "#2b4c7e", "-draw", string.format("rectangle 0,0 %d,%d", width, band),
    "(", "-background", "none", "-fill", "white", "-font", bold, "-pointsize", tostring(math.floor(base / 24)),
    "-size", inner .. "x" .. band, "-gravity", "west", "caption:" .. caption_text(header), ")",
    "-gravity", "northwest", "-geometry", "+" .. margin .. "+0", "-composite",
    "(", "-background", "none", "-fill", "#1d1d1f", "-font", bold, "-pointsize", tostring(title_ps),
    "-size", inner .. "x" .. title_h, "-gravity", "northwest",
    "caption:" .. caption_text(shorten(scene.title or "", 70)), ")",
    "-gravity", "northwest", "-geometry", "+" .. margin .. "+" .. title_y, "-composite",
    "(", "-background", "none", "-fill", "#6b6b6b", "-font", bold, "-pointsize", tostring(label_ps),
    "-size", inner .. "x" .. math.floor(label_ps * 1.6), "caption:" .. caption_text(label), ")",
    "-geometry", "+" .. margin .. "+" .. label_y, "-composite",
  }
  if #chunks > 0 then
    local push = function(...) for _, a in ipairs { ... } do argv[#argv + 1] = a end end
    push("(", "-background", "none", "-fill", "#1d1d1f", "-font", regular, "-pointsize", tostring(body_ps),
         "-size", inner .. "x")
    for _, chunk in ipairs(chunks) do push("caption:" .. caption_text(chunk)) end
    push("-append", ")", "-geometry", "+" .. margin .. "+" .. body_y, "-composite")
  end
  for _, a in ipairs { "-depth", "8", "PNG24:" .. path } do argv[#argv + 1] = a end
  return common.run(argv, { timeout = 120 })
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

local function api_key(opts, env)
  local k = opts.api_key or os.getenv(env)
  if not k or k == "" then return nil end
  return k
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

local function generate_openai(scene, path, opts)
  local k = api_key(opts, "OPENAI_API_KEY")
  if not k then return nil, "OPENAI_API_KEY is not set (the openai image backend needs it)" end
  local s = M.settings(opts)
  local client = http.client {
    name = "OpenAI images", base_url = s.base_url, headers = { Authorization = "Bearer " .. k },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout,
  }
  local data, err = client:json {
    method = "POST", path = "/images/generations",
    json = { model = s.model, prompt = M.prompt_for(scene, opts.document), size = s.size, n = 1 },
  }
  if not data then return nil, err end
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

local FAL_SIZES = { ["9:16"] = "portrait_16_9", ["16:9"] = "landscape_16_9", ["1:1"] = "square_hd" }

local function generate_fal(scene, path, opts)
  local k = api_key(opts, "FAL_KEY")
  if not k then return nil, "FAL_KEY is not set (the fal image backend needs it)" end
  local s = M.settings(opts)
  local w, h = common.parse_size(s.size)
  local client = http.client {
    name = "fal", base_url = s.base_url, headers = { Authorization = "Key " .. k },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout,
  }
  local data, err = client:json {
    method = "POST", path = "/" .. s.model:gsub("^/+", ""),
    json = { prompt = M.prompt_for(scene, opts.document),
             image_size = w and { width = w, height = h } or s.size, num_images = 1 },
  }
  if not data then return nil, err end
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

local function generate_local(scene, path, opts)
  local w, h = common.parse_size(M.settings(opts).size)
  return M.draw_card(scene, path, w, h)
end

M.backends = { ["local"] = generate_local, openai = generate_openai, fal = generate_fal }

local DEFAULT_MODEL = { openai = "gpt-image-1", fal = "fal-ai/flux/schnell" }
local BASE_ENV = { openai = "OPENAI_BASE_URL", fal = "FAL_BASE_URL" }
local DEFAULT_BASE = { openai = "https://api.openai.com/v1", fal = "https://fal.run" }

--- What the options choose: `backend`, and the `model`, `size` and
-- `base_url` it uses (the card: only its frame size).
function M.settings(opts)
  opts = opts or {}
  local backend = common.option(opts, "backend", "EXPLAINER_IMAGE_BACKEND", "local")
  local s = { backend = backend }
  if backend == "local" then
    local w, h = common.parse_size(common.option(opts, "size", "EXPLAINER_IMAGE_SIZE", nil))
    if not w then w, h = common.frame_size(common.format_of(opts)) end
    s.size = w .. "x" .. h
  else
    s.model = common.option(opts, "model", "EXPLAINER_IMAGE_MODEL", DEFAULT_MODEL[backend])
    s.size = common.option(opts, "size", "EXPLAINER_IMAGE_SIZE", backend == "openai"
      and M.openai_size(s.model or "", common.format_of(opts))
      or FAL_SIZES[common.aspect(common.format_of(opts))])
    s.base_url = common.option(opts, "base_url", BASE_ENV[backend], DEFAULT_BASE[backend])
  end
  return s
end

--- The key of a scene's image: what is drawn on the card, or the prompt
-- sent to a service with its model and size.
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table the key (explainer.key)
function M.key(scene, opts)
  opts = opts or {}
  local s = M.settings(opts)
  if s.backend == "local" then
    local label, body = M.card_text(scene)
    return key.of("card/1", { title = scene.title or "", scene_number = scene.scene_number,
      duration = tonumber(scene.duration) or 6, [label ~= "" and label:lower():gsub(" ", "_") or "text"] = body,
      size = s.size })
  end
  return key.of("image/1", { prompt = M.prompt_for(scene, opts.document), backend = s.backend,
                             model = s.model, size = s.size, base_url = s.base_url })
end

local SPEC = {
  kind = "image", backends = M.backends, env = "EXPLAINER_IMAGE_BACKEND",
  names = "local, openai or fal", filename = "final.png", media = "png",
  key = M.key,
  build = function(make, scene, tmp, opts) return make(scene, tmp, opts) end,
}

--- Make a scene's image, unless the one there is fresh.
-- @tparam table scene a scene table (docs/lua-api.md keys)
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `backend` (`local`, `openai`, `fal`; default
-- `EXPLAINER_IMAGE_BACKEND` or `local`), `filename` (default `final.png`),
-- `document` or `format` (the frame's aspect), `model`, `size`, `api_key`,
-- `base_url`, `retries`, `backoff`, `timeout`
-- @treturn string|nil the image's path
-- @treturn string how it came: "fresh", "kept", "cached" or "made"; or a message
function M.generate(scene, output_dir, opts)
  common.check_scene_args("generate", scene, output_dir, 2)
  return common.generate(SPEC, scene, output_dir, opts or {})
end

return M
