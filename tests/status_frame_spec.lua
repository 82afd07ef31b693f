-- What `status` names as changed after an edit of a scene's frame: the words a person
-- uses for what they edited (text, background, visuals, pattern, style, size), never the
-- names of the fields the frame's keys are made of (groups, from, to, width, height, plate).
local h = require "helpers"

-- The scene's reason words, one list: "changed: text, size" -> {"text", "size"}.
local function reasons(out, n)
  local line = out:match("Scene " .. n .. "%s+changed: ([^\n]-)%s%s+")
  assert(line, "no 'changed' line for scene " .. n .. " in:\n" .. out)
  local words = {}
  for w in line:gmatch("[^,%s]+") do words[#words + 1] = w end
  table.sort(words)
  return words
end

-- Every reason word, its last name (what a part is called when its key is nested in
-- another: "final.png/size" is the frame's size).
local function last_names(words)
  local out = {}
  for i, w in ipairs(words) do out[i] = w:match("[^/]*$") end
  return out
end

local SCRIPT = [[
# Reasons - 2 SCENES
Format: 9:16 VERTICAL
Style: Clean flat illustration, navy and orange

## SCENE 1: The Puzzle (3 seconds)

Narration: "Heat from cold air."

Layout Design:
- Background: Snowy backyard at dusk, pale blue tones
- Text: "Heat from cold air?" - Large, top-center (safe zone), bold
- Visual Elements:
  - Outdoor unit half-buried in snow, left side
  - Thermometer reading -10 °C, top-right corner
- Layout Pattern: Two-column contrast, cold left and warm right

## SCENE 2: Quiet (3 seconds) - NO NARRATION

Layout Design:
- Background: Warm amber gradient
- Text: "The end" - top third, left-aligned
]]

describe("status after an edit of a scene's frame", function()
  local dir, film, out_dir

  setup(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/r.txt", SCRIPT)
    out_dir = dir .. "/o"
    local _, err, code = h.run({ "video", film, "--output-dir", out_dir },
      { env = "XDG_CACHE_HOME=" .. h.shell_quote(dir .. "/cache") })
    assert.equal(0, code, err)
  end)
  teardown(function() h.rm_rf(dir) end)

  local function status(text, workflow, env)
    h.write(film, text)
    local out, err, code = h.run({ "status", workflow or "video", film, "--output-dir", out_dir }, { env = env })
    h.write(film, SCRIPT)
    assert.equal(0, code, err)
    return out
  end

  it("says fresh when nothing was edited", function()
    local out = status(SCRIPT)
    assert.matches("Scene 1%s+fresh", out)
    assert.matches("Scene 2%s+fresh", out)
  end)

  it("names the text when a Text line is edited", function()
    local out = status((SCRIPT:gsub("Heat from cold air%?\"", "Heat from freezing air?\"")))
    assert.same({ "text" }, reasons(out, 1))
    assert.matches("Scene 2%s+fresh", out)
  end)

  it("names the background when a Background line is edited, though the text's colour follows it", function()
    local out = status((SCRIPT:gsub("pale blue tones", "deep red tones")))
    assert.same({ "background" }, reasons(out, 1))
  end)

  it("names the visuals when a visual element is edited", function()
    assert.same({ "visuals" }, reasons(status((SCRIPT:gsub("Thermometer reading", "Thermostat reading"))), 1))
  end)

  it("names the background and the visuals when both are edited, and nothing of what follows", function()
    local edited = SCRIPT:gsub("pale blue tones", "deep red tones"):gsub("Thermometer reading", "Thermostat reading")
    assert.same({ "background", "visuals" }, reasons(status(edited), 1))
  end)

  it("names the pattern and the style when they are edited", function()
    assert.same({ "pattern" }, reasons(status((SCRIPT:gsub("Two%-column contrast", "Centered"))), 1))
    local out = status((SCRIPT:gsub("navy and orange", "dark mode, neon green")))
    assert.same({ "style" }, reasons(out, 1))
  end)

  it("names the size, and only the size, when the frame's size changes (a draft)", function()
    local out = status(SCRIPT, "video", "EXPLAINER_PREVIEW=1")
    for _, n in ipairs { 1, 2 } do
      local words = reasons(out, n)
      for _, name in ipairs(last_names(words)) do
        assert.equal("size", name, "scene " .. n .. ": changed: " .. table.concat(words, ", "))
      end
    end
    -- the frame's own key (scripts/image.lua's journal) says it in one word
    local _, err, code = h.run({ "image", film, "--output-dir", out_dir .. "-image" },
      { env = "XDG_CACHE_HOME=" .. h.shell_quote(dir .. "/cache") })
    assert.equal(0, code, err)
    local image_out
    image_out, err, code = h.run({ "status", "image", film, "--output-dir", out_dir .. "-image" },
      { env = "EXPLAINER_PREVIEW=1" })
    assert.equal(0, code, err)
    assert.same({ "size" }, reasons(image_out, 1))
    assert.same({ "size" }, reasons(image_out, 2))
  end)
end)
