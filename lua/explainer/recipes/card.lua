--- The storyboard card (`EXPLAINER_CARD=storyboard`): a scene's production
-- notes on one frame. Its number, duration and title, its layout as bullets
-- and its image prompt (a 2-step scene's final prompt; a Nano Banana scene's
-- iterations) in a smaller face, in colours the Style line names, emoji in
-- colour, sized to fill the document's frame (a 16:9 card has two columns).
-- @module explainer.recipes.card

local colour = require "explainer.recipes.colour"
local layout = require "explainer.recipes.layout"
local magick = require "explainer.recipes.magick"

local M = {}

local function present(s)
  return type(s) == "string" and s:find("%S") ~= nil
end

-- The card's text goes through ImageMagick's pango: coder (Pango markup, so
-- colour emoji come from the Noto Color Emoji font, and bullets wrap with a
-- hanging indent). Sizes here are in pixels; the coder wraps text at the
-- width asked for when it runs at 90 dpi, where a pixel is 0.8 point.
local FAMILY = "DejaVu Sans"

local markup, im_text, shorten, push = magick.markup, magick.text, magick.shorten, magick.push

local function span(text, size, fg, weight, extra)
  return magick.span(text, FAMILY, size, fg, weight, extra)
end

local function spacing(px)
  return string.format(" letter_spacing=\"%d\"", math.floor(px * magick.PT))
end

--- The card's recipe version (in its key): a new look remakes every card.
M.CARD_VERSION = "card/3"

--- The share of the frame at each edge that a card keeps its text out of:
-- the film's motion (EXPLAINER_MOTION_ZOOM, 0.06) hides up to that much.
M.SAFE = 0.07

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
  for _, item in ipairs(layout.items(scene.layout)) do
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
  local notes = nil
  if #c.layout > 0 then
    local items = {}
    for _, item in ipairs(c.layout) do
      items[#items + 1] = { text = item.text, label = item.label, level = item.level,
                            glyph = not item.plain and (item.number or GLYPHS[item.level]) or nil,
                            glyph_em = item.number and 1.7 or nil }
    end
    notes = { label = "LAYOUT", items = items, scale = 1, colour = p.text }
  end
  local parts = {}
  if c.prompt then
    local small = notes and 0.8 or 1
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
  if wide and notes and #parts > 0 then return { { notes }, parts } end
  local one = {}
  if notes then one[#one + 1] = notes end
  for _, part in ipairs(parts) do one[#one + 1] = part end
  return { one }
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
  local c, p = M.card_content(scene), colour.palette(style)
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
  local r, err = magick.convert(measure)
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
  r, err = magick.convert(argv)
  if not r then return nil, err end
  return true
end

return M
