-- The module API: require "explainer", parse, orchestrate_workflow and helpers.
local explainer = require "explainer"
local h = require "helpers"
local lfs = require "lfs"

describe("explainer module", function()
  local dir, path

  before_each(function()
    dir = h.tmpdir()
    path = h.write(dir .. "/film.txt", h.script(5))
  end)

  after_each(function() h.rm_rf(dir) end)

  it("loads as a plain Lua 5.4 module with the C core underneath", function()
    assert.is_function(explainer.parse)
    assert.is_function(explainer.orchestrate_workflow)
    assert.matches("^%d+%.%d+%.%d+$", explainer._VERSION)
  end)

  it("parses a file into a document with the contract's keys", function()
    local doc = assert(explainer.parse(path))
    assert.equal("film", doc.name)
    assert.equal(path, doc.path)
    assert.equal("Test Film", doc.title)
    assert.equal(5, doc.declared_scenes)
    assert.equal("9:16 VERTICAL", doc.format)
    assert.equal(30, doc.total_duration)
    assert.equal(5, #doc.scenes)
    local s = doc.scenes[2]
    assert.equal(1, s.scene_number)
    assert.equal("Scene Title 1", s.title)
    assert.equal(6, s.duration)
    assert.is_false(s.no_narration)
    assert.equal("Narration of scene 1.", s.narration)
    assert.equal("Picture 1", s.initial_prompt)
    assert.same({ "sharper 1" }, s.iterations)
    assert.equal("Fade in 1.", s.animation_prompt)
    assert.is_true(doc.scenes[1].no_narration)
    assert.is_nil(doc.scenes[1].narration)
    assert.is_table(doc.warnings)
  end)

  it("returns nil and a message naming the path for a missing file", function()
    local doc, err = explainer.parse(dir .. "/nope.txt")
    assert.is_nil(doc)
    assert.matches("nope%.txt", err)
    assert.matches("No such file", err)
  end)

  it("raises luaL-style errors for wrong argument types", function()
    assert.has_error(function() explainer.parse(nil) end,
      "bad argument #1 to 'parse' (string expected, got nil)")
    assert.has_error(function() explainer.parse_string(42) end)
  end)

  it("parses a string, naming the document 'script' by default", function()
    local doc = explainer.parse_string("## SCENE 1: Only (3s)\nNarration: hi\n")
    assert.equal("script", doc.name)
    assert.equal(1, #doc.scenes)
    assert.equal(3, doc.scenes[1].duration)
    assert.equal("hi", doc.scenes[1].narration)
    assert.equal("named", explainer.parse_string("", "named").name)
  end)

  it("builds scene folders as base/name/scene_NN", function()
    assert.equal("out/film/scene_05", explainer.scene_output_dir("out", "film", 5))
    assert.equal("out/film/scene_12", explainer.scene_output_dir("out", "film", 12))
    assert.equal("out/film/scene_105", explainer.scene_output_dir("out", "film", 105))
  end)

  it("tells whether an output exists", function()
    assert.is_false(explainer.output_exists(dir, "final.png"))
    h.write(dir .. "/final.png", "x")
    assert.is_true(explainer.output_exists(dir, "final.png"))
    assert.is_true(explainer.output_exists(dir))
  end)

  it("finds a scene's narration, and nil for a silent one", function()
    assert.equal("Narration of scene 2.", explainer.get_narration_for_scene(path, 2))
    assert.is_nil(explainer.get_narration_for_scene(path, 0))
    assert.is_nil(explainer.get_narration_for_scene(path, 99))
  end)

  describe("orchestrate_workflow", function()
    local out

    before_each(function() out = dir .. "/out" end)

    local function run(opts)
      opts.explainer_path = opts.explainer_path or path
      opts.output_base_dir = opts.output_base_dir or out
      opts.progress = opts.progress or "quiet"
      return explainer.orchestrate_workflow(opts)
    end

    it("calls process_scene once per scene, in file order, with its folder created", function()
      local seen = {}
      local stats = run { process_scene = function(scene, output_dir)
        assert.equal("directory", lfs.attributes(output_dir, "mode"))
        seen[#seen + 1] = { scene.scene_number, output_dir }
      end }
      assert.equal(5, #seen)
      for i = 0, 4 do
        assert.equal(i, seen[i + 1][1])
        assert.equal(("%s/film/scene_%02d"):format(out, i), seen[i + 1][2])
      end
      assert.equal(5, stats.total)
      assert.equal(5, stats.completed)
      assert.equal(0, stats.skipped)
      assert.equal(0, stats.failed)
      assert.is_number(stats.elapsed_time)
      assert.same({}, stats.failures)
    end)

    it("accepts the positional form (path, fn, opts)", function()
      local n = 0
      local stats = explainer.orchestrate_workflow(path, function() n = n + 1 end,
        { output_base_dir = out, progress = "quiet", scene_numbers = { 1, 3 } })
      assert.equal(2, n)
      assert.equal(2, stats.total)
    end)

    it("runs only the selected scenes", function()
      local seen = {}
      local stats = run { scene_numbers = { 3, 1 },
        process_scene = function(scene) seen[#seen + 1] = scene.scene_number end }
      assert.same({ 1, 3 }, seen)
      assert.equal(2, stats.total)
      assert.equal(2, stats.completed)
    end)

    it("skips a scene whose output file exists, and redoes it with skip_existing=false", function()
      local first = explainer.scene_output_dir(out, "film", 2)
      assert(explainer.core.mkdir_p(first))
      h.write(first .. "/final.png", "done")
      local seen = {}
      local stats = run { process_scene = function(s) seen[#seen + 1] = s.scene_number end }
      assert.same({ 0, 1, 3, 4 }, seen)
      assert.equal(1, stats.skipped)
      assert.equal(4, stats.completed)
      seen = {}
      stats = run { skip_existing = false,
        process_scene = function(s) seen[#seen + 1] = s.scene_number end }
      assert.equal(5, #seen)
      assert.equal(0, stats.skipped)
    end)

    it("uses output_filename to decide what is done", function()
      local process = function(_, d) h.write(d .. "/narration.mp3", "x") end
      run { output_filename = "narration.mp3", process_scene = process }
      local stats = run { output_filename = "narration.mp3", process_scene = process }
      assert.equal(5, stats.skipped)
      stats = run { process_scene = process } -- final.png: never written
      assert.equal(0, stats.skipped)
    end)

    it("counts an error() and a `return nil, msg` as failures and goes on", function()
      local seen = {}
      local stats = run { process_scene = function(scene)
        seen[#seen + 1] = scene.scene_number
        if scene.scene_number == 1 then error("boom") end
        if scene.scene_number == 3 then return nil, "quota exceeded" end
        if scene.scene_number == 4 then return false, "bad input" end
        return true
      end }
      assert.equal(5, #seen)
      assert.equal(2, stats.completed)
      assert.equal(3, stats.failed)
      assert.equal(3, #stats.failures)
      assert.equal(1, stats.failures[1].scene_number)
      assert.matches("boom", stats.failures[1].error)
      assert.same({ scene_number = 3, error = "quota exceeded" }, stats.failures[2])
      assert.same({ scene_number = 4, error = "bad input" }, stats.failures[3])
    end)

    it("takes a table error's message field", function()
      local stats = run { scene_numbers = { 2 },
        process_scene = function() error({ message = "structured" }) end }
      assert.equal("structured", stats.failures[1].error)
    end)

    it("treats false or nil alone, or any other value, as success", function()
      local stats = run { process_scene = function(scene)
        if scene.scene_number == 0 then return nil end
        if scene.scene_number == 1 then return false end
        return { any = "thing" }
      end }
      assert.equal(5, stats.completed)
      assert.equal("thing", stats.results[2].any)
    end)

    it("stops at the first failure when continue_on_error is false", function()
      local seen = {}
      local stats = run { continue_on_error = false, process_scene = function(scene)
        seen[#seen + 1] = scene.scene_number
        if scene.scene_number == 1 then error("stop here") end
      end }
      assert.same({ 0, 1 }, seen)
      assert.equal(1, stats.completed)
      assert.equal(1, stats.failed)
      assert.equal(5, stats.total)
    end)

    it("refuses a document with duplicate scene numbers, naming both lines", function()
      local dup = h.write(dir .. "/dup.txt",
        "## SCENE 1: A (6s)\nNarration: a\n\n## SCENE 1: B (6s)\nNarration: b\n")
      local called = false
      local stats, err = run { explainer_path = dup,
        process_scene = function() called = true end }
      assert.is_nil(stats)
      assert.matches("duplicate scene number 1", err)
      assert.matches("lines 1 and 4", err)
      assert.is_false(called)
    end)

    it("returns nil, message for an unreadable script", function()
      local stats, err = run { explainer_path = dir .. "/missing.txt", process_scene = print }
      assert.is_nil(stats)
      assert.matches("missing%.txt", err)
    end)

    it("raises for a missing process_scene, a bad option type or an unknown option", function()
      assert.has_error(function() explainer.orchestrate_workflow { explainer_path = path } end,
        "orchestrate_workflow: option 'process_scene' (function) is required")
      assert.has_error(function()
        explainer.orchestrate_workflow { explainer_path = path, process_scene = print,
          skip_existing = "yes" }
      end, "orchestrate_workflow: bad option 'skip_existing' (boolean expected, got string)")
      assert.has_error(function()
        explainer.orchestrate_workflow { explainer_path = path, process_scene = print,
          skip_exsting = false }
      end, "orchestrate_workflow: unknown option 'skip_exsting'")
    end)

    it("re-raises a hook's error as a HookError naming the hook", function()
      local ok, err = pcall(run, { process_scene = function() end,
        finish = function() error({ message = "upload refused" }) end })
      assert.is_false(ok)
      assert.equal("finish", err.hook)
      assert.equal("upload refused", err.message)
      assert.equal("finish: upload refused", tostring(err))
    end)

    it("calls setup before and finish after the run, with the same scene tables", function()
      local order = {}
      local stats = run {
        setup = function(doc)
          order[#order + 1] = "setup"
          doc.scenes[1].tag = "from setup"
        end,
        process_scene = function(scene)
          order[#order + 1] = scene.tag or scene.scene_number
        end,
        finish = function(st, doc)
          order[#order + 1] = "finish " .. st.completed .. " " .. doc.name
        end,
      }
      assert.same({ "setup", "from setup", 1, 2, 3, 4, "finish 5 film" }, order)
      assert.equal(5, stats.completed)
    end)
  end)
end)
