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

  it("prints parse warnings as FILE:LINE:COL: warning: message [rule]", function()
    local path = FIXTURES .. "dialect_problems.txt"
    local out, err, code = h.run { "parse", path }
    assert.equal(0, code)
    assert.matches("3 scenes %(6 declared%)", out)
    assert.truthy(err:find(path .. ":11:23: warning: scene 4: cannot read the duration "
      .. "'(about eight seconds)' (write it as '(6 seconds)'); the scene gets 6 seconds [duration]\n",
      1, true), err)
    assert.equal(7, select(2, err:gsub(": warning: ", "")), "parse shows them all")
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
