--- Colours: the names a script may use for them, and the palette a frame or
-- a card is drawn in (from the document's Style line). Pure Lua.
-- @module explainer.recipes.colour

local M = {}

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

-- How a word before a colour changes it.
local SHADES = {
  light = { "#ffffff", 0.45 }, pale = { "#ffffff", 0.45 }, soft = { "#ffffff", 0.45 },
  icy = { "#ffffff", 0.55 }, pastel = { "#ffffff", 0.5 },
  dark = { "#000000", 0.35 }, deep = { "#000000", 0.35 },
  muted = { "#8a8f98", 0.4 }, dusty = { "#8a8f98", 0.35 },
}

--- The colours a text names, in order: hex codes (`#1f6feb`), names of two
-- words ("sky blue"), names ("navy"), shaded by the word before them
-- ("light", "pale", "soft", "icy", "pastel", "dark", "deep", "muted",
-- "dusty"), and moods ("warm", "cool", ...).
-- @tparam string|nil text
-- @treturn table list of `{hex=, name=, neutral=true|nil}` for colours and
-- `{mood=, hex=, spare=}` for moods
function M.find(text)
  text = " " .. tostring(text or ""):lower():gsub("%c", " ") .. " "
  local out, skip_to = {}, 0
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
        local shade = SHADES[prev]
        if shade then hex = mix(hex, shade[1], shade[2]) end
      elseif MOODS[word] then
        out[#out + 1] = { mood = word, hex = MOODS[word][1], spare = MOODS[word][2] }
      end
      if hex then out[#out + 1] = { hex = hex, name = name, neutral = NEUTRAL[name] or nil } end
    end
  end
  return out
end

--- The colours a card or a frame is drawn in, from a document's Style line. Colours
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
  for _, c in ipairs(M.find(style)) do
    if c.mood then
      moods[#moods + 1] = c.hex
      spare[#spare + 1] = c.spare
    elseif c.neutral then
      background = background or c.hex
    else
      found[#found + 1] = c.hex
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
M.rgb, M.hex_of, M.mix, M.luminance, M.contrast, M.legible = rgb, hex_of, mix, luminance, contrast, legible

return M
