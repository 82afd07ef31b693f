-- The dialects people and language models write (issue 10), through the Lua API,
-- `explainer parse` and a run: every scene a reader sees is a scene, and every
-- header that cannot be read is a warning with its line.
local h = require "helpers"
local explainer = require "explainer"
local cjson = require "cjson"

local FIXTURES = h.root .. "/tests/fixtures/"

describe("script dialects", function()
  local dir

  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  it("reads dash separators, bold headers and every duration form as scenes", function()
    local doc = assert(explainer.parse(FIXTURES .. "dialects_dash.txt"))
    local got = {}
    for i, s in ipairs(doc.scenes) do got[i] = ("%d %s %g"):format(s.scene_number, s.title, s.duration) end
    assert.same({ "1 The Salty Question 8", "2 Rock Is the Source 6", "3 Rivers Carry It Down 7.5",
      "4 The Sun Takes the Water 8", "5 Vents on the Sea Floor 8", "6 Why Lakes Stay Fresh 8",
      "7 A Very Long Game 60", "8 Goodbye, Salty Sea 6" }, got)
    assert.same({}, doc.warnings)
    assert.equal(112, doc.total_duration)
  end)

  it("takes Narration (VO), Voiceover, Voice-over and VO as narration", function()
    local doc = assert(explainer.parse(FIXTURES .. "dialects_dash.txt"))
    for i = 1, 7 do assert.is_string(doc.scenes[i].narration, "scene " .. i) end
    assert.is_nil(doc.scenes[8].narration)
    assert.equal("Rain is slightly acidic, so it slowly dissolves the rock it falls on.",
      doc.scenes[2].narration)
    assert.is_nil(doc.scenes[4].fields["Stored salt"], "no fake field inside an open quote")
  end)

  it("gives each warning a line, a column and a rule in the Lua document", function()
    local doc = assert(explainer.parse(FIXTURES .. "dialect_problems.txt"))
    local got = {}
    for i, w in ipairs(doc.warnings) do got[i] = ("%d:%d %s"):format(w.line, w.column, w.rule) end
    assert.same({ "1:1 scene-count", "6:1 scene-header", "9:1 scene-header", "11:23 duration",
      "12:12 unclosed-quote", "17:1 scene-header", "25:1 no-narration" }, got)
  end)

  it("prints parse warnings as FILE:LINE:COL: warning: message [rule], the first 5 or --verbose all", function()
    local path = FIXTURES .. "dialect_problems.txt"
    local out, err, code = h.run { "parse", path }
    assert.equal(0, code)
    assert.matches("3 scenes %(6 declared%)", out)
    assert.truthy(err:find(path .. ":11:23: warning: scene 4: cannot read the duration "
      .. "'(about eight seconds)' (write it as '(6 seconds)'); the scene gets 6 seconds [duration]\n",
      1, true), err)
    assert.equal(5, select(2, err:gsub(": warning: ", "")), "the first 5, as every command")
    assert.truthy(err:find(path .. ": 7 warnings (5 shown; --verbose for all)\n", 1, true), err)
    local verbose_out, verbose_err, verbose_code = h.run { "parse", path, "--verbose" }
    assert.equal(0, verbose_code, verbose_err)
    assert.equal(out, verbose_out)
    assert.equal(7, select(2, verbose_err:gsub(": warning: ", "")), "parse --verbose shows them all")
    local json_out, _, json_code = h.run { "parse", path, "--json", "--verbose" }
    assert.equal(0, json_code)
    assert.equal(7, #cjson.decode(json_out).warnings, "--json holds them all, --verbose or not")
  end)

  it("runs every scene of a script written with dashes, where it once ran five of eight", function()
    local text = table.concat({
      "# Sleep Better - 8 SCENES",
      "## **SCENE 1 — The Tired Question** (8s)", "**Narration (VO):** “Why am I tired?”",
      "## SCENE 2: Light (~6s)", "Narration: \"Morning light sets the clock.\"",
      "## SCENE 3 – Temperature (7.5s)", "Voiceover: Cool rooms help.",
      "## SCENE 4 - Screens [8s]", "VO: \"Blue light delays sleep.\"",
      "## SCENE 5 - Caffeine Cutoff", "Narration: \"Stop coffee by noon.\"",
      "## SCENE 6: Routine (0:08)", "Narration: \"Same time, every night.\"",
      "## SCENE 7: Naps (6-8 seconds)", "Narration: \"Keep naps short.\"",
      "## SCENE 8 — Good Night – NO NARRATION",
    }, "\n") .. "\n"
    local path = h.write(dir .. "/sleep.txt", text)
    local wf = h.write(dir .. "/wf.lua", [[
      return { output_filename = "said.txt", process_scene = function(scene, out)
        local f = assert(io.open(out .. "/said.txt", "w"))
        f:write(scene.narration or "(silent)"); f:close()
      end }]])
    local _, err, code = h.run { wf, path, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.matches("Completed: 8", err)
    assert.is_nil(err:find("warning", 1, true), err)
    assert.equal("Why am I tired?", h.read(dir .. "/out/sleep/scene_01/said.txt"))
    assert.equal("Stop coffee by noon.", h.read(dir .. "/out/sleep/scene_05/said.txt"))
    assert.equal("(silent)", h.read(dir .. "/out/sleep/scene_08/said.txt"))
  end)

  it("reads NARRATION SCRIPT entries with durations and bold numbers, without blank lines", function()
    local doc = assert(explainer.parse(FIXTURES .. "narration_entries.txt"))
    assert.equal("Entry with its duration, for two.", doc.scenes[2].narration)
    assert.equal("Bold number, unquoted, for three.", doc.scenes[3].narration)
    assert.equal(270, doc.total_duration, "Total Duration: 4 minutes 30 seconds")
    assert.equal(1, #doc.warnings)
    assert.equal("no-narration", doc.warnings[1].rule)
  end)

  it("still reads the bundled example as 12 scenes, 0 and 11 silent, without a warning", function()
    local doc = assert(explainer.parse(h.root .. "/examples/sample.txt"))
    assert.equal(12, #doc.scenes)
    assert.same({}, doc.warnings)
    for i, s in ipairs(doc.scenes) do
      assert.equal(i == 1 or i == 12, s.narration == nil, "scene " .. s.scene_number)
    end
  end)
  -- Issue 17: never a silently lost scene, never "None" spoken.

  it("runs a script of '**Scene n: Title (6s)**' headers scene by scene, where it found none", function()
    local path = FIXTURES .. "headers_bold_scene.txt"
    local wf = h.write(dir .. "/wf.lua", [[
      return { output_filename = "said.txt", process_scene = function(scene, out)
        local f = assert(io.open(out .. "/said.txt", "w"))
        f:write(scene.narration or "(silent)"); f:close()
      end }]])
    local _, err, code = h.run { wf, path, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.matches("Completed: 4", err)
    assert.is_nil(err:find("warning", 1, true), err)
    assert.equal("Every coffee bean starts as the seed of a red cherry.",
      h.read(dir .. "/out/headers_bold_scene/scene_01/said.txt"))
    assert.equal("(silent)", h.read(dir .. "/out/headers_bold_scene/scene_03/said.txt"),
      "'Narration: None' is a silent scene, not the word None")
  end)

  it("reads 'Scene n: …', '## Part n: …' and '## n. Title' families as scenes", function()
    for name, n in pairs { headers_plain_scene = 3, headers_part = 3, headers_numbered = 3 } do
      local doc = assert(explainer.parse(FIXTURES .. name .. ".txt"))
      assert.equal(n, #doc.scenes, name)
      for i, s in ipairs(doc.scenes) do assert.equal(i, s.scene_number, name) end
    end
  end)

  it("gives null narration and no_narration true for None, N/A, -, — and empty quotes", function()
    local out, err, code = h.run { "parse", FIXTURES .. "silent_narration.txt", "--json" }
    assert.equal(0, code, err)
    local doc = cjson.decode(out)
    for i = 1, 7 do
      assert.equal(cjson.null, doc.scenes[i].narration, "scene " .. i)
      assert.is_true(doc.scenes[i].no_narration, "scene " .. i)
    end
    assert.equal("None of this is silent.", doc.scenes[8].narration)
    local said = h.run { "narration", FIXTURES .. "silent_narration.txt" }
    assert.equal("Scene 8: None of this is silent.\n", said, "nothing else to speak or caption")
  end)

  -- The review of main: a note after a quoted narration was spoken, a script whose
  -- narration is all in its NARRATION SCRIPT section was refused without a reason, and
  -- Narration: '' was said.

  it("speaks a quoted narration up to its closing quote, and warns about the note after it", function()
    local path = FIXTURES .. "quote_ends.txt"
    local out, err, code = h.run { "narration", path }
    assert.equal(0, code, err)
    assert.equal(table.concat({
      "Scene 1: Heating a home burns fuel.",
      "Scene 2: A heat pump moves heat.", "", "  It does not make it.",
      'Scene 3: Engineers call it "the ultimate takeout," as', "  if heat were a meal to deliver.",
      "Scene 4: Cold air still holds heat.",
      "Scene 6: Entries end with their quote too.", "" }, "\n"), out)
    assert.truthy(err:find(path .. ":6:1: warning: 'The host says the tagline \"Move heat, don't "
      .. "make it.\"' is not part of the Narration value, whose quote closes on line 4; put it "
      .. "inside the quotes, or under a label of its own [field-text]\n", 1, true), err)
    local json = h.run { "check", path, "--json" }
    local got = {}
    for _, d in ipairs(cjson.decode(json)) do got[#got + 1] = ("%d %s %s"):format(d.line, d.rule, d.severity) end
    assert.same({ "6 field-text warning", "20 field-text warning", "29 field-text warning" }, got)
  end)

  it("never speaks the next scene's header as a scene's narration; reads *Narration:*", function()
    local path = h.write(dir .. "/moon.txt", table.concat({
      "**Scene 1: Rise (6s)**", "Narration: The moon rises.", "",
      "**Scene 2: Glow (6s)**", "*Narration:* \"It glows.\"", "",
      "**Scene 3: Haze (6s)**", "Visual: a pale haze", "",
      "**Scene 4: Set (6s)**", "Narration: \"The moon sets.\"", "" }, "\n"))
    local out, err, code = h.run { "narration", path }
    assert.equal(0, code, err)
    assert.equal("Scene 1: The moon rises.\nScene 2: It glows.\nScene 4: The moon sets.\n", out)
    assert.truthy(err:find(path .. ":7:1: warning: '**Scene 3: Haze (6s)**' is written like this "
      .. "script's scene headers but no Narration follows it", 1, true), err)
  end)

  it("reads a '**Scene n: Title**' script whose narration is in its NARRATION SCRIPT section", function()
    local path = FIXTURES .. "headers_narration_script.txt"
    local out, err, code = h.run { "narration", path }
    assert.equal(0, code, err)
    assert.equal("Scene 1: Heating a home burns fuel.\nScene 2: It moves heat from outside to "
      .. "inside.\nScene 3: Move heat, don't make it.\n", out)
    assert.equal("", err)
    local _, check_err, check_code = h.run { "check", path }
    assert.equal(0, check_code, check_err)

    local bare = h.write(dir .. "/bare.txt", "**Scene 1: Opening (6s)**\nVisual: a\n\n"
      .. "**Scene 2: End (6s)**\nVisual: b\n")
    for _, args in ipairs { { "parse", bare }, { "narration", bare }, { "check", bare } } do
      _, err, code = h.run(args)
      assert.equal(args[1] == "check" and 1 or 2, code, args[1])
      for _, line in ipairs { 1, 4 } do
        assert.truthy(err:find(bare .. ":" .. line .. ":1: ", 1, true), args[1] .. ": " .. err)
      end
      assert.truthy(err:find("no Narration follows it and the NARRATION SCRIPT has no entry for it",
        1, true), err)
      assert.truthy(err:find("no scene header found (a scene starts at '## SCENE n: Title', or at "
        .. "headers such as '**Scene n: Title**'", 1, true), args[1] .. ": " .. err)
    end
  end)

  it("keeps Narration: '' silent, as Narration: \"\"", function()
    local path = h.write(dir .. "/quiet.txt", "## SCENE 1: Title Card\nNarration: ''\n"
      .. "## SCENE 2: Talk\nNarration: \"Words.\"\n")
    local out, err, code = h.run { "parse", path }
    assert.equal(0, code, err)
    assert.truthy(out:find("Scene 1: Title Card (6 s) - no narration  [line 1]", 1, true), out)
    assert.equal("Scene 2: Words.\n", (h.run { "narration", path }))
  end)

  it("warns with their lines about scene-like lines in a script of '## SCENE' headers", function()
    local path = FIXTURES .. "scene_like_lines.txt"
    local doc = assert(explainer.parse(path))
    assert.equal(2, #doc.scenes, "no scene is added from them")
    local out, err, code = h.run { "check", path, "--json" }
    assert.equal(1, code, err)
    local lines = {}
    for _, d in ipairs(cjson.decode(out)) do
      if d.rule == "scene-header" then
        assert.equal("error", d.severity)
        lines[#lines + 1] = d.line
      end
    end
    assert.same({ 9, 13, 16, 19, 22 }, lines,
      "'**Scene 2: …**', 'Scene 3: …', 'Scene 4 — …', '## Part 5: …', '## 6. …'; not the notes "
      .. "or the NARRATION SCRIPT entries")
  end)
end)
