--- The emoji that stands for a visual element in the offline frame, from
-- the words of its description. Pure Lua, read by explainer.recipes.layout.
--
-- The words that matter are the element's own: its label first ("Outdoor
-- heat pump unit"), else the first clause of its description, never what
-- the rest of the sentence says about its surroundings ("Warm liquid on the
-- left, cold mist on the right"). A phrase beats the words inside it
-- ("heat pump" is a machine, not heat; "heat waves" are not the sea); of the
-- rest, the last wins, since an English noun phrase ends on what the thing
-- is ("electric plug": a plug). A word that is negated ("no snow",
-- "flame-free", "crossed-out flame") names nothing, and a cold icon is never
-- given to something its words call warm, nor a hot one to something cold:
-- no icon is better than a wrong one.
-- @module explainer.recipes.emoji

local M = {}

-- Words and phrases, and the emoji that stands for each (false: none does,
-- and the words inside the phrase must not speak for it: a hand truck is no
-- lorry). A word also matches its plural ("houses", "boxes").
local EMOJI = {
  { "house", "🏠" }, { "home", "🏠" }, { "living room", "🛋️" }, { "sofa", "🛋️" }, { "window", "🪟" },
  { "snow", "❄️" }, { "snowman", "☃️" },
  { "snowy", "❄️" }, { "frost", "❄️" }, { "frosty", "❄️" }, { "ice", "🧊" }, { "icy", "🧊" },
  { "cold", "❄️" }, { "sun", "☀️" }, { "summer", "☀️" },
  { "thermometer", "🌡️" }, { "thermostat", "🌡️" }, { "temperature", "🌡️" }, { "fan", "🌀" },
  { "question", "❓" }, { "question mark", "❓" }, { "arrow", "➡️" },
  { "up arrow", "⬆️" }, { "upward arrow", "⬆️" }, { "arrow up", "⬆️" }, { "arrow pointing up", "⬆️" },
  { "arrow pointing upward", "⬆️" }, { "down arrow", "⬇️" }, { "downward arrow", "⬇️" }, { "arrow down", "⬇️" },
  { "arrow pointing down", "⬇️" }, { "arrow pointing downward", "⬇️" }, { "left arrow", "⬅️" },
  { "arrow left", "⬅️" }, { "arrow pointing left", "⬅️" }, { "arrow pointing right", "➡️" }, { "double arrow", "🔄" },
  { "circular arrow", "🔄" }, { "family", "👪" }, { "people", "👥" }, { "person", "🧑" },
  { "dog", "🐕" }, { "cat", "🐈" }, { "wind turbine", "🌬️" }, { "turbine", "🌬️" }, { "wind", "🌬️" },
  { "solar", "🔆" }, { "cloud", "☁️" }, { "co2", "☁️" }, { "flame", "🔥" }, { "fire", "🔥" },
  { "fire extinguisher", "🧯" }, { "extinguisher", "🧯" },
  { "heat", "♨️" }, { "heat wave", "♨️" }, { "steam", "♨️" },
  { "heat pump", "⚙️" }, { "outdoor unit", "⚙️" }, { "indoor unit", "⚙️" }, { "air conditioner", "⚙️" },
  { "boiler", "⚙️" }, { "furnace", "🔥" }, { "heater", "♨️" }, { "radiator", "♨️" },
  { "lightning", "⚡" }, { "electric", "⚡" }, { "electricity", "⚡" }, { "power", "⚡" }, { "plug", "🔌" },
  { "battery", "🔋" }, { "bulb", "💡" }, { "lightbulb", "💡" }, { "idea", "💡" }, { "virus", "🦠" }, { "germ", "🦠" },
  { "bacteria", "🦠" }, { "cell", "🧫" }, { "dna", "🧬" }, { "pipe", "🔁" }, { "loop", "🔁" }, { "cycle", "🔁" },
  { "valve", "🔧" }, { "compressor", "⚙️" }, { "piston", "⚙️" }, { "engine", "⚙️" }, { "gear", "⚙️" },
  { "machine", "⚙️" }, { "gauge", "⏲️" }, { "meter", "⏲️" }, { "clock", "⏰" }, { "timer", "⏱️" },
  { "coil", "🌀" }, { "scale", "📏" }, { "scale bar", "📏" }, { "ruler", "📏" }, { "marker", "📍" },
  { "pin", "📍" }, { "chart", "📊" }, { "graph", "📈" }, { "bar", "📊" }, { "bar chart", "📊" },
  { "money", "💰" }, { "coin", "🪙" }, { "dollar", "💵" }, { "phone", "📱" }, { "laptop", "💻" },
  { "computer", "💻" }, { "code", "💻" }, { "book", "📚" }, { "brain", "🧠" }, { "heart", "❤️" }, { "broken heart", "💔" },
  { "car", "🚗" }, { "bicycle", "🚲" }, { "bike", "🚲" },
  { "truck", "🚚" }, { "hand truck", false }, { "box", "📦" }, { "tree", "🌳" },
  { "plant", "🌱" }, { "leaf", "🍃" }, { "leaves", "🍃" }, { "water", "💧" }, { "droplet", "💧" },
  { "drop", "💧" }, { "liquid", "💧" }, { "rain", "🌧️" }, { "gas", "💨" },
  { "gas station", "⛽" }, { "gas pump", "⛽" }, { "fuel pump", "⛽" },
  { "petrol pump", "⛽" }, { "petrol station", "⛽" }, { "air", "💨" }, { "mist", "🌫️" },
  { "fog", "🌫️" }, { "earth", "🌍" }, { "globe", "🌍" }, { "snow globe", "❄️" }, { "world", "🌍" }, { "map", "🗺️" },
  { "magnifying glass", "🔍" }, { "magnifier", "🔍" }, { "search", "🔍" }, { "check", "✅" },
  { "checkmark", "✅" }, { "warning", "⚠️" }, { "lock", "🔒" }, { "key", "🔑" },
  { "star", "⭐" }, { "rocket", "🚀" }, { "target", "🎯" }, { "trophy", "🏆" }, { "calendar", "📅" },
  { "mail", "✉️" }, { "message", "💬" }, { "speech", "💬" }, { "camera", "📷" }, { "music", "🎵" },
  { "doctor", "🩺" }, { "pill", "💊" }, { "food", "🍽️" }, { "coffee", "☕" }, { "apple", "🍎" }, { "factory", "🏭" },
  { "city", "🏙️" }, { "building", "🏢" }, { "school", "🏫" }, { "mountain", "⛰️" }, { "ocean", "🌊" },
  { "sea", "🌊" }, { "wave", "🌊" }, { "moon", "🌙" }, { "night", "🌙" }, { "robot", "🤖" }, { "chip", "🔲" },
  { "shield", "🛡️" }, { "tool", "🛠️" }, { "wrench", "🔧" }, { "flag", "🚩" }, { "light", "💡" },
}

-- Icons that say a temperature, and the words that say the opposite one.
local COLD_ICONS = { ["❄️"] = true, ["🧊"] = true }
local HOT_ICONS = { ["🔥"] = true, ["♨️"] = true, ["☀️"] = true }
local WARM_WORDS = { "warm", "hot", "heated", "cozy", "cosy", "toasty", "glowing" }
local COLD_WORDS = { "cold", "cool", "cooled", "icy", "frosty", "frozen", "freezing", "chilly", "chilled", "wintry" }

-- Words that negate what follows them, and words after one that negate it.
local NEGATING = { no = true, ["not"] = true, without = true, non = true, anti = true, zero = true, never = true }
local NEGATED_BY = { free = true, less = true }

-- Lower case, punctuation as spaces, padded: the words as matched.
local function normalise(s)
  return " " .. tostring(s or ""):lower():gsub("[^%w%s]", " "):gsub("%s+", " ") .. " "
end

-- Is the phrase at [a, b] of `s` negated: "no snow", "not cold", "flame free",
-- "crossed out gas flame"?
local function negated(s, a, b)
  local before = {}
  for w in s:sub(1, a - 1):gmatch("%S+") do before[#before + 1] = w end
  for i = #before, math.max(1, #before - 2), -1 do
    if NEGATING[before[i]] or (before[i] == "out" and before[i - 1] == "crossed") then return true end
  end
  local after = s:sub(b + 1):match("^%s*(%S+)")
  return after ~= nil and NEGATED_BY[after] == true
end

-- Does `s` say, unnegated, one of `words`?
local function says(s, words)
  for _, w in ipairs(words) do
    local a, b = s:find(" " .. w .. " ", 1, true)
    if a and not negated(s, a + 1, b - 1) then return true end
  end
  return false
end

-- Each form of each phrase (itself, "s", "es" plurals), padded with spaces as
-- matched, filed under its first word: a description is looked up by its own
-- words, not against every phrase of the table.
local BY_FIRST = {}
for i, e in ipairs(EMOJI) do
  for f, form in ipairs { e[1], e[1] .. "s", e[1] .. "es" } do
    local first = form:match("^%S+")
    BY_FIRST[first] = BY_FIRST[first] or {}
    table.insert(BY_FIRST[first], { padded = " " .. form .. " ", emoji = e[2], order = i * 3 + f })
  end
end

-- Every phrase of the table in `s`, whole words (a plural too), not negated:
-- `{a=, b=, emoji=}`, in the table's order.
local function matches(s)
  local found, seen = {}, {}
  for w in s:gmatch("%S+") do
    if BY_FIRST[w] and not seen[w] then
      seen[w] = true
      for _, form in ipairs(BY_FIRST[w]) do
        local init = 1
        while true do
          local a, b = s:find(form.padded, init, true)
          if not a then break end
          if not negated(s, a + 1, b - 1) then
            found[#found + 1] = { a = a + 1, b = b - 1, emoji = form.emoji, order = form.order }
          end
          init = b
        end
      end
    end
  end
  table.sort(found, function(x, y)
    if x.order ~= y.order then return x.order < y.order end
    return x.a < y.a
  end)
  return found
end

-- The emoji of a phrase's words: the last match that no longer one holds
-- (what the thing is); none, and true (the words have spoken), when the
-- table says no icon fits it or its temperature is the opposite of what the
-- words say (a "cold radiator" is not hot, nor merely cold).
local function pick(s)
  local found = matches(s)
  local best
  for _, m in ipairs(found) do
    local inner = false
    for _, o in ipairs(found) do
      if o ~= m and o.a <= m.a and o.b >= m.b and (o.b - o.a) > (m.b - m.a) then inner = true end
    end
    if not inner and (not best or m.b > best.b) then best = m end
  end
  if not best then return nil end
  if not best.emoji then return nil, true end
  if (COLD_ICONS[best.emoji] and says(s, WARM_WORDS)) or (HOT_ICONS[best.emoji] and says(s, COLD_WORDS)) then
    return nil, true
  end
  return best.emoji
end

--- The emoji that stands for a visual element: from its label, else from
-- the first clause of its description (up to a comma, a semicolon or a
-- parenthesis); nil when none fits or the words say the opposite of what an
-- icon would.
-- @tparam string label the element's short label
-- @tparam[opt] string text its whole description
-- @treturn string|nil
function M.emoji_for(label, text)
  local found, decided = pick(normalise(label))
  if found or decided then return found end
  local clause = tostring(text or ""):match("^[^,;:%(]*")
  return (pick(normalise(clause)))
end

return M
