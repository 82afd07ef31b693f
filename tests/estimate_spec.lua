-- explainer estimate: what a run will send and cost, before anything is spent.
local cjson = require "cjson"
local mock = require "mock.server"
local util = require "mock.util"
local h = require "helpers"
local estimate = require "explainer.estimate"

local KEY = "sk-test-estimate-4d2b8c"

local SCRIPT = [[
# Costs - 3 SCENES
Format: 9:16

## SCENE 1: Iterated (6 seconds)

Narration: "One two three four five six seven eight nine ten one two three four five six seven eight."

Nano Banana Iterative Prompt:
"Initial: A ball. | Iteration 1: Make it blue. | Iteration 2: Add a shadow."

Animation Prompt for AI Video Model:
"The ball rolls."

## SCENE 2: Two Steps (4 seconds)

Narration: "Short words."

Image Generation Prompts (2-Step Workflow):
Initial: "A lighthouse."
Final Prompt: "The lighthouse at dusk."

Animation Prompt for AI Video Model:
"The beam sweeps."

## SCENE 3: Silent (3 seconds) - NO NARRATION

Layout Design:
- Background: plain
]]

-- Round prices, so that every cost below can be worked out by hand.
local PRICES = [[
return {
  date = "2030-01-01", source = "the spec",
  image = { ["openai/gpt-image-1"] = { unit = "image", price = 1 } },
  edit = { ["openai/gpt-image-1"] = { unit = "image", price = 0.5 } },
  speech = { ["elevenlabs/eleven_multilingual_v2"] = { unit = "thousand characters", price = 10 } },
  video = { ["fal/fal-ai/kling-video/v2.1/standard/image-to-video"] = { unit = "second", price = 2 } },
}
]]

describe("explainer estimate", function()
  local dir, input

  -- Run the host in dir: explainer ARGS..., with env; status, stdout, stderr.
  local function run(args, env)
    local parts = { "cd", util.quote(dir), "&&", "exec", "env", "-u", "LD_PRELOAD",
                    "-u", "EXPLAINER_IMAGE_BACKEND", "-u", "EXPLAINER_AUDIO_BACKEND", "-u", "EXPLAINER_VIDEO_BACKEND",
                    "-u", "EXPLAINER_IMAGE_EDITS", "-u", "EXPLAINER_PRICES" }
    env = env or {}
    if env.EXPLAINER_CACHE_DIR == nil then env.EXPLAINER_CACHE_DIR = dir .. "/.cache" end
    for k, v in pairs(env) do parts[#parts + 1] = util.quote(k .. "=" .. v) end
    parts[#parts + 1] = util.quote(h.bin)
    for _, a in ipairs(args) do parts[#parts + 1] = util.quote(a) end
    return util.sh(table.concat(parts, " "), dir)
  end

  local function json_of(args, env)
    local status, out, err = run(args, env)
    assert.equal(0, status, err)
    return cjson.decode(out)[1]
  end

  local PAID = { EXPLAINER_IMAGE_BACKEND = "openai", EXPLAINER_IMAGE_EDITS = "on",
                 EXPLAINER_AUDIO_BACKEND = "elevenlabs", EXPLAINER_VIDEO_BACKEND = "fal" }
  local function paid(extra)
    local env = {}
    for k, v in pairs(PAID) do env[k] = v end
    env.EXPLAINER_PRICES = dir .. "/prices.lua"
    for k, v in pairs(extra or {}) do env[k] = v end
    return env
  end

  before_each(function()
    dir = util.tmpdir()
    input = h.write(dir .. "/costs.txt", SCRIPT)
    h.write(dir .. "/prices.lua", PRICES)
  end)
  after_each(function() util.rmtree(dir) end)

  it("counts the offline run's cards, characters and film length, at no cost", function()
    local e = json_of { "estimate", "video", input, "--output-dir", dir .. "/out", "--json" }
    assert.same({ total = 3, fresh = 0, to_make = 3 }, e.scenes)
    assert.equal(3, e.images.cards)
    assert.equal("local", e.images.backend)
    assert.equal(2, e.speech.narrations)
    assert.equal(#"One two three four five six seven eight nine ten one two three four five six seven eight."
      + #"Short words.", e.speech.characters)
    assert.equal(0, e.cost)
    assert.is_true(e.complete)
    -- 18 words at flite's 145 a minute (7.4 s) are played 1.24 times faster to fit scene
    -- 1's 6 s; scenes 2 and 3 keep theirs; and each clip is held half a second at each end
    -- for the crossfades (4 of them)
    assert.near(6 + 4 + 3 + 4 * 0.5, e.film_seconds, 0.01)
    -- espeak-ng at 100 words a minute: 10.8 s, 1.25 times faster is still 8.64 s
    e = json_of({ "estimate", "video", input, "--output-dir", dir .. "/out", "--json" },
                { EXPLAINER_VOICE = "espeak:en-us", EXPLAINER_SPEECH_RATE = "100" })
    assert.near(18 / 100 * 60 / 1.25 + 4 + 3 + 4 * 0.5, e.film_seconds, 0.01)
  end)

  it("counts one generation and one edit per iteration or final prompt, characters and seconds, and prices them", function()
    local e = json_of({ "estimate", "video", input, "--output-dir", dir .. "/out", "--json" }, paid())
    assert.equal(3, e.images.generations)
    assert.equal(3, e.images.edits)              -- two iterations, one final prompt
    assert.equal(101, e.speech.characters)
    assert.equal(2, e.video.requests)           -- scene 3 has no animation prompt
    assert.equal(15, e.video.seconds)           -- Kling's "10" for the 6 s scene, "5" for the 4 s one
    assert.near(3 * 1 + 3 * 0.5 + 101 / 1000 * 10 + 15 * 2, e.cost, 1e-9)
    assert.equal("2030-01-01", e.prices.date)
    assert.equal(dir .. "/prices.lua", e.prices.file)
  end)

  it("says it for people, with the date of its prices", function()
    local status, out, err = run({ "estimate", "video", input, "--output-dir", dir .. "/out" }, paid())
    assert.equal(0, status, err)
    assert.matches("^Prices of 2030%-01%-01 from " .. dir:gsub("%p", "%%%0") .. "/prices.lua %(estimates", out)
    assert.matches("3 scenes to make, 0 fresh (of 3)", out, 1, true)
    assert.matches("images   3 generations + 3 edits  [openai gpt-image-1, $4.50]", out, 1, true)
    assert.matches("speech   101 characters in 2 narrations  [elevenlabs eleven_multilingual_v2, $1.01]", out, 1, true)
    assert.matches("video    15 seconds of video in 2 requests", out, 1, true)
    assert.matches("cost     $35.51", out, 1, true)
  end)

  it("charges nothing for scenes already made, nor for what the cache holds", function()
    local server = mock.start { key = KEY, lifetime = 60 }
    local env = { EXPLAINER_IMAGE_BACKEND = "openai", OPENAI_API_KEY = KEY, OPENAI_BASE_URL = server.url .. "/v1",
                  EXPLAINER_PRICES = dir .. "/prices.lua" }
    local status, _, err = run({ "image", input, "--output-dir", dir .. "/out", "--scenes", "1" }, env)
    server:stop()
    assert.equal(0, status, err)
    local e = json_of({ "estimate", "image", input, "--output-dir", dir .. "/out", "--json" }, env)
    assert.same({ total = 3, fresh = 1, to_make = 2 }, e.scenes)
    assert.equal(2, e.images.generations)
    assert.equal(2, e.cost)
    -- another output folder: scene 1's image is in the shared cache
    e = json_of({ "estimate", "image", input, "--output-dir", dir .. "/elsewhere", "--json" }, env)
    assert.same({ total = 3, fresh = 0, to_make = 3 }, e.scenes)
    assert.equal(2, e.images.generations)
    assert.equal(1, e.images.reused)
    -- the image workflow sends no speech and no video
    local _, out = run({ "estimate", "image", input, "--output-dir", dir .. "/out" }, env)
    assert.is_nil(out:find("speech", 1, true))
    assert.is_nil(out:find("video", 1, true))
  end)

  it("says the total is a floor when a model has no price", function()
    local e = json_of({ "estimate", "video", input, "--output-dir", dir .. "/out", "--json" },
      paid { EXPLAINER_VIDEO_MODEL = "fal-ai/some/new-model" })
    assert.is_false(e.complete)
    assert.same({ "video fal/fal-ai/some/new-model" }, e.unpriced)
    assert.is_nil(e.video.cost)
    local _, out = run({ "estimate", "video", input, "--output-dir", dir .. "/out" },
      paid { EXPLAINER_VIDEO_MODEL = "fal-ai/some/new-model" })
    assert.matches("cost     at least $5.51", out, 1, true)
    assert.matches("no price for video fal/fal-ai/some/new-model: add it with EXPLAINER_PRICES", out, 1, true)
  end)

  it("reads a JSON price table too", function()
    h.write(dir .. "/prices.json", cjson.encode { date = "2031-02-03",
      video = { ["fal/fal-ai/kling-video/v2.1/standard/image-to-video"] = { unit = "video", price = 3 } } })
    local e = json_of({ "estimate", "video", input, "--output-dir", dir .. "/out", "--json",
                        "--prices", dir .. "/prices.json" }, paid())
    assert.equal("2031-02-03", e.prices.date)
    assert.equal(6, e.video.cost)   -- two videos at 3
  end)

  it("refuses a price table it cannot use, naming the file and the entry", function()
    h.write(dir .. "/bad.lua", 'return { image = { ["openai/gpt-image-1"] = { unit = "pixel", price = 1 } } }')
    local status, out, err = run({ "estimate", "video", input, "--prices", dir .. "/bad.lua" })
    assert.equal(2, status)
    assert.equal("", out)
    assert.matches("^explainer: " .. (dir .. "/bad.lua"):gsub("%p", "%%%0") .. ': image%["openai/gpt%-image%-1"%]: '
      .. "expected {unit = ..., price = N}", err)
    local _
    status, _, err = run({ "estimate", "video", input, "--prices", dir .. "/missing.lua" })
    assert.equal(2, status)
    assert.matches("missing.lua: No such file or directory", err, 1, true)
    h.write(dir .. "/code.lua", 'os.execute("touch PWNED") return {}')
    status, _, err = run({ "estimate", "video", input, "--prices", dir .. "/code.lua" })
    assert.equal(2, status)
    assert.matches("attempt to index a nil value (global 'os')", err, 1, true)
    assert.is_nil(io.open(dir .. "/PWNED"))
    h.write(dir .. "/loop.lua", "while true do end")
    status, _, err = run({ "estimate", "video", input, "--prices", dir .. "/loop.lua" })
    assert.equal(2, status)
    assert.matches("loop.lua:1: runs too long for a table of prices", err, 1, true)
  end)

  it("refuses a backend no run could use, naming it", function()
    for var, message in pairs {
      EXPLAINER_IMAGE_BACKEND = "unknown image backend 'crayons' (local, openai or fal)",
      EXPLAINER_AUDIO_BACKEND = "unknown audio backend 'crayons' (local, openai or elevenlabs)",
      EXPLAINER_VIDEO_BACKEND = "unknown image-to-video backend 'crayons' (fal, openai or none)",
    } do
      local status, _, err = run({ "estimate", "video", input }, { [var] = "crayons" })
      assert.equal(2, status)
      assert.equal("explainer: " .. message .. "\n", err)
    end
  end)

  it("counts a workflow it does not know as video, and says so", function()
    h.write(dir .. "/mine.lua", "return { process_scene = function() return true end }")
    local status, out, err = run { "estimate", dir .. "/mine.lua", input }
    assert.equal(0, status, err)
    assert.matches("counted as video", out, 1, true)
    h.write(dir .. "/told.lua", 'return { makes = { "audio" }, process_scene = function() return true end }')
    status, out = run { "estimate", dir .. "/told.lua", input }
    assert.equal(0, status)
    assert.is_nil(out:find("counted as", 1, true))
    assert.is_nil(out:find("images", 1, true))
    assert.matches("speech", out, 1, true)
  end)

  it("prices per megapixel, per image size and per thousand characters", function()
    local prices = assert(estimate.prices())
    assert.near(2 * 0.003, estimate.cost(prices, "image", "fal/fal-ai/flux/schnell", 2, { size = "portrait_16_9" }), 1e-12)
    assert.near(2 * 2 * 0.003, estimate.cost(prices, "image", "fal/fal-ai/flux/schnell", 2, { size = "1536x1024" }),
      1e-12)
    assert.equal(0.042, estimate.cost(prices, "image", "openai/gpt-image-1", 1, { size = "1024x1024" }))
    assert.equal(0.063, estimate.cost(prices, "image", "openai/gpt-image-1", 1, { size = "1024x1536" }))
    assert.near(0.6, estimate.cost(prices, "speech", "elevenlabs/eleven_multilingual_v2", 2000), 1e-12)
    assert.is_nil(estimate.cost(prices, "video", "fal/unknown", 5))
    assert.matches("^%d%d%d%d%-%d%d%-%d%d$", prices.date)
  end)
end)
