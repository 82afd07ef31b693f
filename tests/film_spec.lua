-- The film scripts/video.lua makes: motion on the stills, crossfades, fades
-- at the ends, captions beside it or burned in, music ducked under the
-- narration, and the mix at -16 LUFS. Small frames keep it quick.
local util = require "mock.util"
local h = require "helpers"

local INPUT = util.root() .. "/tests/fixtures/film.txt"
local SMALL = { EXPLAINER_VIDEO_SIZE = "160x90", EXPLAINER_IMAGE_SIZE = "160x90" }
local T = 13 / 25   -- the default 0.5 s transition, in whole frames at 25 fps

local function env(extra, cache)
  local e = { EXPLAINER_CACHE_DIR = cache }
  for k, v in pairs(SMALL) do e[k] = v end
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function q(s) return util.quote(s) end

-- Run a command line; its stdout and stderr together.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  p:close()
  return out
end

-- Frame n of a video as a PNG.
local function frame(video, n, out)
  sh(("ffmpeg -v error -y -i %s -vf %s -frames:v 1 %s"):format(q(video), q("select=eq(n\\," .. n .. ")"), q(out)))
  assert(h.exists(out), "no frame " .. n .. " in " .. video)
  return out
end

-- PSNR between two pictures, in dB (math.huge when they are the same).
local function psnr(a, b)
  local out = sh(("ffmpeg -v info -nostats -i %s -i %s -lavfi psnr -f null -"):format(q(a), q(b)))
  local v = out:match("average:(%S+)")
  assert(v, out)
  return v == "inf" and math.huge or tonumber(v)
end

-- The average brightness (0-255) of a picture.
local function brightness(png)
  local out = sh(("ffmpeg -v info -nostats -i %s -vf signalstats,metadata=print:key=lavfi.signalstats.YAVG -f null -")
                 :format(q(png)))
  return tonumber(out:match("YAVG=([%d%.]+)"))
end

-- ebur128's integrated loudness (LUFS) and true peak (dBTP) of a file.
local function loudness(path)
  local out = sh(("ffmpeg -v info -nostats -i %s -vn -af ebur128=peak=true:framelog=verbose -f null -"):format(q(path)))
  local summary = out:match(".*Summary:(.*)$") or ""
  return tonumber(summary:match("I:%s*(%-?[%d%.]+) LUFS")), tonumber(summary:match("Peak:%s*(%-?[%d%.]+) dBFS"))
end

-- The cues of an .srt file: {start, finish, text}.
local function srt_cues(path)
  local cues = {}
  local text = assert(util.read(path), path)
  for a, b, body in (text .. "\n\n"):gmatch("%d+\n(%d+:%d+:[%d,]+) %-%-> (%d+:%d+:[%d,]+)\n(.-)\n\n") do
    local function secs(t)
      local hh, mm, ss = t:match("(%d+):(%d+):([%d,]+)")
      return hh * 3600 + mm * 60 + tonumber((ss:gsub(",", ".")))
    end
    cues[#cues + 1] = { start = secs(a), finish = secs(b), text = body:gsub("\n", " ") }
  end
  return cues
end

local function mtime(path) return require("lfs").attributes(path, "modification") end

describe("the film", function()
  local dir, cache, out, status, err, _
  local function film(name) return out .. "/film/" .. (name or "film.mp4") end
  local function clip(n) return ("%s/film/scene_%02d/clip.mp4"):format(out, n) end
  local function run(extra, where)
    return util.run_host(dir, "video.lua", INPUT, env(extra, cache), { "--output-dir", where or out })
  end

  -- A copy of the first run's outputs (its clips stay fresh there).
  local function copy_of(name)
    local where = dir .. "/" .. name
    os.execute("cp -a " .. q(out) .. " " .. q(where))
    return where
  end

  setup(function()
    dir = util.tmpdir()
    cache = dir .. "/cache"
    out = dir .. "/out"
    -- Pictures that tell the scenes apart (kept, as pictures put there by
    -- hand are): yellow, a test pattern, cyan.
    local sources = { "color=c=yellow:s=160x90", "testsrc2=s=160x90", "color=c=cyan:s=160x90" }
    for n, src in ipairs(sources) do
      local scene = ("%s/film/scene_%02d"):format(out, n)
      os.execute("mkdir -p " .. q(scene))
      sh(("ffmpeg -v error -y -f lavfi -i %s -frames:v 1 %s"):format(q(src), q(scene .. "/final.png")))
    end
    status, _, err = run()
  end)
  teardown(function() util.rmtree(dir) end)

  it("is made with its captions beside it", function()
    assert.equal(0, status, err)
    for _, f in ipairs { "film.mp4", "film.srt", "film.vtt" } do assert.truthy(h.exists(film(f)), f) end
    assert.matches("^WEBVTT\n", util.read(film("film.vtt")))
  end)

  it("lasts its clips plus a transition between each two and at each end", function()
    local sum = 0
    for n = 1, 3 do sum = sum + util.probe(clip(n)).duration end
    assert.near(sum + 4 * T, util.probe(film()).duration, 0.1)
  end)

  it("fades in from black and out to black", function()
    local first = brightness(frame(film(), 0, dir .. "/first.png"))
    local inside = brightness(frame(film(), 20, dir .. "/inside.png"))
    assert.is_true(first < 20 and inside > 60, first .. " then " .. inside)
  end)

  it("crossfades from one clip into the next: a frame halfway is the two blended", function()
    local frames1 = math.floor(util.probe(clip(1)).duration * 25 + 0.5)
    local last1 = frame(clip(1), frames1 - 1, dir .. "/last1.png")
    local first2 = frame(clip(2), 0, dir .. "/first2.png")
    local half = frame(film(), 13 + frames1 + 6, dir .. "/half.png")
    sh(("ffmpeg -v error -y -i %s -i %s -lavfi blend=all_mode=average %s"):format(q(last1), q(first2),
                                                                              q(dir .. "/blend.png")))
    assert.is_true(psnr(half, last1) < 25 and psnr(half, first2) < 25, "not a cut")
    assert.is_true(psnr(half, dir .. "/blend.png") > 28, "not a blend")
  end)

  it("moves over each still: a clip's first and last frames differ", function()
    local frames = math.floor(util.probe(clip(2)).duration * 25 + 0.5)
    local a, b = frame(clip(2), 0, dir .. "/a.png"), frame(clip(2), frames - 1, dir .. "/b.png")
    assert.is_true(psnr(a, b) < 30, "the still did not move")
  end)

  it("times each caption to where its narration falls in the film", function()
    local cues = srt_cues(film("film.srt"))
    assert.same({ "Heat pumps move heat, they do not make it.", "That is why they are efficient.",
                  "In summer the same loop runs backwards, and the house cools down." },
                { cues[1].text, cues[2].text, cues[3].text })
    -- after the opening transition, where the voice starts (flite leads with ~0.2 s of quiet)
    assert.is_true(cues[1].start >= T and cues[1].start < T + 0.3, "cue 1 at " .. cues[1].start)
    local d1, d2 = util.probe(clip(1)).duration, util.probe(clip(2)).duration
    local at = T + d1 + T + d2 + T   -- where clip 3 starts
    assert.is_true(cues[3].start >= at - 0.05 and cues[3].start < at + 0.3, ("cue 3 at %.3f, clip 3 at %.3f")
      :format(cues[3].start, at))
    local spoken = util.probe(("%s/film/scene_03/narration.mp3"):format(out)).duration
    assert.is_true(cues[3].finish <= cues[3].start + spoken + 0.01, "within the track")
    -- the narration really starts there and stops at the end of the last cue:
    -- silence before, sound after; sound before, silence after
    local silences = sh(("ffmpeg -v info -nostats -i %s -vn -af silencedetect=n=-45dB:d=0.15 -f null -")
                        :format(q(film())))
    local function near(kind, t)
      for s in silences:gmatch("silence_" .. kind .. ": ([%d%.]+)") do
        if math.abs(tonumber(s) - t) < 0.15 then return true end
      end
      return false
    end
    assert.is_true(near("end", cues[1].start), "no narration starts at " .. cues[1].start)
    assert.is_true(near("end", cues[3].start), "no narration starts at " .. cues[3].start)
    assert.is_true(near("start", cues[3].finish), "the narration does not stop at " .. cues[3].finish)
  end)

  it("is normalised to -16 LUFS within 1 LU, its true peak at most -1.5 dBTP", function()
    local i, tp = loudness(film())
    assert.near(-16, i, 1)
    assert.is_true(tp <= -1.5, "true peak " .. tp)
  end)

  it("is left as it was by an all-fresh rerun, captions too", function()
    local before = {}
    for _, f in ipairs { "film.mp4", "film.srt", "film.vtt" } do
      before[f] = { util.read(film(f)), mtime(film(f)) }
    end
    local s2, _, e2 = run()
    assert.equal(0, s2, e2)
    assert.matches("unchanged", e2, 1, true)
    for f, was in pairs(before) do
      assert.equal(was[2], mtime(film(f)), f)
      assert.is_true(was[1] == util.read(film(f)), f)
    end
  end)

  it("cuts hard with EXPLAINER_TRANSITION=none, remaking the film but not the clips", function()
    local clips = {}
    for n = 1, 3 do clips[n] = mtime(clip(n)) end
    local where = copy_of("cuts")
    local s2, _, e2 = run({ EXPLAINER_TRANSITION = "none" }, where)
    assert.equal(0, s2, e2)
    local sum = 0
    for n = 1, 3 do sum = sum + util.probe(("%s/film/scene_%02d/clip.mp4"):format(where, n)).duration end
    assert.near(sum, util.probe(where .. "/film/film.mp4").duration, 0.1)
    -- no opening transition: the first cue comes T sooner
    assert.near(srt_cues(film("film.srt"))[1].start - T, srt_cues(where .. "/film/film.srt")[1].start, 0.002)
    for n = 1, 3 do assert.equal(clips[n], mtime(("%s/film/scene_%02d/clip.mp4"):format(where, n))) end
  end)

  describe("joined again", function()
    -- ffmpeg and ffprobe behind a shim that logs each run (its arguments on
    -- one line), to count what a rerun does again.
    local bin, log
    setup(function()
      bin, log = dir .. "/shim", dir .. "/tools.log"
      os.execute("mkdir -p " .. q(bin))
      for _, tool in ipairs { "ffmpeg", "ffprobe" } do
        local real = sh("command -v " .. tool):match("[^\n]+")
        h.write(bin .. "/" .. tool, ('#!/bin/sh\nprintf "%%s\\n" "%s $(printf "%%s " "$@" | tr "\\n" " ")" >> %s\n'
          .. 'exec %s "$@"\n'):format(tool, q(log), q(real)))
        os.execute("chmod +x " .. q(bin .. "/" .. tool))
      end
    end)

    -- Run with the shim; the runs it logged, as lines.
    local function traced(extra, where, input, args)
      os.remove(log)
      local e = { PATH = bin .. ":" .. os.getenv("PATH") }
      for k, v in pairs(extra or {}) do e[k] = v end
      local a = { "--output-dir", where }
      for _, x in ipairs(args or {}) do a[#a + 1] = x end
      local s2, _, e2 = util.run_host(dir, "video.lua", input or INPUT, env(e, cache), a)
      assert.equal(0, s2, e2)
      local runs = {}
      for line in (util.read(log) or ""):gmatch("[^\n]+") do runs[#runs + 1] = line end
      return runs, e2
    end
    local function count(runs, pattern)
      local n = 0
      for _, r in ipairs(runs) do if r:find(pattern) then n = n + 1 end end
      return n
    end
    -- A transition piece: a 13-frame encode of a fade or a crossfade.
    local PIECE = "%-frames:v 13 "

    it("probes no clip or track again, times no caption again and encodes no transition again when only the "
       .. "loudness changes", function()
      local where = copy_of("louder")
      local runs = traced({ EXPLAINER_LOUDNESS = "-18" }, where)
      assert.equal(0, count(runs, "silencedetect"), "the tracks' silences were recorded when they were made")
      assert.equal(0, count(runs, PIECE), "the transitions are kept")
      assert.equal(0, count(runs, "%-c copy"), "no read-through beside the check")
      -- the one file read through: the new film, once, before it is kept
      local probes = {}
      for _, r in ipairs(runs) do if r:match("^ffprobe") then probes[#probes + 1] = r end end
      assert.equal(1, #probes, table.concat(probes, "\n"))
      assert.matches("%.film%.mp4%.%d+%.tmp%.mp4", probes[1])
      assert.near(-18, (loudness(where .. "/film/film.mp4")), 1)
    end)

    it("after one narration edit makes that track, its clip, the two transitions beside it and the film, "
       .. "each read once", function()
      local where = copy_of("edited")
      local input = dir .. "/edited/film.txt"
      h.write(input, util.read(INPUT):gsub("the house cools down", "the whole house cools down at night"))
      local runs = traced({}, where, input)
      assert.equal(2, count(runs, PIECE), "2 of the 4 transitions: scene 2 to 3, and 3 to black")
      assert.equal(1, count(runs, "silencedetect"), "the new track's, once, as it is made")
      assert.equal(0, count(runs, "%-c copy"), "no read-through beside the check")
      assert.equal(0, count(runs, "^ffprobe .*%.wav"), "the speech engine's WAV is not read through")
      -- one read each: the new track, the new clip, the 2 new transitions, the film
      assert.equal(5, count(runs, "^ffprobe"))
      -- the kept transitions are exactly the 4 this film uses
      local pieces = 0
      for name in require("lfs").dir(where .. "/film/.explainer/transitions") do
        if name:match("^%x+%.mp4$") then pieces = pieces + 1 end
      end
      assert.equal(4, pieces)
      local cues = srt_cues(where .. "/film/film.srt")
      assert.equal("In summer the same loop runs backwards, and the whole house cools down at night.", cues[#cues].text)
    end)

    it("has the transitions beside an edited clip made while its scene runs, before any join", function()
      local where = copy_of("early")
      local input = dir .. "/early/film.txt"
      h.write(input, util.read(INPUT):gsub("move heat, they do not make it", "move heat around"))
      local runs = traced({}, where, input, { "--no-finish" })
      assert.equal(2, count(runs, PIECE), "the fade in and the crossfade into scene 2, with the scene")
      runs = traced({}, where, input, { "--finish-only" })
      assert.equal(0, count(runs, PIECE), "the join finds them made")
      assert.equal(1, count(runs, "^ffprobe"), "and reads only the film it made")
    end)

    it("leaves its caption files as they were when the film is joined again with the same cues", function()
      local where = copy_of("crf")
      local before = {}
      for _, f in ipairs { "film.mp4", "film.srt", "film.vtt" } do
        before[f] = { util.read(where .. "/film/" .. f), mtime(where .. "/film/" .. f) }
      end
      require("explainer_core").sleep(1.1)
      -- other clips (a new crf), so the film and the captions' key change; the cues do not
      local s2, _, e2 = run({ EXPLAINER_VIDEO_CRF = "30" }, where)
      assert.equal(0, s2, e2)
      assert.are_not.equal(before["film.mp4"][2], mtime(where .. "/film/film.mp4"), "the film is joined again")
      for _, f in ipairs { "film.srt", "film.vtt" } do
        assert.equal(before[f][2], mtime(where .. "/film/" .. f), f .. " is not rewritten")
        assert.is_true(before[f][1] == util.read(where .. "/film/" .. f), f)
      end
      -- and the new key is recorded: the next run finds everything fresh
      local s3, _, e3 = run({ EXPLAINER_VIDEO_CRF = "30" }, where)
      assert.equal(0, s3, e3)
      assert.matches("unchanged", e3, 1, true)
    end)
  end)

  describe("how far the join is", function()
    it("is a progress event every 10% with --progress json, stdout left alone", function()
      local where = copy_of("json")
      local s2, o2, e2 = util.run_host(dir, "video.lua", INPUT, env({ EXPLAINER_LOUDNESS = "-17" }, cache),
        { "--output-dir", where, "--progress", "json" })
      assert.equal(0, s2, e2)
      local cjson = require "cjson"
      local percents = {}
      for line in e2:gmatch("[^\n]+") do
        local ev = cjson.decode(line)   -- every line is an event
        if ev.event == "progress" then
          assert.equal("Joining the film ...", ev.task)
          percents[#percents + 1] = ev.percent
        end
      end
      assert.is_true(#percents >= 3 and #percents <= 11, #percents .. " events")
      for i = 2, #percents do assert.is_true(percents[i] > percents[i - 1]) end
      assert.equal(100, percents[#percents])
      assert.is_nil(o2:find("progress", 1, true))
    end)

    it("is a live percentage on a terminal, and no more than its line in a log", function()
      local where = copy_of("tty")
      local s2, _, e2 = run({ EXPLAINER_LOUDNESS = "-15" }, where)
      assert.equal(0, s2, e2)
      assert.matches("\nJoining the film ...\nFilm: ", e2, 1, true)
      assert.is_nil(e2:find("%d%%"), "no percentage in a log")
      -- the same through a terminal (script(1) gives the run one)
      local cmd = table.concat({ "cd", q(dir), "&&", "exec env", q("EXPLAINER_LOUDNESS=-14"),
        q("EXPLAINER_CACHE_DIR=" .. cache), q("EXPLAINER_VIDEO_SIZE=160x90"), q("EXPLAINER_IMAGE_SIZE=160x90"),
        q(os.getenv("EXPLAINER_BIN") or (util.root() .. "/build/explainer")), q(util.root() .. "/scripts/video.lua"),
        q(INPUT), "--output-dir", q(where) }, " ")
      local code, screen = util.sh("script -qec " .. q(cmd) .. " /dev/null", dir)
      assert.equal(0, code, screen)
      assert.matches("Joining the film ... +%d+%% %[#* *%]", screen)
      assert.matches("Joining the film ... 100%% %[#+%]", screen)
    end)
  end)

  it("makes a draft at half the size beside the film with EXPLAINER_PREVIEW=1, leaving the film as it was",
     function()
    local where = copy_of("draft")
    local film_time = mtime(where .. "/film/film.mp4")
    local s2, _, e2 = run({ EXPLAINER_PREVIEW = "1" }, where)
    assert.equal(0, s2, e2)
    local draft = util.probe(where .. "/film/film.preview.mp4")
    assert.same({ 80, 44 }, { draft.width, draft.height })
    assert.truthy(h.exists(where .. "/film/film.preview.srt"))
    assert.equal(film_time, mtime(where .. "/film/film.mp4"))
    -- the full size again: its clips from the cache, its film as it was
    local s3, _, e3 = run({}, where)
    assert.equal(0, s3, e3)
    assert.matches("unchanged", e3, 1, true)
    assert.equal(film_time, mtime(where .. "/film/film.mp4"))
  end)

  it("takes a clip made by another encoder, encoding the film whole instead of copying", function()
    local where = copy_of("foreign")
    local theirs = where .. "/film/scene_02/clip.mp4"
    -- 30 fps, 120x90, ultrafast, no keyframe at the end: nothing the film's encoder makes
    sh(("ffmpeg -v error -y -f lavfi -i %s -f lavfi -i %s -t 2 -c:v libx264 -preset ultrafast -c:a aac %s")
       :format(q("testsrc2=s=120x90:r=30"), q("anullsrc=r=44100:cl=stereo"), q(theirs .. ".new.mp4")))
    os.rename(theirs .. ".new.mp4", theirs)
    local s2, _, e2 = run({}, where)
    assert.equal(0, s2, e2)
    local made = util.probe(where .. "/film/film.mp4")
    assert.same({ 160, 90 }, { made.width, made.height })
    local d1, d3 = util.probe(clip(1)).duration, util.probe(clip(3)).duration
    assert.near(d1 + 2 + d3 + 4 * T, made.duration, 0.1)
    local i = loudness(where .. "/film/film.mp4")
    assert.near(-16, i, 1)
  end)

  it("writes no captions with EXPLAINER_CAPTIONS=off, and removes those it wrote before", function()
    local where = copy_of("quiet")
    h.write(where .. "/film/film.vtt", "WEBVTT\n\nmine, by hand\n")
    local s2, _, e2 = run({ EXPLAINER_CAPTIONS = "off" }, where)
    assert.equal(0, s2, e2)
    assert.truthy(h.exists(where .. "/film/film.mp4"))
    assert.is_false(h.exists(where .. "/film/film.srt"))
    assert.is_false(h.exists(where .. "/film/.film.srt.key"))
    assert.equal("WEBVTT\n\nmine, by hand\n", util.read(where .. "/film/film.vtt"))
  end)

  describe("with EXPLAINER_MUSIC", function()
    local where, tone
    setup(function()
      where = copy_of("music")
      tone = dir .. "/tone.wav"
      -- a 40 Hz tone (below the voice, so a low-pass hears the music alone: flite's rms
      -- has a good deal of its voice under 100 Hz), 4 s: looped
      sh(("ffmpeg -v error -y -f lavfi -i %s %s"):format(q("sine=f=40:d=4:sample_rate=44100"), q(tone)))
      status, _, err = run({ EXPLAINER_MUSIC = tone }, where)
    end)

    it("is made", function()
      assert.equal(0, status, err)
    end)

    it("ducks the music at least 10 dB under the narration, against the silent scene", function()
      local path = where .. "/film/film.mp4"
      local levels = sh(("ffmpeg -v error -i %s -vn -af %s -f null -"):format(q(path), q(
        "highpass=f=20,lowpass=f=50,lowpass=f=50,lowpass=f=50,asetnsamples=n=4800,astats=metadata=1:reset=1,"
          .. "ametadata=print:key=lavfi.astats.Overall.RMS_level:file=-")))
      local windows = {}
      for t, v in levels:gmatch("pts_time:([%d%.]+).-RMS_level=(%-?[%d%.]+)") do
        windows[#windows + 1] = { tonumber(t), tonumber(v) }
      end
      local cues = srt_cues(where .. "/film/film.srt")
      local function median_between(a, b)
        local list = {}
        for _, w in ipairs(windows) do
          if w[1] >= a and w[1] + 0.1 <= b then list[#list + 1] = w[2] end
        end
        table.sort(list)
        assert.is_true(#list >= 5, "too few windows between " .. a .. " and " .. b)
        return list[(#list + 1) // 2]
      end
      local d1 = util.probe(where .. "/film/scene_01/clip.mp4").duration
      local quiet_start = T + d1 + T
      local under = median_between(cues[1].start + 0.3, cues[2].finish - 0.3)
      local alone = median_between(quiet_start + 0.8, quiet_start + 2.8)
      assert.is_true(alone - under >= 10, ("music %.1f dB alone, %.1f dB under the narration"):format(alone, under))
    end)

    it("still is at -16 LUFS within 1 LU, true peak at most -1.5 dBTP", function()
      local i, tp = loudness(where .. "/film/film.mp4")
      assert.near(-16, i, 1)
      assert.is_true(tp <= -1.5, "true peak " .. tp)
    end)

    it("lasts as long as the film without music: looped and cut to it", function()
      assert.near(util.probe(film()).duration, util.probe(where .. "/film/film.mp4").duration, 0.05)
    end)

    it("makes the film again when the music's bytes change, not the clips", function()
      local path = where .. "/film/film.mp4"
      local before, clip_before = mtime(path), mtime(where .. "/film/scene_01/clip.mp4")
      sh(("ffmpeg -v error -y -f lavfi -i %s %s"):format(q("sine=f=70:d=4:sample_rate=44100"), q(tone)))
      require("explainer_core").sleep(1.1)
      local s2, _, e2 = run({ EXPLAINER_MUSIC = tone }, where)
      assert.equal(0, s2, e2)
      assert.are_not.equal(before, mtime(path))
      assert.equal(clip_before, mtime(where .. "/film/scene_01/clip.mp4"))
    end)
  end)

  describe("with EXPLAINER_CAPTIONS=burn", function()
    local where
    setup(function()
      where = copy_of("burn")
      status, _, err = run({ EXPLAINER_CAPTIONS = "burn" }, where)
    end)

    it("draws the captions into the frames while the narration runs, and only then", function()
      assert.equal(0, status, err)
      local burned = where .. "/film/film.mp4"
      assert.near(util.probe(film()).duration, util.probe(burned).duration, 0.05)
      -- 1.5 s: the first cue is up; the middle of the silent scene: none
      local d1 = util.probe(clip(1)).duration
      local quiet = math.floor((T + d1 + T + 1.5) * 25)
      local spoken = psnr(frame(burned, 38, dir .. "/b1.png"), frame(film(), 38, dir .. "/f1.png"))
      local silent = psnr(frame(burned, quiet, dir .. "/b2.png"), frame(film(), quiet, dir .. "/f2.png"))
      -- (both encoded apart: never the same pixels, but a caption costs far more)
      assert.is_true(spoken < 25 and silent > spoken + 8, ("%.1f dB with a caption, %.1f without"):format(spoken, silent))
    end)
  end)

  describe("bad settings", function()
    local function fails_with(extra, message)
      local where = dir .. "/bad"
      local s2, _, e2 = run(extra, where)
      assert.equal(1, s2, e2)
      assert.matches(message, e2, 1, true)
    end

    -- A setting that cannot work is the run's usage error: one line, exit 2,
    -- before any scene runs (it failed the workflow's setup, exit 1).
    local function refused_with(extra, message)
      local s2, _, e2 = run(extra, dir .. "/bad")
      assert.equal(2, s2, e2)
      assert.matches("^explainer: " .. message:gsub("%p", "%%%0"), e2)
      assert.is_nil(e2:find("Processing", 1, true), "no scene ran")
    end

    it("names an unknown transition", function()
      refused_with({ EXPLAINER_TRANSITION = "spin" }, "EXPLAINER_TRANSITION: 'spin' is not an xfade transition")
    end)

    it("names a caption mode it does not know", function()
      refused_with({ EXPLAINER_CAPTIONS = "loud" }, "EXPLAINER_CAPTIONS: 'loud' is not a mode (file, burn or off)")
    end)

    it("names a transition length that is not a number", function()
      refused_with({ EXPLAINER_TRANSITION_SECONDS = "half" }, "EXPLAINER_TRANSITION_SECONDS: 'half' is not a number")
    end)

    it("names a music file that is not there", function()
      fails_with({ EXPLAINER_MUSIC = dir .. "/no-such.mp3" }, "EXPLAINER_MUSIC: " .. dir .. "/no-such.mp3: no such file")
    end)

    it("names a music file ffmpeg cannot read as sound", function()
      h.write(dir .. "/notes.txt", "not music at all\n")
      fails_with({ EXPLAINER_MUSIC = dir .. "/notes.txt" }, "EXPLAINER_MUSIC: " .. dir .. "/notes.txt: not a sound")
    end)

    it("names an unknown motion before any scene runs", function()
      local s2, _, e2 = run({ EXPLAINER_MOTION = "spin" }, dir .. "/bad")
      assert.equal(2, s2, e2)
      assert.matches("EXPLAINER_MOTION: 'spin' is not a motion (zoompan or none)", e2, 1, true)
      assert.is_nil(e2:find("Processing", 1, true), "no scene ran")
    end)

    it("names an EXPLAINER_PREVIEW that is not 1 or 0 before any scene runs", function()
      local s2, _, e2 = run({ EXPLAINER_PREVIEW = "maybe" }, dir .. "/bad-preview")
      assert.equal(2, s2, e2)
      assert.matches("EXPLAINER_PREVIEW: 'maybe' is not 1 or 0", e2, 1, true)
    end)

    it("names a frame rate or a size that is not one, instead of using the default", function()
      for var, value in pairs { EXPLAINER_VIDEO_FPS = "30fps", EXPLAINER_VIDEO_SIZE = "big" } do
        local s2, _, e2 = run({ [var] = value }, dir .. "/bad-" .. var)
        assert.equal(2, s2, e2)
        assert.matches(var .. ": '" .. value .. "' is not", e2, 1, true)
      end
    end)
  end)
end)
