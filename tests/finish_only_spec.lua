--- --finish-only and --no-finish (explainer.finish_only): a workflow's finish run
-- once, after sharded runs, on what the journal says is done.
local h = require "helpers"

-- A light workflow: each scene writes done.txt and a line to the log; finish
-- writes what it was given. FAIL_SCENE=n makes scene n fail.
local WORKFLOW = [[
local log = %q
local function append(line)
  local f = assert(io.open(log, "a"))
  f:write(line, "\n")
  f:close()
end
return {
  output_filename = "done.txt",
  process_scene = function(scene, dir)
    if tostring(scene.scene_number) == os.getenv("FAIL_SCENE") then return nil, "boom" end
    local f = assert(io.open(dir .. "/done.txt", "w"))
    f:write("x")
    f:close()
    append("scene " .. scene.scene_number)
  end,
  finish = function(stats, document, opts)
    if os.getenv("FAIL_FINISH") then error("cannot join", 0) end
    local dirs = 0
    for _, s in ipairs(stats.scenes) do if s.output_dir then dirs = dirs + 1 end end
    append(("finish total=%%d completed=%%d failed=%%d locked=%%d failures=%%d dirs=%%d only=%%s doc=%%s out=%%s")
      :format(stats.total, stats.completed, stats.failed, stats.locked, #stats.failures, dirs,
        tostring(stats.finish_only), document.name, tostring(opts.output_base_dir)))
  end,
}
]]

describe("--finish-only and --no-finish", function()
  local dir, film, flow, log

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(6))
    log = dir .. "/log"
    flow = h.write(dir .. "/flow.lua", WORKFLOW:format(log))
  end)
  after_each(function() h.rm_rf(dir) end)

  local function run(args, env)
    local argv = { flow, film, "--output-dir", dir .. "/out", "--quiet" }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    return h.run(argv, { env = env })
  end

  local function lines(prefix)
    local list = {}
    for line in (h.read(log) or ""):gmatch("[^\n]+") do
      if line:sub(1, #prefix) == prefix then list[#list + 1] = line end
    end
    return list
  end

  it("runs the scenes of each shard but not finish with --no-finish", function()
    local _, err, code = run { "--shard", "1/2", "--no-finish" }
    assert.equal(0, code, err)
    _, err, code = run { "--shard", "2/2", "--no-finish" }
    assert.equal(0, code, err)
    assert.equal(6, #lines("scene "))
    assert.same({}, lines("finish"))
  end)

  it("then runs finish once on all shards' scenes, running none again", function()
    run { "--shard", "1/2", "--no-finish" }
    run { "--shard", "2/2", "--no-finish" }
    local _, err, code = run { "--finish-only" }
    assert.equal(0, code, err)
    assert.equal(6, #lines("scene "), "no scene ran again")
    assert.same({ "finish total=6 completed=6 failed=0 locked=0 failures=0 dirs=6 only=true doc=film out="
      .. dir .. "/out" }, lines("finish"))
    assert.matches("Finish only for .*film.txt: 6 scenes, 6 done, 0 failed, 0 not done", err)
  end)

  it("counts a failed scene as failed and exits 1, and a scene never run as not done", function()
    run({ "--shard", "1/2", "--no-finish" }, "FAIL_SCENE=2")
    local _, err, code = run { "--finish-only" }
    assert.equal(1, code)
    assert.same({ "finish total=6 completed=2 failed=1 locked=0 failures=1 dirs=6 only=true doc=film out="
      .. dir .. "/out" }, lines("finish"))
    assert.matches("6 scenes, 2 done, 1 failed, 3 not done", err)
  end)

  it("reports a finish that raises as the workflow's failure (exit 1)", function()
    run {}
    local _, err, code = run({ "--finish-only" }, "FAIL_FINISH=1")
    assert.equal(1, code)
    assert.matches("finish: cannot join", err)
  end)

  it("only counts the scenes when the workflow has no finish hook", function()
    local plain = h.write(dir .. "/plain.lua", [[
      return { output_filename = "done.txt", process_scene = function(_, d)
        local f = assert(io.open(d .. "/done.txt", "w")); f:close() end }]])
    local _, err, code = h.run { plain, film, "--output-dir", dir .. "/out", "--quiet" }
    assert.equal(0, code, err)
    _, err, code = h.run { plain, film, "--output-dir", dir .. "/out", "--finish-only" }
    assert.equal(0, code, err)
    assert.matches("6 scenes, 6 done, 0 failed, 0 not done", err)
  end)

  it("is explainer.finish_only from Lua, which hands finish the document and the stats", function()
    local explainer = require "explainer"
    run {}
    local seen
    local stats = assert(explainer.finish_only {
      explainer_path = film, output_base_dir = dir .. "/out", output_filename = "done.txt",
      workflow = "flow", -- the journal the command line's runs of flow.lua wrote
      finish = function(s, document) seen = { s.completed, document.title, #document.scenes } end,
    })
    assert.same({ 6, "Test Film", 6 }, seen)
    assert.is_true(stats.finish_only)
    assert.equal(6, stats.total)
    assert.same({}, stats.results)
    assert.equal("fresh", stats.scenes[1].reason)
  end)

  it("returns nil and a message naming a missing file, and raises on a missing path", function()
    local explainer = require "explainer"
    local stats, err = explainer.finish_only { explainer_path = dir .. "/none.txt" }
    assert.is_nil(stats)
    assert.matches("none.txt", err, 1, true)
    assert.has_error(function() explainer.finish_only {} end,
      "finish_only: option 'explainer_path' (string) is required")
  end)
end)
