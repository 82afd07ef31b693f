--- A scene's frame as its `Layout Design` describes it. Pure Lua.
--
-- `parse` reads the bullets into a spec: the background, each on-screen
-- text with its position and weight, the visual elements with theirs, the
-- layout pattern and the text's animation. `resolve` places them in a frame
-- of a given size: every text in a box, and every visual element in a
-- region, inside the safe zone and above the caption band (burned-in
-- captions never cover them, nor do a phone's buttons), as the positions say or,
-- where they say nothing, as the pattern (the catalogue `PATTERNS`) does.
-- Every rule about where things go is here, once; `explainer.recipes.frame`
-- draws what it decides.
-- @module explainer.recipes.layout

local colour = require "explainer.recipes.colour"
local emoji = require "explainer.recipes.emoji"

local M = {}

--- The share of the frame at each edge that nothing written comes into: the
-- film's motion (EXPLAINER_MOTION_ZOOM, 0.06) hides up to that much.
M.SAFE = 0.07

local function trim(s)
  return (tostring(s or ""):gsub("^%s+", ""):gsub("%s+$", ""))
end

-- ---------------------------------------------------------------- bullets

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

--- The lines of a layout: `{level=1|2|3, text=, label=, number=, plain=}`.
-- A bullet's level comes from its indent; "1." keeps its number; an
-- indented line without a mark continues the item above, one at the margin
-- is a plain line; "Label: text" keeps its label apart.
-- @tparam string|nil layout a scene's `layout`
-- @treturn table
function M.items(layout)
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

-- -------------------------------------------------------------- positions

-- Position words as one spelling: lower case, "centre" and "middle" as
-- "center", dashes and slashes as spaces.
local function words_of(text)
  local s = " " .. tostring(text or ""):lower():gsub("centred", "centered"):gsub("centre", "center")
    :gsub("middle", "center")
    :gsub("(%d)%s*/%s*(%d)", "%1 %2"):gsub("[%-_/]", " "):gsub("[%(%)%[%],;:]", " , ") .. " "
  return (s:gsub("%s+", " "))
end

local function has(s, phrase)
  return s:find(" " .. phrase .. " ", 1, true) ~= nil
end

-- Vertical places, most specific first.
local VERTICAL = {
  { "top third", "top third" }, { "upper third", "top third" }, { "top 1 3", "top third" },
  { "lower third", "lower third" }, { "bottom third", "lower third" }, { "lower 1 3", "lower third" },
  { "center third", "center" },
  { "upper half", "top" }, { "top half", "top" }, { "lower half", "bottom" }, { "bottom half", "bottom" },
  { "top", "top" }, { "upper", "top" }, { "header", "top" },
  { "bottom", "bottom" }, { "lower", "bottom" }, { "footer", "bottom" },
}
local HORIZONTAL = { { "left", "left" }, { "right", "right" } }
-- Words that place an element only where they stand alone in a clause or
-- after "on the", "at the", "in the", "along the", "to the".
local PLACE_WORDS = { top = true, bottom = true, left = true, right = true, center = true, centered = true,
                      upper = true, lower = true }

--- What a position text says: the vertical place (`top`, `top third`,
-- `center`, `lower third`, `bottom`), the horizontal one (`left`, `center`,
-- `right`), whether it is a corner, the alignment, the weight (`bold`,
-- `semibold`, `medium`, `normal`, `light`, `heavy`), the size (`huge`,
-- `large`, `medium`, `small`), and whether it goes below the text before it.
-- `safe zone` is understood (everything is in it).
-- @tparam string text e.g. "Large bold, top third, left-aligned (safe zone)"
-- @tparam[opt] boolean strict read only clear places (for visual elements,
--   whose descriptions use "top" and "left" about other things too)
-- @treturn table `{v=, h=, corner=, align=, weight=, size=, below=, span=}`
function M.position(text, strict)
  local s = words_of(text)
  local p = {}
  local scan = s
  if strict then
    -- Only short clauses and "on the left"-like phrases speak of the frame.
    local kept = {}
    for clause in s:gmatch("[^,]+") do
      local n = select(2, clause:gsub("%S+", ""))
      if n <= 3 then kept[#kept + 1] = clause end
    end
    for _, pre in ipairs { "on the", "at the", "in the", "along the", "to the", "across the", "filling the" } do
      for word in s:gmatch(" " .. pre .. " (%a+)") do
        if PLACE_WORDS[word] then kept[#kept + 1] = word end
      end
    end
    for _, phrase in ipairs { "left side", "right side", "left edge", "right edge", "top edge", "bottom edge",
                              "upper third", "lower third", "top third", "bottom third", "upper half",
                              "lower half", "top left", "top right", "bottom left", "bottom right" } do
      if has(s, phrase) then kept[#kept + 1] = phrase end
    end
    scan = " " .. table.concat(kept, " , ") .. " "
    scan = scan:gsub("%s+", " ")
  end
  for _, v in ipairs(VERTICAL) do
    if has(scan, v[1]) then p.v = v[2] break end
  end
  for _, h in ipairs(HORIZONTAL) do
    if has(scan, h[1]) then p.h = h[2] break end
  end
  if has(s, "left aligned") or has(s, "align left") or has(s, "flush left") then p.h, p.align = "left", "left" end
  if has(s, "right aligned") or has(s, "align right") or has(s, "flush right") then p.h, p.align = "right", "right" end
  local centred = has(scan, "center") or has(scan, "centered") or has(scan, "center aligned")
  if centred then
    if not p.h then p.h = "center" end
    if not p.v and not has(s, "center aligned") and not has(s, "horizontally") then p.v = "center" end
  end
  if p.h and p.v and p.h ~= "center" and (p.v == "top" or p.v == "bottom") then p.corner = true end
  if has(s, "corner") and not p.h then p.h = "left" end
  p.align = p.align or p.h
  if has(s, "extra bold") or has(s, "heavy") or has(s, "black weight") or has(s, "ultra bold") then
    p.weight = "heavy"
  elseif has(s, "semibold") or has(s, "semi bold") then
    p.weight = "semibold"
  elseif has(s, "bold") then
    p.weight = "bold"
  elseif has(s, "medium weight") then
    p.weight = "medium"
  elseif has(s, "light") or has(s, "thin") then
    p.weight = "light"
  elseif has(s, "regular") or has(s, "normal weight") then
    p.weight = "normal"
  end
  if has(s, "huge") or has(s, "giant") or has(s, "extra large") or has(s, "very large") or has(s, "xl") then
    p.size = "huge"
  elseif has(s, "large") or has(s, "big") then
    p.size = "large"
  elseif has(s, "small") or has(s, "smaller") or has(s, "tiny") then
    p.size = "small"
  elseif has(s, "medium") then
    p.size = "medium"
  end
  if has(s, "below") or has(s, "under") or has(s, "beneath") or has(s, "underneath") then p.below = true end
  if has(s, "filling") or has(s, "full width") or has(s, "across") or has(s, "along the bottom")
      or has(s, "along the top") or has(s, "row of") then
    p.span = true
  end
  return p
end

--- The name of a position, as `check` compares them ("top left", "top third
-- center"); nil when the text names no place.
-- @tparam table p a `position`
-- @treturn string|nil
function M.position_name(p)
  if not (p and (p.v or p.h)) then return nil end
  return (p.v or "center") .. " " .. (p.h or "center")
end

-- ---------------------------------------------------------------- patterns

--- The catalogue of layout patterns (explainer.recipes.patterns): name,
-- aliases, and where the text block and the main visual go for 9:16, 16:9
-- and 1:1.
M.PATTERNS = require "explainer.recipes.patterns"

-- Each name and alias, normalised as text is: name -> pattern.
local BY_PHRASE = {}
for _, p in ipairs(M.PATTERNS) do
  BY_PHRASE[trim(words_of(p.name))] = p
  for _, alias in ipairs(p.aliases) do BY_PHRASE[trim(words_of(alias))] = p end
end

-- The pattern words lead to when no alias is there: both sides named.
local KEYWORDS = {
  { { "left", "right" }, "Vertical 50/50" }, { { "top", "bottom" }, "Horizontal 50/50" },
  { { "corner" }, "Corner Title" }, { { "split" }, "Vertical 50/50" }, { { "columns" }, "Three Columns" },
}

local function by_name(name)
  for _, p in ipairs(M.PATTERNS) do
    if p.name == name then return p end
  end
end

--- The pattern a `Layout Pattern:` value names: its name or an alias,
-- whole words, the longest that the text holds ("Hero-centered diagram with
-- a corner title" is "Centered"); else a pair of telling words ("cold left
-- and warm right": "Vertical 50/50").
-- @tparam string text
-- @treturn table|nil the pattern (an entry of `PATTERNS`)
-- @treturn string|nil how it was found: "name", "alias" or "words"
function M.pattern(text)
  local s = words_of(text)
  local best, best_len, best_at
  for phrase, p in pairs(BY_PHRASE) do
    local at = s:find(" " .. phrase .. " ", 1, true)
    if at and (not best or #phrase > best_len or (#phrase == best_len and at < best_at)) then
      best, best_len, best_at = p, #phrase, at
    end
  end
  if best then
    return best, trim(words_of(best.name)) == trim(s) and "name" or "alias"
  end
  for _, rule in ipairs(KEYWORDS) do
    local all = true
    for _, w in ipairs(rule[1]) do
      if not has(s, w) then all = false end
    end
    if all then return by_name(rule[2]), "words" end
  end
  return nil
end

-- The pattern that suits a layout that names none: where its text goes.
local function inferred_pattern(spec)
  local first = spec.texts[1]
  local p = first and first.position or {}
  if p.v == "bottom" or p.v == "lower third" then return by_name("Bottom-Heavy Asymmetric") end
  if p.v == "center" then return by_name("Centered Title") end
  if p.h == "right" then return by_name("Reverse Diagonal") end
  if p.v == "top" and p.h == "center" then return by_name("Centered") end
  if #spec.visuals == 0 then return by_name("Centered Title") end
  return by_name("Top-Heavy Asymmetric")
end

-- ------------------------------------------------------------------ emoji

--- The emoji that stands for a visual element, from the words of its
-- label, else of its description's first clause; nil when none fits
-- (explainer.recipes.emoji).
-- @function emoji_for
M.emoji_for = emoji.emoji_for

-- ------------------------------------------------------------------ parse

-- Labels of on-screen text: role "title" (set large) or "subtitle".
local TEXT_LABELS = {
  text = "title", title = "title", headline = "title", heading = "title", ["on-screen text"] = "title",
  ["on screen text"] = "title", ["overlay text"] = "title", ["main text"] = "title", ["title text"] = "title",
  ["text overlay"] = "title", stat = "title", number = "title", quote = "title", ["call to action"] = "subtitle",
  cta = "subtitle", subtitle = "subtitle", subheading = "subtitle", subtext = "subtitle", ["sub-text"] = "subtitle",
  ["sub text"] = "subtitle", tagline = "subtitle", ["body text"] = "subtitle", body = "subtitle",
  ["secondary text"] = "subtitle", ["supporting text"] = "subtitle",
}
local VISUAL_LABELS = {
  ["visual elements"] = true, ["visual element"] = true, visuals = true, visual = true, elements = true,
  graphics = true, icons = true, imagery = true, illustration = true, illustrations = true, ["main visual"] = true,
  image = true, images = true, ["key visual"] = true, props = true, objects = true,
}
local ANIMATIONS = { fade = "fade", ["fade in"] = "fade", slide = "slide", ["slide up"] = "slide",
                     ["slide in"] = "slide", none = "none", static = "none", ["no animation"] = "none" }

local function label_key(label)
  return (label or ""):lower():gsub("%s*%b()", ""):gsub("^%s+", ""):gsub("%s+$", ""):gsub("^%d+%s*", "")
    :gsub("%s+%d+$", "")
end

-- A text bullet's words and its position: `"words" - position` (straight or
-- curly quotes), or `words - position`, or words alone.
local function text_entry(value, role)
  value = trim(value)
  local quoted, rest = value:match('^"(.-)"(.*)$')
  if not quoted then quoted, rest = value:match("^“(.-)”(.*)$") end
  if not quoted then quoted, rest = value:match("^'(.-)'%s*[%-–—]%s*(.*)$") end
  if not quoted then
    local a, b = value:match("^(.-)%s+[%-–—]+%s+(.*)$")
    quoted, rest = a or value, b or ""
  end
  quoted = trim(quoted):gsub("%s+", " ")
  if quoted == "" or quoted:lower() == "none" or quoted:match("^%b[]$") then return nil end
  rest = trim(rest):gsub("^[%-–—,:]+%s*", "")
  return { text = quoted, role = role, position = M.position(rest), how = rest }
end

-- Words after which a description goes on about where or how, not what.
local LABEL_CUTS = { "with", "from", "between", "seen", "sitting", "carrying", "along", "filling", "entering",
                     "leaving", "flowing", "relaxing", "into", "that", "which", "on the", "in the", "at the" }

-- A visual element's short label: its words before the first comma, a
-- parenthesis, a dash or one of `LABEL_CUTS`, at most about 30 characters;
-- or its own label.
local function visual_label(item)
  if item.label and not VISUAL_LABELS[label_key(item.label)] then return trim(item.label) end
  local s = trim(item.text):gsub("%b()", ""):gsub("%b[]", "")
  s = s:match("^(.-)[,;:%(]") or s
  s = s:gsub("%s+[%-–—]%s.*$", "")
  for _, w in ipairs(LABEL_CUTS) do
    local at = s:lower():find("%s" .. w:gsub(" ", "%%s") .. "%s", 3)
    if at and select(2, s:sub(1, at):gsub("%S+", "")) >= 1 then s = s:sub(1, at - 1) end
  end
  s = trim(s)
  if utf8.len(s) and utf8.len(s) > 30 then
    s = s:sub(1, utf8.offset(s, 31) - 1):gsub("%s+%S*$", "") .. "…"
  end
  return s
end

--- Read a scene's `Layout Design` bullets into a spec.
-- @tparam string|nil layout the scene's `layout`
-- @treturn table `{background=string|nil, texts={{text=, role=, position=}},
-- visuals={{text=, label=, position=, emoji=}}, pattern_text=, pattern=,
-- pattern_how=, animation=}`
function M.parse(layout)
  local spec = { texts = {}, visuals = {} }
  local in_visuals, in_texts = false, nil
  for _, item in ipairs(M.items(layout)) do
    local key = label_key(item.label)
    if item.level == 1 then in_visuals, in_texts = false, nil end
    if item.level == 1 and key == "background" then
      spec.background = item.text
    elseif item.level == 1 and (key == "layout pattern" or key == "pattern" or key == "layout" or
        key == "composition") then
      spec.pattern_text = item.text
    elseif item.level == 1 and (key == "text animation" or key == "text motion" or key == "text entrance") then
      spec.animation = ANIMATIONS[trim(item.text):lower():gsub("%p", " "):gsub("%s+", " "):gsub("%s+$", "")]
    elseif item.level == 1 and TEXT_LABELS[key] then
      local t = text_entry(item.text, TEXT_LABELS[key])
      if t then spec.texts[#spec.texts + 1] = t end
      in_texts = item.text == "" and TEXT_LABELS[key] or nil
    elseif item.level == 1 and VISUAL_LABELS[key] then
      in_visuals = true
      if trim(item.text) ~= "" then
        spec.visuals[#spec.visuals + 1] = { text = item.text, position = M.position(item.text, true) }
      end
    elseif item.level > 1 and in_texts then
      local t = text_entry((item.label and (item.label .. ": ") or "") .. item.text, in_texts)
      if t then spec.texts[#spec.texts + 1] = t end
    elseif item.level > 1 and in_visuals then
      local whole = (item.label and (item.label .. ": ") or "") .. item.text
      spec.visuals[#spec.visuals + 1] = { text = whole, label = visual_label(item),
                                          position = M.position(whole, true) }
    end
  end
  for _, v in ipairs(spec.visuals) do
    v.label = v.label or visual_label { text = v.text }
    v.emoji = M.emoji_for(v.label, v.text)
  end
  if spec.pattern_text then spec.pattern, spec.pattern_how = M.pattern(spec.pattern_text) end
  return spec
end

--- A scene's frame spec: its layout's, or, for a scene without a layout (or
-- without any on-screen text in it), its title as the text. A layout whose
-- `Text:` is `none` keeps the frame without text.
-- @tparam table scene
-- @treturn table as `parse`, with `pattern` always set (inferred when the
-- layout names none) and `titled` when the title stands in for the text
function M.for_scene(scene)
  local spec = M.parse(scene.layout)
  local says_none = tostring(scene.layout or ""):lower():find("text:%s*none") ~= nil
  if #spec.texts == 0 and not says_none and trim(scene.title) ~= "" then
    spec.texts[1] = { text = trim(scene.title):gsub("%s+", " "), role = "title", position = {}, how = "" }
    spec.titled = true
    if not scene.layout or trim(scene.layout) == "" then
      spec.texts[1].position = { v = "center", h = "center", align = "center" }
      spec.pattern = by_name("Centered Title")
    end
  end
  if not spec.pattern then spec.pattern = inferred_pattern(spec) end
  return spec
end

-- ---------------------------------------------------------------- resolve

--- The shape of a frame: "tall" (9:16 and taller), "wide" (16:9) or "square".
function M.shape(width, height)
  if height > width * 1.2 then return "tall" end
  if width > height * 1.2 then return "wide" end
  return "square"
end

local function box_in(area, f)
  return { x = math.floor(area.x + f[1] * area.w + 0.5), y = math.floor(area.y + f[2] * area.h + 0.5),
           w = math.floor(f[3] * area.w + 0.5), h = math.floor(f[4] * area.h + 0.5) }
end

local function pattern_boxes(pattern, shape)
  local b = pattern[shape] or (shape == "square" and pattern.tall) or pattern.tall
  return b.text, b.visual
end

-- A text position's box in the text area: {x, y, w, h} fractions and the
-- alignment and anchor (where the block sits in its box: top, middle, bottom).
local V_BOX = { top = { 0, 0.3, "top" }, ["top third"] = { 0, 0.36, "middle" }, center = { 0.3, 0.4, "middle" },
                ["lower third"] = { 0.6, 0.4, "middle" }, bottom = { 0.68, 0.32, "bottom" } }

local function text_box(p, shape, area)
  local side = shape == "tall" and 0.8 or shape == "wide" and 0.56 or 0.7
  local v = V_BOX[p.v or "center"]
  local y, h, anchor = v[1], v[2], v[3]
  if p.corner then h, side = math.min(h, 0.24), side * 0.85 end
  local x, w = 0, 1
  if p.h == "left" then w = side elseif p.h == "right" then x, w = 1 - side, side end
  return box_in(area, { x, y, w, h }), p.align or p.h or "center", anchor
end

-- `n` slots in a region: the pattern's columns and rows, else a column of
-- them in a tall region and a row in a wide one.
local function slots(region, n, grid)
  local cols, rows
  if grid and grid[1] * grid[2] >= n then
    cols, rows = grid[1], grid[2]
  elseif region.h > region.w then
    cols, rows = n >= 4 and 2 or 1, n >= 4 and math.ceil(n / 2) or n
  else
    cols, rows = n >= 4 and math.ceil(n / 2) or n, n >= 4 and 2 or 1
  end
  local out = {}
  local cw, ch = region.w / cols, region.h / rows
  for i = 1, n do
    local c, r = (i - 1) % cols, (i - 1) // cols
    out[i] = { x = math.floor(region.x + c * cw + 0.5), y = math.floor(region.y + r * ch + 0.5),
               w = math.floor(cw + 0.5), h = math.floor(ch + 0.5) }
  end
  return out
end

local function inset(b, px)
  return { x = b.x + px, y = b.y + px, w = math.max(1, b.w - 2 * px), h = math.max(1, b.h - 2 * px) }
end

-- How much of box a another box b covers (a share of a's area).
local function covered(a, b)
  local w = math.min(a.x + a.w, b.x + b.w) - math.max(a.x, b.x)
  local h = math.min(a.y + a.h, b.y + b.h) - math.max(a.y, b.y)
  if w <= 0 or h <= 0 then return 0 end
  return w * h / (a.w * a.h)
end

-- A cell cut to what a text box reaching into it from a side leaves of it.
local function clear_of(cell, b)
  if covered(cell, b) == 0 then return end
  local across = b.x <= cell.x and b.x + b.w >= cell.x + cell.w
  local down = b.y <= cell.y and b.y + b.h >= cell.y + cell.h
  local right, bottom = cell.x + cell.w, cell.y + cell.h
  if across and b.y <= cell.y then
    cell.y = b.y + b.h
  elseif across then
    bottom = b.y
  elseif down and b.x <= cell.x then
    cell.x = b.x + b.w
  elseif down then
    right = b.x
  else
    return
  end
  cell.w, cell.h = math.max(1, right - cell.x), math.max(1, bottom - cell.y)
end

-- The safe zone as a 3x3 grid of cells, each marked taken where a text box
-- covers a fifth of it, and cut clear of a text box that comes into it.
local function grid_cells(safe, texts)
  local cells = {}
  for r = 0, 2 do
    for c = 0, 2 do
      local cell = { r = r, c = c, x = math.floor(safe.x + c * safe.w / 3 + 0.5),
                     y = math.floor(safe.y + r * safe.h / 3 + 0.5), w = math.floor(safe.w / 3 + 0.5),
                     h = math.floor(safe.h / 3 + 0.5) }
      local used = 0
      for _, b in ipairs(texts) do used = used + covered(cell, b) end
      cell.taken = used >= 0.2
      if not cell.taken then
        for _, b in ipairs(texts) do clear_of(cell, b) end
      end
      cells[#cells + 1] = cell
    end
  end
  return cells
end

local ROW = { top = 0, ["top third"] = 0, center = 1, ["lower third"] = 2, bottom = 2 }
local COL = { left = 0, center = 1, right = 2 }

-- The cell for an element asked for at a row and column (in cells; the same
-- row preferred): the nearest with no element; when every cell has one, the
-- nearest of those with fewest, which it then shares. nil when text covers
-- every cell.
local function claim_cell(cells, r, c)
  local best, best_n, best_d
  for _, cell in ipairs(cells) do
    if not cell.taken then
      local n, d = #cell.members, (cell.r - r) ^ 2 * 1.2 + (cell.c - c) ^ 2
      if not best or n < best_n or (n == best_n and d < best_d) then best, best_n, best_d = cell, n, d end
    end
  end
  return best
end

-- An element whose words place it: its cell, or its whole row ("along the
-- bottom", "filling the center") when no text nor element is in that row
-- (the row's three cells become one); else `claim_cell`.
local function place_cell(cells, p)
  local r, c = ROW[p.v or "center"], COL[p.h or "center"]
  if p.span and not (p.h and p.h ~= "center") then
    local row = {}
    for _, cell in ipairs(cells) do
      if cell.r == r and not cell.span and not cell.taken and #cell.members == 0 then row[#row + 1] = cell end
    end
    if #row == 3 then
      for _, cell in ipairs(row) do cell.taken = true end
      local merged = { r = r, c = 1, span = true, members = {}, x = row[1].x, y = row[1].y,
                       w = row[3].x + row[3].w - row[1].x, h = row[1].h }
      cells[#cells + 1] = merged
      return merged
    end
  end
  return claim_cell(cells, r, c)
end

-- A cell's box split among `n` elements: the grid of columns and rows whose
-- pieces are nearest square, filled row by row.
local function split_cell(cell, n)
  local cols, worst = 1, math.huge
  for k = 1, n do
    local bad = math.abs(math.log((cell.w / k) / (cell.h / math.ceil(n / k))))
    if bad < worst then cols, worst = k, bad end
  end
  local rows = math.ceil(n / cols)
  local cw, ch, out = cell.w / cols, cell.h / rows, {}
  for i = 1, n do
    local c, r = (i - 1) % cols, (i - 1) // cols
    local x, y = math.floor(cell.x + c * cw + 0.5), math.floor(cell.y + r * ch + 0.5)
    out[i] = { x = x, y = y, w = math.floor(cell.x + (c + 1) * cw + 0.5) - x,
               h = math.floor(cell.y + (r + 1) * ch + 0.5) - y }
  end
  return out
end

-- A placeholder no taller than it is wide by a quarter: in a tall cell, it
-- keeps to the cell's top (row 0), middle (row 1) or bottom (row 2), so that
-- what the words put at the bottom sits at the bottom.
local function upright(box, row)
  local h = math.min(box.h, math.floor(box.w * 1.25 + 0.5))
  local y = box.y
  if row == 1 then y = box.y + (box.h - h) // 2 elseif row == 2 then y = box.y + box.h - h end
  return { x = box.x, y = y, w = box.w, h = h }
end

-- The slots (0 at the top, fractions between) of a column's elements,
-- sorted top to bottom, when the longest column has `rows`: those at the
-- top from the top, those at the bottom from the bottom, the others centred
-- between.
local function column_slots(col, rows)
  local first, last, middle = 0, 0, 0
  for _, e in ipairs(col) do
    local row = ROW[e.v.position and e.v.position.v or "center"]
    if row == 0 then first = first + 1 elseif row == 2 then last = last + 1 else middle = middle + 1 end
  end
  local out = {}
  for j = 1, #col do
    if j <= first then
      out[j] = j - 1
    elseif j <= first + middle then
      out[j] = first + (rows - first - last - middle) / 2 + (j - first - 1)
    else
      out[j] = rows - (#col - j) - 1
    end
  end
  return out
end

-- The elements of a pattern with columns (a comparison), in `n` columns of
-- the region: each on the side its words say (`left`, `right`), the others
-- where fewer are; in a column, top to bottom as their words say
-- (`column_slots`). Boxes by the elements' order.
local function in_columns(region, visuals, n)
  local cols, rest = {}, {}
  for c = 1, n do cols[c] = {} end
  for i, v in ipairs(visuals) do
    local h = (v.position or {}).h
    local c = h == "left" and 1 or h == "right" and n or nil
    if c then table.insert(cols[c], { i = i, v = v }) else rest[#rest + 1] = { i = i, v = v } end
  end
  for _, e in ipairs(rest) do
    local fewest = 1
    for c = 2, n do
      if #cols[c] < #cols[fewest] then fewest = c end
    end
    table.insert(cols[fewest], e)
  end
  local rows = 1
  for c = 1, n do
    table.sort(cols[c], function(a, b)
      local ra, rb = ROW[a.v.position and a.v.position.v or "center"], ROW[b.v.position and b.v.position.v or "center"]
      if ra ~= rb then return ra < rb end
      return a.i < b.i
    end)
    rows = math.max(rows, #cols[c])
  end
  local boxes, cw, ch = {}, region.w / n, region.h / rows
  for c = 1, n do
    for j, slot in ipairs(column_slots(cols[c], rows)) do
      boxes[cols[c][j].i] = upright({ x = math.floor(region.x + (c - 1) * cw + 0.5),
        y = math.floor(region.y + slot * ch + 0.5), w = math.floor(cw + 0.5), h = math.floor(ch + 0.5) }, 1)
    end
  end
  return boxes
end

-- Each text in its group's box: where its words say, else where the
-- pattern puts text; a text `below` the one before shares its box.
local function place_texts(spec, out, area, shape, ptext)
  local by_key = {}
  for _, t in ipairs(spec.texts) do
    local p = t.position or {}
    local group
    if p.below and #out.groups > 0 then
      group = out.groups[#out.groups]
    else
      local box, align, anchor
      if p.v or p.h then
        box, align, anchor = text_box(p, shape, area)
      else
        box, align, anchor = box_in(area, ptext), ptext[5], "top"
        if ptext[2] > 0.45 then anchor = "bottom" elseif ptext[2] > 0.15 then anchor = "middle" end
      end
      local key = table.concat({ box.x, box.y, box.w, box.h }, ",")
      group = by_key[key]
      if not group then
        group = { box = box, align = align, anchor = anchor, texts = {} }
        by_key[key] = group
        out.groups[#out.groups + 1] = group
      end
    end
    group.texts[#group.texts + 1] = { text = t.text, role = t.role, weight = p.weight or "bold", size = p.size }
  end
end

-- Where a pattern with columns puts its elements, and in how many columns:
-- its visual region (one column when it is the half beside the text, the
-- text being the other); when the text's own words put it over that region,
-- the whole width below the text. nil when the text leaves too little.
local function column_region(out, area, gutter)
  local region, under = out.region, false
  for _, g in ipairs(out.groups) do
    if covered(region, g.box) >= 0.1 then under = true end
  end
  if not under then return region, region.w >= area.w * 0.8 and out.pattern.columns or 1 end
  local top = area.y
  for _, g in ipairs(out.groups) do top = math.max(top, g.box.y + g.box.h + gutter) end
  local h = area.y + area.h - top
  if h < area.h * 0.3 then return nil end
  return { x = area.x, y = top, w = area.w, h = h }, out.pattern.columns
end

-- Elements in a 3x3 grid of the area: those whose words place them in their
-- cells (or their rows, or the nearest cells free), the others in the cells
-- nearest the pattern's visual region. When elements outnumber the cells
-- text leaves, they share cells, each cell split among its own: elements
-- never cover each other or the text. Boxes in `placed`'s then `free`'s order.
local function in_cells(out, area, placed, free)
  local texts = {}
  for _, g in ipairs(out.groups) do texts[#texts + 1] = g.box end
  local cells = grid_cells(area, texts)
  for _, cell in ipairs(cells) do cell.members = {} end
  local order = {}
  for _, v in ipairs(placed) do
    local cell = place_cell(cells, v.position)
    if cell then table.insert(cell.members, #order + 1) end
    order[#order + 1] = cell or false
  end
  local rx = (out.region.x + out.region.w / 2 - area.x) / area.w
  local ry = (out.region.y + out.region.h / 2 - area.y) / area.h
  for _ = 1, #free do
    local cell = claim_cell(cells, math.floor(ry * 3), math.floor(rx * 3))
    if cell then table.insert(cell.members, #order + 1) end
    order[#order + 1] = cell or false
  end
  local boxes = {}
  for _, cell in ipairs(cells) do
    if cell.members and #cell.members == 1 then
      boxes[cell.members[1]] = cell.span and cell or upright(cell, cell.r)
    elseif cell.members and #cell.members > 1 then
      for i, piece in ipairs(split_cell(cell, #cell.members)) do
        boxes[cell.members[i]] = cell.span and piece or upright(piece, 1)
      end
    end
  end
  -- Text over every cell: the pattern's visual region, shared.
  local homeless = {}
  for i, cell in ipairs(order) do
    if not cell then homeless[#homeless + 1] = i end
  end
  for k, b in ipairs(slots(out.region, #homeless)) do boxes[homeless[k]] = b end
  return boxes
end

-- Each visual element in its region: in a pattern with columns (a
-- comparison, a 50/50 split), its column; where no element's words say where, a share of the pattern's
-- visual region; else a cell of a 3x3 grid.
local function place_visuals(spec, out, area, shape, gutter)
  local pattern = out.pattern
  local placed, free = {}, {}
  for _, v in ipairs(spec.visuals) do
    local p = v.position or {}
    if p.v or p.h then placed[#placed + 1] = v else free[#free + 1] = v end
  end
  local function add(v, box, round)
    out.visuals[#out.visuals + 1] = { label = v.label, emoji = v.emoji, box = inset(box, gutter), round = round }
  end
  local region, n
  if pattern.columns and #spec.visuals > 0 then region, n = column_region(out, area, gutter) end
  if region then
    local boxes = in_columns(region, spec.visuals, n)
    for i, v in ipairs(spec.visuals) do add(v, boxes[i]) end
    return
  end
  if #placed == 0 then
    -- Nothing says where: the pattern's visual region, shared.
    local grid = shape == "tall" and pattern.slots_tall or shape == "wide" and pattern.slots_wide or pattern.slots
    for i, b in ipairs(slots(out.region, #free, grid)) do add(free[i], b, pattern.round and #free == 1 or nil) end
    return
  end
  local boxes = in_cells(out, area, placed, free)
  for i, v in ipairs(placed) do add(v, boxes[i]) end
  for i, v in ipairs(free) do add(v, boxes[#placed + i]) end
end

--- Place a spec in a frame.
-- @tparam table spec from `for_scene` (or `parse`)
-- @tparam number width
-- @tparam number height
-- @tparam[opt] table opts `reserve` (pixels at the bottom nothing may use:
--   the caption band, or a phone's buttons)
-- @treturn table `{shape=, safe=, text_area=, pattern=, groups={{box=, align=,
--   anchor=, texts={...}}}, visuals={{label=, emoji=, box=, round=}}, region=}`
function M.resolve(spec, width, height, opts)
  opts = opts or {}
  local shape = M.shape(width, height)
  local mx, my = math.ceil(width * M.SAFE), math.ceil(height * M.SAFE)
  local safe = { x = mx, y = my, w = width - 2 * mx, h = height - 2 * my }
  local bottom = math.min(safe.y + safe.h, height - (opts.reserve or 0))
  local area = { x = safe.x, y = safe.y, w = safe.w, h = math.max(math.floor(safe.h * 0.3), bottom - safe.y) }
  local pattern = spec.pattern or by_name("Centered")
  local ptext, pvisual = pattern_boxes(pattern, shape)
  local out = { shape = shape, safe = safe, text_area = area, pattern = pattern, groups = {}, visuals = {},
                region = box_in(area, pvisual) }
  place_texts(spec, out, area, shape, ptext)
  place_visuals(spec, out, area, shape, math.floor(math.min(width, height) * 0.012))
  return out
end

-- -------------------------------------------------------------- background

-- Where a background's colours go, from its words.
local function direction(s)
  if has(s, "radial") or has(s, "vignette") or has(s, "spotlight") or has(s, "glow") then return "radial" end
  if has(s, "diagonal") then return "diagonal" end
  local l, r = s:find(" left "), s:find(" right ")
  if l and r then return l < r and "east" or "west" end
  local b, t = s:find(" bottom "), s:find(" top ")
  if b and t and b < t then return "north" end
  return "south"
end

--- A background as the frame draws it: its colours (one or two) and their
-- direction, a texture, from the `Background:` words and the Style's palette.
-- @tparam string|nil text the `Background:` value
-- @tparam table palette `colour.palette(style)`
-- @treturn table `{from=, to=, direction=("south", "east", "west", "north",
--   "diagonal", "radial"), texture=("grid", "dots" or nil)}`
function M.background(text, palette)
  local s = words_of(text)
  local found, moods = {}, {}
  for _, c in ipairs(colour.find(text)) do
    if c.mood then moods[#moods + 1] = c.hex else found[#found + 1] = c.hex end
  end
  if #found == 0 then found = moods end
  local gradient = has(s, "gradient") or has(s, "fading") or has(s, "fade") or has(s, "sky")
  local from, to
  if #found >= 2 then
    from, to = found[1], found[2]
  elseif #found == 1 then
    from = found[1]
    to = gradient and colour.mix(from, "#000000", 0.22) or colour.mix(from, "#000000", 0.07)
    if gradient then from = colour.mix(from, "#ffffff", 0.2) end
  else
    from, to = palette.background, colour.mix(palette.background, palette.accent, 0.14)
  end
  local texture
  if has(s, "grid") or has(s, "blueprint") or has(s, "graph paper") then texture = "grid"
  elseif has(s, "dots") or has(s, "particles") or has(s, "bokeh") or has(s, "stars") or has(s, "snowy")
      or has(s, "snow") then
    texture = "dots"
  end
  return { from = from, to = to, direction = direction(s), texture = texture }
end

--- The background's colour at a point of the frame (fractions), as the
-- gradient runs: what the text there is read against.
-- @tparam table bg `background`
-- @tparam number fx 0..1 across
-- @tparam number fy 0..1 down
-- @treturn string hex
function M.colour_at(bg, fx, fy)
  local t = ({ south = fy, north = 1 - fy, east = fx, west = 1 - fx, diagonal = (fx + fy) / 2 })[bg.direction]
  if bg.direction == "radial" then t = math.min(1, 2 * math.sqrt((fx - 0.5) ^ 2 + (fy - 0.5) ^ 2)) end
  return colour.mix(bg.from, bg.to, t or fy)
end

return M
