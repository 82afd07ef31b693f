-- Worker processes, timeouts, retries, rate limits and interrupts: the run
-- survives what its processors do.
local explainer = require "explainer"
local core = require "explainer_core"
local h = require "helpers"
local cjson = require "cjson"

local wait_for, alive, spawn = h.wait_for, h.alive, h.spawn

describe("worker processes", function()
  local dir, film, out

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(8))
    out = dir .. "/out"
  end)

  after_each(function() h.rm_rf(dir) end)

  local function run(opts)
    opts.explainer_path = opts.explainer_path or film
    opts.output_base_dir = opts.output_base_dir or out
    opts.progress = opts.progress or "quiet"
    return assert(explainer.orchestrate_workflow(opts))
  end

  local function workflow(body)
    return h.write(dir .. "/wf.lua", body)
  end

  it("runs sleeping scenes in parallel: 8 x 0.5 s with 4 jobs takes under half the serial time", function()
    local started = os.clock() -- CPU time stays near zero: the workers sleep
    local stats = run { jobs = 4, process_scene = function() core.sleep(0.5) end }
    assert.equal(8, stats.completed)
    assert.is_true(stats.elapsed_time < 8 * 0.5 / 2,
      ("took %.2f s, serial would be 4 s"):format(stats.elapsed_time))
    assert.is_true(stats.elapsed_time >= 0.5 * 2 - 0.05, "two rounds of 4 at least")
    assert.is_true(os.clock() - started < 1)
  end)

  it("brings each processor's return value back as stats.results[scene_number]", function()
    local stats = run { jobs = 3, process_scene = function(scene)
      if scene.scene_number == 2 then return nil end
      return { n = scene.scene_number, name = "s" .. scene.scene_number, ok = true,
        half = scene.scene_number / 2, list = { "a", { deep = { 1, 2 } } },
        [10] = "ten" }
    end }
    assert.equal(8, stats.completed)
    assert.is_nil(stats.results[2])
    local r = stats.results[5]
    assert.same({ n = 5, name = "s5", ok = true, half = 2.5,
      list = { "a", { deep = { 1, 2 } } }, [10] = "ten" }, r)
    assert.equal(math.type(5), math.type(r.n))
    local again = run { jobs = 2, scene_numbers = { 1 }, skip_existing = false,
      process_scene = function() return "plain" end }
    assert.equal("plain", again.results[1])
  end)

  it("fails a scene whose return value cannot leave its worker, saying why", function()
    local stats = run { jobs = 2, scene_numbers = { 1, 2 }, process_scene = function(scene)
      if scene.scene_number == 1 then return { f = print } end
      local t = {}; t.self = t
      return t
    end }
    assert.equal(2, stats.failed)
    assert.matches("cannot leave its worker process: it holds a function", stats.failures[1].error)
    assert.matches("cycle", stats.failures[2].error)
  end)

  it("keeps a crash, an os.exit and a hang to their own scenes, killing what the hung one started", function()
    local wf = workflow(([[
      local explainer = require "explainer"
      return { process_scene = function(scene, dir)
        local n = scene.scene_number
        if n == 1 then os.exit(3) end
        if n == 2 then os.execute("kill -SEGV $PPID; sleep 5") end
        if n == 3 then os.execute("sh -c 'echo $$ > %s/hang3.pid; exec sleep 30'") end
        if n == 4 then explainer.exec { "sh", "-c", "echo $$ > %s/hang4.pid; exec sleep 31" } end
        if n == 5 then local t = setmetatable({}, { __gc = function() error("x") end }); collectgarbage() end
        local f = assert(io.open(dir .. "/final.png", "w")); f:write("x"); f:close()
        print("done " .. n)
      end }]]):format(dir, dir))
    local stdout, err, code = h.run { wf, film, "--output-dir", out, "-j", "4", "--timeout", "1.5" }
    assert.equal(1, code, err)
    assert.matches("Scene 1: Failed: worker exited with status 3 before the processor returned", err)
    assert.matches("Scene 2: Failed: worker crashed %(signal %d+", err) -- 11; ASan makes it 6
    assert.matches("Scene 3: Failed: timed out after 1%.5 s", err)
    assert.matches("Scene 4: Failed: timed out after 1%.5 s", err)
    assert.matches("Completed: 4", err)
    assert.matches("Failed: 4", err)
    for _, n in ipairs { 0, 5, 6, 7 } do assert.matches("done " .. n .. "\n", stdout) end
    for _, n in ipairs { 3, 4 } do
      local pid = tonumber(h.read(dir .. "/hang" .. n .. ".pid"))
      assert.is_number(pid)
      assert.is_false(alive(pid), "sleep of scene " .. n .. " still runs")
    end
  end)

  it("retries a flaky scene with backoff until it succeeds, recording each attempt", function()
    local stats = run { jobs = 2, retries = 2, retry_delay = 0.05, progress = "quiet",
      scene_numbers = { 1, 2, 3 },
      process_scene = function(scene, d)
        local mark = d .. "/tried"
        if scene.scene_number ~= 3 and not h.exists(mark) then
          h.write(mark, "")
          error("flaky " .. scene.scene_number)
        end
        if scene.scene_number == 3 then error("always") end
      end }
    assert.equal(2, stats.completed)
    assert.equal(1, stats.failed)
    local by = {}
    for _, s in ipairs(stats.scenes) do by[s.scene_number] = s end
    assert.equal(2, by[1].attempts)
    assert.equal(3, by[3].attempts)
    local report = cjson.decode(h.read(out .. "/film/report.json"))
    local r1 = report.scenes[1]
    assert.equal(1, r1.scene_number)
    assert.equal(2, #r1.attempts)
    assert.matches("flaky 1", r1.attempts[1].error)
    assert.equal(cjson.null, r1.attempts[2].error)
    assert.equal(3, #report.scenes[3].attempts)
  end)

  it("retries in this process too (jobs = 1), emitting retry events", function()
    local n = 0
    local wf = workflow([[
      return { process_scene = function(scene, d)
        local f = io.open(d .. "/tried")
        if not f then io.open(d .. "/tried", "w"):close(); return nil, "not yet" end
        f:close()
      end }]])
    local _, err, code = h.run { wf, film, "--output-dir", out, "--retries", "1",
      "--retry-delay", "0.01", "--progress", "json", "--scenes", "1,2" }
    assert.equal(0, code, err)
    local events = {}
    for line in err:gmatch("[^\n]+") do
      local e = cjson.decode(line)
      events[#events + 1] = e.event
      if e.event == "retry" then n = n + 1; assert.equal("not yet", e.error); assert.equal(2, e.attempt) end
    end
    assert.equal(2, n)
    assert.same({ "start", "retry", "start", "done", "start", "retry", "start", "done", "summary" }, events)
  end)

  it("keeps scene starts under the rate across all workers", function()
    local stats = run { jobs = 4, rate = "20/s", process_scene = function() end }
    assert.equal(8, stats.completed)
    -- 8 starts at most 1/20 s apart: the last one no sooner than 7/20 s
    assert.is_true(stats.elapsed_time >= 7 / 20 - 0.01, tostring(stats.elapsed_time))
    assert.has_error(function() run { rate = "fast", process_scene = print } end)
  end)

  it("relays the workers' output whole lines at a time", function()
    local wf = workflow([[
      return { process_scene = function(scene)
        for i = 1, 300 do
          io.write("scene ", scene.scene_number, " line ", i, " ")
          io.write(string.rep("x", 80), "\n")
        end
        io.stderr:write("err " .. scene.scene_number .. "\n")
      end }]])
    local stdout, err, code = h.run { wf, film, "--output-dir", out, "-j", "4" }
    assert.equal(0, code, err)
    local lines = 0
    for line in stdout:gmatch("[^\n]*\n") do
      lines = lines + 1
      assert.matches("^scene %d line %d+ x+\n$", line)
      assert.equal(80, #line:match("x+"))
    end
    assert.equal(8 * 300, lines)
    for n = 0, 7 do assert.matches("\nerr " .. n .. "\n", err) end
  end)

  describe("interrupts", function()
    local function slow_workflow()
      return workflow(([[
        local core = require "explainer_core"
        return { process_scene = function(scene, d)
          io.open(%q .. "/started_" .. scene.scene_number, "w"):close()
          for _ = 1, 200 do core.sleep(0.025) end
          io.open(d .. "/final.png", "w"):close()
        end }]]):format(dir))
    end

    it("leaves no program of a processor running after a kill -9 of the run", function()
      for _, extra in ipairs { {}, { "-j", "2" } } do
        local pidfile = dir .. "/child.pid"
        os.remove(pidfile)
        local wf = workflow(([[
          return { process_scene = function(scene)
            if scene.scene_number ~= 0 then return end
            require('explainer').exec({ 'sh', '-c', 'echo $$ > %s.tmp && mv %s.tmp %s && exec sleep 60' })
          end }]]):format(pidfile, pidfile, pidfile))
        local args = { wf, film, "--output-dir", out, "--no-skip" }
        for _, a in ipairs(extra) do args[#args + 1] = a end
        local p = spawn(dir, args)
        wait_for(pidfile)
        local child = tonumber(h.read(pidfile))
        assert.is_true(alive(child), "the program runs")
        os.execute(("kill -9 %d"):format(p.pid))
        local deadline = os.time() + 5
        while alive(child) and os.time() <= deadline do core.sleep(0.05) end
        assert.is_false(alive(child), "sleep outlived the run (" .. (#extra > 0 and "workers" or "in-process") .. ")")
      end
    end)

    it("stops a long core.sleep and a long exec'd program on SIGINT in this process", function()
      for _, body in ipairs {
        "require('explainer_core').sleep(60)",
        "require('explainer').exec({ 'sleep', '60' })",
      } do
        local wf = workflow(([[
          return { process_scene = function(scene)
            io.open(%q .. "/started_" .. scene.scene_number, "w"):close()
            %s
          end }]]):format(dir, body))
        local p = spawn(dir, { wf, film, "--output-dir", out })
        wait_for(dir .. "/started_0")
        core.sleep(0.2)
        local t0 = os.time()
        os.execute(("kill -INT %d"):format(p.pid))
        local _, err, code = p.wait(20)
        assert.equal(130, code, err)
        assert.is_true(os.time() - t0 < 10, body .. " held the interrupt back")
        os.remove(dir .. "/started_0")
      end
    end)

    for _, case in ipairs {
      { "SIGINT", "INT", 130, { "-j", "2" } },
      { "SIGTERM", "TERM", 143, { "-j", "2" } },
      { "SIGINT", "INT", 130, {} }, -- in this process: the Lua hook stops the processor
    } do
      local name, sig, status, extra = case[1], case[2], case[3], case[4]
      it(("stops on %s (%s), ends running scenes undone, writes the report, exits %d")
        :format(name, #extra > 0 and "workers" or "in-process", status), function()
        local args = { slow_workflow(), film, "--output-dir", out }
        for _, a in ipairs(extra) do args[#args + 1] = a end
        local p = spawn(dir, args)
        wait_for(dir .. "/started_0")
        core.sleep(0.1)
        os.execute(("kill -%s %d"):format(sig, p.pid))
        local _, err, code = p.wait(10)
        assert.equal(status, code, err)
        assert.matches("Interrupted by " .. name, err)
        assert.matches("Completed: 0", err)
        local report = cjson.decode(h.read(out .. "/film/report.json"))
        assert.equal(name, report.interrupted)
        assert.equal("interrupted", report.scenes[1].reason)
        assert.is_nil(h.exists(out .. "/film/scene_00/final.png") and true or nil)
        assert.is_false(h.exists(dir .. "/started_3"), "no new scene after the signal")
        -- the interrupted scenes are "incomplete" for the next run
        local st = assert(explainer.status(film, { output_base_dir = out, workflow = "wf" }))
        assert.equal("incomplete", st[1].reason)
        assert.equal("new", st[4].reason)
      end)
    end
  end)
end)
