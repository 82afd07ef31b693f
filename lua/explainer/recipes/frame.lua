--- A scene's frame as its Layout Design describes it, drawn with
-- ImageMagick (explainer.recipes.magick) in two layers:
--
-- * the **plate**: the background as described (colours from its words and
--   the Style line, a gradient, a grid or dots) and each visual element as a
--   soft placeholder with an emoji where one fits and a short label; or, with
--   an image backend, the generated image filling the frame or the visual
--   region;
-- * the **text**: the on-screen text on a transparent layer, set large at
--   its position in Inter (DejaVu Sans where Inter is not installed), its
--   size measured to fit its box, never in the caption band.
--
-- `design` decides everything drawn (pure data: what the layers' keys hold);
-- `draw_layers` draws it (`draw_plate` and `draw_text` one layer each). Where things go is
-- explainer.recipes.layout's.
-- @module explainer.recipes.frame

local colour = require "explainer.recipes.colour"
local layout = require "explainer.recipes.layout"
local magick = require "explainer.recipes.magick"
local captions = require "explainer.recipes.captions"

local M = {}

--- The layers' recipe versions (in their keys): a new look remakes them.
M.PLATE_VERSION = "plate/2"
M.TEXT_VERSION = "text/3" -- text/3: a word too wide for its box shrinks the text, never runs out of it

--- The faces: Inter Display for on-screen text, Inter for labels (Debian
-- fonts-inter); Pango falls back to DejaVu Sans, and to Noto Color Emoji for emoji.
M.TITLE_FAMILY = "Inter Display, Inter, DejaVu Sans"
M.LABEL_FAMILY = "Inter, DejaVu Sans"

--- Does a scene speak? Only then can captions be burned over its frame.
-- @tparam table scene
-- @treturn boolean
function M.speaks(scene)
  return not scene.no_narration and type(scene.narration) == "string" and scene.narration:find("%S") ~= nil
end

--- Pixels at the bottom of a frame that nothing drawn goes into: the band
-- burned-in captions use (captions.style) and a little air above it; in a
-- silent scene, which never has captions, only the captions' own margin
-- below it (where a phone's buttons are).
-- @tparam number width
-- @tparam number height
-- @tparam[opt] boolean silent the scene has no narration
-- @treturn number
function M.reserve(width, height, silent)
  local st = captions.style(width, height)
  local air = height * 0.015
  if silent then return math.ceil(st.margin_v + air) end
  return math.ceil(st.margin_v + st.max_lines * st.size * 1.25 + 2 * st.box + air)
end

--- The space between a text and the one below it in its box, as a share of
-- the size of the one above (a subtitle stands clear of a two-line headline).
M.GAP = 0.5

-- The largest size of a text, by its role and its size word, as a share of
-- the frame's shorter side.
local MAX_SIZE = { huge = 0.15, large = 0.125, medium = 0.085, small = 0.06 }
local SUB_SIZE = { huge = 0.09, large = 0.075, medium = 0.06, small = 0.045 }
local WEIGHTS = { heavy = "heavy", bold = "bold", semibold = "semibold", medium = "medium", normal = "normal",
                  light = "light" }

local function ink_for(bg)
  return colour.contrast("#16171a", bg) >= colour.contrast("#ffffff", bg) and "#16171a" or "#ffffff"
end

-- The text groups as drawn: each text's words, face, weight, largest size
-- and colour; over an image, white with a shadow.
local function text_design(r, bg, palette, base, over_image, width, height)
  local groups = {}
  for i, g in ipairs(r.groups) do
    local behind = layout.colour_at(bg, (g.box.x + g.box.w / 2) / width, (g.box.y + g.box.h / 2) / height)
    local ink = over_image and "#ffffff" or ink_for(behind)
    local texts = {}
    for j, t in ipairs(g.texts) do
      local title = t.role == "title"
      local max = (title and MAX_SIZE or SUB_SIZE)[t.size or (title and "large" or "medium")] * base
      local fg = ink
      if not title and not over_image then
        fg = colour.contrast(palette.accent, behind) >= 4.5 and palette.accent or colour.mix(ink, behind, 0.15)
      end
      texts[j] = { text = t.text, weight = WEIGHTS[t.weight] or (title and "bold" or "medium"),
                   max = math.floor(max + 0.5), colour = fg }
    end
    groups[i] = { box = g.box, align = g.align, anchor = g.anchor, texts = texts, shadow = over_image or nil }
  end
  return groups
end

-- The placeholders as drawn: box, shape, emoji, label and colours.
local function visual_design(r, bg, palette, base, width, height)
  local out = {}
  for i, v in ipairs(r.visuals) do
    local behind = layout.colour_at(bg, (v.box.x + v.box.w / 2) / width, (v.box.y + v.box.h / 2) / height)
    local dark = colour.luminance(behind) < 0.25
    out[i] = {
      box = v.box, round = v.round, emoji = v.emoji, label = v.label,
      fill = dark and colour.mix(behind, "#ffffff", 0.14) or colour.mix(behind, "#ffffff", 0.55),
      stroke = dark and colour.mix(behind, "#ffffff", 0.4) or colour.mix(behind, palette.accent, 0.45),
      ink = colour.mix(ink_for(behind), behind, 0.3),
      label_size = math.floor(math.max(base * 0.024, math.min(base * 0.034, v.box.w / 14)) + 0.5),
      emoji_size = math.floor(math.min(v.box.w, v.box.h) * 0.34 + 0.5),
    }
  end
  return out
end

--- Everything a scene's frame draws, decided: pure data, what the layers'
-- keys hold.
-- @tparam table scene
-- @tparam number width
-- @tparam number height
-- @tparam[opt] table opts `style` (the Style line), `image` ("bleed" or
--   "region" when a generated image is drawn on the plate; nil offline)
-- @treturn table `{width=, height=, pattern=, animation=, speaks=, plate={...},
--   text={...}}`
function M.design(scene, width, height, opts)
  opts = opts or {}
  local spec = layout.for_scene(scene)
  local palette = colour.palette(opts.style)
  local speaks = M.speaks(scene)
  local r = layout.resolve(spec, width, height, { reserve = M.reserve(width, height, not speaks) })
  local bg = layout.background(spec.background, palette)
  local base = math.min(width, height)
  local mode = opts.image and (spec.pattern.image == "region" and "region" or "bleed") or nil
  local plate = { width = width, height = height, background = bg, image = mode,
                  region = mode == "region" and r.region or nil,
                  visuals = not mode and visual_design(r, bg, palette, base, width, height) or {},
                  frame = spec.pattern.frame or nil }
  return {
    width = width, height = height, pattern = spec.pattern.name, animation = spec.animation, speaks = speaks,
    plate = plate,
    text = { width = width, height = height,
             groups = text_design(r, bg, palette, base, mode == "bleed", width, height) },
  }
end

-- ------------------------------------------------------------------ drawing

local push = magick.push

local GRAVITY = {
  top = { left = "NorthWest", center = "North", right = "NorthEast" },
  middle = { left = "West", center = "Center", right = "East" },
  bottom = { left = "SouthWest", center = "South", right = "SouthEast" },
}

-- A pango: image. Gravity is unset first: ImageMagick's pango coder takes
-- a West or NorthWest gravity for right alignment.
local function pango(argv, width, markup, align)
  push(argv, "+gravity", "-define", "pango:align=" .. (align or "left"))
  if width then push(argv, "-size", math.max(8, math.floor(width)) .. "x") end
  push(argv, "pango:" .. magick.text(markup))
end

-- A word wider than its line breaks between its letters (word-char) rather
-- than running out of its image, where Pango's centring cuts its first letters.
local PANGO = { "-density", "90", "-background", "none", "-define", "pango:wrap=word-char" }

-- The share of an image's width (`-size`) ImageMagick's pango coder lays text
-- out in (measured: a line as wide as 0.937 of it wraps): a word fits a box
-- when it is no wider than this share of it, with a little air.
local LINE_SHARE = 0.92

local function text_markup(t, size, words_only)
  local s = magick.markup(magick.shorten(t.text, 200))
  if words_only then s = s:gsub("%s+", "\n") end
  return magick.span(s, M.TITLE_FAMILY, size, t.colour, t.weight)
end

-- The sizes tried for a text, largest first: 0.88 apart down to a floor.
local function candidates(max, floor)
  local out, s = {}, max
  repeat
    out[#out + 1] = s
    s = s * 0.88
  until s < floor or #out >= 12
  return out
end

-- The space above a group's text `ti` at scale `sc`.
local function gap(g, ti, sc)
  if ti < 2 then return 0 end
  return g.texts[ti - 1].max * sc * M.GAP
end

-- Measure every group's texts in one run of convert: each text's widest
-- word (set one a line, no width) at its largest size, and its height
-- wrapped at its box's width at each size tried. Returns the scale chosen for
-- each group (a share of its texts' largest sizes) and the gap between texts.
local function fit(groups, base)
  local argv = {}
  for _, a in ipairs(PANGO) do argv[#argv + 1] = a end
  local scales = candidates(1, 0.28)
  -- Widths first: each text's widest word at its largest size.
  for _, g in ipairs(groups) do
    for _, t in ipairs(g.texts) do pango(argv, nil, text_markup(t, t.max, true)) end
  end
  -- Heights: each text at each size, wrapped at its box's width.
  for _, g in ipairs(groups) do
    for _, t in ipairs(g.texts) do
      for _, sc in ipairs(scales) do pango(argv, g.box.w, text_markup(t, t.max * sc), g.align) end
    end
  end
  push(argv, "-format", "%w %h\n", "info:")
  local r, err = magick.convert(argv)
  if not r then return nil, err end
  local dims = {}
  for w, h in r.stdout:gmatch("(%d+) (%d+)") do dims[#dims + 1] = { tonumber(w), tonumber(h) } end
  local k, words = 0, {}
  for gi, g in ipairs(groups) do
    words[gi] = {}
    for ti in ipairs(g.texts) do
      k = k + 1
      words[gi][ti] = dims[k] and dims[k][1] or 0
    end
  end
  local chosen = {}
  for gi, g in ipairs(groups) do
    local heights = {}
    for ti in ipairs(g.texts) do
      heights[ti] = {}
      for si in ipairs(scales) do
        k = k + 1
        heights[ti][si] = dims[k] and dims[k][2] or math.huge
      end
    end
    chosen[gi] = scales[#scales]
    for si, sc in ipairs(scales) do
      local total, widest = 0, 0
      for ti in ipairs(g.texts) do
        total = total + heights[ti][si] + gap(g, ti, sc)
        widest = math.max(widest, words[gi][ti] * sc)
      end
      if total <= g.box.h and widest <= g.box.w * LINE_SHARE then
        chosen[gi] = sc
        break
      end
    end
    chosen[gi] = math.max(chosen[gi], 0.02 * base / math.max(1, g.texts[1].max))
  end
  return chosen
end

-- The arguments that draw the text layer: a transparent canvas of the
-- frame's size with each group's texts at the size measured to fit their box.
local function text_args(d)
  local argv = { "-size", d.width .. "x" .. d.height, "xc:none" }
  if #d.groups == 0 then return argv end
  local scales, err = fit(d.groups, math.min(d.width, d.height))
  if not scales then return nil, err end
  for _, a in ipairs(PANGO) do argv[#argv + 1] = a end
  for gi, g in ipairs(d.groups) do
    local gravity = GRAVITY[g.anchor or "top"][g.align or "left"] or "NorthWest"
    push(argv, "(")
    for ti, t in ipairs(g.texts) do
      local size = t.max * scales[gi]
      if ti > 1 then push(argv, "-size", "1x" .. math.floor(gap(g, ti, scales[gi]) + 0.5), "xc:none") end
      push(argv, "(")
      pango(argv, g.box.w, text_markup(t, size), g.align)
      push(argv, "-trim", "+repage", ")")
    end
    push(argv, "-background", "none", "-gravity", gravity == "Center" and "Center" or
      (g.align == "right" and "East" or g.align == "center" and "Center" or "West"), "-append")
    if g.shadow then
      local sigma = math.max(2, math.floor(g.texts[1].max * scales[gi] * 0.12))
      push(argv, "(", "+clone", "-background", "#000000", "-shadow", "75x" .. sigma .. "+0+0", ")",
        "+swap", "-background", "none", "-layers", "merge", "+repage")
    end
    push(argv, "-gravity", gravity, "-background", "none", "-extent", g.box.w .. "x" .. g.box.h, ")",
      "-gravity", "NorthWest", "-geometry", "+" .. g.box.x .. "+" .. g.box.y, "-composite")
  end
  return argv
end

--- Draw the text layer: a transparent PNG of the frame's size with each
-- group's texts set at the size measured to fit their box.
-- @tparam table d `design(...).text`
-- @tparam string path
-- @treturn true|nil
-- @treturn string|nil message
function M.draw_text(d, path)
  local argv, err = text_args(d)
  if not argv then return nil, err end
  push(argv, magick.png_out(path))
  local r
  r, err = magick.convert(argv)
  if not r then return nil, err end
  return true
end

local GRADIENT_DIRECTION = { south = "South", north = "North", east = "East", west = "West",
                             diagonal = "SouthEast" }

-- The background, its texture, and (offline) the placeholders.
local function background_args(p)
  local bg, argv = p.background, {}
  local size = p.width .. "x" .. p.height
  if bg.direction == "radial" then
    push(argv, "-size", size, "radial-gradient:" .. bg.from .. "-" .. bg.to)
  else
    push(argv, "-define", "gradient:direction=" .. (GRADIENT_DIRECTION[bg.direction] or "South"),
      "-size", size, "gradient:" .. bg.from .. "-" .. bg.to)
  end
  local base = math.min(p.width, p.height)
  local faint = colour.mix(layout.colour_at(bg, 0.5, 0.5), ink_for(layout.colour_at(bg, 0.5, 0.5)), 0.08)
  if bg.texture == "grid" then
    local step, lines = math.floor(base / 16), {}
    for x = step, p.width, step do lines[#lines + 1] = ("line %d,0 %d,%d"):format(x, x, p.height) end
    for y = step, p.height, step do lines[#lines + 1] = ("line 0,%d %d,%d"):format(y, p.width, y) end
    push(argv, "-stroke", faint, "-strokewidth", math.max(1, base // 540), "-fill", "none",
      "-draw", table.concat(lines, " "))
  elseif bg.texture == "dots" then
    -- The same dots for the same frame: a fixed sequence (Park–Miller).
    local seed, dots = 16807, {}
    local function rnd()
      seed = seed * 16807 % 2147483647
      return seed / 2147483647
    end
    for _ = 1, 60 do
      local x, y = math.floor(rnd() * p.width), math.floor(rnd() * p.height)
      local rad = math.floor(base * (0.002 + rnd() * 0.006))
      dots[#dots + 1] = ("circle %d,%d %d,%d"):format(x, y, x + rad, y)
    end
    push(argv, "-stroke", "none", "-fill", colour.mix(faint, "#ffffff", 0.5) .. "80", "-draw", table.concat(dots, " "))
  end
  return argv
end

local function shape(v, scale)
  scale = scale or 1
  local b = { x = math.floor(v.box.x * scale), y = math.floor(v.box.y * scale), w = math.floor(v.box.w * scale),
              h = math.floor(v.box.h * scale) }
  local x0, y0, x1, y1 = b.x, b.y, b.x + b.w - 1, b.y + b.h - 1
  if v.round then
    return ("ellipse %d,%d %d,%d 0,360"):format((x0 + x1) // 2, (y0 + y1) // 2, (x1 - x0) // 2, (y1 - y0) // 2)
  end
  local rad = math.floor(math.min(b.w, b.h) * 0.1)
  return ("roundrectangle %d,%d %d,%d %d,%d"):format(x0, y0, x1, y1, rad, rad)
end

-- Each placeholder: a shadow under it (its shape twice, a little lower and
-- faint: soft enough, at a tenth of the cost of a blur), the shape, its
-- emoji and its label.
local function placeholder_args(p, argv)
  if #p.visuals == 0 then return end
  local base = math.min(p.width, p.height)
  local off = math.max(1, math.floor(base * 0.006))
  local shadows = {}
  for _, v in ipairs(p.visuals) do
    local lower = { box = { x = v.box.x, y = v.box.y + off, w = v.box.w, h = v.box.h }, round = v.round }
    local wider = { box = { x = v.box.x - off, y = v.box.y + off, w = v.box.w + 2 * off, h = v.box.h + 2 * off },
                    round = v.round }
    shadows[#shadows + 1] = shape(wider)
    shadows[#shadows + 1] = shape(lower)
  end
  push(argv, "-stroke", "none", "-fill", "#00000014", "-draw", table.concat(shadows, " "))
  local stroke = math.max(2, math.floor(base * 0.003))
  for _, v in ipairs(p.visuals) do
    push(argv, "-fill", v.fill .. "d9", "-stroke", v.stroke, "-strokewidth", p.frame and stroke * 3 or stroke,
      "-draw", "stroke-dasharray " .. stroke * 6 .. " " .. stroke * 4 .. " " .. shape(v),
      "-stroke", "none")
  end
  for _, a in ipairs(PANGO) do argv[#argv + 1] = a end
  for _, v in ipairs(p.visuals) do
    local b = v.box
    local pad = math.floor(math.min(b.w, b.h) * 0.08)
    local parts = {}
    if v.emoji then
      parts[#parts + 1] = magick.span(magick.markup(v.emoji), "Noto Color Emoji", v.emoji_size, v.ink)
    end
    if v.label and v.label ~= "" then
      parts[#parts + 1] = magick.span(magick.markup(magick.shorten(v.label, 40)), M.LABEL_FAMILY, v.label_size,
        v.ink, "medium")
    end
    if #parts > 0 then
      push(argv, "(")
      pango(argv, b.w - 2 * pad, table.concat(parts, "\n"), "center")
      push(argv, "-trim", "+repage", "-resize", (b.w - 2 * pad) .. "x" .. (b.h - 2 * pad) .. ">",
        "-background", "none", "-gravity", "Center", "-extent", b.w .. "x" .. b.h, ")",
        "-gravity", "NorthWest", "-geometry", "+" .. b.x .. "+" .. b.y, "-composite")
    end
  end
end

-- The arguments that draw the plate.
local function plate_args(d, image)
  local size = d.width .. "x" .. d.height
  if d.image == "bleed" then
    return { image, "-resize", size .. "^", "-gravity", "Center", "-extent", size, "+gravity",
             "-alpha", "off", "-alpha", "opaque" }
  end
  local argv = background_args(d)
  if d.image == "region" then
    local r = d.region
    local rs = r.w .. "x" .. r.h
    local rad = math.floor(math.min(r.w, r.h) * 0.05)
    push(argv, "(", image, "-resize", rs .. "^", "-gravity", "Center", "-extent", rs,
      "(", "-size", rs, "xc:black", "-fill", "white", "-draw",
      ("roundrectangle 0,0 %d,%d %d,%d"):format(r.w - 1, r.h - 1, rad, rad), ")",
      "-alpha", "off", "-compose", "CopyOpacity", "-composite", "-compose", "Over", ")",
      "-gravity", "NorthWest", "-geometry", "+" .. r.x .. "+" .. r.y, "-composite")
  else
    placeholder_args(d, argv)
  end
  push(argv, "-alpha", "off", "-alpha", "opaque")
  return argv
end

--- Draw the plate: the background with the placeholders, or the generated
-- image over the frame (`bleed`) or in the visual region (`region`).
-- @tparam table d `design(...).plate`
-- @tparam string path
-- @tparam[opt] string image the generated image (when `d.image`)
-- @treturn true|nil
-- @treturn string|nil message
function M.draw_plate(d, path, image)
  local argv = plate_args(d, image)
  push(argv, magick.png_out(path))
  local r, err = magick.convert(argv)
  if not r then return nil, err end
  return true
end

--- Draw the plate, the text layer and the whole frame at once (one run of
-- ImageMagick after the text is measured: a third of the time of three).
-- @tparam table d `design(...)`
-- @tparam table paths `plate`, `text`, `frame`
-- @tparam[opt] string image the generated image (when `d.plate.image`)
-- @treturn true|nil
-- @treturn string|nil message
function M.draw_layers(d, paths, image)
  local text, err = text_args(d.text)
  if not text then return nil, err end
  local argv = plate_args(d.plate, image)
  push(argv, "-depth", "8", "-define", "png:compression-level=1", "-define", "png:exclude-chunks=date,time",
    "-write", "PNG32:" .. paths.plate, "(")
  for _, a in ipairs(text) do argv[#argv + 1] = a end
  push(argv, "-write", "PNG32:" .. paths.text, ")", "-gravity", "NorthWest", "-geometry", "+0+0", "-composite",
    "-alpha", "opaque",
    magick.png_out(paths.frame))
  local r
  r, err = magick.convert(argv)
  if not r then return nil, err end
  return true
end

--- Draw a scene's whole frame into one PNG (the layers beside it as
-- `path.plate.png` and `path.text.png`, removed after).
-- @tparam table scene
-- @tparam string path
-- @tparam number width
-- @tparam number height
-- @tparam[opt] table opts as for `design`, and `image_path`
-- @treturn true|nil
-- @treturn string|nil message
function M.draw(scene, path, width, height, opts)
  opts = opts or {}
  local d = M.design(scene, width, height, { style = opts.style, image = opts.image_path and true or nil })
  local plate, text = path .. ".plate.png", path .. ".text.png"
  local ok, err = M.draw_layers(d, { plate = plate, text = text, frame = path }, opts.image_path)
  os.remove(plate)
  os.remove(text)
  return ok, err
end

return M
