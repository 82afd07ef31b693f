-- Reruns: every file knows what made it; a rerun redoes exactly what changed,
-- and the shared cache never pays twice for the same thing.
local h = require "helpers"
local util = require "mock.util"
local mock = require "mock.server"
local cjson = require "cjson"
local lfs = require "lfs"

local SMALL = { EXPLAINER_VIDEO_SIZE = "160x90", EXPLAINER_IMAGE_SIZE = "160x90" }

local function env(extra)
  local e = {}
  for k, v in pairs(SMALL) do e[k] = v end
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function md5(path)
  local p = assert(io.popen("md5sum " .. h.shell_quote(path)))
  local sum = p:read("a"):match("^(%x+)")
  p:close()
  return sum
end

local function mtime(path)
  return lfs.attributes(path, "modification")
end

local function edit(path, from, to)
  local text = h.read(path)
  local s, e = text:find(from, 1, true)
  assert(s, "no '" .. from .. "' in " .. path)
  h.write(path, text:sub(1, s - 1) .. to .. text:sub(e + 1))
end

-- A script of `n` scenes, 16:9 (small frames), scene 0 silent.
local function script(n, words)
  local out = { "# Reruns - " .. n .. " SCENES", "Format: 16:9 HORIZONTAL", "", "---", "" }
  for i = 0, n - 1 do
    out[#out + 1] = ("## SCENE %d: Title %d (1 second)%s"):format(i, i, i == 0 and " - NO NARRATION" or "")
    out[#out + 1] = ""
    if i > 0 then out[#out + 1] = ('Narration: "%s %d."'):format(words or "Line", i) end
    out[#out + 1] = ""
    out[#out + 1] = ('Nano Banana Iterative Prompt:\n"Initial: Picture %d"'):format(i)
    out[#out + 1] = ""
  end
  return table.concat(out, "\n")
end

describe("reruns", function()
  local dir, input, out, cache

  before_each(function()
    dir = h.tmpdir()
    input = h.write(dir .. "/s.txt", script(3))
    out = dir .. "/out"
    cache = dir .. "/cache"
  end)
  after_each(function() h.rm_rf(dir) end)

  local function run(name, extra_env, args)
    local a = { "--output-dir", out, "--cache-dir", cache }
    for _, x in ipairs(args or {}) do a[#a + 1] = x end
    return util.run_host(dir, name, input, env(extra_env), a)
  end

  local function scene(n, file)
    return ("%s/s/scene_%02d/%s"):format(out, n, file)
  end

  it("redoes exactly an edited narration's track, its clip and the film", function()
    local status, _, err = run("video.lua", nil, { "--scenes", "1-2" })
    assert.equal(0, status, err)
    local before = { png = md5(scene(1, "final.png")), png_time = mtime(scene(1, "final.png")),
                     mp3 = md5(scene(1, "narration.mp3")), clip = md5(scene(1, "clip.mp4")),
                     other = md5(scene(2, "clip.mp4")),
                     film = util.probe(out .. "/s/s.mp4").duration }
    edit(input, '"Line 1."', '"Short, but a good deal longer than it was before the edit."')
    local st_out, st_err, st_code = h.run({ "status", h.root .. "/scripts/video.lua", input,
      "--output-dir", out }, { env = "EXPLAINER_VIDEO_SIZE=160x90 EXPLAINER_IMAGE_SIZE=160x90" })
    assert.equal(0, st_code, st_err)
    assert.matches("Scene 1 +changed: narration", st_out)
    assert.matches("Scene 2 +fresh", st_out)
    status, _, err = run("video.lua", nil, { "--scenes", "1-2" })
    assert.equal(0, status, err)
    assert.matches("Processing Scene 1", err, 1, true)
    assert.matches("Completed: 1", err, 1, true)
    assert.equal(before.png, md5(scene(1, "final.png")), "the image is kept")
    assert.equal(before.png_time, mtime(scene(1, "final.png")), "and not even rewritten")
    assert.not_equal(before.mp3, md5(scene(1, "narration.mp3")), "the narration is spoken again")
    assert.not_equal(before.clip, md5(scene(1, "clip.mp4")), "the clip is cut again")
    assert.equal(before.other, md5(scene(2, "clip.mp4")), "the other scene is left alone")
    local film = util.probe(out .. "/s/s.mp4").duration
    assert.is_true(film > before.film + 1, ("the film is longer: %s -> %s"):format(before.film, film))
  end)

  it("leaves the film and every file untouched when all is fresh", function()
    local status, _, err = run("video.lua")
    assert.equal(0, status, err)
    local film = out .. "/s/s.mp4"
    local sum, time = md5(film), mtime(film)
    local sums = {}
    for n = 0, 2 do sums[n] = md5(scene(n, "clip.mp4")) end
    os.execute("sleep 1.1") -- a rewrite would show in the mtime
    status, _, err = run("video.lua")
    assert.equal(0, status, err)
    assert.matches("Skipped: 3", err, 1, true)
    assert.matches("unchanged", err, 1, true)
    assert.equal(sum, md5(film))
    assert.equal(time, mtime(film))
    for n = 0, 2 do assert.equal(sums[n], md5(scene(n, "clip.mp4"))) end
  end)

  it("redoes only narrated scenes' audio for another voice or engine, and takes the old one back from the cache",
     function()
    -- ffmpeg and espeak-ng behind shims that count what they speak (ffmpeg's
    -- flite source; espeak-ng writing speech, not checking a voice's name)
    local bin = dir .. "/bin"
    lfs.mkdir(bin)
    for _, tool in ipairs { { "ffmpeg", "*flite=*" }, { "espeak-ng", "*--stdout*" } } do
      local real = io.popen("command -v " .. tool[1]):read("l")
      h.write(bin .. "/" .. tool[1], ("#!/bin/sh\ncase \"$*\" in %s) echo %s >> %s;; esac\nexec %s \"$@\"\n"):format(
        tool[2], tool[1], h.shell_quote(dir .. "/calls"), h.shell_quote(real)))
      os.execute("chmod +x " .. h.shell_quote(bin .. "/" .. tool[1]))
    end
    local path = bin .. ":" .. os.getenv("PATH")
    local function calls()
      local text = h.read(dir .. "/calls") or ""
      os.remove(dir .. "/calls")
      return { flite = select(2, text:gsub("ffmpeg", "")), espeak = select(2, text:gsub("espeak%-ng", "")) }
    end
    local status, _, err = run("video.lua", { PATH = path })
    assert.equal(0, status, err)
    assert.same({ flite = 2, espeak = 0 }, calls(), "two narrated scenes, in flite's rms")
    local silent, silent_time = md5(scene(0, "narration.mp3")), mtime(scene(0, "narration.mp3"))
    local first = md5(scene(1, "narration.mp3"))
    local others = {}
    for _, v in ipairs { { "slt", { flite = 2, espeak = 0 } }, { "espeak:en-gb", { flite = 0, espeak = 2 } } } do
      status, _, err = run("video.lua", { PATH = path, EXPLAINER_VOICE = v[1] })
      assert.equal(0, status, err)
      assert.same(v[2], calls(), v[1])
      assert.matches("Skipped: 1", err, 1, true)
      assert.equal(silent, md5(scene(0, "narration.mp3")), "the silent track is kept")
      assert.equal(silent_time, mtime(scene(0, "narration.mp3")))
      assert.not_equal(first, md5(scene(1, "narration.mp3")))
      others[v[1]] = md5(scene(1, "narration.mp3"))
    end
    assert.not_equal(others.slt, others["espeak:en-gb"])
    -- en-gb is espeak-ng's en-gb, as before flite: the same track, from the cache
    status, _, err = run("video.lua", { PATH = path, EXPLAINER_VOICE = "en-gb" })
    assert.equal(0, status, err)
    assert.matches("Skipped: 3", err, 1, true)
    -- back to the first voice: nothing spoken, the same bytes as before
    status, _, err = run("video.lua", { PATH = path })
    assert.equal(0, status, err)
    assert.same({ flite = 0, espeak = 0 }, calls(), "the tracks come from the cache")
    assert.equal(first, md5(scene(1, "narration.mp3")))
  end)

  it("pays once for a scene two scripts share (the loopback speech API counts)", function()
    local KEY = "sk-reruns-5f3a9c1e2b7d"
    local server = mock.start { key = KEY, lifetime = 60 }
    local api = { EXPLAINER_AUDIO_BACKEND = "openai", OPENAI_API_KEY = KEY, OPENAI_BASE_URL = server.url .. "/v1" }
    local status, _, err = run("audio.lua", api)
    assert.equal(0, status, err)
    assert.equal(2, #server:requests(), "one request a narrated scene")
    -- another script: scene 1 the same words, scene 2 new ones
    local other = h.write(dir .. "/other.txt", script(3):gsub("Line 2%.", "Other words 2."))
    status, _, err = util.run_host(dir, "audio.lua", other, env(api),
      { "--output-dir", out, "--cache-dir", cache })
    assert.equal(0, status, err)
    local requests = server:requests()
    server:stop()
    assert.equal(3, #requests, "only the new words are sent")
    assert.equal("Other words 2.", cjson.decode(requests[3].body).input)
    assert.equal(md5(scene(1, "narration.mp3")), md5(out .. "/other/scene_01/narration.mp3"))
  end)

  it("keeps one journal a workflow: prompts.lua never marks image.lua's scenes done", function()
    local status, _, err = run("image.lua")
    assert.equal(0, status, err)
    -- the title is in both prompts.md and the frame (a scene without a layout shows it)
    edit(input, "Title 2", "Title two, at night")
    status, _, err = run("prompts.lua")
    assert.equal(0, status, err)
    assert.matches("Completed: 3", err, 1, true)
    status, _, err = run("image.lua")
    assert.equal(0, status, err)
    assert.matches("Processing Scene 2", err, 1, true)
    assert.matches("Completed: 1", err, 1, true)
    assert.truthy(h.exists(out .. "/s/.explainer/image/journal"))
    assert.truthy(h.exists(out .. "/s/.explainer/prompts/journal"))
  end)

  it("does not take another workflow's out-of-date file for done", function()
    local status, _, err = run("video.lua")
    assert.equal(0, status, err)
    -- the title changes; only image.lua runs, on that scene (it has no journal yet)
    edit(input, "Title 2", "A New Title 2")
    local listing = h.run({ "status", h.root .. "/scripts/image.lua", input, "--output-dir", out },
      { env = "EXPLAINER_IMAGE_SIZE=160x90" })
    assert.matches("Scene 1 +fresh", listing)
    assert.matches("Scene 2 +changed: final.png was made with other inputs", listing)
    status, _, err = run("image.lua", nil, { "--scenes", "2" })
    assert.equal(0, status, err)
    assert.matches("Processing Scene 2", err, 1, true)
  end)

  it("leaves a clip made before an edit out of the film, and its captions with it", function()
    local status, _, err = run("video.lua")
    assert.equal(0, status, err)
    edit(input, '"Line 2."', '"A different line two."')
    status, _, err = run("video.lua", nil, { "--scenes", "1" })
    assert.equal(0, status, err)
    assert.matches("without scenes 2: their clips are out of date", err, 1, true)
    local srt = h.read(out .. "/s/s.srt")
    assert.is_nil(srt:find("different line", 1, true), "no caption for a clip not in the film")
    assert.is_nil(srt:find("Line 2", 1, true))
    status, _, err = run("video.lua")
    assert.equal(0, status, err)
    assert.matches("Film: .*%(3 clips", err)
    assert.truthy(h.read(out .. "/s/s.srt"):find("A different line two.", 1, true))
  end)

  it("says why in status and in a dry run, as text and as JSON", function()
    local status, _, err = run("audio.lua", nil, { "--scenes", "0,1" })
    assert.equal(0, status, err)
    os.remove(scene(0, "narration.mp3"))
    local stdout, _, code = h.run({ "status", h.root .. "/scripts/audio.lua", input, "--output-dir", out,
      "--json" }, { env = "EXPLAINER_VOICE=en-gb" })
    assert.equal(0, code)
    local list = cjson.decode(stdout)
    assert.same({ "missing", "missing narration.mp3" }, { list[1].status, list[1].reason })
    assert.same({ "changed", "changed: voice" }, { list[2].status, list[2].reason })
    assert.same({ "new", "new" }, { list[3].status, list[3].reason })
    stdout, _, code = h.run({ h.root .. "/scripts/audio.lua", input, "--output-dir", out,
      "--dry-run", "--json" }, { env = "EXPLAINER_VOICE=en-gb" })
    assert.equal(0, code)
    local plan = cjson.decode(stdout)
    assert.same({ "run", "changed", "changed: voice" }, { plan[2].action, plan[2].standing, plan[2].reason })
  end)
end)
