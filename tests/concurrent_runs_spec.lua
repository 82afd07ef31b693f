-- Runs that overlap on one output folder: each scene is paid for once.
-- A run plans every scene when it starts; another run may do some of them
-- meanwhile. These tests repeat what made runs redo a scene (about one trial
-- in four by hand, every trial here) and count each processor call.
local h = require "helpers"
local cjson = require "cjson"

local spawn = h.spawn

local function counts(path)
  local seen, order = {}, {}
  for n in (h.read(path) or ""):gmatch("[^\n]+") do
    if not seen[n] then order[#order + 1] = n end
    seen[n] = (seen[n] or 0) + 1
  end
  return seen, order
end

-- "scene 4 twice, scene 7 twice" for every scene processed more than once.
local function twice(seen)
  local list = {}
  for n, c in pairs(seen) do
    if c > 1 then list[#list + 1] = ("scene %s %d times"):format(n, c) end
  end
  table.sort(list)
  return table.concat(list, ", ")
end

describe("concurrent runs on one folder", function()
  local dir, log

  before_each(function()
    dir = h.tmpdir()
    log = dir .. "/calls.log"
  end)

  after_each(function() h.rm_rf(dir) end)

  -- A processor that notes each call, takes `seconds(n)` and writes final.png.
  local function workflow(seconds)
    return h.write(dir .. "/wf.lua", ([[
      local core = require "explainer_core"
      local function seconds(n) %s end
      return { process_scene = function(scene, d)
        local f = assert(io.open(%q, "a")); f:write(scene.scene_number, "\n"); f:close()
        core.sleep(seconds(scene.scene_number))
        io.open(d .. "/final.png", "w"):close()
      end }]]):format(seconds, log))
  end

  local function run_together(list, trial)
    local runs = {}
    for i, args in ipairs(list) do
      runs[i] = spawn(dir, args)
      if args.after then require("explainer_core").sleep(args.after) end
    end
    local errs = {}
    for i = 1, #runs do
      local _, err, code = runs[i].wait(60)
      assert.equal(0, code, ("trial %d, run %d: %s"):format(trial, i, err))
      errs[i] = err
    end
    return errs
  end

  it("does not redo a scene that a second run did while the first was busy", function()
    -- Run A takes scenes 1-5 and is slow on scene 1; run B does 2 and 4
    -- meanwhile. A used to skip 2 (just read B's record) and redo 4.
    local film = h.write(dir .. "/t.txt", h.script(6, { all_narrated = true }))
    local wf = workflow("return n == 1 and 0.8 or 0")
    for trial = 1, 3 do
      h.rm_rf(dir .. "/o")
      os.remove(log)
      local errs = run_together({
        { wf, film, "--output-dir", dir .. "/o", "--scenes", "1-5", after = 0.3 },
        { wf, film, "--output-dir", dir .. "/o", "--scenes", "2,4" },
      }, trial)
      -- and says why it skipped them: not "output already exists"
      assert.matches("Scene 2: [^\n]*\n%s+Skipping %(done by another run%)", errs[1])
      assert.matches("Scene 4: [^\n]*\n%s+Skipping %(done by another run%)", errs[1])
      local seen = counts(log)
      assert.equal("", twice(seen), "trial " .. trial)
      for n = 1, 5 do assert.equal(1, seen[tostring(n)], "scene " .. n .. ", trial " .. trial) end
    end
  end)

  for _, jobs in ipairs { "1", "3" } do
    it("lets three identical runs (--jobs " .. jobs .. ") process each scene exactly once, ten times in a row", function()
      local film = h.write(dir .. "/t.txt", h.script(12, { all_narrated = true }))
      local wf = workflow("return 0.02 + (n * 7 % 5) * 0.03")
      for trial = 1, 10 do
        local out = dir .. "/o" .. trial
        os.remove(log)
        local args = { wf, film, "--output-dir", out, "--jobs", jobs, "--progress", "json" }
        run_together({ args, args, args }, trial)
        local seen = counts(log)
        assert.equal("", twice(seen), "trial " .. trial)
        for n = 0, 11 do assert.equal(1, seen[tostring(n)], "scene " .. n .. ", trial " .. trial) end
        -- and every run's report agrees: 12 completed in all, each scene once
        local report = cjson.decode(h.read(out .. "/t/report.json"))
        assert.equal(12, report.total)
      end
    end)
  end

  it("lets shards and a whole run overlap without a scene twice", function()
    local film = h.write(dir .. "/t.txt", h.script(12, { all_narrated = true }))
    local wf = workflow("return 0.02 + (n * 3 % 4) * 0.03")
    for trial = 1, 5 do
      local out = dir .. "/o" .. trial
      os.remove(log)
      run_together({
        { wf, film, "--output-dir", out, "--shard", "1/2" },
        { wf, film, "--output-dir", out },
        { wf, film, "--output-dir", out, "--shard", "2/2" },
      }, trial)
      local seen = counts(log)
      assert.equal("", twice(seen), "trial " .. trial)
      for n = 0, 11 do assert.equal(1, seen[tostring(n)], "scene " .. n .. ", trial " .. trial) end
    end
  end)

  -- Two workflows keep two journals and two sets of scene locks, yet may make
  -- the same file (image.lua and video.lua both make final.png); two scripts
  -- may make the same cache entry. Neither is paid for twice.
  local function maker(name, path_expr, cache)
    return h.write(dir .. "/" .. name .. ".lua", ([[
      local explainer = require "explainer"
      local core = require "explainer_core"
      return { output_filename = "done.txt", process_scene = function(scene, d)
        local path = %s
        local made, how = explainer.make(path, { words = scene.narration }, function(tmp)
          local f = assert(io.open(%q, "a")); f:write(scene.scene_number, "\n"); f:close()
          core.sleep(0.3)
          local o = assert(io.open(tmp, "w")); o:write(scene.narration); o:close()
        end, { cache = %s })
        if not made then return nil, how end
        io.open(d .. "/done.txt", "w"):close()
      end }]]):format(path_expr, log, tostring(cache)))
  end

  it("makes a file once when two workflows need it at the same time", function()
    local film = h.write(dir .. "/t.txt", h.script(4, { all_narrated = true }))
    local a = maker("first", 'd .. "/shared.txt"', false)
    local b = maker("second", 'd .. "/shared.txt"', false)
    for trial = 1, 3 do
      local out = dir .. "/o" .. trial
      os.remove(log)
      run_together({ { a, film, "--output-dir", out }, { b, film, "--output-dir", out } }, trial)
      local seen = counts(log)
      assert.equal("", twice(seen), "trial " .. trial)
      for n = 0, 3 do
        assert.equal(1, seen[tostring(n)], "scene " .. n .. ", trial " .. trial)
        assert.equal(("Narration of scene %d."):format(n), h.read(out .. "/t/scene_0" .. n .. "/shared.txt"))
      end
    end
  end)

  it("makes a cache entry once when two scripts need it at the same time", function()
    local one = h.write(dir .. "/one.txt", h.script(3, { all_narrated = true }))
    local two = h.write(dir .. "/two.txt", h.script(3, { all_narrated = true }))
    local wf = maker("cached", 'd .. "/line.txt"', true)
    local env = "XDG_CACHE_HOME=" .. h.shell_quote(dir .. "/cache")
    local runs = {
      h.spawn(dir, { wf, one, "--output-dir", dir .. "/o" }, { env = env }),
      h.spawn(dir, { wf, two, "--output-dir", dir .. "/o" }, { env = env }),
    }
    for i = 1, 2 do
      local _, err, code = runs[i].wait(60)
      assert.equal(0, code, err)
    end
    assert.equal("", twice(counts(log)))
    for n = 0, 2 do assert.equal("Narration of scene " .. n .. ".", h.read(dir .. "/o/two/scene_0" .. n .. "/line.txt")) end
  end)

  it("runs finish only once the scenes left to another run are done (the film sees every scene)", function()
    -- Two of three runs find both scenes locked by the third; their finish
    -- (the film's join) found no clip at all and failed, or joined too few.
    local film = h.write(dir .. "/t.txt", h.script(4, { all_narrated = true }))
    local wf = h.write(dir .. "/wf.lua", ([[
      local core = require "explainer_core"
      local lfs = require "lfs"
      return { process_scene = function(scene, d)
        core.sleep(0.4)
        io.open(d .. "/final.png", "w"):close()
      end,
      finish = function(stats)
        local n = 0
        for s = 1, 2 do
          if lfs.attributes(("%%s/scene_%%02d/final.png"):format(stats.output_dir, s)) then n = n + 1 end
        end
        local f = assert(io.open(%q, "a")); f:write(n, "\n"); f:close()
      end }]]):format(log))
    for trial = 1, 3 do
      local out = dir .. "/o" .. trial
      os.remove(log)
      local args = { wf, film, "--output-dir", out, "--scenes", "1-2" }
      run_together({ args, args, args }, trial)
      assert.equal("2\n2\n2\n", h.read(log), "trial " .. trial .. ": what each finish saw")
    end
  end)
end)
