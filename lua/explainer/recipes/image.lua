--- Recipe: one image per scene, `final.png` in the scene's folder.
--
-- Backends (option `backend`, or `EXPLAINER_IMAGE_BACKEND`):
--
-- * `local` (default, offline): a storyboard card drawn with ImageMagick's
--   pango: coder — the scene's number, duration and title, its layout as
--   bullets and its image prompt (a 2-step scene's final prompt; a Nano
--   Banana scene's iterations) in a smaller face, in colours the Style line
--   names, emoji in colour, sized to fill the document's frame (9:16 ->
--   1080x1920, 16:9 -> 1920x1080 with two columns, 1:1 -> 1080x1080).
-- * `openai`: POST `{OPENAI_BASE_URL}/images/generations` with
--   `{model, prompt, size, n}`; `b64_json` and `url` answers both work.
-- * `fal`: POST `https://fal.run/<model>` (fal's synchronous endpoint) with
--   `{prompt, image_size, num_images}`; the image URL it answers is downloaded.
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
local common = require "explainer.recipes.common"

local M = {}

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

-- ---- the storyboard card (local backend) ------------------------------------

-- The card's text goes through ImageMagick's pango: coder (Pango markup, so
-- colour emoji come from the Noto Color Emoji font, and bullets wrap with a
-- hanging indent). Sizes here are in pixels; the coder wraps text at the
-- width asked for when it runs at 90 dpi, where a pixel is 0.8 point.
local FAMILY = "DejaVu Sans"

--- The card's recipe version (in its key): a new look remakes every card.
M.CARD_VERSION = "card/3"

--- The share of the frame at each edge that a card keeps its text out of:
-- the film's motion (EXPLAINER_MOTION_ZOOM, 0.06) hides up to that much.
M.SAFE = 0.07

-- Named colours a Style line may use, as sRGB hex.
local COLOURS = {
  red = "#d64545", crimson = "#c0233f", scarlet = "#d7301f", maroon = "#7a1f2b", burgundy = "#7b1e3a",
  orange = "#e8762b", amber = "#f0a020", gold = "#d4a017", golden = "#d4a017", yellow = "#f2c230",
  mustard = "#c9a227", lime = "#8cc63f", green = "#3a9d5d", olive = "#7a7d2f", emerald = "#1f9e6e",
  mint = "#6fcf97", sage = "#8da58a", teal = "#1f8a8a", turquoise = "#2bb3b1", cyan = "#1fb5d6",
  aqua = "#3cc8d8", blue = "#2f6fc1", azure = "#3b8fe0", cobalt = "#2850ad", navy = "#1f3a68",
  indigo = "#4b3fa8", purple = "#7a4bb3", violet = "#8a5cd6", lavender = "#a99bd9", lilac = "#b59ad8",
  plum = "#7d3c71", magenta = "#c2378f", pink = "#e36b9c", rose = "#d9577a", coral = "#ee6f57",
  salmon = "#ef8a72", peach = "#f4a582", terracotta = "#c8643b", rust = "#b5521f", brown = "#8a5a3b",
  tan = "#c8a27a", sand = "#d8c49a", beige = "#e8dcc4", cream = "#f6efdc", ivory = "#fbf7ea",
  white = "#ffffff", black = "#16171a", charcoal = "#2e3136", gray = "#8a8f98", grey = "#8a8f98",
  silver = "#b8bcc4", slate = "#5a6b7d",
}
-- Names of two words, looked for before their second word alone.
local COMPOUND = { ["sky blue"] = "#58a6dd", ["forest green"] = "#2d6a3e", ["royal blue"] = "#2f56c9",
                   ["baby blue"] = "#8ec1ea", ["hot pink"] = "#e63e8c", ["off white"] = "#f6f4ee",
                   ["off-white"] = "#f6f4ee" }
-- Words that name a palette rather than a colour.
local MOODS = {
  warm = { "#e8762b", "#f0a020" }, cool = { "#2f6fc1", "#1f8a8a" },
  earthy = { "#8a5a3b", "#7a7d2f" }, pastel = { "#a99bd9", "#8ec1ea" },
  neon = { "#ff2bd6", "#20e3ff" }, vibrant = { "#e63e8c", "#2f6fc1" },
}
-- Colours that read as a background rather than as an accent.
local NEUTRAL = { white = true, ivory = true, cream = true, beige = true, black = true,
                  charcoal = true, ["off white"] = true, ["off-white"] = true }

local function rgb(hex)
  hex = hex:gsub("^#", "")
  if #hex == 3 then hex = hex:gsub(".", "%0%0") end
  return tonumber(hex:sub(1, 2), 16), tonumber(hex:sub(3, 4), 16), tonumber(hex:sub(5, 6), 16)
end

local function hex_of(r, g, b)
  local function c(v) return math.max(0, math.min(255, math.floor(v + 0.5))) end
  return string.format("#%02x%02x%02x", c(r), c(g), c(b))
end

-- a and b mixed: t of b.
local function mix(a, b, t)
  local r1, g1, b1 = rgb(a)
  local r2, g2, b2 = rgb(b)
  return hex_of(r1 + (r2 - r1) * t, g1 + (g2 - g1) * t, b1 + (b2 - b1) * t)
end

-- WCAG relative luminance and contrast ratio.
local function luminance(hex)
  local function lin(v)
    v = v / 255
    return v <= 0.03928 and v / 12.92 or ((v + 0.055) / 1.055) ^ 2.4
  end
  local r, g, b = rgb(hex)
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
end

local function contrast(a, b)
  local la, lb = luminance(a), luminance(b)
  if la < lb then la, lb = lb, la end
  return (la + 0.05) / (lb + 0.05)
end

-- `colour` moved towards black (on a light background) or white until it
-- reads against `bg` with at least `ratio`.
local function legible(colour, bg, ratio)
  local target = luminance(bg) > 0.35 and "#000000" or "#ffffff"
  local c = colour
  for step = 1, 10 do
    if contrast(c, bg) >= ratio then return c end
    c = mix(colour, target, step / 10)
  end
  return c
end

--- The colours a card is drawn in, from a document's Style line. Colours
-- it names (words like "navy", "sky blue", "light green", hex codes like
-- `#1f6feb`) come first, in the order named, then moods ("warm", "cool",
-- "earthy", "pastel", "neon", "vibrant"): the first for the header band and
-- the bullets, the second for the section labels. White, cream, beige or
-- ivory tint the background; black or charcoal (or "dark mode", "dark
-- background", "night") make a dark card. Without colours: navy on paper.
-- Text colours are chosen to read against what is behind them.
-- @tparam[opt] string style the document's `style`
-- @treturn table `background`, `band` (the header band), `band_text`,
-- `title`, `text`, `muted` (the prompt), `accent` (bullets, rule), `label`
-- (section labels), `dark` (boolean), `named` (the colours found, in order)
function M.palette(style)
  local text = " " .. tostring(style or ""):lower():gsub("%c", " ") .. " "
  local found, moods, spare, background = {}, {}, {}, nil
  local skip_to = 0
  for at, word in text:gmatch("()(#?%w+)") do
    if at >= skip_to then
      local nxt = text:match("^[%s%-]+(%a+)", at + #word)
      local prev = text:sub(1, at - 1):match("(%a+)[%s%-]*$")
      local hex, name = nil, word
      if word:match("^#%x+$") and (#word == 4 or #word == 7) then
        hex = word
      elseif nxt and COMPOUND[word .. " " .. nxt] then
        hex, name = COMPOUND[word .. " " .. nxt], word .. " " .. nxt
        skip_to = at + #word + 1 + #nxt
      elseif COLOURS[word] then
        hex = COLOURS[word]
        if prev == "light" or prev == "pale" or prev == "soft" then hex = mix(hex, "#ffffff", 0.45)
        elseif prev == "dark" or prev == "deep" then hex = mix(hex, "#000000", 0.35) end
      elseif MOODS[word] then
        moods[#moods + 1] = MOODS[word][1]
        spare[#spare + 1] = MOODS[word][2]
      end
      if hex and NEUTRAL[name] then
        background = background or hex
      elseif hex then
        found[#found + 1] = hex
      end
    end
  end
  -- Named colours first, then each mood's colour, then moods' second colours.
  for _, list in ipairs { moods, spare } do
    for _, hex in ipairs(list) do found[#found + 1] = hex end
  end
  local dark_bg = background and luminance(background) < 0.1
  local dark = dark_bg or text:find("dark mode", 1, true) or text:find("dark background", 1, true)
    or text:find("dark theme", 1, true) or text:find("%f[%a]night%f[^%a]")
  local accent = found[1] or "#2b4c7e"
  local second = found[2] or mix(accent, dark and "#ffffff" or "#000000", 0.3)
  local bg
  if dark then
    bg = dark_bg and background or mix(accent, "#121317", 0.88)
  elseif background then
    bg = mix(background, accent, 0.05)
  else
    bg = mix(accent, "#fbfaf7", 0.9)
  end
  local ink = dark and "#f3f3f1" or "#1d1d1f"
  return {
    background = bg, band = accent,
    band_text = contrast("#ffffff", accent) >= contrast("#16171a", accent) and "#ffffff" or "#16171a",
    title = ink, text = ink, muted = mix(ink, bg, 0.25),
    accent = legible(accent, bg, 2.2), label = legible(second, bg, 3.5),
    dark = dark and true or false, named = found,
  }
end

-- Text as Pango markup that ImageMagick passes on unchanged: markup's
-- special characters as numeric references (ImageMagick decodes named
-- ones), then ImageMagick's own escapes ("\" and "%"; a leading "@" means
-- "read this file").
local function markup(s)
  return (tostring(s):gsub("[&<>\"']", function(c) return "&#" .. c:byte() .. ";" end))
end

local function im_text(s)
  s = s:gsub("\\", "\\\\"):gsub("%%", "%%%%")
  if s:sub(1, 1) == "@" then s = "\\" .. s end
  return s
end

local PT = 0.8 * 1024   -- Pango units (1024ths of a point) in a pixel at 90 dpi

local function span(text, size, colour, weight, extra)
  return string.format("<span font_family=\"%s\" size=\"%d\" foreground=\"%s\"%s%s>%s</span>", FAMILY,
    math.floor(size * PT + 0.5), colour, weight and (" weight=\"" .. weight .. "\"") or "", extra or "", text)
end

local function spacing(px)
  return string.format(" letter_spacing=\"%d\"", math.floor(px * PT))
end

local function shorten(s, max_chars)
  s = trim(s):gsub("[ \t]+", " ")
  if utf8.len(s) and utf8.len(s) > max_chars then
    s = s:sub(1, utf8.offset(s, max_chars + 1) - 1):gsub("%s+%S*$", "") .. " …"
  elseif not utf8.len(s) then
    s = s:gsub("[\128-\255]", "?")   -- not UTF-8: Pango would refuse it
    if #s > max_chars then s = s:sub(1, max_chars) .. " …" end
  end
  return s
end

-- Bullet marks (UTF-8 ones too: a character class would match their bytes).
local BULLETS = { "-", "*", "+", "•", "·", "–", "—", "▪", "◦" }

local function split_bullet(rest)
  for _, b in ipairs(BULLETS) do
    if rest:sub(1, #b) == b then
      local body = rest:sub(#b + 1):match("^%s+(.*)$")
      if body then return b, body end
    end
  end
  local n, body = rest:match("^(%d+[%.%)])%s+(.*)$")
  if n then return n, body, n end
end

-- The lines of a layout: {level=1|2|3, text=, label=, number=, plain=}.
-- A bullet's level comes from its indent; "1." keeps its number; an
-- indented line without a mark continues the item above, one at the margin
-- is a plain line; "Label: text" keeps its label apart.
local function layout_items(layout)
  local items = {}
  for line in tostring(layout or ""):gmatch("[^\n]+") do
    local indent, rest = line:match("^([ \t]*)(.-)%s*$")
    local bullet, body, number = split_bullet(rest)
    if bullet or #items == 0 or indent == "" then
      local width = #indent:gsub("\t", "    ")
      local item = { level = math.min(3, 1 + width // 2), text = bullet and body or rest, number = number,
                     plain = not bullet or nil }
      if item.text ~= "" then items[#items + 1] = item end
    elseif rest ~= "" then
      items[#items].text = items[#items].text .. " " .. rest
    end
  end
  for _, item in ipairs(items) do
    local label, text = item.text:match("^([^:]-%S):%s*(.*)$")
    if label and utf8.len(label) and utf8.len(label) <= 28 and not label:find("[\"“]") then
      item.label, item.text = label, text
    end
  end
  return items
end

--- What a card shows: its header, title, layout bullets and prompt.
-- @tparam table scene
-- @treturn table `header` ("SCENE 3 · 6 s"), `title`, `layout` (list of
-- `{level=, label=, text=, number=, plain=}`), `prompt_label` ("FINAL PROMPT" for a 2-step
-- scene, "IMAGE PROMPT", else "ANIMATION" or "NARRATION"; nil for none),
-- `prompt`, `iterations` (the Nano Banana refinements, shown as a numbered
-- list), all shortened to what a card can hold
function M.card_content(scene)
  local c = {
    header = string.format("SCENE %s  ·  %s s%s", tostring(scene.scene_number or "?"),
      string.format("%g", tonumber(scene.duration) or 6), scene.no_narration and "  ·  NO NARRATION" or ""),
    title = shorten(scene.title or "", 90),
    layout = {}, iterations = {},
  }
  local total = 0
  for _, item in ipairs(layout_items(scene.layout)) do
    if total > 1400 or #c.layout >= 18 then break end
    item.text = shorten(item.text, 260)
    total = total + #item.text + #(item.label or "")
    c.layout[#c.layout + 1] = item
  end
  if present(scene.final_prompt) then
    c.prompt_label, c.prompt = "FINAL PROMPT", scene.final_prompt
  elseif present(scene.initial_prompt) then
    c.prompt_label, c.prompt = "IMAGE PROMPT", scene.initial_prompt
    for i, step in ipairs(scene.iterations or {}) do
      if i > 6 then break end
      if present(step) then c.iterations[#c.iterations + 1] = shorten(step, 240) end
    end
  elseif present(scene.animation_prompt) then
    c.prompt_label, c.prompt = "ANIMATION", scene.animation_prompt
  elseif present(scene.narration) and #c.layout == 0 then
    c.prompt_label, c.prompt = "NARRATION", scene.narration
  end
  if c.prompt then c.prompt = shorten(c.prompt, 1100) end
  return c
end

-- One text block of a card column: its Pango markup, the width it wraps
-- at, and (a bullet or a number) the glyph before it.
local function blocks_for(column, p, s)
  local out = {}
  local function gap(px) out[#out + 1] = { gap = px } end
  for i, part in ipairs(column) do
    if i > 1 then gap(s * 1.05) end
    if part.label then
      out[#out + 1] = { markup = span(markup(part.label), math.max(15, s * 0.62), p.label, "bold",
        spacing(s * 0.09)) }
      gap(s * 0.3)
    end
    for j, item in ipairs(part.items or {}) do
      if j > 1 then gap(s * part.scale * 0.32) end
      local size = s * part.scale
      local text = markup(item.text)
      if item.label then
        text = "<b>" .. markup(item.label) .. ":</b>" .. (item.text ~= "" and (" " .. text) or "")
      end
      local block = { markup = span(text, size, part.colour), size = size }
      if item.glyph then
        block.glyph = span(markup(item.glyph), size, item.glyph_colour or p.accent, "bold")
        block.glyph_w = math.floor(size * (item.glyph_em or 1.15))
        block.indent = math.floor(size * 1.15 * ((item.level or 1) - 1))
      end
      out[#out + 1] = block
    end
  end
  return out
end

local GLYPHS = { "•", "◦", "▪" }

-- The columns of a card's body: each a list of parts {label=, items=,
-- scale=, colour=}. A wide frame puts the layout and the prompt side by side.
local function card_columns(c, p, wide)
  local layout = nil
  if #c.layout > 0 then
    local items = {}
    for _, item in ipairs(c.layout) do
      items[#items + 1] = { text = item.text, label = item.label, level = item.level,
                            glyph = not item.plain and (item.number or GLYPHS[item.level]) or nil,
                            glyph_em = item.number and 1.7 or nil }
    end
    layout = { label = "LAYOUT", items = items, scale = 1, colour = p.text }
  end
  local parts = {}
  if c.prompt then
    local small = layout and 0.8 or 1
    parts[#parts + 1] = { label = c.prompt_label, items = { { text = c.prompt } }, scale = small,
                          colour = p.muted }
    if #c.iterations > 0 then
      local items = {}
      for i, step in ipairs(c.iterations) do
        items[i] = { text = step, glyph = i .. ".", glyph_em = 1.7, glyph_colour = p.label }
      end
      parts[#parts + 1] = { label = "ITERATIONS", items = items, scale = small * 0.9, colour = p.muted }
    end
  end
  if wide and layout and #parts > 0 then return { { layout }, parts } end
  local one = {}
  if layout then one[#one + 1] = layout end
  for _, part in ipairs(parts) do one[#one + 1] = part end
  return { one }
end

local function push(argv, ...)
  for _, a in ipairs { ... } do argv[#argv + 1] = a end
end

-- The argv that renders a block (a pango: image, a glyph beside it).
local function push_block(argv, block, width, measure)
  if block.gap then
    if not measure then push(argv, "-size", "1x" .. math.max(1, math.floor(block.gap)), "xc:none") end
    return
  end
  local text_w = width - (block.glyph_w or 0) - (block.indent or 0)
  if measure or not block.glyph then
    push(argv, "-size", math.max(40, text_w) .. "x", "pango:" .. im_text(block.markup))
    return
  end
  push(argv, "(", "-size", block.glyph_w .. "x", "pango:" .. im_text(block.glyph))
  if block.indent > 0 then push(argv, "-gravity", "west", "-splice", block.indent .. "x0", "+gravity") end
  push(argv, "-size", math.max(40, text_w) .. "x", "pango:" .. im_text(block.markup), "+append", ")")
end

local function column_height(blocks, heights, k)
  local total = 0
  for _, block in ipairs(blocks) do
    if block.gap then
      total = total + math.floor(block.gap)
    else
      k = k + 1
      total = total + (heights[k] or 0)
    end
  end
  return total, k
end

-- ImageMagick unloads its pango coder at exit while a thread Pango started
-- may still run in libpangoft2: now and then convert dies of SIGABRT after
-- its work is done. Preloaded, the library is never unmapped (0 aborts in
-- 400 runs against 7 without).
local function run_convert(args)
  local argv = { "env", "LD_PRELOAD=libpangoft2-1.0.so.0", "convert" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local r, err = common.run(argv, { timeout = 120 })
  if not r then return nil, M.card_error((tostring(err):gsub("^env ", "convert "))) end
  return r
end

local PANGO_DEFINES = { "-density", "90", "-background", "none", "-define", "pango:wrap=word-char",
                        "-define", "pango:align=left", "+gravity" }

--- Draw a storyboard card for a scene: a header band with the scene's
-- number and length, its title, its layout as bullets and its image prompt
-- (a 2-step scene's final prompt; a Nano Banana scene's refinements as a
-- numbered list) in a smaller face, in the colours its document's Style line
-- names, emoji in colour. The text is sized to fill the frame.
-- @tparam table scene
-- @tparam string path where to write the PNG
-- @tparam number width
-- @tparam number height
-- @tparam[opt] string style the document's Style line (its colours)
-- @treturn true|nil
-- @treturn string|nil message
function M.draw_card(scene, path, width, height, style)
  local c, p = M.card_content(scene), M.palette(style)
  local base = math.min(width, height)
  local wide = width >= height * 1.3
  -- Text keeps out of the outer SAFE of each side: the film's pans and zooms
  -- (6% by default) show all but that much of one edge.
  local margin = math.max(math.floor(base * 0.065), math.ceil(width * M.SAFE))
  local safe_y = math.ceil(height * M.SAFE)
  local inner = width - 2 * margin
  local header_ps = base / 28
  local band = math.max(math.floor(base * 0.115), safe_y + math.floor(header_ps * 2.2))
  local title_len = utf8.len(c.title) or #c.title
  local title_ps = base / (title_len <= 28 and 12.5 or title_len <= 50 and 15 or 18)
  local title_y = band + math.floor(base * 0.055)
  local gutter = math.floor(base * 0.06)
  local columns = card_columns(c, p, wide)
  local col_w = #columns == 2 and math.floor((inner - gutter) / 2) or inner

  local title = span(markup(c.title), title_ps, p.title, "bold")
  -- Pass 1: the title's height and each block's at a first guess of the size.
  local chars = 0
  for _, item in ipairs(c.layout) do chars = chars + #item.text + #(item.label or "") + 12 end
  chars = chars + #(c.prompt or "") * 0.7
  for _, step in ipairs(c.iterations) do chars = chars + #step * 0.6 + 10 end
  chars = chars / #columns
  local bottom = math.max(math.floor(base * 0.065), safe_y)
  local avail_guess = height - title_y - title_ps * 2.6 - bottom
  local s0 = math.sqrt(col_w * avail_guess / (0.55 * 1.25 * math.max(chars, 1)))
  s0 = math.max(base / 64, math.min(base / 22, s0))
  -- Pass 1 measures the title, and the body at two sizes: how its height
  -- grows with the size (as a power between 1, short lines, and 2, long
  -- wrapped ones) gives the size that fills the room.
  local sizes = { s0, s0 * 0.8 }
  local measure = {}
  for _, a in ipairs(PANGO_DEFINES) do measure[#measure + 1] = a end
  push(measure, "-size", inner .. "x", "pango:" .. im_text(title))
  local planned = {}
  for n, size in ipairs(sizes) do
    planned[n] = {}
    for i, column in ipairs(columns) do
      planned[n][i] = blocks_for(column, p, size)
      for _, block in ipairs(planned[n][i]) do push_block(measure, block, col_w, true) end
    end
  end
  push(measure, "-format", "%h\n", "info:")
  local r, err = run_convert(measure)
  if not r then return nil, err end
  local heights = {}
  for h in r.stdout:gmatch("%d+") do heights[#heights + 1] = tonumber(h) end
  local title_h = table.remove(heights, 1) or math.floor(title_ps * 1.2)

  local rule_y = title_y + title_h + math.floor(base * 0.02)
  local body_y = rule_y + math.floor(base * 0.05)
  local avail = height - bottom - body_y
  local used, k = { 0, 0 }, 0
  for n = 1, #sizes do
    for i = 1, #columns do
      local h
      h, k = column_height(planned[n][i], heights, k)
      used[n] = math.max(used[n], h)
    end
  end
  local s, fill = s0, 0
  if used[1] > 0 and used[2] > 0 then
    local power = math.log(used[1] / used[2]) / math.log(sizes[1] / sizes[2])
    power = math.max(1, math.min(2.2, power == power and power or 2))
    s = s0 * (avail * 0.97 / used[1]) ^ (1 / power)
    s = math.max(base / 64, math.min(base / 17, s))
    fill = math.min(1, used[1] * (s / s0) ^ power / avail)
  end

  local argv = {}
  for _, a in ipairs(PANGO_DEFINES) do argv[#argv + 1] = a end
  push(argv, "-size", width .. "x" .. height, "xc:" .. p.background,
    "-fill", p.band, "-draw", string.format("rectangle 0,0 %d,%d", width, band - 1),
    "(", "-size", inner .. "x", "pango:" .. im_text(span(markup(c.header), header_ps, p.band_text, "bold",
      spacing(header_ps * 0.08))),
    "-gravity", "west", "-extent", inner .. "x" .. (band - safe_y), "+gravity", ")",
    "-geometry", "+" .. margin .. "+" .. safe_y, "-composite",
    "(", "-size", inner .. "x", "pango:" .. im_text(title), ")",
    "-geometry", "+" .. margin .. "+" .. title_y, "-composite",
    "-fill", p.accent, "-draw", string.format("rectangle %d,%d %d,%d", margin, rule_y,
      margin + math.floor(base * 0.12), rule_y + math.max(3, math.floor(base * 0.006))))
  -- A body that does not fill its room starts lower, to balance the frame.
  -- (The room left is the guard's limit: what the size estimate missed is
  -- shrunk to fit, never cut.)
  local lower = fill < 0.9 and math.floor(avail * (1 - fill) * 0.3) or 0
  local top = body_y + lower
  for i, column in ipairs(columns) do
    if #column == 0 then goto next_column end
    push(argv, "(")
    for _, block in ipairs(blocks_for(column, p, s)) do push_block(argv, block, col_w, false) end
    push(argv, "-background", "none", "-append", "-resize", col_w .. "x" .. (avail - lower) .. ">", ")",
      "-geometry", "+" .. (margin + (i - 1) * (col_w + gutter)) .. "+" .. top, "-composite")
    ::next_column::
  end
  -- zlib's fastest level: half the time of the default, a tenth more bytes;
  -- no time stamps: the same card is the same bytes.
  push(argv, "-depth", "8", "-define", "png:compression-level=1", "-define", "png:exclude-chunks=date,time",
    "PNG24:" .. path)
  r, err = run_convert(argv)
  if not r then return nil, err end
  return true
end

--- The message for a card ImageMagick could not draw: an ImageMagick
-- without its pango: coder is named, with what to install.
function M.card_error(err)
  err = tostring(err)
  if err:find("no decode delegate for this image format `PANGO'", 1, true)
    or err:find("NoDecodeDelegateForThisImageFormat `PANGO'", 1, true) then
    return "the card needs ImageMagick's pango: coder (Debian: libmagickcore-6.q16-6-extra, " ..
      "and fonts-noto-color-emoji for emoji; run make deps)"
  end
  return err
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

local function generate_local(scene, path, opts)
  local w, h = common.parse_size(M.settings(opts).size)
  return M.draw_card(scene, path, w, h, M.style_of(opts))
end

M.backends = { ["local"] = generate_local, openai = generate_openai, fal = generate_fal }

local DEFAULT_MODEL = { openai = "gpt-image-1", fal = "fal-ai/flux/schnell" }
local DEFAULT_EDIT_MODEL = { fal = "fal-ai/nano-banana/edit" }
local BASE_ENV = { openai = "OPENAI_BASE_URL", fal = "FAL_BASE_URL" }
local DEFAULT_BASE = { openai = "https://api.openai.com/v1", fal = "https://fal.run" }

--- What the options choose: `backend`, and the `model`, `size` and
-- `base_url` it uses (the card: only its frame size); `edits` (true when
-- the script's iterations and final prompt are to be sent as edits and the
-- backend can) with the `edit_model`.
function M.settings(opts)
  opts = opts or {}
  local backend = common.option(opts, "backend", "EXPLAINER_IMAGE_BACKEND", "local")
  local s = { backend = backend }
  if backend == "local" then
    local w, h = common.size_option(opts, "size", "EXPLAINER_IMAGE_SIZE")
    if not w then w, h = common.frame_size(common.format_of(opts)) end
    s.size = w .. "x" .. h
  else
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
-- ...) and the 2-step final prompt (`final.png`) is an edit of the image
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
    prompts[#prompts + 1] = { file = opts.filename or "final.png", prompt = trim(scene.final_prompt) }
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

--- The key of a scene's image: everything the card shows (its header,
-- title, layout bullets, prompt and refinements, colours and size), or the
-- prompt sent to a service with its model and size.
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table the key (explainer.key)
function M.key(scene, opts)
  opts = opts or {}
  local s = M.settings(opts)
  if s.backend == "local" then
    local c = M.card_content(scene)
    local p = M.palette(M.style_of(opts))
    local layout = {}
    for i, item in ipairs(c.layout) do
      layout[i] = { item.level, item.label or false, item.text, item.number or item.plain or false }
    end
    return key.of(M.CARD_VERSION, { header = c.header, title = c.title, layout = layout,
      prompt_label = c.prompt_label or "", prompt = c.prompt or "", iterations = c.iterations,
      colours = { p.background, p.band, p.band_text, p.title, p.text, p.muted, p.accent, p.label },
      size = s.size })
  end
  local steps = M.steps(scene, opts)
  if steps then return steps[#steps].key end
  return key.of("image/1", { prompt = M.prompt_for(scene, opts.document), backend = s.backend,
                             model = s.model, size = s.size, base_url = s.base_url })
end

local SPEC = {
  kind = "image", backends = M.backends, env = "EXPLAINER_IMAGE_BACKEND",
  names = "local, openai or fal", filename = "final.png", media = "png",
  key = M.key,
  build = function(make, scene, tmp, opts) return make(scene, tmp, opts) end,
}

-- The steps of an edit chain, each made unless fresh (so a changed
-- iteration remakes that step and those after it, nothing before), then the
-- last one as the output.
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
  local final = output_dir .. "/" .. (opts.filename or "final.png")
  if previous == final then return final, how end
  local made
  made, how = artifact.make(final, steps[#steps].key, function(tmp)
    return core.copy_file(previous, tmp)
  end, { kind = "png" })
  if not made then return nil, how end
  return final, how
end

--- Make a scene's image, unless the one there is fresh. With edits on (and
-- a backend that can edit), a scene with iterations or a final prompt is a
-- chain: see `steps`.
-- @tparam table scene a scene table (docs/lua-api.md keys)
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `backend` (`local`, `openai`, `fal`; default
-- `EXPLAINER_IMAGE_BACKEND` or `local`), `filename` (default `final.png`),
-- `document` or `format` (the frame's aspect), `model`, `size`, `api_key`,
-- `base_url`, `retries`, `backoff`, `timeout`, `edits` (default
-- `EXPLAINER_IMAGE_EDITS` or off), `edit_model`
-- @treturn string|nil the image's path
-- @treturn string how it came: "fresh", "kept", "cached" or "made"; or a message
function M.generate(scene, output_dir, opts)
  common.check_scene_args("generate", scene, output_dir, 2)
  opts = opts or {}
  if edits_on(opts) then
    local s = M.settings(opts)
    if not M.edits_supported(s) and s.backend ~= "local" then
      log.warn_once("edits:" .. s.backend .. ":" .. tostring(s.model), ("the %s image backend%s cannot edit "
        .. "images: each scene's image is made from its initial prompt alone"):format(s.backend,
        s.model and (" with " .. s.model) or ""))
    end
    local steps = M.steps(scene, opts)
    if steps and M.backends[s.backend] then return generate_chain(scene, output_dir, opts, steps) end
  end
  return common.generate(SPEC, scene, output_dir, opts)
end

return M
