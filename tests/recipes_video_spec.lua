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

  it("refuses to join when there are no clips", function()
    local dir = util.tmpdir()
    local path, err = video.film({ name = "none", scenes = { { scene_number = 1 } } }, dir)
    util.rmtree(dir)
    assert.is_nil(path)
    assert.matches("no clips to join", err, 1, true)
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

    it("joins the clips into <output>/<name>/<name>.mp4 at the frame size", function()
      local film = util.probe(dir .. "/out/recipes_video/recipes_video.mp4")
      assert.is_true(film.has_video and film.has_audio)
      assert.equal(1920, film.width)
      assert.equal(1080, film.height)
      local sum = 0
      for n = 1, 3 do sum = sum + util.probe(scene_dir(n) .. "/clip.mp4").duration end
      assert.is_true(math.abs(film.duration - sum) < 0.3, film.duration .. " vs " .. sum)
      assert.matches("Film: ", err, 1, true)
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
