-- explainer.recipes.audio: flite, festival and espeak-ng offline, OpenAI and ElevenLabs online.
local audio = require "explainer.recipes.audio"
local voice = require "explainer.recipes.voice"
local media = require "explainer.media"
local cjson = require "cjson"
local mock = require "mock.server"
local util = require "mock.util"
local lfs = require "lfs"

local KEY = "el-test-key-91d2c7a4e6f0"

local spoken = { scene_number = 1, title = "Hello", duration = 1,
                 narration = "It's $(touch pwned) `id`; \"quoted\" & done." }
local silent = { scene_number = 2, title = "Quiet", duration = 1.5, no_narration = true }
-- 14 words, about 5 s in every offline voice
local PUZZLE = "A heat pump warms your house with heat pulled from freezing winter air. How?"

-- The sample rate and channels of a track's audio.
local function audio_format(path)
  local p = assert(io.popen("ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate,channels "
    .. "-of default=noprint_wrappers=1 " .. util.quote(path)))
  local text = p:read("a")
  p:close()
  return tonumber(text:match("sample_rate=(%d+)")), tonumber(text:match("channels=(%d+)"))
end

-- How long an engine speaks PUZZLE by itself, measured without explainer: the
-- engine's own WAV, written to a file.
local NATURAL = {
  flite = function(v) return ("ffmpeg -v error -y -f lavfi -i flite=textfile=puzzle.txt:voice=%s natural.wav"):format(v) end,
  espeak = function(v) return ("espeak-ng -v %s -s 165 -f puzzle.txt -w natural.wav"):format(util.quote(v)) end,
  festival = function(v)
    return ("text2wave -eval '(voice_%s)' puzzle.txt -o natural.wav"):format(voice.FESTIVAL[v] or v)
  end,
}
local function natural_length(engine, name, dir)
  local f = assert(io.open(dir .. "/puzzle.txt", "w"))
  f:write(PUZZLE, "\n")
  f:close()
  os.remove(dir .. "/natural.wav")
  local status, _, err = util.sh("cd " .. util.quote(dir) .. " && " .. NATURAL[engine](name), dir)
  assert(status == 0, err)
  return util.probe(dir .. "/natural.wav").duration
end

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
      for entry in lfs.dir(dir) do
        assert.is_nil(entry:match("^%.voice"), "the text file is removed: " .. entry)
      end
    end)

    it("gives a silent scene a silent track as long as the scene, at 48 kHz", function()
      local path = assert(audio.generate(silent, dir, { backend = "local" }))
      local info = util.probe(path)
      assert.is_true(math.abs(info.duration - 1.5) < 0.1, "duration " .. tostring(info.duration))
      assert.same({ 48000, 1 }, { audio_format(path) })
    end)

    -- Each voice offered: a whole MP3 (48 kHz mono), as long as the engine
    -- speaks the text by itself (a long scene: no speeding up).
    local voices = {}
    for _, name in ipairs(voice.FLITE) do voices[#voices + 1] = { "flite", name, name } end
    voices[#voices + 1] = { "espeak", "en-us", "espeak:en-us" }
    voices[#voices + 1] = { "espeak", "en-gb", "en-gb" }
    local festival = voice.resolve("slt-hts")
    if festival then voices[#voices + 1] = { "festival", "slt-hts", "slt-hts" } end
    for _, v in ipairs(voices) do
      it(("speaks a whole track of the engine's own length with %s (%s)"):format(v[3], v[1]), function()
        local scene = { scene_number = 4, title = "Puzzle", duration = 30, narration = PUZZLE }
        local path = assert(audio.generate(scene, dir, { backend = "local", voice = v[3] }))
        assert.is_true(media.check_whole(path, "mp3"))
        assert.same({ 48000, 1 }, { audio_format(path) })
        local natural = natural_length(v[1], v[2], dir)
        local made = util.probe(path).duration
        assert.is_true(natural > 14 / 4.5 and natural < 14 / 1.5, "natural " .. natural)
        -- an MP3 carries up to ~50 ms of encoder delay and padding
        assert.is_true(math.abs(made - natural) < 0.08, ("%s: %.3f s, the engine alone %.3f s"):format(v[3], made,
          natural))
      end)
    end
    if not festival then
      pending("festival slt-hts: festival is not installed (apt-get install festival festvox-us-slt-hts)")
    end

    it("speeds a narration up to fit its scene, at most 1.25 times, and never slows one down", function()
      local function length(duration, opts)
        local name = ("t%s.mp3"):format(tostring(duration):gsub("%.", "_"))
        local o = { backend = "local", filename = name }
        for k, v in pairs(opts or {}) do o[k] = v end
        local scene = { scene_number = 5, title = "Pace", duration = duration, narration = PUZZLE }
        return util.probe(assert(audio.generate(scene, dir, o))).duration
      end
      local natural = length(30)
      assert.is_true(natural > 4, "natural " .. natural)
      -- fits: no longer than the scene (the MP3's own padding included), at most 0.1 s shorter
      local scene = natural * 0.9
      local fitted = length(scene)
      assert.is_true(fitted <= scene + 0.005 and fitted > scene - 0.1, ("%.3f s for a %.3f s scene"):format(fitted,
        scene))
      assert.near(natural / voice.MAX_TEMPO, length(natural / 2), 0.08) -- as fast as it goes, longer than the scene
      assert.near(natural, length(natural + 2), 0.001)               -- a longer scene: as spoken
    end)

    it("speaks at EXPLAINER_SPEECH_RATE words a minute when one is asked for", function()
      local scene = { scene_number = 6, title = "Rate", duration = 30, narration = PUZZLE }
      for _, rate in ipairs { 120, 200 } do
        local path = assert(audio.generate(scene, dir, { backend = "local", rate = rate, filename = rate .. ".mp3" }))
        assert.near(14 * 60 / rate, util.probe(path).duration, 0.15)
      end
      local path, err = audio.generate(scene, dir, { backend = "local", rate = 30 })
      assert.is_nil(path)
      assert.equal("EXPLAINER_SPEECH_RATE: '30' is not a rate from 80 to 450 words a minute", err)
    end)

    it("refuses a voice that is not there, listing those that are, and makes nothing", function()
      for name, problem in pairs { bogus = "no voice 'bogus'", ["flite:bogus"] = "flite has no voice 'bogus'",
                                   ["-v"] = "no voice '-v'",
                                   ["nope:rms"] = "no engine 'nope' in 'nope:rms' (flite, festival or espeak)",
                                   ["festival:bogus"] = voice.resolve("slt-hts") and "festival has no voice 'bogus'"
                                     or "'festival:bogus' is festival's, and festival is not installed" } do
        local path, err = audio.generate(spoken, dir, { backend = "local", voice = name })
        assert.is_nil(path)
        assert.equal("EXPLAINER_VOICE: " .. problem .. "; ", err:sub(1, #problem + 19))
        assert.matches("the offline voices are: flite rms, awb, slt, kal16 (default rms); festival ", err, 1, true)
        assert.matches("espeak:en-gb, ", err, 1, true)
        assert.matches("espeak:en-us", err, 1, true)
        assert.is_nil(err:find("\n"), "one line")
        assert.is_nil(io.open(dir .. "/narration.mp3"))
      end
      -- a silent scene does not need a voice
      assert(audio.generate(silent, dir, { backend = "local", voice = "bogus" }))
    end)

    it("keys a track by its engine and voice, its rate and its scene's length", function()
      local function id(opts, scene) return audio.key(scene or spoken, opts).id end
      local default = id { backend = "local" }
      assert.equal(default, id { backend = "local", voice = "rms" })
      assert.equal(default, id { backend = "local", voice = "flite:rms" })
      assert.equal(id { backend = "local", voice = "en-gb" }, id { backend = "local", voice = "espeak:en-gb" })
      local seen = { [default] = true }
      for _, other in ipairs { { voice = "slt" }, { voice = "awb" }, { voice = "kal16" }, { voice = "espeak:en-us" },
                               { voice = "espeak:en-gb" }, { rate = 180 } } do
        other.backend = "local"
        local k = id(other)
        assert.is_nil(seen[k], cjson.encode(other))
        seen[k] = true
      end
      local longer = { scene_number = 1, title = "Hello", duration = 9, narration = spoken.narration }
      assert.not_equal(default, id({ backend = "local" }, longer))
      -- the online voices' keys are the ones they were: nothing paid for is asked again
      assert.equal("0fea09884298614d99b51e7645c1a7f8", id { backend = "openai" })
      assert.equal(id { backend = "openai" }, id({ backend = "openai" }, longer))
      assert.equal("138b85c1bb8ab3c8ea4992697d552015", id { backend = "elevenlabs", voice = "voice 42" })
      assert.equal("908be0dd1060aa24696f29e1dd448e2a",
                   id { backend = "openai", model = "tts-1", voice = "nova", base_url = "http://x/v1" })
      -- a silent track (made here, for nothing) carries its empty narration since
      -- this release, so that "changed: narration" says a scene gained its words
      assert.equal("d3940a53f76361cd2a9b23598b25bc42", audio.key({ scene_number = 2, duration = 1.5,
        no_narration = true }, { backend = "local" }).id)
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
    it("fails the scene with a clear message when ffmpeg is not installed", function()
      local input = util.root() .. "/tests/fixtures/recipes_image.txt"
      local status, _, err = util.run_host(dir, "audio.lua", input, { PATH = dir .. "/nothing-here" },
                                           { "--output-dir", dir .. "/out", "--scenes", "1" })
      assert.equal(1, status, err)
      assert.matches("ffmpeg not found; run make deps", err, 1, true)
      -- an espeak-ng voice is checked before the first scene
      status, _, err = util.run_host(dir, "audio.lua", input, { PATH = dir .. "/nothing-here",
        EXPLAINER_VOICE = "espeak:en-us" }, { "--output-dir", dir .. "/out", "--scenes", "1" })
      assert.equal(2, status, err)
      assert.matches("espeak-ng not found; run make deps", err, 1, true)
    end)

    it("refuses an unknown EXPLAINER_VOICE in one line before any scene runs", function()
      local input = util.root() .. "/tests/fixtures/recipes_image.txt"
      local status, out, err = util.run_host(dir, "audio.lua", input, { EXPLAINER_VOICE = "nobody" },
                                             { "--output-dir", dir .. "/out" })
      assert.equal(2, status, err)
      assert.equal("", out)
      assert.matches("^explainer: [^\n]*EXPLAINER_VOICE: no voice 'nobody'; the offline voices are: flite rms, "
        .. "awb, slt, kal16 %(default rms%); festival [^\n]*espeak:en%-us[^\n]*\n$", err)
      assert.is_nil(lfs.attributes(dir .. "/out"), "nothing made")
    end)

    it("fails a local track too short for its words, and keeps nothing", function()
      -- an espeak-ng that says 0.3 s whatever it is asked
      local bin = dir .. "/bin"
      lfs.mkdir(bin)
      local f = assert(io.open(bin .. "/espeak-ng", "w"))
      f:write("#!/bin/sh\nexec ffmpeg -nostdin -v error -f lavfi -i sine=d=0.3:r=22050 -f wav pipe:1\n")
      f:close()
      os.execute("chmod +x " .. util.quote(bin .. "/espeak-ng"))
      local input = dir .. "/long.txt"
      f = assert(io.open(input, "w"))
      f:write("# Long - 1 SCENES\n\n## SCENE 1: Long (2 seconds)\n\nNarration: \"" .. PUZZLE .. "\"\n")
      f:close()
      local status, _, err = util.run_host(dir, "audio.lua", input, { PATH = bin .. ":" .. os.getenv("PATH"),
        EXPLAINER_VOICE = "espeak:en-us" }, { "--output-dir", dir .. "/out" })
      assert.equal(1, status, err)
      assert.matches("narration.mp3 lasts 0.3%d s for 14 words %(a voice needs at least 2.33 s%): it was cut short",
                     err)
      assert.is_nil(io.open(dir .. "/out/long/scene_01/narration.mp3"))
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
