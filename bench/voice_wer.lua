-- bench/voice_wer.lua -- word error rate of transcripts against the script's narrations.
-- usage: lua5.4 bench/voice_wer.lua NARRATIONS.json DIR LABEL
--   NARRATIONS.json: `explainer narration FILE --json`; DIR/scene_NN.txt: what the
--   recogniser heard for scene NN. Prints one line per scene (stderr) and, on stdout,
--   "LABEL<TAB>errors<TAB>reference words<TAB>WER".
--
-- Normalisation, on both sides alike: lower case; every character other than a
-- letter, a digit or an apostrophe inside a word is a space (so "doesn't" stays one
-- word, "heat-pump" is two); whole numbers up to 999,999 are written as words
-- ("4" -> "four", "1,200" -> "one thousand two hundred"). Nothing else is mapped:
-- "CO2" and "9:16" count as written. The example's narrations have no digits.
-- WER = (substitutions + deletions + insertions) / reference words, the edits
-- counted by word-level Levenshtein distance, summed over the scenes.
local cjson = require "cjson"

local ONES = { "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
  "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen" }
local TENS = { [2] = "twenty", [3] = "thirty", [4] = "forty", [5] = "fifty", [6] = "sixty",
  [7] = "seventy", [8] = "eighty", [9] = "ninety" }

local function below_thousand(n)
  local out = {}
  if n >= 100 then
    out[#out + 1] = ONES[n // 100] .. " hundred"
    n = n % 100
  end
  if n >= 20 then
    out[#out + 1] = TENS[n // 10]
    n = n % 10
  end
  if n > 0 then out[#out + 1] = ONES[n] end
  return table.concat(out, " ")
end

local function number_words(n)
  if n == 0 then return "zero" end
  if n >= 1000 then
    local rest = n % 1000
    return below_thousand(n // 1000) .. " thousand" .. (rest > 0 and (" " .. below_thousand(rest)) or "")
  end
  return below_thousand(n)
end

local function words(text)
  text = text:lower()
  -- "1,200" is one number; then every digit run up to 999,999 becomes words
  text = text:gsub("(%d),(%d%d%d)", "%1%2")
  text = text:gsub("%d+", function(d)
    local n = tonumber(d)
    if n and n < 1000000 then return " " .. number_words(n) .. " " end
    return " " .. d .. " "
  end)
  text = text:gsub("[^%a%d']", " ")
  local list = {}
  for w in text:gmatch("%S+") do
    w = w:gsub("^'+", ""):gsub("'+$", "")
    if w ~= "" then list[#list + 1] = w end
  end
  return list
end

local function distance(ref, hyp)
  local prev = {}
  for j = 0, #hyp do prev[j] = j end
  for i = 1, #ref do
    local row = { [0] = i }
    for j = 1, #hyp do
      local cost = ref[i] == hyp[j] and 0 or 1
      row[j] = math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = row
  end
  return prev[#hyp]
end

local json_path, dir, label = arg[1], arg[2], arg[3] or "voice"
local f = assert(io.open(json_path))
local scenes = cjson.decode(f:read("a"))
f:close()
local errors, total = 0, 0
for _, scene in ipairs(scenes) do
  if scene.narration ~= cjson.null and scene.narration then
    local path = ("%s/scene_%02d.txt"):format(dir, scene.scene_number)
    local h = io.open(path)
    local heard = h and h:read("a") or ""
    if h then h:close() end
    local ref, hyp = words(scene.narration), words(heard)
    local e = distance(ref, hyp)
    errors, total = errors + e, total + #ref
    io.stderr:write(("  %-14s scene %2d  %2d/%2d  %s\n"):format(label, scene.scene_number, e, #ref,
      (heard:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))))
  end
end
if total == 0 then
  io.stderr:write("voice_wer: no narration in " .. json_path .. "\n")
  os.exit(1)
end
print(("%s\t%d\t%d\t%.3f"):format(label, errors, total, errors / total))
