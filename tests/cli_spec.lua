-- The command line: build/explainer, its subcommands, flags and exit status.
local h = require "helpers"
local cjson = require "cjson"

describe("explainer command line", function()
  local dir, film

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(4))
  end)

  after_each(function() h.rm_rf(dir) end)

  local function workflow(body)
    return h.write(dir .. "/wf.lua", body)
  end

  it("prints usage for --help and exits 0; with no arguments exits 2", function()
    local out, _, code = h.run { "--help" }
    assert.equal(0, code)
    assert.matches("usage: explainer SCRIPT%.lua FILE%.txt", out)
    assert.matches("%-%-abort%-on%-error", out)
    local _, _, code2 = h.run {}
    assert.equal(2, code2)
  end)

  it("has help for every command it lists, each a command the usage shows", function()
    local out, err, code = h.run { "help", "help" }
    assert.equal(0, code, err)
    local listed = {}
    for name in assert(out:match("\nCommands: ([^\n]+)"), out):gmatch("[^, ]+") do
      listed[#listed + 1] = name
    end
    assert.same(require("explainer.cli").commands(), listed)
    local usage = h.run { "--help" }
    for _, name in ipairs(listed) do
      local text, herr, hcode = h.run { "help", name }
      assert.equal(0, hcode, name .. ": " .. herr)
      assert.matches("^usage: explainer ", text)
      assert.equal(text, (h.run { name, "--help" }), name .. " --help is help " .. name)
      assert.truthy(usage:find("\n%s+explainer " .. name .. " "), name .. " is in the usage")
    end
  end)

  it("says what a bundled workflow does and how to run it, under help NAME", function()
    local scripts = h.run { "scripts" }
    for name, summary in scripts:gmatch("(%S+)%s+([^\n]+)") do
      local text, err, code = h.run { "help", name }
      assert.equal(0, code, name .. ": " .. err)
      assert.matches("^usage: explainer " .. name .. " FILE%.txt", text)
      local start = summary:sub(1, 20):gsub("%p", "%%%0")
      assert.truthy(text:lower():find(start:lower()), name .. ": " .. text)
    end
    assert.matches("help run", (h.run { "help", "video" }))
    local _, err, code = h.run { "help", "vidoe" }
    assert.equal(2, code)
    assert.matches("did you mean 'video'%?", err)
  end)

  it("answers a typo'd command shortly, with the command or workflow it is close to", function()
    for typo, meant in pairs { vidoe = "video", stauts = "status", ["imgae.lua"] = "image" } do
      local out, err, code = h.run { typo, film }
      assert.equal(2, code, typo)
      assert.equal("", out)
      assert.matches("did you mean '" .. meant .. "'%?\n$", err)
      assert.equal(1, select(2, err:gsub("\n", "")), err)
      assert.is_true(#err < 200, err)
    end
  end)

  it("names the command whose option is unknown, and points at its help", function()
    local _, err, code = h.run { "parse", film, "--output-dir", dir }
    assert.equal(2, code)
    assert.equal("explainer: parse takes no option '--output-dir' (see explainer help parse)\n", err)
    _, err = h.run { "cache", "--bogus" }
    assert.matches("cache takes no option '%-%-bogus' %(see explainer help cache%)", err)
  end)

  it("prints its version", function()
    local out, _, code = h.run { "--version" }
    assert.equal(0, code)
    assert.matches("^explainer %d+%.%d+%.%d+\n$", out)
  end)

  it("prints the parsed document as JSON with the contract's keys and nulls", function()
    local out, err, code = h.run { "parse", film, "--json" }
    assert.equal(0, code, err)
    local doc = cjson.decode(out)
    assert.equal("film", doc.name)
    assert.equal("Test Film", doc.title)
    assert.equal(4, doc.declared_scenes)
    assert.equal(4, #doc.scenes)
    local s0 = doc.scenes[1]
    assert.equal(0, s0.scene_number)
    assert.is_true(s0.no_narration)
    assert.equal(cjson.null, s0.narration)
    assert.equal(cjson.null, s0.final_prompt)
    assert.equal("table", type(s0.fields))
    for _, key in ipairs { "scene_number", "title", "duration", "line", "no_narration",
      "narration", "layout", "initial_prompt", "iterations", "final_prompt",
      "animation_prompt", "prompt", "fields" } do
      assert.is_not_nil(s0[key], "scene key " .. key)
    end
    assert.truthy(out:find('"warnings":[]', 1, true), "empty warnings is a JSON list")
  end)

  it("encodes an empty iterations list as [] and a missing title as null", function()
    local f = h.write(dir .. "/bare.txt", "## SCENE 2: Bare\nNarration: x\n")
    local out, _, code = h.run { "parse", f, "--json" }
    assert.equal(0, code)
    assert.truthy(out:find('"iterations":[]', 1, true))
    local doc = cjson.decode(out)
    assert.equal(cjson.null, doc.title)
    assert.equal(cjson.null, doc.declared_scenes)
  end)

  it("keeps the first value of a repeated label in fields, in Lua and in JSON", function()
    for _, extra in ipairs { 0, 20 } do -- 20 more labels: the writer's sorted path
      local lines = { "## SCENE 1: Moods", "Mood: calm", "" }
      for i = 1, extra do lines[#lines + 1] = ("Label %d: v%d\n"):format(i, i) end
      lines[#lines + 1] = "Mood: wild"
      local f = h.write(dir .. "/moods.txt", table.concat(lines, "\n") .. "\n")
      local doc = require("explainer").parse(f)
      assert.equal("calm", doc.scenes[1].fields.Mood)
      local out, _, code = h.run { "parse", f, "--json" }
      assert.equal(0, code)
      local fields = cjson.decode(out).scenes[1].fields
      assert.equal("calm", fields.Mood)
      if extra > 0 then assert.equal("v20", fields["Label 20"]) end
    end
  end)

  it("prints a readable summary without --json", function()
    local out, _, code = h.run { "parse", film }
    assert.equal(0, code)
    assert.matches("4 scenes %(4 declared%)", out)
    assert.matches("Scene 1: Scene Title 1 %(6 s%)", out)
  end)

  it("says 1 scene, 1 word, 1 iteration: singular for one", function()
    local one = h.write(dir .. "/one.txt", '# One\n\n## SCENE 1: A (5 seconds)\nNarration: Hello\n'
      .. 'Nano Banana Iterative Prompt:\n"Initial: x | Iteration 1: y"\n')
    local out, err, code = h.run { "parse", one }
    assert.equal(0, code, err)
    assert.matches("\n  1 scene, 5 s total\n", out)
    assert.matches("1 word narrated, image prompt %+ 1 iteration  ", out)
    local _, err2, code2 = h.run { "init", dir .. "/new.txt", "--scenes", "1" }
    assert.equal(0, code2, err2)
    assert.matches("%(1 scene%)", err2)
  end)

  it("prints the narration per scene, in text and JSON", function()
    local out, _, code = h.run { "narration", film }
    assert.equal(0, code)
    assert.equal("Scene 1: Narration of scene 1.\nScene 2: Narration of scene 2.\n", out)
    out = h.run { "narration", film, "--json" }
    local list = cjson.decode(out)
    assert.equal(4, #list)
    assert.equal(cjson.null, list[1].narration)
    assert.equal("Narration of scene 1.", list[2].narration)
  end)

  it("prints a narration's paragraphs as lines, under its scene; other control characters as \\xNN", function()
    local f = h.write(dir .. "/paras.txt", '## SCENE 1: A (6s)\nNarration: "Para one.\n\nPara two."\n\n'
      .. '## SCENE 2: B (6s)\nNarration: "Bell \a here."\n')
    local out, _, code = h.run { "narration", f }
    assert.equal(0, code)
    assert.equal("Scene 1: Para one.\n\n  Para two.\nScene 2: Bell \\x07 here.\n", out)
  end)

  it("exits 2 naming the file for a missing file and for a directory", function()
    local _, err, code = h.run { "parse", dir .. "/missing.txt" }
    assert.equal(2, code)
    assert.matches("missing%.txt: No such file or directory", err)
    assert.equal(1, select(2, err:gsub("\n", "")))
    _, err, code = h.run { "parse", dir }
    assert.equal(2, code)
    assert.matches("is a directory", err)
  end)

  it("estimates nothing for a file it cannot use: the error line alone, stdout empty", function()
    local empty = h.write(dir .. "/empty.txt", "")
    for _, args in ipairs { { "estimate", "video", dir .. "/none.txt" }, { "estimate", "video", dir },
        { "estimate", "video", empty, "--json" }, { "estimate", "video", film, empty } } do
      local what = table.concat(args, " ")
      local out, err, code = h.run(args)
      assert.equal(2, code, what)
      assert.equal("", out, what)
      assert.equal(1, select(2, err:gsub("\n", "")), what .. ": " .. err)
    end
  end)

  it("exits 2 on an unknown option or a bad --scenes list", function()
    local wf = workflow("return { process_scene = function() end }")
    local _, err, code = h.run { wf, film, "--bogus" }
    assert.equal(2, code)
    assert.matches("unknown option '%-%-bogus'", err)
    _, err, code = h.run { wf, film, "--scenes", "one" }
    assert.equal(2, code)
    assert.matches("%-%-scenes", err)
  end)

  it("runs a workflow script, with progress on stderr and stdout left to the processor", function()
    local wf = workflow([[
      return { process_scene = function(scene, dir)
        print("made " .. scene.scene_number)
        local f = assert(io.open(dir .. "/final.png", "w")); f:write("x"); f:close()
      end }]])
    local out, err, code = h.run { wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.equal("made 0\nmade 1\nmade 2\nmade 3\n", out)
    assert.matches("%[1/4%] Processing Scene 0: Scene Title 0", err)
    assert.matches("%[4/4%] Processing Scene 3: Scene Title 3", err)
    assert.matches("Completed: 4", err)
    assert.matches("Skipped: 0", err)
    assert.matches("Failed: 0", err)
    assert.matches("Time: %d+m %d%ds", err)
    assert.truthy(h.exists(dir .. "/out/film/scene_03/final.png"))
    -- the rerun skips every scene
    out, err, code = h.run { wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code)
    assert.equal("", out)
    assert.matches("%[2/4%] Scene 1: Scene Title 1\n%s+Skipping %(output already exists%)", err)
    assert.matches("Skipped: 4", err)
  end)

  it("lets flags override the script's table", function()
    local wf = workflow([[
      return { output_base_dir = "ignored", output_filename = "a.txt",
        scene_numbers = { 0 },
        process_scene = function(scene, dir)
          print(scene.scene_number, dir)
          local f = assert(io.open(dir .. "/b.txt", "w")); f:close()
        end }]])
    local out, err, code = h.run { wf, film, "--scenes", "1,3", "--output-dir", dir .. "/o",
      "--output-filename", "b.txt" }
    assert.equal(0, code, err)
    assert.equal(("1\t%s/o/film/scene_01\n3\t%s/o/film/scene_03\n"):format(dir, dir), out)
    out = h.run { wf, film, "--scenes", "1-3", "--output-dir", dir .. "/o",
      "--output-filename", "b.txt" }
    assert.equal(("2\t%s/o/film/scene_02\n"):format(dir), out)
    out = h.run { wf, film, "--scenes=1", "--no-skip", "--output-dir", dir .. "/o",
      "--output-filename", "b.txt" }
    assert.equal(("1\t%s/o/film/scene_01\n"):format(dir), out)
  end)

  it("exits 1 when a scene fails, reporting the reason, and goes on", function()
    local wf = workflow([[
      return { output_base_dir = ... or "x", process_scene = function(scene)
        if scene.scene_number == 1 then return nil, "quota exceeded" end
        print("ran " .. scene.scene_number)
      end }]])
    local out, err, code = h.run { wf, film, "--output-dir", dir .. "/o" }
    assert.equal(1, code)
    assert.equal("ran 0\nran 2\nran 3\n", out)
    assert.matches("Failed: quota exceeded", err)
    assert.matches("Failed: 1", err)
    assert.matches("Scene 1 failed: quota exceeded", err)
  end)

  it("stops at the first failure with --abort-on-error", function()
    local wf = workflow([[
      return { process_scene = function(scene)
        print("ran " .. scene.scene_number)
        if scene.scene_number == 1 then error("broken") end
      end }]])
    local out, err, code = h.run { wf, film, "--abort-on-error", "--output-dir", dir .. "/o" }
    assert.equal(1, code)
    assert.equal("ran 0\nran 1\n", out)
    assert.matches("broken", err)
  end)

  it("refuses duplicate scene numbers with exit 2, naming both lines", function()
    local dup = h.write(dir .. "/dup.txt",
      "# D\n\n## SCENE 1: A\nNarration: a\n\n## SCENE 1: B\nNarration: b\n")
    local wf = workflow("return { process_scene = function() print('ran') end }")
    local out, err, code = h.run { wf, dup, "--output-dir", dir .. "/o" }
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("dup%.txt: duplicate scene number 1 %(lines 3 and 6%)", err)
  end)

  it("exits 1 with the hook's message when setup or finish fails", function()
    local wf = workflow([[
      return { process_scene = function() end,
        finish = function(stats, doc, opts)
          error("cannot assemble " .. doc.name .. " in " .. opts.output_base_dir, 0)
        end }]])
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/o" }
    assert.equal(1, code)
    assert.matches("wf%.lua: finish: cannot assemble film in " .. dir:gsub("%p", "%%%0") .. "/o", err)
    wf = workflow("return { process_scene = function() print('ran') end, setup = function() error('no key', 0) end }")
    local out
    out, err, code = h.run { wf, film, "--output-dir", dir .. "/o" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.matches("setup: no key", err)
  end)

  it("exits 2 for a workflow script that is missing, broken or returns no processor", function()
    local _, err, code = h.run { dir .. "/none.lua", film }
    assert.equal(2, code)
    assert.matches("none%.lua", err)
    local broken = workflow("return {")
    _, err, code = h.run { broken, film }
    assert.equal(2, code)
    assert.matches("wf%.lua", err)
    local empty = workflow("return { }")
    _, err, code = h.run { empty, film }
    assert.equal(2, code)
    assert.matches("must return a table with a process_scene function", err)
  end)

  it("processes several files, each under its own name", function()
    local other = h.write(dir .. "/other.txt", h.script(2, { title = "Other" }))
    local wf = workflow("return { process_scene = function(s, d) print(d) end }")
    local out, _, code = h.run({ wf, film, other, "--output-dir", "o", "--scenes", "1" },
      { cwd = dir })
    assert.equal(0, code)
    assert.equal("o/film/scene_01\no/other/scene_01\n", out)
  end)

  it("checks every FILE before running any: a bad one is one line naming it, exit 2, nothing run", function()
    local wf = workflow([[return { process_scene = function(s) print("ran " .. s.scene_number) end,
      finish = function() print("finished") end }]])
    local bad = {
      missing = dir .. "/missing.txt",
      empty = h.write(dir .. "/empty.txt", ""),
      folder = dir,
      duplicate = h.write(dir .. "/dup.txt", "## SCENE 1: A\nNarration: a\n## SCENE 1: B\nNarration: b\n"),
    }
    for kind, path in pairs(bad) do
      for _, extra in ipairs { {}, { "--dry-run" }, { "--finish-only" }, { "--jobs", "2" } } do
        local args = { wf, film, path, "--output-dir", dir .. "/out", table.unpack(extra) }
        local out, err, code = h.run(args)
        local what = kind .. " " .. table.concat(extra, " ")
        assert.equal(2, code, what)
        assert.equal("", out, what)
        assert.equal(1, select(2, err:gsub("\n", "")), what .. ": " .. err)
        assert.truthy(err:find(path, 1, true), what .. ": " .. err)
        assert.is_false(h.exists(dir .. "/out"), what)
      end
      if kind ~= "duplicate" then -- (status shows such a file, with its warning)
        local out, err, code = h.run { "status", wf, film, path, "--output-dir", dir .. "/out" }
        assert.equal(2, code, "status " .. kind)
        assert.equal("", out, "status " .. kind)
        assert.truthy(err:find(path, 1, true), "status " .. kind .. ": " .. err)
      end
    end
    -- --strict refuses a file with warnings, the second as the first
    local warned = h.write(dir .. "/warned.txt", "## SCENE 1: A\nNarration: a\n## SCENE 3: B (x seconds)\n")
    local out, err, code = h.run { wf, film, warned, "--strict", "--output-dir", dir .. "/out" }
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("warned%.txt: %d+ warnings? and %-%-strict: nothing was run\n$", err)
  end)

  it("lines up status's reasons in a column, the titles after it", function()
    local wf = workflow([[return { process_scene = function(_, d)
      local f = assert(io.open(d .. "/final.png", "w")); f:write("x"); f:close() end }]])
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/out", "--quiet" }
    assert.equal(0, code, err)
    h.write(film, (h.read(film):gsub("Narration of scene 1", "Edited narration of scene 1")))
    local out
    out, err, code = h.run { "status", wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    local changed = out:match("\n(  Scene 1 +changed: [^\n]-  Scene Title 1)\n")
    local fresh = out:match("\n(  Scene 2 +fresh +)Scene Title 2\n")
    assert.truthy(changed and fresh, out)
    assert.equal(#fresh, #changed - #"Scene Title 1", out)
    assert.matches("\n  4 scenes: 3 fresh, 1 changed\n$", out)
  end)

  it("finds its Lua modules from any working directory", function()
    local wf = workflow("return { process_scene = function(s) print(require('explainer')._VERSION) end }")
    local out, err, code = h.run({ wf, film, "--scenes", "2", "--output-dir", dir .. "/o" },
      { cwd = "/" })
    assert.equal(0, code, err)
    assert.matches("^%d+%.%d+%.%d+\n$", out)
  end)

  it("runs the bundled prompts workflow on a script", function()
    local out, err, code = h.run { h.root .. "/scripts/prompts.lua", film, "--output-dir", dir .. "/o" }
    assert.equal(0, code, err)
    assert.equal("", out)
    local md = h.read(dir .. "/o/film/scene_01/prompts.md")
    assert.matches("# Scene 1: Scene Title 1", md)
    assert.matches("## Image prompt\n\nPicture 1", md)
    assert.matches("## Iteration 1\n\nsharper 1", md)
    assert.matches("## Animation prompt\n\nFade in 1%.", md)
  end)
end)
