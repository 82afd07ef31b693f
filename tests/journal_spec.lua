-- The journal, locks and shards: resume after a crash, redo what changed,
-- share one output folder between runs and machines.
local explainer = require "explainer"
local core = require "explainer_core"
local h = require "helpers"
local cjson = require "cjson"
local lfs = require "lfs"

local wait_for, alive, spawn = h.wait_for, h.alive, h.spawn

local function lines_of(path)
  local list = {}
  for line in (h.read(path) or ""):gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

describe("journal and resume", function()
  local dir, film, out, log

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(4))
    out = dir .. "/out"
    log = dir .. "/ran.log"
  end)

  after_each(function() h.rm_rf(dir) end)

  -- A workflow that notes each scene it runs in ran.log and writes final.png.
  local function recording_workflow(extra)
    return h.write(dir .. "/wf.lua", ([[
      local core = require "explainer_core"
      return { %s
        process_scene = function(scene, d)
          local f = assert(io.open(%q, "a")); f:write(scene.scene_number, "\n"); f:close()
          local o = assert(io.open(d .. "/final.png", "w")); o:write("png"); o:close()
        end }]]):format(extra or "", log))
  end

  local function ran()
    local list = lines_of(log)
    os.remove(log)
    table.sort(list, function(a, b) return tonumber(a) < tonumber(b) end)
    return table.concat(list, ",")
  end

  local function cli(args)
    local wf = args.workflow or recording_workflow()
    local full = { wf, film, "--output-dir", out }
    for _, a in ipairs(args) do full[#full + 1] = a end
    local stdout, err, code = h.run(full)
    return stdout, err, code
  end

  it("writes started and done records with an input hash, and skips done scenes", function()
    local _, err, code = cli {}
    assert.equal(0, code, err)
    assert.equal("0,1,2,3", ran())
    local records = lines_of(out .. "/film/.explainer/wf/journal")
    assert.equal(8, #records)
    assert.matches("^started scene=0 inputs=%x+ attempt=1 .* crc=%x+$", records[1])
    assert.matches("^done scene=0 inputs=%x+ attempt=1 seconds=", records[2])
    _, err = cli {}
    assert.equal("", ran())
    assert.matches("Skipped: 4", err)
  end)

  for _, jobs in ipairs { "1", "2" } do
    it("redoes exactly the scene that was being written when the run was killed -9 (jobs " .. jobs .. ")", function()
      local wf = h.write(dir .. "/crashy.lua", ([[
        local core = require "explainer_core"
        return { process_scene = function(scene, d)
          local o = assert(io.open(d .. "/final.png", "w")); o:write("half")
          if scene.scene_number == 3 then
            o:flush()
            local pid = io.open("/proc/self/stat"):read("l"):match("^%%d+")
            local p = io.open(%q, "w"); p:write(pid); p:close()
            core.sleep(30)
          end
          o:close()
        end }]]):format(dir .. "/writing"))
      local p = spawn(dir, { wf, film, "--output-dir", out, "-j", jobs })
      wait_for(dir .. "/writing")
      repeat core.sleep(0.01) until tonumber(h.read(dir .. "/writing"))
      os.execute("kill -KILL -" .. p.pid)
      local _, _, code = p.wait(10)
      assert.equal(137, code)
      assert.truthy(h.exists(out .. "/film/scene_03/final.png"), "the torn output is there")
      -- the process writing the scene (a worker with jobs 2) died with the run
      local writer = tonumber(h.read(dir .. "/writing"))
      for _ = 1, 250 do
        if not alive(writer) then break end
        core.sleep(0.02)
      end
      assert.is_false(alive(writer), "the scene's process outlived kill -9 of the run")
      local st = assert(explainer.status(film, { output_base_dir = out, workflow = "crashy" }))
      assert.equal("incomplete", st[4].reason)
      assert.equal("fresh", st[1].reason)
      -- the same workflow (its table names the journal) picks up where it died
      local _, err, code2 = cli { workflow = recording_workflow('workflow = "crashy",') }
      assert.equal(0, code2, err)
      assert.equal("3", ran())
      assert.equal("png", h.read(out .. "/film/scene_03/final.png"))
    end)
  end

  it("redoes an edited scene alone, and one whose inputs(scene) changed", function()
    cli {}
    ran()
    h.write(film, (h.read(film):gsub("Narration of scene 2%.", "A new narration.")))
    local stdout = cli { "--dry-run" }
    assert.matches("run  Scene 2: Scene Title 2 %(changed: narration%)", stdout)
    assert.matches("skip Scene 1: Scene Title 1 %(fresh%)", stdout)
    assert.equal("", ran(), "a dry run runs nothing")
    local _, err = cli {}
    assert.equal("2", ran())
    assert.matches("Completed: 1", err)
    -- a workflow that only cares about the title ignores narration edits
    local wf = recording_workflow("inputs = function(scene) return scene.title end,")
    cli { workflow = wf }
    assert.equal("0,1,2,3", ran(), "switching to inputs() is a change")
    h.write(film, (h.read(film):gsub("Narration of scene 1%.", "Other words.")))
    cli { workflow = wf }
    assert.equal("", ran())
    h.write(film, (h.read(film):gsub("Scene Title 1", "Retitled")))
    cli { workflow = wf }
    assert.equal("1", ran())
  end)

  it("falls back to skip-if-exists without a journal, and --no-skip forces all", function()
    cli {}
    ran()
    h.rm_rf(out .. "/film/.explainer")
    os.remove(out .. "/film/scene_01/final.png")
    local stdout = cli { "--dry-run" }
    assert.matches("skip Scene 0: Scene Title 0 %(exists%)", stdout)
    assert.matches("run  Scene 1: Scene Title 1 %(new%)", stdout)
    cli {}
    assert.equal("1", ran())
    stdout = cli { "--dry-run", "--no-skip" }
    assert.matches("run  Scene 3: Scene Title 3 %(forced%)", stdout)
    cli { "--no-skip" }
    assert.equal("0,1,2,3", ran())
  end)

  it("tolerates a torn last line and keeps appending after it", function()
    cli { "--scenes", "0,1" }
    ran()
    local journal = out .. "/film/.explainer/wf/journal"
    local f = assert(io.open(journal, "a")); f:write("done scene=2 inputs=00"); f:close()
    local stdout = cli { "--dry-run" }
    assert.matches("skip Scene 1: Scene Title 1 %(fresh%)", stdout)
    assert.matches("run  Scene 2: Scene Title 2 %(new%)", stdout)
    -- a record with a bad checksum is ignored too
    f = assert(io.open(journal, "a"))
    f:write("\ndone scene=3 inputs=0000000000000000 attempt=1 seconds=0.000 time=1.000 pid=1 crc=00000000\n")
    f:close()
    local _, err, code = cli {}
    assert.equal(0, code, err)
    assert.equal("2,3", ran())
    local st = assert(explainer.status(film, { output_base_dir = out, workflow = "wf" }))
    for i = 1, 4 do assert.equal("fresh", st[i].reason) end
  end)

  it("shows each scene's state with `explainer status`", function()
    local wf = h.write(dir .. "/mixed.lua", [[
      return { process_scene = function(scene, d)
        if scene.scene_number == 1 then error("nope") end
        if scene.scene_number == 2 then return end
        io.open(d .. "/final.png", "w"):close()
      end }]])
    h.run { wf, film, "--output-dir", out, "--scenes", "0-2" }
    local stdout, err, code = h.run { "status", wf, film, "--output-dir", out }
    assert.equal(0, code, err)
    assert.matches("Scene 0 +fresh", stdout)
    assert.matches("Scene 1 +failed", stdout)
    assert.matches("Scene 2 +missing final.png", stdout)
    assert.matches("Scene 3 +new", stdout)
    local list = cjson.decode((h.run { "status", wf, film, "--output-dir", out, "--json" }))
    assert.equal("failed", list[2].status)
    assert.equal("missing", list[3].status)
    assert.equal("missing final.png", list[3].reason)
    local raw = h.run { "status", wf, film, "--output-dir", out, "--json" }
    assert.is_nil(raw:find("\\/", 1, true), "a path is written with plain slashes: " .. raw)
    assert.equal(out .. "/film/scene_00", list[1].output_dir)
  end)

  it("says which --scenes numbers the script does not have; none of them is an error", function()
    local wf = h.write(dir .. "/quiet.lua", "return { process_scene = function() end }")
    local _, err, code = h.run { "status", wf, film, "--output-dir", out, "--scenes", "2,99" }
    assert.equal(0, code, err)
    assert.matches("has no scene 99", err)
    _, err, code = h.run { wf, film, "--output-dir", out, "--scenes", "2,99" }
    assert.equal(0, code, err)
    assert.matches("has no scene 99", err)
    assert.matches("Completed: 1", err)
    -- a typo, not a no-op: exit 2, one line, nothing written (no report, no folder)
    for _, args in ipairs { { wf }, { "status", wf }, { wf, "--dry-run" } } do
      local argv = {}
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      for _, a in ipairs { film, "--output-dir", dir .. "/none", "--scenes", "99" } do argv[#argv + 1] = a end
      local stdout
      stdout, err, code = h.run(argv)
      assert.equal(2, code, err)
      assert.matches("film.txt has no scene 99 %(its scenes: 0 to 3%)\n$", err)
      assert.equal("", stdout)
      assert.is_nil(lfs.attributes(dir .. "/none"), "nothing written")
    end
    _, err = h.run { wf, film, "--output-dir", out, "--scenes", "1-2" }
    assert.is_nil(err:find("has no scene", 1, true), err)
  end)

  it("says the --scenes numbers the script lacks in one line, ranges as ranges", function()
    local wf = h.write(dir .. "/quiet.lua", "return { process_scene = function() end }")
    local _, err, code = h.run { wf, film, "--output-dir", out, "--scenes", "1-100000" }
    assert.equal(0, code, err)
    local lines = select(2, err:gsub("has no scene", ""))
    assert.equal(1, lines, err:sub(1, 300))
    assert.matches("film.txt has no scenes 4 to 100000\n", err)
    _, err = h.run { wf, film, "--output-dir", out, "--scenes", "1,5,7-9,11-12" }
    assert.matches("film.txt has no scenes 5, 7 to 9, 11, 12\n", err)
  end)

  it("writes report.json with each scene's state, reason, attempts, time and error", function()
    local wf = h.write(dir .. "/rep.lua", [[
      return { process_scene = function(scene, d)
        if scene.scene_number == 2 then return nil, "quota exceeded" end
        io.open(d .. "/final.png", "w"):close()
      end }]])
    h.run { wf, film, "--output-dir", out, "--scenes", "1,2" }
    local report = cjson.decode(h.read(out .. "/film/report.json"))
    assert.equal(2, report.total)
    assert.equal(1, report.failed)
    assert.equal(cjson.null, report.interrupted)
    local s1, s2 = report.scenes[1], report.scenes[2]
    assert.same({ 1, "completed", "new", cjson.null },
      { s1.scene_number, s1.state, s1.reason, s1.error })
    assert.equal("quota exceeded", s2.error)
    assert.equal(1, #s2.attempts)
    assert.is_number(s2.seconds)
  end)

  it("runs finish for one run of a workflow on a folder at a time", function()
    -- two runs that end together would both join the film
    local wf = h.write(dir .. "/joins.lua", ([[
      local core = require "explainer_core"
      local function note(what)
        local f = assert(io.open(%q, "a")); f:write(what, "\n"); f:close()
      end
      return { process_scene = function(scene, d) io.open(d .. "/final.png", "w"):close() end,
               finish = function() note("begin"); core.sleep(0.4); note("end") end }]]):format(log))
    local runs = {}
    for i = 1, 3 do runs[i] = spawn(dir, { wf, film, "--output-dir", out }) end
    for i = 1, 3 do
      local _, err, code = runs[i].wait(30)
      assert.equal(0, code, err)
    end
    assert.same({ "begin", "end", "begin", "end", "begin", "end" }, lines_of(log))
  end)

  it("lets three concurrent runs on one folder process each scene exactly once", function()
    local many = h.write(dir .. "/many.txt", h.script(12))
    local wf = h.write(dir .. "/slow.lua", ([[
      local core = require "explainer_core"
      return { process_scene = function(scene, d)
        local f = assert(io.open(%q, "a")); f:write(scene.scene_number, "\n"); f:close()
        core.sleep(0.15)
        io.open(d .. "/final.png", "w"):close()
      end }]]):format(log))
    local runs = {}
    for i = 1, 3 do
      runs[i] = spawn(dir, { wf, many, "--output-dir", out, "-j", "2", "--progress", "json" })
    end
    local completed, locked = 0, 0
    for i = 1, 3 do
      local _, err, code = runs[i].wait(30)
      assert.equal(0, code, err)
      local summary = cjson.decode(err:match("[^\n]*\"summary\"[^\n]*"))
      completed = completed + summary.completed
      locked = locked + summary.locked
    end
    local seen = {}
    for _, n in ipairs(lines_of(log)) do
      assert.is_nil(seen[n], "scene " .. n .. " processed twice")
      seen[n] = true
    end
    for n = 0, 11 do assert.is_true(seen[tostring(n)], "scene " .. n .. " never processed") end
    assert.equal(12, completed)
  end)

  it("splits the scenes into shards that cover every scene exactly once", function()
    local many = h.write(dir .. "/many.txt", h.script(10))
    local wf = recording_workflow()
    local all = {}
    for k = 1, 3 do
      local _, err, code = h.run { wf, many, "--output-dir", out, "--shard", k .. "/3" }
      assert.equal(0, code, err)
      for _, n in ipairs(lines_of(log)) do
        assert.is_nil(all[n], "scene " .. n .. " in two shards")
        all[n] = k
      end
      os.remove(log)
      assert.truthy(h.exists(out .. "/many/report.shard-" .. k .. "-of-3.json"))
    end
    for n = 0, 9 do assert.is_number(all[tostring(n)], "scene " .. n .. " in no shard") end
    -- deterministic: the same shard lists the same scenes
    local a = h.run { wf, many, "--output-dir", dir .. "/o2", "--shard", "2/3", "--dry-run" }
    local b = h.run { wf, many, "--output-dir", dir .. "/o3", "--shard", "2/3", "--dry-run" }
    assert.equal(a:gsub("o2", "o3"), b)
    local _, err, code = h.run { wf, many, "--shard", "4/3" }
    assert.equal(2, code)
    assert.matches("shard: expected K/N", err)
  end)

  it("takes the same options from orchestrate_workflow", function()
    local seen = {}
    local opts = { explainer_path = film, output_base_dir = out, progress = "quiet",
      shard = "1/2", process_scene = function(scene, d)
        seen[#seen + 1] = scene.scene_number
        io.open(d .. "/final.png", "w"):close()
      end }
    local stats = assert(explainer.orchestrate_workflow(opts))
    assert.same({ 0, 2 }, seen)
    assert.equal(2, stats.total)
    opts.dry_run, opts.shard = true, nil
    stats = assert(explainer.orchestrate_workflow(opts))
    assert.is_true(stats.dry_run)
    local reasons = {}
    for _, s in ipairs(stats.scenes) do reasons[#reasons + 1] = s.state .. ":" .. s.reason end
    assert.same({ "skipped:fresh", "pending:new", "skipped:fresh", "pending:new" }, reasons)
    assert.is_false(alive(999999))
  end)
end)
