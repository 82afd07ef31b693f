-- explainer.recipes.audio: espeak-ng offline, OpenAI and ElevenLabs online.
local audio = require "explainer.recipes.audio"
local cjson = require "cjson"
local mock = require "mock.server"
local util = require "mock.util"

local KEY = "el-test-key-91d2c7a4e6f0"

local spoken = { scene_number = 1, title = "Hello", duration = 1,
                 narration = "It's $(touch pwned) `id`; \"quoted\" & done." }
local silent = { scene_number = 2, title = "Quiet", duration = 1.5, no_narration = true }

describe("audio recipe", function()
  local server, dir
  setup(function() server = mock.start { key = KEY, lifetime = 90 } end)
  teardown(function() server:stop() end)
  before_each(function()
    dir = util.tmpdir()
    -- each test its own cache: these specs count the requests they cause
    require("explainer.settings").cache_dir = dir .. "/cache"
    server:plan({})
  end)
  after_each(function() util.rmtree(dir) end)

  describe("local backend", function()
    it("speaks the narration to an MP3 whose length ffprobe confirms", function()
      local path = assert(audio.generate(spoken, dir, { backend = "local" }))
      assert.equal(dir .. "/narration.mp3", path)
      local info = util.probe(path)
      assert.is_true(info.has_audio)
      assert.is_true(info.duration > 1 and info.duration < 10, "duration " .. tostring(info.duration))
      assert.is_nil(io.open("pwned"))
    end)

    it("gives a silent scene a silent track as long as the scene", function()
      local path = assert(audio.generate(silent, dir, { backend = "local" }))
      local info = util.probe(path)
      assert.is_true(math.abs(info.duration - 1.5) < 0.1, "duration " .. tostring(info.duration))
    end)
  end)

  describe("openai backend", function()
    it("posts {model, input, voice, response_format} with a Bearer key and stores the MP3", function()
      local path = assert(audio.generate(spoken, dir, { backend = "openai", api_key = KEY,
                                                        base_url = server.url .. "/v1" }))
      local req = server:requests()[#server:requests()]
      assert.equal("/v1/audio/speech", req.path)
      assert.equal("Bearer " .. KEY, req.headers.authorization)
      assert.same({ model = "gpt-4o-mini-tts", input = spoken.narration, voice = "alloy", response_format = "mp3" },
                  cjson.decode(req.body))
      assert.equal("ID3", util.read(path):sub(1, 3))
    end)

    it("fails a well-formed track too short for its words, and keeps nothing", function()
      -- 14 words need 2.3 s at the fastest a voice speaks; the service sends 0.5 s
      local long = { scene_number = 3, title = "Long", duration = 6,
                     narration = "A heat pump warms your house with heat pulled from freezing winter air. How?" }
      server:plan { { hostile = "short_mp3" } }
      local path, err = audio.generate(long, dir, { backend = "openai", api_key = KEY, retries = 0,
                                                    base_url = server.url .. "/v1" })
      assert.is_nil(path)
      assert.matches("narration.mp3 lasts 0.5%d s for 14 words %(a voice needs at least 2.33 s%): it was cut short", err)
      assert.is_nil(io.open(dir .. "/narration.mp3"), "nothing kept")
    end)

    it("makes no API call for a silent scene", function()
      local n0 = #server:requests()
      assert(audio.generate(silent, dir, { backend = "openai", api_key = KEY, base_url = server.url .. "/v1" }))
      assert.equal(n0, #server:requests())
    end)
  end)

  describe("elevenlabs backend", function()
    local function opts(extra)
      local o = { backend = "elevenlabs", api_key = KEY, base_url = server.url, backoff = 0.01 }
      for k, v in pairs(extra or {}) do o[k] = v end
      return o
    end

    it("posts {text, model_id} to /v1/text-to-speech/{voice_id} with xi-api-key (timestamps off)", function()
      local path = assert(audio.generate(spoken, dir, opts { voice = "voice 42", timestamps = false }))
      local req = server:requests()[#server:requests()]
      assert.equal("/v1/text-to-speech/voice%2042", req.path)
      assert.equal(KEY, req.headers["xi-api-key"])
      assert.is_nil(req.headers.authorization)
      assert.same({ text = spoken.narration, model_id = "eleven_multilingual_v2" }, cjson.decode(req.body))
      assert.equal("ID3", util.read(path):sub(1, 3))
    end)

    it("retries a 429 and then succeeds", function()
      server:plan { { status = 429, retry_after = "0" }, { status = 503 } }
      local n0 = #server:requests()
      assert(audio.generate(spoken, dir, opts()))
      assert.equal(3, #server:requests() - n0)
    end)

    it("fails a refused key with the service's message, the key masked", function()
      server:plan { { status = 401, echo_key = true } }
      local path, err = audio.generate(spoken, dir, opts())
      assert.is_nil(path)
      assert.matches("^ElevenLabs: HTTP 401: Invalid API key", err)
      assert.is_nil(err:find(KEY, 1, true))
      assert.is_nil(io.open(dir .. "/narration.mp3"))
    end)

    it("gives up on repeated 500s, naming the attempts", function()
      server:plan { { status = 500 }, { status = 500 }, { status = 500 } }
      local path, err = audio.generate(spoken, dir, opts { retries = 2 })
      assert.is_nil(path)
      assert.equal("ElevenLabs: HTTP 500: An internal server error occurred. (gave up after 3 attempts)", err)
    end)
  end)

  describe("scripts/audio.lua", function()
    it("fails the scene with a clear message when espeak-ng is not installed", function()
      local input = util.root() .. "/tests/fixtures/recipes_image.txt"
      local status, _, err = util.run_host(dir, "audio.lua", input, { PATH = dir .. "/nothing-here" },
                                           { "--output-dir", dir .. "/out", "--scenes", "1" })
      assert.equal(1, status, err)
      assert.matches("espeak-ng not found; run make deps", err, 1, true)
    end)

    it("never writes the key anywhere, even when the service echoes it", function()
      server:plan { { status = 401, echo_key = true }, { status = 401, echo_key = true } }
      local input = util.root() .. "/tests/fixtures/recipes_image.txt"
      local status, out, err = util.run_host(dir, "audio.lua", input, {
        EXPLAINER_AUDIO_BACKEND = "elevenlabs", ELEVENLABS_API_KEY = KEY .. "x",
        ELEVENLABS_BASE_URL = server.url,
      }, { "--output-dir", dir .. "/out" })
      assert.equal(1, status, err)
      assert.matches("Invalid API key", err, 1, true)
      assert.is_nil((out .. err):find(KEY, 1, true))
      for _, file in ipairs(util.files(dir)) do
        assert.is_nil((util.read(file) or ""):find(KEY, 1, true), file)
      end
    end)
  end)
end)
