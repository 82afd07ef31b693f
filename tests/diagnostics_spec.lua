-- Problems are seen where they matter: every run, dry run, status and narration
-- shows the file's warnings first (lua/explainer/diagnostics.lua), report.json and
-- --progress json carry them, --strict refuses, and a file without scenes is exit 2.
local h = require "helpers"
local cjson = require "cjson"
local diagnostics = require "explainer.diagnostics"

-- Seven warnings: a broken header a line, and the declared count.
local function troubled_script()
  local lines = { "# Troubled - 9 SCENES", "", "## SCENE 1: Fine (6 seconds)", "Narration: \"One.\"",
    "" }
  for i = 2, 7 do lines[#lines + 1] = ("## SCENE %d has no colon"):format(i) end
  lines[#lines + 1] = "## SCENE 8: Also Fine"
  return table.concat(lines, "\n") .. "\n"
end

describe("diagnostics", function()
  local dir, film, wf

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/troubled.txt", troubled_script())
    wf = h.write(dir .. "/wf.lua", [[
      return { output_filename = "done.txt", process_scene = function(scene, out)
        local f = assert(io.open(out .. "/done.txt", "w")); f:write("x"); f:close()
      end }]])
  end)

  after_each(function() h.rm_rf(dir) end)

  it("formats a diagnostic the way compilers do", function()
    local d = diagnostics.new("a.txt", 36, 4, "duration", "cannot read it")
    assert.equal("a.txt:36:4: warning: cannot read it [duration]", diagnostics.format(d))
    assert.equal("a.txt: error: none [no-scenes]",
      diagnostics.format(diagnostics.new("a.txt", 0, 1, "no-scenes", "none")))
  end)

  it("prints a run's warnings before its first scene: the count and the first five", function()
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    local first_scene = err:find("[1/2] Processing Scene 1", 1, true)
    local shown = select(2, err:gsub(": warning: ", ""))
    assert.equal(5, shown)
    assert.truthy(err:find(film .. ":1:1: warning: the title declares 9 scenes but 2 were found "
      .. "[scene-count]\n", 1, true))
    assert.truthy(err:find(film .. ":6:1: warning: '## SCENE 2 has no colon' looks like a scene "
      .. "header", 1, true))
    local count = err:find(film .. ": 7 warnings (5 shown; --verbose for all)\n", 1, true)
    assert.truthy(count, err)
    assert.truthy(first_scene and count < first_scene, "warnings come first")
  end)

  it("prints them all with --verbose, and none with --quiet", function()
    local _, err = h.run { wf, film, "--output-dir", dir .. "/out", "--verbose" }
    assert.equal(7, select(2, err:gsub(": warning: ", "")))
    assert.truthy(err:find(film .. ": 7 warnings\n", 1, true))
    _, err = h.run { wf, film, "--output-dir", dir .. "/out", "--quiet" }
    assert.equal("", err)
  end)

  it("refuses to run anything with --strict when there is a warning: exit 2", function()
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/out", "--strict" }
    assert.equal(2, code)
    assert.matches("troubled%.txt: 7 warnings and %-%-strict: nothing was run", err)
    assert.is_false(h.exists(dir .. "/out/troubled"), "no scene ran, no folder made")
    local clean = h.write(dir .. "/clean.txt", h.script(2))
    local _, err2, code2 = h.run { wf, clean, "--output-dir", dir .. "/out", "--strict" }
    assert.equal(0, code2, err2)
  end)

  it("shows them in a dry run, in status and in narration", function()
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/out", "--dry-run" }
    assert.equal(0, code)
    assert.truthy(err:find("[scene-count]", 1, true), "dry run")
    local out
    out, err, code = h.run { "status", wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.truthy(err:find(film .. ": 7 warnings (5 shown", 1, true), "status")
    assert.matches("Scene 1 ", out)
    out, err, code = h.run { "narration", film }
    assert.equal(0, code)
    assert.equal("Scene 1: One.\n", out)
    assert.truthy(err:find(film .. ":1:1: warning:", 1, true), "narration")
    _, _, code = h.run { "narration", film, "--strict" }
    assert.equal(2, code)
    _, _, code = h.run { "status", wf, film, "--strict" }
    assert.equal(2, code)
  end)

  it("carries them in report.json and as --progress json events before the first scene", function()
    local _, err = h.run { wf, film, "--output-dir", dir .. "/out", "--progress", "json" }
    local events = {}
    for line in err:gmatch("[^\n]+") do events[#events + 1] = cjson.decode(line) end
    assert.equal("warning", events[1].event)
    assert.same({ event = "warning", file = film, line = 1, column = 1, severity = "warning",
      rule = "scene-count", message = "the title declares 9 scenes but 2 were found" }, events[1])
    local warnings, before_start = 0, true
    for _, e in ipairs(events) do
      if e.event == "start" then before_start = false end
      if e.event == "warning" then
        warnings = warnings + 1
        assert.is_true(before_start, "a warning event after a scene started")
      end
    end
    assert.equal(7, warnings, "every warning is an event, not only the first five")
    local report = cjson.decode(h.read(dir .. "/out/troubled/report.json"))
    assert.equal(7, #report.warnings)
    assert.same({ line = 6, column = 1, rule = "scene-header",
      message = "'## SCENE 2 has no colon' looks like a scene header but there is no ':' or "
        .. "' - ' after the scene number; it is not a scene" },
      report.warnings[2])
    local clean = h.write(dir .. "/clean.txt", h.script(2))
    h.run { wf, clean, "--output-dir", dir .. "/out" }
    assert.equal("[]", h.read(dir .. "/out/clean/report.json"):match('"warnings": (%[%])'))
  end)

  it("calls a file without any scene header unusable: exit 2 for runs, status, narration and parse", function()
    local wide = "\0#\0 \0T\0\n"
    local files = {
      empty = h.write(dir .. "/empty.txt", ""),
      prose = h.write(dir .. "/prose.txt", "Dear reader,\nthis is a letter.\n"),
      binary = h.write(dir .. "/binary.txt", "\127ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0"),
      utf16 = h.write(dir .. "/utf16.txt", wide),
    }
    for kind, path in pairs(files) do
      for _, args in ipairs { { wf, path }, { "status", wf, path }, { "narration", path },
          { "parse", path }, { "parse", path, "--json" } } do
        local out, err, code = h.run(args)
        assert.equal(2, code, kind .. " " .. args[1])
        assert.truthy(err:find(path .. ": no scene header found (a scene starts at '## SCENE n: "
          .. "Title', or at headers such as '**Scene n: Title**', 'Scene n: Title', '## Part n: "
          .. "Title' or '## n. Title' each followed by a Narration or with a NARRATION SCRIPT "
          .. "entry)\n", 1, true), kind .. " " .. args[1] .. ": " .. err)
        if args[1] == "parse" then assert.truthy(#out > 0, "parse still prints the document") end
      end
    end
    assert.is_false(h.exists("output/empty"), "nothing ran")
  end)

  it("decodes UTF-16 with a byte-order mark, in either byte order, and runs it", function()
    local text = "## SCENE 1: Wide \226\128\148 Open\n## SCENE 2 \226\128\147 Close (4s)\n"
    for _, little in ipairs { true, false } do
      local wide = { little and "\255\254" or "\254\255" }
      for _, c in utf8.codes(text) do
        wide[#wide + 1] = little and string.char(c % 256, c // 256) or string.char(c // 256, c % 256)
      end
      local path = h.write(dir .. "/wide.txt", table.concat(wide))
      local _, err, code = h.run { wf, path, "--output-dir", dir .. "/wide" .. tostring(little) }
      assert.equal(0, code, err)
      assert.matches("Processing Scene 2: Close", err)
      assert.is_nil(err:find("warning", 1, true))
    end
  end)
end)

describe("workflow scripts get the same care", function()
  local dir, film

  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(3))
  end)

  after_each(function() h.rm_rf(dir) end)

  it("warns about an unknown key in a workflow's table, naming the file and the likely key", function()
    local wf = h.write(dir .. "/typo.lua", "return {\n  output_filname = \"x.png\",\n"
      .. "  proces_scene = 1,\n  process_scene = function() end,\n}\n")
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.truthy(err:find(wf .. ":2:3: warning: unknown key 'output_filname' in the workflow's "
      .. "table (did you mean output_filename?) [workflow-key]", 1, true), err)
    assert.truthy(err:find(wf .. ":3:3: warning: unknown key 'proces_scene' in the workflow's "
      .. "table (did you mean process_scene?) [workflow-key]", 1, true), err)
    _, err, code = h.run { wf, film, "--output-dir", dir .. "/out", "--strict" }
    assert.equal(2, code)
    assert.matches("typo%.lua: 2 warnings and %-%-strict", err)
  end)

  it("suggests only names that are close", function()
    local known = { "output_filename", "output_base_dir", "process_scene", "retries" }
    assert.equal("output_filename", diagnostics.suggest("output_filname", known))
    assert.equal("retries", diagnostics.suggest("retires", known))
    assert.is_nil(diagnostics.suggest("colour_palette", known))
  end)

  it("says the first argument must be a workflow script when the arguments are swapped", function()
    local wf = h.write(dir .. "/hello.lua", "return { process_scene = function() end }")
    local _, err, code = h.run { film, wf }
    assert.equal(2, code)
    assert.truthy(err:find("the first argument must be a workflow script (.lua), got '" .. film
      .. "'; did you swap SCRIPT.lua and FILE.txt?", 1, true), err)
    _, err, code = h.run { "pars", film }
    assert.equal(2, code)
    assert.matches("workflow script %(%.lua%) or a command %(check, init, parse", err)
  end)

  it("shows a processor's table error readably", function()
    local wf = h.write(dir .. "/tables.lua", [[
      return { process_scene = function(scene)
        if scene.scene_number == 0 then error({ code = 429 }) end
        if scene.scene_number == 1 then return nil, { code = 500, retry = { after = "1s" } } end
        return nil, { "a", "b" }
      end }]])
    local _, err, code = h.run { wf, film, "--output-dir", dir .. "/out" }
    assert.equal(1, code)
    -- with the processor's file and line: where it raised, or where it is defined
    local where = dir .. "/tables.lua:"
    assert.truthy(err:find("Scene 0 failed: " .. where .. "2: {code=429}", 1, true), err)
    assert.truthy(err:find('Scene 1 failed: ' .. where .. '1: {code=500, retry={after="1s"}}', 1, true)
      or err:find('Scene 1 failed: ' .. where .. '1: {retry={after="1s"}, code=500}', 1, true), err)
    assert.truthy(err:find('Scene 2 failed: ' .. where .. '1: {"a", "b"}', 1, true), err)
  end)

  it("answers help COMMAND and COMMAND --help for every command", function()
    for _, cmd in ipairs { "parse", "narration", "status", "check", "init", "run" } do
      local out, err, code = h.run { "help", cmd }
      assert.equal(0, code, cmd .. ": " .. err)
      local word = cmd == "run" and "SCRIPT%.lua" or cmd
      assert.matches("^usage: explainer " .. word, out)
      local out2, _, code2 = h.run { cmd, "--help" }
      assert.equal(0, code2)
      assert.equal(out, out2, cmd .. " --help is help " .. cmd)
    end
    local out = h.run { "help", "check" }
    assert.matches("Rules: .*pacing.*placeholder", out)
    local wf = h.write(dir .. "/w.lua", "return { process_scene = function() end }")
    assert.matches("^usage: explainer SCRIPT%.lua", (h.run { wf, film, "--help" }))
    local _, err, code = h.run { "help", "nope" }
    assert.equal(2, code)
    assert.matches("no command 'nope'", err)
  end)

  it("runs a workflow with the explicit run command too", function()
    local wf = h.write(dir .. "/w.lua", "return { process_scene = function() end }")
    local _, err, code = h.run { "run", wf, film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.matches("Completed: 3", err)
  end)
end)
