-- explainer.recipes.captions (cues split, timed and written) and the
-- character timings ElevenLabs' with-timestamps endpoint gives the audio recipe.
local captions = require "explainer.recipes.captions"
local audio = require "explainer.recipes.audio"
local cjson = require "cjson"
local mock = require "mock.server"
local util = require "mock.util"

local function texts(cues)
  local out = {}
  for i, cue in ipairs(cues) do out[i] = cue.text end
  return out
end

local function longest_line(cues)
  local n = 0
  for _, cue in ipairs(cues) do
    for _, line in ipairs(cue.lines) do n = math.max(n, utf8.len(line)) end
  end
  return n
end

local LONG = "On a freezing winter day, a heat pump warms your house by pulling heat from the cold air "
  .. "outside. How is that possible?"

describe("captions", function()
  describe("split", function()
    it("gives a short sentence one cue of one line", function()
      local cues = captions.split("Done.")
      assert.same({ "Done." }, texts(cues))
      assert.same({ "Done." }, cues[1].lines)
    end)

    it("starts a new cue at each sentence end", function()
      local cues = captions.split("It moves heat. It does not make it! Why?")
      assert.same({ "It moves heat.", "It does not make it!", "Why?" }, texts(cues))
    end)

    it("breaks a sentence too long for two lines at its clauses", function()
      local cues = captions.split(LONG)
      assert.same({ "On a freezing winter day,",
                    "a heat pump warms your house by pulling heat from the cold air outside.",
                    "How is that possible?" }, texts(cues))
    end)

    it("never makes more than two lines of at most 42 characters", function()
      local text = ("one two three four five six seven eight nine ten eleven twelve "):rep(6)
      local cues = captions.split(text)
      assert.is_true(#cues >= 5)
      assert.is_true(longest_line(cues) <= 42, "a line of " .. longest_line(cues))
      for _, cue in ipairs(cues) do assert.is_true(#cue.lines <= 2) end
    end)

    it("keeps every word, in order", function()
      local text = "Hi; $(touch x) `id` 'single' \"double\" & done | cat > y, and then   some\nmore words."
      local joined = table.concat(texts(captions.split(text)), " ")
      assert.equal((text:gsub("%s+", " ")), joined)
    end)

    it("does not end a sentence at an abbreviation", function()
      assert.same({ "Dr. Smith uses heat pumps, e.g. air to water." },
                  texts(captions.split("Dr. Smith uses heat pumps, e.g. air to water.")))
    end)

    it("balances a cue's two lines and prefers to break after a comma", function()
      local cues = captions.split("The secret is a refrigerant, a fluid that boils at very low temperatures.")
      assert.same({ "The secret is a refrigerant, a fluid", "that boils at very low temperatures." }, cues[1].lines)
    end)

    it("leaves a word longer than a line alone in its cue", function()
      local word = ("x"):rep(60)
      local cues = captions.split("Short words " .. word .. " end.")
      assert.same({ word }, cues[2].lines)
    end)

    it("counts characters, not bytes, and knows where each cue lies in the text", function()
      local text = "Minus ten °C is warm enough — for a heat pump."
      local cues = captions.split(text)
      assert.equal(1, cues[1].first)
      assert.equal(utf8.len(text), cues[#cues].last)
    end)
  end)

  describe("time", function()
    it("shares the speech among cues by their characters, back to back", function()
      local cues = captions.time(captions.split("Aaaa bbbb. Cccc."), 10, 7.5)
      assert.equal(10, cues[1].start)
      assert.near(15, cues[1].finish, 1e-9)   -- 10 characters of 15
      assert.equal(cues[1].finish, cues[2].start)
      assert.near(17.5, cues[2].finish, 1e-9)
    end)

    it("follows the backend's character timings when they fit the text", function()
      local text = "One two. Three four."
      local n = utf8.len(text)
      local al = { characters = {}, character_start_times_seconds = {}, character_end_times_seconds = {} }
      for i = 1, n do
        al.characters[i] = text:sub(i, i)
        al.character_start_times_seconds[i] = (i - 1) * 0.1 + (i > 8 and 1 or 0)   -- a pause
        al.character_end_times_seconds[i] = i * 0.1 + (i > 8 and 1 or 0)
      end
      local cues, how = captions.time(captions.split(text), 5, 4, al, n)
      assert.equal("alignment", how)
      assert.near(5, cues[1].start, 1e-9)
      assert.near(5 + 0.9 + 1, cues[2].start, 1e-9)   -- "Three" is the 10th character, after the pause
      assert.equal(cues[2].start, cues[1].finish)
    end)

    it("falls back to the characters' share when the timings do not fit the text", function()
      local cues, how = captions.time(captions.split("One two."), 0, 2,
        { characters = { "x" }, character_start_times_seconds = { 0 }, character_end_times_seconds = { 1 } }, 8)
      assert.equal("share", how)
      assert.equal(2, cues[1].finish)
    end)

    it("moves a cue's start onto the voice's pause near it, and the cue before ends there", function()
      -- "How?" alone: by share it would start at 4.35 s, in the middle of the word.
      local cues = captions.time(captions.split("A heat pump warms your house with heat. How?"), 10, 4.6)
      assert.near(14.17, cues[2].start, 0.01)
      captions.snap(cues, 10, { { 1.0, 1.1 }, { 3.88, 4.24 } })
      assert.near(14.24, cues[2].start, 1e-9)
      assert.equal(cues[2].start, cues[1].finish)
      assert.equal(10, cues[1].start)
    end)

    it("leaves a cue where it is when no pause is within reach, or one would reorder", function()
      local cues = captions.time(captions.split("One two. Three four."), 0, 4)
      local before = cues[2].start
      captions.snap(cues, 0, { { 0.2, 0.3 } })          -- too far from 2 s
      assert.equal(before, cues[2].start)
      captions.snap(cues, 0, { { 3.5, 3.95 } }, 5)      -- would leave "Three four." under 0.1 s
      assert.equal(before, cues[2].start)
    end)
  end)

  describe("speech in a track", function()
    local common = require "explainer.recipes.common"
    local dir
    before_each(function() dir = util.tmpdir() end)
    after_each(function() util.rmtree(dir) end)

    it("finds where the voice starts, pauses and stops (ffmpeg silencedetect)", function()
      -- 0.4 s silence, 1 s tone, 0.3 s silence, 1 s tone, 0.6 s silence
      local track = dir .. "/n.mp3"
      local ok, err = common.run { "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
        "aevalsrc='if(between(t,0.4,1.4)+between(t,1.7,2.7),0.5*sin(2*PI*440*t),0)':d=3.3:s=44100",
        "-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3", track }
      assert.truthy(ok, err)
      local d = assert(common.media_duration(track))
      local sp = assert(common.speech(track, d))
      assert.near(0.4, sp.first, 0.06)
      assert.near(2.7, sp.last, 0.06)
      assert.equal(1, #sp.pauses)
      assert.near(1.4, sp.pauses[1][1], 0.06)
      assert.near(1.7, sp.pauses[1][2], 0.06)
    end)
  end)

  describe("files", function()
    local cues = {
      { text = "a", lines = { "Heat & cold", "<i>tags</i> --> arrows" }, start = 0.5, finish = 2.25 },
      { text = "b", lines = { "Done." }, start = 3723.5, finish = 3725 },
    }

    it("writes SubRip: numbered cues, comma milliseconds", function()
      assert.equal("1\n00:00:00,500 --> 00:00:02,250\nHeat & cold\n<i>tags</i> -> arrows\n\n"
                   .. "2\n01:02:03,500 --> 01:02:05,000\nDone.\n", captions.srt(cues))
    end)

    it("writes WebVTT with its header, dot milliseconds and escaped markup", function()
      assert.equal("WEBVTT\n\n00:00:00.500 --> 00:00:02.250\nHeat &amp; cold\n&lt;i&gt;tags&lt;/i&gt; -&gt; arrows\n\n"
                   .. "01:02:03.500 --> 01:02:05.000\nDone.\n", captions.vtt(cues))
    end)

    it("writes ASS at the frame's resolution, with braces that cannot become override tags", function()
      local ass = captions.ass({ { text = "A {\\b1} trick", start = 1, finish = 2 } }, 160, 90)
      assert.matches("PlayResX: 160\nPlayResY: 90\n", ass, 1, true)
      assert.matches("Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,A (", ass, 1, true)
      assert.is_nil(ass:match("Dialogue:[^\n]*{"))
    end)

    it("sets larger, shorter lines higher up on a tall frame than on a wide one", function()
      local tall, wide = captions.style(1080, 1920), captions.style(1920, 1080)
      assert.is_true(tall.line_chars < wide.line_chars)
      assert.is_true(tall.margin_v > wide.margin_v)
      assert.is_true(tall.size >= 50 and wide.size >= 50, tall.size .. " " .. wide.size)
    end)
  end)

  describe("ElevenLabs with-timestamps", function()
    local KEY = "el-caption-key-5c1e"
    local scene = { scene_number = 1, duration = 2, narration = "Heat pumps move heat. They do not make it." }
    local server, dir
    setup(function() server = mock.start { key = KEY, lifetime = 90 } end)
    teardown(function() server:stop() end)
    before_each(function()
      dir = util.tmpdir()
      require("explainer.settings").cache_dir = dir .. "/cache"
    end)
    after_each(function() util.rmtree(dir) end)
    local function opts(extra)
      local o = { backend = "elevenlabs", api_key = KEY, base_url = server.url, backoff = 0.01 }
      for k, v in pairs(extra or {}) do o[k] = v end
      return o
    end

    it("posts {text, model_id} to .../with-timestamps and stores the decoded MP3", function()
      local path = assert(audio.generate(scene, dir, opts()))
      local reqs = server:requests()
      local req = reqs[#reqs]
      assert.equal("/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/with-timestamps", req.path)
      assert.equal(KEY, req.headers["xi-api-key"])
      assert.same({ text = scene.narration, model_id = "eleven_multilingual_v2" }, cjson.decode(req.body))
      assert.equal("ID3", util.read(path):sub(1, 3))
    end)

    it("keeps the character timings beside the track, tied to it", function()
      local path = assert(audio.generate(scene, dir, opts()))
      assert.equal(dir .. "/narration.json", audio.alignment_path(path))
      local kept = assert(audio.read_alignment(path))
      assert.equal(scene.narration, kept.text)
      assert.equal(utf8.len(scene.narration), #kept.alignment.characters)
      assert.near(0.06, kept.alignment.character_start_times_seconds[2], 1e-9)
    end)

    it("ignores timings that belong to another track", function()
      local path = assert(audio.generate(scene, dir, opts()))
      local other = { scene_number = 1, duration = 2, narration = "Something else entirely." }
      assert(audio.generate(other, dir, opts { timestamps = false }))
      assert.is_nil(audio.read_alignment(path))
    end)

    it("gets the timings from the cache with the track, without a request", function()
      assert(audio.generate(scene, dir, opts()))
      local n = #server:requests()
      local elsewhere = dir .. "/elsewhere"
      assert(require("lfs").mkdir(elsewhere))
      local path, how = audio.generate(scene, elsewhere, opts())
      assert.equal("cached", how)
      assert.equal(n, #server:requests())
      assert.truthy(audio.read_alignment(path))
    end)

    it("keeps the track's key whichever endpoint made it", function()
      assert.equal(audio.key(scene, opts()).id, audio.key(scene, opts { timestamps = false }).id)
    end)

    it("fails clearly when the answer carries no audio", function()
      server:plan { { hostile = "json" } }
      local path, err = audio.generate(scene, dir, opts())
      assert.is_nil(path)
      assert.matches("ElevenLabs: the answer has no audio_base64", err, 1, true)
    end)
  end)
end)
