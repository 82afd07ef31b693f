--- `explainer slurm` against a stand-in `sbatch` that records what it is given
-- (the real one-node cluster is `make test-slurm`, tests/slurm/run.sh).
local h = require "helpers"

local q = h.shell_quote

-- Records each call's arguments and job script (stdin), answers job ids 101, 102...
-- SBATCH_FAIL=1 makes it fail as sbatch does without a controller.
local FAKE_SBATCH = [[#!/bin/sh
dir=%s
if [ -n "$SBATCH_FAIL" ]; then
  echo "sbatch: error: Batch job submission failed: Unable to contact slurm controller" >&2
  exit 1
fi
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/count"
printf '%%s\n' "$@" > "$dir/argv.$n"
cat > "$dir/script.$n"
echo "$((100 + n));cluster"
]]

-- A light workflow: each scene appends to a log; finish too.
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
    local f = assert(io.open(dir .. "/done.txt", "w"))
    f:close()
    append("scene " .. scene.scene_number)
  end,
  finish = function(stats) append("finish completed=" .. stats.completed) end,
}
]]

describe("explainer slurm", function()
  local dir, calls, film, flow, log, env

  before_each(function()
    dir = h.tmpdir()
    calls = dir .. "/calls"
    assert(require("lfs").mkdir(calls))
    h.write(dir .. "/sbatch", FAKE_SBATCH:format(q(calls)))
    os.execute("chmod +x " .. q(dir .. "/sbatch"))
    film = h.write(dir .. "/film.txt", h.script(7))
    log = dir .. "/log"
    flow = h.write(dir .. "/flow.lua", WORKFLOW:format(log))
    env = "PATH=" .. q(dir) .. ":\"$PATH\""
  end)
  after_each(function() h.rm_rf(dir) end)

  local function argv(n)
    local list = {}
    for line in (h.read(calls .. "/argv." .. n) or ""):gmatch("[^\n]+") do list[#list + 1] = line end
    return list
  end

  local function slurm(args, extra_env)
    local words = { "slurm", flow, film }
    for _, a in ipairs(args) do words[#words + 1] = a end
    return h.run(words, { env = env .. (extra_env and (" " .. extra_env) or ""), cwd = dir })
  end

  it("submits a job array of --shard tasks, then a finish job that depends on the array", function()
    local out, err, code = slurm { "--tasks", "3", "--output-dir", dir .. "/out",
      "--partition=short", "--jobs=2", "--", "--time", "10:00" }
    assert.equal(0, code, err)
    assert.matches("Submitted job array 101 %(3 tasks%) and finish job 102", out)
    assert.same({ "--parsable", "--array=1-3", "--job-name=explainer-film", "--partition=short",
      "--time", "10:00" }, argv(1))
    assert.same({ "--parsable", "--dependency=afterok:101", "--job-name=explainer-film-finish",
      "--partition=short", "--time", "10:00" }, argv(2))
    local array, finish = h.read(calls .. "/script.1"), h.read(calls .. "/script.2")
    assert.matches("^#!/bin/sh\n", array)
    assert.truthy(array:find(("exec %s %s %s --output-dir %s --jobs=2 --no-finish --shard \"$SLURM_ARRAY_TASK_ID/3\"\n")
      :format(h.bin, flow, film, dir .. "/out"), 1, true), array)
    assert.truthy(finish:find(("exec %s %s %s --output-dir %s --jobs=2 --finish-only\n")
      :format(h.bin, flow, film, dir .. "/out"), 1, true), finish)
  end)

  it("makes jobs that, run as Slurm runs them, do every scene once and finish once", function()
    local _, err, code = slurm { "--tasks", "3", "--output-dir", dir .. "/out", "--quiet" }
    assert.equal(0, code, err)
    for k = 1, 3 do
      local ok = os.execute(("cd %s && env -u LD_PRELOAD SLURM_ARRAY_TASK_ID=%d sh %s >/dev/null 2>&1")
        :format(q(dir), k, q(calls .. "/script.1")))
      assert.is_true(ok, "array task " .. k)
    end
    assert.is_nil((h.read(log) or ""):find("finish"), "no task ran finish")
    assert.is_true(os.execute(("cd %s && env -u LD_PRELOAD sh %s >/dev/null 2>&1")
      :format(q(dir), q(calls .. "/script.2"))))
    local scenes, finishes = {}, {}
    for line in h.read(log):gmatch("[^\n]+") do
      local n = line:match("^scene (%d+)$")
      if n then scenes[#scenes + 1] = tonumber(n) else finishes[#finishes + 1] = line end
    end
    table.sort(scenes)
    assert.same({ 0, 1, 2, 3, 4, 5, 6 }, scenes)
    assert.same({ "finish completed=7" }, finishes)
  end)

  it("runs one task per scene when --tasks is not given", function()
    local _, err, code = slurm {}
    assert.equal(0, code, err)
    assert.equal("--array=1-7", argv(1)[2])
  end)

  it("makes no more tasks than the scenes to run, saying so", function()
    local _, err, code = slurm { "--tasks", "1000" }
    assert.equal(0, code, err)
    assert.equal("--array=1-7", argv(1)[2])
    assert.matches("--tasks 1000 is more than the 7 scenes to run: 7 tasks", err, 1, true)
    assert.truthy(h.read(calls .. "/script.1"):find('--shard "$SLURM_ARRAY_TASK_ID/7"', 1, true))
    _, err, code = slurm { "--tasks=50", "--scenes", "2-4" }
    assert.equal(0, code, err)
    assert.equal("--array=1-3", argv(3)[2])
    -- the default too counts the scenes --scenes picks
    _, err, code = slurm { "--scenes", "2,5" }
    assert.equal(0, code, err)
    assert.equal("--array=1-2", argv(5)[2])
  end)

  it("says --tasks needs a value, and submits nothing", function()
    for _, args in ipairs { { "--tasks" }, { "--tasks", "--print" } } do
      local out, err, code = slurm(args)
      assert.equal(2, code)
      assert.equal("", out)
      assert.matches("^explainer: %-%-tasks needs a value", err)
      assert.equal(1, select(2, err:gsub("\n", "")), err)
    end
    assert.is_nil(h.read(calls .. "/count"))
  end)

  it("refuses FILEs whose outputs would share a folder, and submits nothing", function()
    assert(require("lfs").mkdir(dir .. "/b"))
    local twin = h.write(dir .. "/b/film.txt", h.script(3))
    local out, err, code = h.run({ "slurm", flow, film, twin }, { env = env, cwd = dir })
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal(("explainer: %s: same output folder as %s (output/film/); their outputs would "
      .. "overwrite each other\n"):format(twin, film), err)
    assert.is_nil(h.read(calls .. "/count"))
  end)

  it("finds a bundled workflow by name, and names it so in the job scripts", function()
    local words = { "slurm", "prompts", film, "--tasks", "2" }
    local _, err, code = h.run(words, { env = env, cwd = dir })
    assert.equal(0, code, err)
    assert.truthy(h.read(calls .. "/script.1"):find(" prompts " .. film, 1, true))
  end)

  it("prints both jobs with --print and submits nothing", function()
    local out, err, code = slurm { "--tasks", "2", "--print" }
    assert.equal(0, code, err)
    assert.matches("# array job: sbatch %-%-parsable %-%-array=1%-2", out)
    assert.matches("# finish job: sbatch %-%-parsable %-%-dependency=afterok:%$ARRAY_JOB_ID", out)
    assert.matches("%-%-finish%-only", out)
    assert.is_nil(h.read(calls .. "/count"))
  end)

  it("refuses the options it sets itself (--shard, --array, --finish-only)", function()
    for _, bad in ipairs { { "--shard", "1/2" }, { "--array=1-4" }, { "--finish-only" } } do
      local _, err, code = slurm(bad)
      assert.equal(2, code)
      assert.matches("is set by 'explainer slurm' itself", err)
    end
    assert.is_nil(h.read(calls .. "/count"))
  end)

  it("checks the workflow, the files and the run options before submitting anything", function()
    local _, err, code = h.run({ "slurm", dir .. "/none.lua", film }, { env = env })
    assert.equal(2, code)
    assert.matches("none.lua: cannot open workflow script", err)
    _, err, code = h.run({ "slurm", flow, dir .. "/none.txt" }, { env = env })
    assert.equal(2, code)
    assert.matches("none.txt", err)
    _, err, code = slurm { "--jobs", "zero" }
    assert.equal(2, code)
    assert.matches("--jobs: expected a whole number", err)
    _, err, code = slurm { "--tasks", "0" }
    assert.equal(2, code)
    assert.matches("--tasks: expected a whole number of at least 1", err)
    -- files the jobs would refuse: no scene, the same number twice
    local prose = h.write(dir .. "/prose.txt", "Dear reader,\nthis is a letter.\n")
    local twice = h.write(dir .. "/twice.txt", "## SCENE 1: A (6s)\n\n## SCENE 1: B (6s)\n")
    _, err, code = h.run({ "slurm", flow, film, prose }, { env = env })
    assert.equal(2, code)
    assert.matches('prose.txt: no scene header found (a scene starts at \'## SCENE n: Title\'', err, 1, true)
    _, err, code = h.run({ "slurm", flow, twice }, { env = env })
    assert.equal(2, code)
    assert.matches("duplicate scene number 1", err, 1, true)
    assert.is_nil(h.read(calls .. "/count"))
  end)

  it("explains itself with --help, submitting nothing", function()
    local out, err, code = slurm { "--help" }
    assert.equal(0, code, err)
    assert.matches("^usage: explainer slurm SCRIPT%.lua FILE%.txt", out)
    assert.is_nil(h.read(calls .. "/count"))
  end)

  it("says what sbatch said when it cannot submit", function()
    local _, err, code = slurm({}, "SBATCH_FAIL=1")
    assert.equal(2, code)
    assert.matches("Unable to contact slurm controller", err)
  end)
end)
