-- explainer.recipes.video and scripts/video.lua: a narrated film offline.
local video = require "explainer.recipes.video"
local common = require "explainer.recipes.common"
local util = require "mock.util"

describe("video recipe", function()
  it("sizes frames from the document's format, 9:16 when unknown", function()
    local cases = { ["9:16 VERTICAL"] = "1080x1920", ["16:9 HORIZONTAL"] = "1920x1080",
                    ["1:1"] = "1080x1080", ["square"] = "1080x1080", [""] = "1080x1920", ["4:3"] = "1080x1920" }
    for format, want in pairs(cases) do
      local w, h = common.frame_size(format)
      assert.equal(want, w .. "x" .. h, format)
    end
    local w, h = common.frame_size(nil)
    assert.equal("1080x1920", w .. "x" .. h)
  end)

  it("varies the still's motion from scene to scene, the same for the same scene", function()
    local seen = {}
    for n = 0, 5 do seen[video.motion_of { scene_number = n }] = true end
    local count = 0
    for _ in pairs(seen) do count = count + 1 end
    assert.equal(#video.MOTIONS, count)
    assert.equal(video.motion_of { scene_number = 7 }, video.motion_of { scene_number = 7 })
  end)

  it("keys the motion into the clip and the transition into the film only", function()
    local scene = { scene_number = 1, duration = 2, narration = "Hi." }
    local dir = util.tmpdir()
    local still = video.clip_key(scene, dir, { motion = "none" })
    local moving = video.clip_key(scene, dir, { motion = "zoompan" })
    assert.are_not.equal(still.id, moving.id)
    assert.equal(moving.id, video.clip_key(scene, dir, { motion = "zoompan", transition = "none" }).id)
    util.rmtree(dir)
  end)

  it("reads the film's settings from options, else the environment, and refuses nonsense", function()
    local s = assert(video.film_settings {})
    assert.same({ "fade", 0.5, "file", -16, -1.5 }, { s.transition, s.transition_seconds, s.captions, s.loudness,
                                                       s.true_peak })
    assert.equal("none", video.film_settings({ transition_seconds = 0 }).transition)
    local bad, err = video.film_settings { loudness = "loud" }
    assert.is_nil(bad)
    assert.matches("loudness: 'loud' is not a number", err, 1, true)
  end)

  it("refuses to join when there are no clips", function()
    local dir = util.tmpdir()
    local path, err = video.film({ name = "none", scenes = { { scene_number = 1 } } }, dir)
    util.rmtree(dir)
    assert.is_nil(path)
    assert.matches("no clips to join", err, 1, true)
  end)

  describe("a clip's on-screen text", function()
    local explainer = require "explainer"
    local artifact = require "explainer.artifact"
    local dir
    local scene = { scene_number = 3, title = "Loop", duration = 2, narration = "Round and round it goes.",
                    layout = '- Background: pale blue\n- Text: "Closed loop" - top third, left-aligned, bold\n'
                      .. "- Visual Elements:\n  - A pipe loop in the center" }
    local opts = { size = "360x640", fps = 10 }

    setup(function() dir = util.tmpdir() end)
    teardown(function() util.rmtree(dir) end)

    local function frame_at(t, out)
      assert(explainer.exec({ "ffmpeg", "-v", "error", "-y", "-ss", tostring(t), "-i", dir .. "/clip.mp4",
        "-frames:v", "1", out }, { timeout = 60 }).ok)
      local r = assert(explainer.exec({ "tesseract", out, "-", "tsv" }, { timeout = 60 }))
      local found = {}
      for line in r.stdout:gmatch("[^\n]+") do
        local f = {}
        for field in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
        if f[1] == "5" and f[12] and f[12]:find("%w") then found[f[12]:lower():gsub("%W", "")] = tonumber(f[8]) end
      end
      return found
    end

    it("is a layer over the moving plate that comes in with the voice", function()
      assert(video.clip(scene, dir, opts))
      assert.same({ 360, 640 }, { util.png_size(dir .. "/plate.png") })
      assert.same({ 360, 640 }, { util.png_size(dir .. "/text.png") })
      local first = frame_at(0, dir .. "/first.png")
      assert.is_nil(first.closed, "the text is not there before the voice")
      local late = frame_at(1.8, dir .. "/late.png")
      assert.truthy(late.closed and late.loop, "the text is there once it has come in")
      assert.is_true(late.closed < 640 / 3, "top third: " .. tostring(late.closed))
    end)

    it("remakes the text layer, the frame and the clip for an edited text, not the plate", function()
      assert(video.clip(scene, dir, opts))
      local plate = artifact.identity(dir .. "/plate.png")
      local text, clip = artifact.identity(dir .. "/text.png"), artifact.identity(dir .. "/clip.mp4")
      local edited = {}
      for k, v in pairs(scene) do edited[k] = v end
      edited.layout = scene.layout:gsub("Closed loop", "Open loop")
      local before = video.clip_key(scene, dir, opts)
      assert.not_equal(before.id, video.clip_key(edited, dir, opts).id)
      assert(video.clip(edited, dir, opts))
      assert.equal(plate, artifact.identity(dir .. "/plate.png"))
      assert.not_equal(text, artifact.identity(dir .. "/text.png"))
      assert.not_equal(clip, artifact.identity(dir .. "/clip.mp4"))
      assert.truthy(frame_at(1.8, dir .. "/edited.png").open)
    end)

    it("keys its animation into the clip, and refuses one it does not know", function()
      local fade = video.clip_key(scene, dir, opts)
      local slide = video.clip_key(scene, dir, { size = "360x640", fps = 10, text_animation = "slide" })
      assert.not_equal(fade.id, slide.id)
      local own = {}
      for k, v in pairs(scene) do own[k] = v end
      own.layout = scene.layout .. "\n- Text Animation: slide"
      assert.equal(video.clip_key(own, dir, opts).parts.text_motion,
        video.clip_key(own, dir, { size = "360x640", fps = 10, text_animation = "none" }).parts.text_motion)
      local path, err = video.clip(scene, dir, { size = "360x640", fps = 10, text_animation = "wobble" })
      assert.is_nil(path)
      assert.matches("EXPLAINER_TEXT_ANIMATION: 'wobble' is not an animation", err, 1, true)
    end)
  end)

  describe("scripts/video.lua on a small script", function()
    local dir, status, out, err
    local input = util.root() .. "/tests/fixtures/recipes_video.txt"

    setup(function()
      dir = util.tmpdir()
      status, out, err = util.run_host(dir, "video.lua", input, {}, { "--output-dir", dir .. "/out" })
    end)
    teardown(function() util.rmtree(dir) end)

    local function scene_dir(n) return string.format("%s/out/recipes_video/scene_%02d", dir, n) end

    it("succeeds with no other step", function()
      assert.equal(0, status, err)
      assert.matches("Completed: 3", err, 1, true)
    end)

    it("draws PNG images with the document's 16:9 aspect", function()
      for n = 1, 3 do
        assert.same({ 1920, 1080 }, { util.png_size(scene_dir(n) .. "/final.png") })
      end
    end)

    it("narrates to MP3s whose length ffprobe confirms, silent for a silent scene", function()
      local spoken = util.probe(scene_dir(1) .. "/narration.mp3")
      assert.is_true(spoken.has_audio and spoken.duration > 2, "scene 1: " .. tostring(spoken.duration))
      local quiet = util.probe(scene_dir(2) .. "/narration.mp3")
      assert.is_true(math.abs(quiet.duration - 1.5) < 0.1, "scene 2: " .. tostring(quiet.duration))
    end)

    it("makes clips as long as the scene or its narration, whichever is longer", function()
      local narration = util.probe(scene_dir(1) .. "/narration.mp3").duration
      local clip1 = util.probe(scene_dir(1) .. "/clip.mp4")
      assert.is_true(math.abs(clip1.duration - math.max(2, narration)) < 0.15)
      local clip2 = util.probe(scene_dir(2) .. "/clip.mp4")
      assert.is_true(math.abs(clip2.duration - 1.5) < 0.15, "clip 2: " .. tostring(clip2.duration))
    end)

    it("joins the clips into <output>/<name>/<name>.mp4 at the frame size, with a transition between each two and at the ends", function()
      local film = util.probe(dir .. "/out/recipes_video/recipes_video.mp4")
      assert.is_true(film.has_video and film.has_audio)
      assert.equal(1920, film.width)
      assert.equal(1080, film.height)
      local sum = 0
      for n = 1, 3 do sum = sum + util.probe(scene_dir(n) .. "/clip.mp4").duration end
      local transitions = 4 * 13 / 25
      assert.is_true(math.abs(film.duration - sum - transitions) < 0.1, film.duration .. " vs " .. sum)
      assert.matches("Film: ", err, 1, true)
    end)

    it("writes the film's captions beside it, with the narration's words", function()
      local srt = util.read(dir .. "/out/recipes_video/recipes_video.srt")
      -- after the opening transition (13 frames), where the voice starts
      local s, ms = srt:match("^1\n00:00:(%d%d),(%d%d%d) %-%-> ")
      local start = s and tonumber(s) + tonumber(ms) / 1000
      assert.is_true(start and start >= 0.52 and start < 0.82, srt)
      assert.matches("Done.", srt, 1, true)
      assert.matches("PWNED_PIPE", util.read(dir .. "/out/recipes_video/recipes_video.vtt"), 1, true)
    end)

    it("executes nothing from narration, titles or prompts full of shell syntax", function()
      for _, file in ipairs(util.files(dir)) do
        assert.is_nil(file:find("PWNED", 1, true), file)
      end
      assert.is_nil(io.open(util.root() .. "/PWNED_NARRATION"))
    end)

    it("skips finished scenes on a second run and still makes the film", function()
      local s2, _, e2 = util.run_host(dir, "video.lua", input, {}, { "--output-dir", dir .. "/out" })
      assert.equal(0, s2, e2)
      assert.matches("Skipped: 3", e2, 1, true)
      assert.truthy(util.probe(dir .. "/out/recipes_video/recipes_video.mp4").duration)
    end)
  end)
end)
