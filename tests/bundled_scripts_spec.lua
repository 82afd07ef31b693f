--- Bundled workflows by name (`explainer video FILE`), `explainer scripts`, and an
-- installed tree (`make install`) that finds its modules, scripts, man page and
-- completions.
local h = require "helpers"

local q = h.shell_quote
local SAMPLE = h.root .. "/examples/sample.txt"

describe("bundled workflows", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  it("are listed by explainer scripts, one line each, from each script's first comment", function()
    local out, err, code = h.run { "scripts" }
    assert.equal(0, code, err)
    local names = {}
    for name in out:gmatch("([%w_-]+)  [^\n]*\n") do names[#names + 1] = name end
    assert.same({ "audio", "image", "prompts", "video" }, names)
    assert.matches("\nimage +an image per scene: output/<name>/scene_NN/final%.png%.\n", "\n" .. out)
    assert.matches("\nvideo +a narrated video: a clip per scene, then the film " ..
      "output/<name>/<name>%.mp4 with the clips in scene order%.\n", "\n" .. out)
  end)

  it("live in the folder explainer scripts --path prints (the repository's scripts/ here)", function()
    local out, _, code = h.run { "scripts", "--path" }
    assert.equal(0, code)
    local lfs = require "lfs"
    local want = lfs.currentdir() .. "/" .. h.root .. "/scripts"
    if h.root:sub(1, 1) == "/" then want = h.root .. "/scripts" end
    assert.equal(lfs.attributes(want, "ino"), lfs.attributes(out:gsub("\n$", ""), "ino"))
  end)

  it("run by name from any folder: explainer prompts FILE", function()
    local _, err, code = h.run({ "prompts", SAMPLE, "--output-dir", "out", "--scenes", "1-2" },
      { cwd = dir })
    assert.equal(0, code, err)
    assert.matches("Completed: 2", err)
    assert.matches("# Scene 1: ", h.read(dir .. "/out/sample/scene_01/prompts.md"))
    assert.truthy(h.read(dir .. "/out/sample/scene_02/prompts.md"))
  end)

  it("also run as NAME.lua, while a file of that name in the current folder wins", function()
    h.write(dir .. "/prompts.lua", [[
      return { output_filename = "mine.txt", process_scene = function(_, d)
        local f = assert(io.open(d .. "/mine.txt", "w")); f:close() end }]])
    local _, err, code = h.run({ "prompts.lua", SAMPLE, "--output-dir", "out", "--scenes", "1" },
      { cwd = dir })
    assert.equal(0, code, err)
    assert.is_true(h.exists(dir .. "/out/sample/scene_01/mine.txt"))
    assert.is_false(h.exists(dir .. "/out/sample/scene_01/prompts.md"))
  end)

  it("are found in EXPLAINER_SCRIPTS_DIR when it is set", function()
    h.write(dir .. "/hello.lua", "-- hello.lua -- says hello.\nreturn { process_scene = function() end }\n")
    local out, err, code = h.run({ "scripts" }, { env = "EXPLAINER_SCRIPTS_DIR=" .. q(dir) })
    assert.equal(0, code, err)
    assert.equal("hello  says hello.\n", out)
  end)

  it("an unknown name fails with exit 2, naming it and pointing at explainer scripts", function()
    local _, err, code = h.run({ "nosuchflow", SAMPLE }, { cwd = dir })
    assert.equal(2, code)
    assert.matches("^explainer: nosuchflow: cannot open workflow script .*explainer scripts", err)
  end)
end)

describe("make install", function()
  local prefix
  local build = h.bin:match("^(.*)/[^/]*$")

  setup(function()
    prefix = h.tmpdir()
    local ok = os.execute(("env -u LD_PRELOAD make -s -C %s install PREFIX=%s BUILD=%s >%s/make.log 2>&1")
      :format(q(h.root), q(prefix), q(build), q(prefix)))
    assert(ok, h.read(prefix .. "/make.log"))
  end)
  teardown(function() h.rm_rf(prefix) end)

  it("puts the command, modules, core, scripts and completions in their standard places", function()
    for _, path in ipairs {
      "bin/explainer", "lib/lua/5.4/explainer_core.so", "share/lua/5.4/explainer/init.lua",
      "share/lua/5.4/explainer/cli.lua", "share/lua/5.4/explainer/slurm.lua",
      "share/lua/5.4/explainer/recipes/video.lua", "share/explainer/scripts/video.lua",
      "share/explainer/scripts/prompts.lua", "share/bash-completion/completions/explainer",
      "share/zsh/vendor-completions/_explainer" } do
      assert.is_true(h.exists(prefix .. "/" .. path), path)
    end
  end)

  it("installs the man page that man can read, when scdoc built it", function()
    if not h.exists(build .. "/explainer.1") then
      pending("scdoc is not installed, so make built no man page")
      return
    end
    local p = io.popen(("env -u LD_PRELOAD MANWIDTH=80 man -l %s 2>&1")
      :format(q(prefix .. "/share/man/man1/explainer.1")))
    local text = p:read("a")
    p:close()
    assert.matches("explainer %- turn explainer scripts into", text)
    assert.matches("%-%-finish%-only", text)
  end)

  it("gives a command that runs a bundled workflow by name from anywhere", function()
    local work = h.tmpdir()
    local out, err, code = h.run({ "scripts", "--path" }, { bin = prefix .. "/bin/explainer" })
    assert.equal(0, code, err)
    assert.equal(prefix .. "/share/explainer/scripts\n", out)
    local _, run_err, run_code = h.run({ "prompts", SAMPLE, "--output-dir", "out", "--scenes", "3" },
      { bin = prefix .. "/bin/explainer", cwd = work })
    local made = h.exists(work .. "/out/sample/scene_03/prompts.md")
    h.rm_rf(work)
    assert.equal(0, run_code, run_err)
    assert.is_true(made)
  end)
end)
