-- The command line refuses what it cannot do before anything runs or is written:
-- FILEs whose outputs would share a folder, and option values out of bounds,
-- repeated, missing or at odds, each with one usage line naming the option.
local h = require "helpers"
local lfs = require "lfs"

-- What one refused command line must look like: exit 2, nothing on stdout, one
-- line on stderr (no Lua position in it), and no file written under `dir`.
local function refused(args, dir, what)
  local before = {}
  for entry in lfs.dir(dir) do before[#before + 1] = entry end
  local out, err, code = h.run(args, { cwd = dir })
  what = what or table.concat(args, " ")
  assert.equal(2, code, what .. ": " .. err)
  assert.equal("", out, what)
  assert.equal(1, select(2, err:gsub("\n", "")), what .. ": " .. err)
  assert.is_nil(err:find("%.lua:%d+:"), what .. ": " .. err)
  local after = {}
  for entry in lfs.dir(dir) do after[#after + 1] = entry end
  table.sort(before)
  table.sort(after)
  assert.same(before, after, what .. ": wrote something")
  return err
end

describe("the command line", function()
  local dir, film

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(4))
    -- a run that printed, or a finish that ran, would show on stdout
    h.write(dir .. "/wf.lua", [[return { output_filename = "x.txt",
      process_scene = function(s, d) print("ran " .. s.scene_number)
        io.open(d .. "/x.txt", "w"):close() end,
      finish = function() print("finished") end }]])
  end)
  after_each(function() h.rm_rf(dir) end)

  describe("refuses FILEs whose outputs would share a folder", function()
    local pairs_of

    before_each(function()
      assert(lfs.mkdir(dir .. "/a"))
      assert(lfs.mkdir(dir .. "/b"))
      h.write(dir .. "/a/talk.txt", h.script(3))
      h.write(dir .. "/b/talk.txt", h.script(2))
      h.write(dir .. "/talk.md", h.script(2))
      pairs_of = { { "a/talk.txt", "b/talk.txt" }, { "a/talk.txt", "talk.md" },
        { "film.txt", "./film.txt" }, { "film.txt", "film.txt" } }
    end)

    it("in a run, a dry run, --finish-only and --jobs: one line naming both, exit 2", function()
      for _, files in ipairs(pairs_of) do
        for _, extra in ipairs { {}, { "--dry-run" }, { "--finish-only" }, { "--jobs", "2" } } do
          local args = { "wf.lua", files[1], files[2], table.unpack(extra) }
          local err = refused(args, dir)
          if files[1] == files[2] then
            assert.equal("explainer: film.txt: given twice\n", err)
          else
            assert.equal(("explainer: %s: same output folder as %s (output/%s/); "
              .. "their outputs would overwrite each other\n"):format(files[2], files[1],
              files[1]:match("([^/]+)%.%a+$")), err)
          end
        end
      end
    end)

    it("under the output folder the run would use", function()
      local err = refused({ "wf.lua", "a/talk.txt", "b/talk.txt", "--output-dir", "out" }, dir)
      assert.matches("(out/talk/)", err, 1, true)
    end)

    it("in status, estimate and slurm", function()
      for _, files in ipairs(pairs_of) do
        refused({ "status", "wf.lua", files[1], files[2] }, dir)
        refused({ "estimate", "video", files[1], files[2] }, dir)
        refused({ "slurm", "wf.lua", files[1], files[2], "--print" }, dir)
      end
    end)

    it("but runs files of one name in different output folders, one at a time", function()
      for _, sub in ipairs { "a", "b" } do
        local _, err, code = h.run({ "wf.lua", sub .. "/talk.txt", "--output-dir", "out-" .. sub },
          { cwd = dir })
        assert.equal(0, code, err)
      end
    end)
  end)

  it("gives a workflow called swept a journal folder of its own", function()
    -- (the once-an-hour sweep kept its stamp in .explainer/swept, the folder
    -- of such a workflow's journal)
    local other = h.write(dir .. "/other.lua", [[return { output_filename = "o.txt",
      process_scene = function(s, d) io.open(d .. "/o.txt", "w"):close() end }]])
    local swept = h.write(dir .. "/swept.lua", [[return { output_filename = "s.txt",
      process_scene = function(s, d) io.open(d .. "/s.txt", "w"):close() end }]])
    for i, order in ipairs { { other, swept }, { swept, other } } do
      local out = dir .. "/out" .. i
      for _, script in ipairs(order) do
        local _, err, code = h.run { script, film, "--output-dir", out }
        assert.equal(0, code, script .. ": " .. err)
        assert.matches("Completed: 4", err, 1, true)
      end
      local text, err, code = h.run { "status", swept, film, "--output-dir", out }
      assert.equal(0, code, err)
      assert.matches("4 scenes: 4 fresh", text, 1, true)
    end
  end)

  describe("gives one usage line naming the option, exit 2, for a value", function()
    -- option (as the message names it), then the command line
    local RUN = {
      { "--scenes", "--scenes", "99999999999999999999" },
      { "--scenes", "--scenes", "9223372036854775808" },
      { "--scenes", "--scenes", "5-99999999999999999999" },
      { "--scenes", "--scenes", "1,99999999999999999999" },
      { "--shard", "--shard", "1/99999999999999999999" },
      { "--shard", "--shard", "1/2147483648" },
      { "--shard", "--shard", "99999999999999999999/2" },
      { "--shard", "--shard", "-1/2" },
      { "--jobs", "--jobs", "2147483648" },
      { "--jobs", "--jobs", "4294967297" },
      { "--jobs", "--jobs", "99999999999999999999" },
      { "--jobs", "--jobs", "100000" },
      { "-j", "-j", "-1" },
      { "--retries", "--retries", "4294967296" },
      { "--retries", "--retries", "-1" },
      { "--timeout", "--timeout", "1e400" },
      { "--timeout", "--timeout", "-5" },
      { "--timeout", "--timeout", "0x10" },
      { "--timeout", "--timeout", "99999999999" },
      { "--retry-delay", "--retry-delay", "1e400" },
      { "--retry-delay", "--retry-delay", "-1" },
      { "--rate", "--rate", "1e400" },
      { "--rate", "--rate", "0.000001/hour" },
      { "--rate", "--rate", "-1/s" },
    }

    it("out of bounds, in a run, a dry run, status and slurm", function()
      for _, case in ipairs(RUN) do
        local option, flag, value = case[1], case[2], case[3]
        local dry = { "wf.lua", "film.txt", "--dry-run", flag, value }
        if flag:match("^%-%-") then dry = { "wf.lua", "film.txt", "--dry-run", flag .. "=" .. value } end
        for _, args in ipairs { { "wf.lua", "film.txt", flag, value }, dry,
            { "slurm", "wf.lua", "film.txt", "--print", flag, value } } do
          if not (args[1] == "slurm" and flag == "--shard") then
            local err = refused(args, dir)
            assert.matches("^explainer: " .. option:gsub("%-", "%%-") .. "[: ]", err)
          end
        end
        if flag == "--scenes" or flag == "--shard" then
          local err = refused({ "status", "wf.lua", "film.txt", flag, value }, dir)
          assert.matches("^explainer: " .. flag:gsub("%-", "%%-") .. ": ", err)
        end
      end
    end)

    it("out of bounds in init, check and cache", function()
      for _, case in ipairs {
        { "--scenes", "init", "--scenes", "99999999999999999999" },
        { "--scenes", "init", "new.txt", "--scenes", "1001" },
        { "--scenes", "init", "--scenes", "1e400" },
        { "--pace", "check", "film.txt", "--pace", "1e400" },
        { "--pace", "check", "film.txt", "--pace", "0x20" },
        { "--max-size", "cache", "prune", "--cache-dir", "c", "--max-size", "99999999999999999999G" },
      } do
        local err = refused({ table.unpack(case, 2) }, dir)
        assert.matches("^explainer: " .. case[1]:gsub("%-", "%%-") .. ": ", err)
      end
      local out, err, code = h.run({ "init", "--scenes", "1000" }, { cwd = dir })
      assert.equal(0, code, err)
      assert.matches("1000 SCENES", out, 1, true)
    end)

    it("given twice, or two flags for one option", function()
      for _, args in ipairs {
        { "wf.lua", "film.txt", "--output-dir", "a", "--output-dir", "b" },
        { "wf.lua", "film.txt", "--output-dir=a", "--output-dir", "a" },
        { "wf.lua", "film.txt", "-j", "2", "--jobs", "3" },
        { "wf.lua", "film.txt", "--quiet", "--progress", "json" },
        { "wf.lua", "film.txt", "--scenes", "1", "--scenes", "2" },
        { "status", "wf.lua", "film.txt", "--output-dir", "a", "--output-dir", "b" },
        { "slurm", "wf.lua", "film.txt", "--print", "--output-dir", "a", "--output-dir", "b" },
        { "slurm", "wf.lua", "film.txt", "--print", "--tasks", "2", "--tasks", "3" },
        { "check", "film.txt", "--caret", "--no-caret" },
        { "init", "--title", "A", "--title", "B" },
      } do
        local err = refused(args, dir)
        assert.truthy(err:match("^explainer: %-[%-%w]+ is given twice")
          or err:match("^explainer: %-[%-%w]+ and %-[%-%w]+ set the same option: give one"), err)
      end
      -- --disable adds up, as it says
      local _, err, code = h.run({ "check", "film.txt", "--disable", "pacing", "--disable", "placeholder" },
        { cwd = dir })
      assert.equal(0, code, err)
    end)

    it("missing: at the end of the line, or another option where it should be", function()
      for _, case in ipairs {
        { "--output-dir", "wf.lua", "film.txt", "--output-dir" },
        { "--output-dir", "wf.lua", "film.txt", "--output-dir", "--no-skip" },
        { "--jobs", "wf.lua", "film.txt", "--jobs", "--dry-run" },
        { "--scenes", "status", "wf.lua", "film.txt", "--scenes", "--json" },
        { "--title", "init", "--title", "--scenes", "3" },
        { "--tasks", "slurm", "wf.lua", "film.txt", "--tasks" },
        { "--tasks", "slurm", "wf.lua", "film.txt", "--tasks", "--print" },
        { "--output-dir", "slurm", "wf.lua", "film.txt", "--output-dir", "--print" },
      } do
        local err = refused({ table.unpack(case, 2) }, dir)
        assert.matches("^explainer: " .. case[1]:gsub("%-", "%%-") .. " needs a value", err)
      end
      -- a value that only looks like an option is said with =
      local _, err, code = h.run({ "wf.lua", "film.txt", "--output-dir=--no-skip" }, { cwd = dir })
      assert.equal(0, code, err)
      assert.truthy(h.exists(dir .. "/--no-skip/film/scene_01/x.txt"))
    end)

    it("--finish-only with --no-finish or --dry-run: refused, finish not run", function()
      for _, other in ipairs { "--no-finish", "--dry-run" } do
        local err = refused({ "wf.lua", "film.txt", "--finish-only", other }, dir)
        assert.equal(("explainer: --finish-only and %s cannot go together (see explainer --help)\n")
          :format(other), err)
      end
    end)
  end)

  it("names --prices, not EXPLAINER_PRICES, for a price file it cannot open", function()
    local err = refused({ "estimate", "video", "film.txt", "--prices", "none.json" }, dir)
    assert.equal("explainer: --prices: none.json: No such file or directory\n", err)
    local out, code
    out, err, code = h.run({ "estimate", "video", "film.txt" }, { cwd = dir, env = "EXPLAINER_PRICES=none.json" })
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("explainer: EXPLAINER_PRICES: none.json: No such file or directory\n", err)
  end)
end)

describe("the core's options", function()
  it("refuses an integer too large for its C field instead of cutting it", function()
    local core = require "explainer_core"
    local dir = h.tmpdir()
    local doc = assert(core.open(h.write(dir .. "/film.txt", h.script(2))))
    for _, name in ipairs { "jobs", "retries", "shard_count" } do
      local ok, err = pcall(core.run, doc, doc:table(true), function() end,
        { [name] = 4294967297, shard_index = 1, dry_run = true, progress = "quiet",
          output_base_dir = dir .. "/out" })
      assert.is_false(ok, name)
      assert.matches("bad option '" .. name .. "' %(out of range", err)
    end
    h.rm_rf(dir)
  end)

  it("are bounded as the command line bounds them, for workflows too", function()
    local explainer = require "explainer"
    local dir = h.tmpdir()
    local film = h.write(dir .. "/film.txt", h.script(2))
    for name, value in pairs { jobs = 2147483648, retries = 1e10, timeout = 1e400,
        retry_delay = -1, rate = 1e-9, shard = "1/2147483648" } do
      local stats, err = explainer.orchestrate_workflow { explainer_path = film, [name] = value,
        process_scene = function() end, progress = "quiet", dry_run = true,
        output_base_dir = dir .. "/out" }
      assert.is_nil(stats, name)
      assert.matches("^" .. name .. ": ", err)
    end
    h.rm_rf(dir)
  end)
end)

describe("a bad setting in the environment", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  -- Found by the review: EXPLAINER_CAPTIONS and EXPLAINER_TRANSITION failed
  -- the workflow's setup (exit 1, "video: setup: ..."), the others said
  -- "inputs(scene) failed for scene 0: ..." (a hook's name, the wrong scene).
  for _, case in ipairs {
    { "EXPLAINER_CAPTIONS", "is not a mode" }, { "EXPLAINER_TRANSITION", "is not an xfade transition" },
    { "EXPLAINER_VOICE", "no voice 'bogus'" }, { "EXPLAINER_MOTION", "is not a motion" },
    { "EXPLAINER_TEXT_ANIMATION", "is not an animation" }, { "EXPLAINER_CARD", "is not a card" },
    { "EXPLAINER_VIDEO_FPS", "is not a number" },
  } do
    it(("is one line naming %s, exit 2, nothing written"):format(case[1]), function()
      local out = dir .. "/out"
      local stdout, err, code = h.run({ "video", h.root .. "/examples/sample.txt", "--output-dir", out,
                                        "--scenes", "1" }, { env = case[1] .. "=bogus" })
      assert.equal(2, code, err)
      assert.equal("", stdout)
      assert.matches("^explainer: " .. case[1] .. ": [^\n]*" .. case[2]:gsub("%p", "%%%0") .. "[^\n]*\n$", err)
      assert.is_nil(h.exists(out) or nil, "nothing written")
    end)
  end
end)
