-- `explainer check`: the linter (lua/explainer/check.lua) and its command line.
local h = require "helpers"
local cjson = require "cjson"
local check = require "explainer.check"

local PROBLEMS = h.root .. "/tests/fixtures/check_problems.txt"

-- The diagnostics of a script text, as "line:rule" strings.
local function found(text, opts)
  local list = check.check_text(text, "t.txt", opts)
  local out = {}
  for i, d in ipairs(list) do out[i] = d.line .. ":" .. d.rule end
  return out, list
end

describe("explainer check", function()
  local dir

  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  it("passes the bundled example with exit 0", function()
    local out, err, code = h.run { "check", h.root .. "/examples/sample.txt" }
    assert.equal(0, code, err)
    assert.equal("", out)
    assert.matches("sample%.txt: no problems\n$", err)
  end)

  it("prints one diagnostic per problem, with file, line, column and rule, and exits 1", function()
    local _, err, code = h.run { "check", PROBLEMS, "--no-caret" }
    assert.equal(1, code)
    local expected = {
      "1:1: warning: the title declares 7 scenes but 6 were found [scene-count]",
      "3:17: warning: Total Duration says 60 s but the scenes add up to 36 s [total-duration]",
      "6:13: warning: placeholder [Scene Title] left in [placeholder]",
      "17:1: warning: scene 2: narration too long for its scene: 30 words ≈ 12.0 s at 150 wpm; "
        .. "scene is 6 s [pacing]",
      "30:30: warning: placeholder [To be determined after reviewing the first image] left in "
        .. "[placeholder]",
      "34:1: error: duplicate scene number 3: lines 25 and 34 [duplicate-scene]",
      "43:1: warning: scene 5 has no image prompt, unlike 5 other scenes [missing-prompt]",
      "43:1: note: scene 4 is missing (between scenes 3 and 5) [numbering]",
      "49:1: error: '## SCENE Seven: Spelled Out (6 seconds)' looks like a scene header but it "
        .. "has no scene number; it is not a scene [scene-header]",
      "51:1: warning: scene 6 has no animation prompt, unlike 5 other scenes [missing-prompt]",
      "53:1: warning: scene 6 is marked NO NARRATION but has a Narration; it is ignored [no-narration]",
    }
    local lines = {}
    for line in err:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(#expected + 1, #lines, err)
    for i, want in ipairs(expected) do
      assert.equal(PROBLEMS .. ":" .. want, lines[i])
    end
    assert.equal(PROBLEMS .. ": 2 errors, 8 warnings, 1 note", lines[#lines])
  end)

  it("does not count a final prompt to be determined after review when there is an initial one", function()
    -- scene 2 of the fixture: Initial Prompt plus "[To be determined ...]": no diagnostic
    local got = found(h.read(PROBLEMS))
    local in_scene_2 = {}
    for _, d in ipairs(got) do
      local line = tonumber(d:match("^%d+"))
      if line >= 15 and line <= 24 then in_scene_2[#in_scene_2 + 1] = d end
    end
    assert.same({ "17:pacing" }, in_scene_2)
  end)

  it("accepts a bulleted final prompt to be determined when the initial one is there", function()
    local text = "## SCENE 1: A\nImage Generation Prompts (2-Step Workflow):\n- Initial Prompt: \"A cat\"\n"
      .. "- Final Prompt (after review): [To be determined]\n"
    assert.same({}, (found(text)))
    assert.same({ "3:placeholder", "4:placeholder" }, (found((text:gsub('"A cat"', "[Describe it]")))),
      "no initial prompt: the final one is needed")
  end)

  it("gives --json a list of {file, line, column, severity, rule, message} on stdout", function()
    local out, _, code = h.run { "check", PROBLEMS, "--json" }
    assert.equal(1, code)
    local list = cjson.decode(out)
    assert.equal(11, #list)
    assert.same({ file = PROBLEMS, line = 34, column = 1, severity = "error",
      rule = "duplicate-scene", message = "duplicate scene number 3: lines 25 and 34" }, list[6])
    out, _, code = h.run { "check", h.root .. "/examples/sample.txt", "--json" }
    assert.equal(0, code)
    assert.equal("[]\n", out)
  end)

  it("switches rules off with --disable, and exits 0 when no error is left", function()
    local _, err, code = h.run { "check", PROBLEMS, "--disable", "duplicate-scene,scene-header",
      "--disable=pacing" }
    assert.equal(0, code, err)
    assert.is_nil(err:find("[duplicate-scene]", 1, true))
    assert.is_nil(err:find("[scene-header]", 1, true))
    assert.is_nil(err:find("[pacing]", 1, true), "--disable adds up")
    _, err, code = h.run { "check", PROBLEMS, "--disable", "pacing,nonsense" }
    assert.equal(2, code)
    assert.matches("no rule 'nonsense' %(rules: .*pacing", err)
  end)

  it("takes the pace from --pace and says the estimate", function()
    local text = "## SCENE 1: A (6 seconds)\n"
      .. "Narration: \"one two three four five six seven eight nine ten eleven twelve\"\n"
    assert.same({}, (found(text)), "12 words fit 6 s at 150 wpm")
    local got, list = found(text, { pace = 100 })
    assert.same({ "2:pacing" }, got)
    assert.equal("scene 1: narration too long for its scene: 12 words ≈ 7.2 s at 100 wpm; "
      .. "scene is 6 s", list[1].message)
    local _, err, code = h.run { "check", h.write(dir .. "/p.txt", text), "--pace", "100" }
    assert.equal(0, code)
    assert.matches("7%.2 s at 100 wpm", err)
    _, err, code = h.run { "check", dir .. "/p.txt", "--pace", "fast" }
    assert.equal(2, code)
    assert.matches("%-%-pace", err)
  end)

  it("finds the pacing problem of narration taken from the NARRATION SCRIPT at its entry", function()
    local text = "## SCENE 1: A (2s)\n\n## NARRATION SCRIPT\n"
      .. "Scene 1: \"far too many words for two seconds of film\"\n"
    assert.same({ "4:pacing" }, (found(text)))
  end)

  it("shows the line and a caret under the column with --caret", function()
    local _, err = h.run { "check", PROBLEMS, "--caret" }
    assert.truthy(err:find(":6:13: warning: placeholder [Scene Title] left in [placeholder]\n"
      .. "  ## SCENE 1: [Scene Title] (6 seconds)\n"
      .. "              ^\n", 1, true), err)
    -- not a terminal: no caret unless asked
    _, err = h.run { "check", PROBLEMS }
    assert.is_nil(err:find("  ^", 1, true))
  end)

  it("puts the caret under the right character after multi-byte text", function()
    local diagnostics = require "explainer.diagnostics"
    assert.equal("  é—x\n    ^", diagnostics.caret("é—x", 3))
    assert.equal("  \tab\n  \t ^", diagnostics.caret("\tab", 3))
  end)

  it("notes gaps and steps back in the numbering, and calls duplicates errors", function()
    local got, list = found("## SCENE 1: A\n## SCENE 2: B\n## SCENE 6: C\n## SCENE 4: D\n## SCENE 4: E\n")
    assert.same({ "3:numbering", "4:numbering", "5:duplicate-scene" }, got)
    assert.equal("scenes 3-5 are missing (between scenes 2 and 6)", list[1].message)
    assert.equal("note", list[1].severity)
    assert.equal("scene 4 comes after scene 6", list[2].message)
    assert.equal("error", list[3].severity)
  end)

  it("notes neighbouring scenes with one layout pattern, and one text position three times in a row", function()
    local function scene(n, text_at, pattern)
      return ("## SCENE %d: S%d\nLayout Design:\n- Text: \"Words %d\" - %s\n- Layout Pattern: %s\n\n")
        :format(n, n, n, text_at, pattern)
    end
    local got, list = found(scene(1, "top-left corner", "Z-pattern") .. scene(2, "Top left, bold", "Z layout")
      .. scene(3, "top left", "Centered") .. scene(4, "bottom", "Grid 2x2"))
    assert.same({ "9:layout-repeat", "13:layout-repeat" }, got)
    assert.equal("scene 2 has the same layout pattern as scene 1 (Z-Pattern): neighbouring frames look alike",
      list[1].message)
    assert.equal("scenes 1, 2 and 3 all put their text at top left: vary where it goes", list[2].message)
    assert.equal("note", list[1].severity)
    -- other places, other patterns: nothing
    assert.same({}, (found(scene(1, "top", "Z-pattern") .. scene(2, "top third", "Diagonal")
      .. scene(3, "top", "Z-pattern"))))
  end)

  it("notes a layout pattern the frame does not know", function()
    local got, list = found("## SCENE 1: A\nLayout Design:\n- Layout Pattern: Wibble wobble\n")
    assert.same({ "3:layout-pattern" }, got)
    assert.matches("'Wibble wobble' is not one the frame knows", list[1].message, 1, true)
  end)

  it("flags a scene without narration only when the others have it", function()
    local got = found("## SCENE 1: A\nNarration: one\n## SCENE 2: B\nNarration: two\n## SCENE 3: C\n"
      .. "## SCENE 4: D - NO NARRATION\n")
    assert.same({ "5:missing-narration" }, got)
    assert.same({}, (found("## SCENE 1: A\nNarration: one\n## SCENE 2: B\n## SCENE 3: C\n")),
      "most scenes silent: no rule applies")
  end)

  it("leaves audio tags in narration, links, checkboxes and durations alone as placeholders", function()
    local got = found("## SCENE 1: A [8s]\nNarration: \"[whispers] Look at [this](https://x.y) now.\"\n"
      .. "Mood: [x] done, see [1]\nCamera: [Shot list]\n")
    assert.same({ "4:placeholder" }, got)
  end)

  it("reports a file without scenes as an error, and an unreadable file with exit 2", function()
    local empty = h.write(dir .. "/empty.txt", "just prose\n")
    local _, err, code = h.run { "check", empty }
    assert.equal(1, code)
    assert.truthy(err:find("empty.txt: error: no scene header found (a scene starts at "
      .. "'## SCENE n: Title', or at headers such as '**Scene n: Title**', 'Scene n: Title', "
      .. "'## Part n: Title' or '## n. Title' each followed by a Narration or with a NARRATION "
      .. "SCRIPT entry); nothing to check [no-scenes]", 1, true), err)
    _, err, code = h.run { "check", dir .. "/missing.txt", h.root .. "/examples/sample.txt" }
    assert.equal(2, code)
    assert.matches("missing%.txt: No such file or directory", err)
    assert.matches("sample%.txt: no problems", err, "the other files are still checked")
  end)

  it("splits lines at LF, CRLF and lone CR, as the parser counts them", function()
    assert.same({ "a", "b", "", "c" }, check.lines("\239\187\191a\r\nb\r\rc"))
    assert.same({}, check.lines(""))
    local got = found("\r\r## SCENE 1: [Title] (6s)\r\n")
    assert.same({ "3:placeholder" }, got)
  end)

  it("calls NUL bytes and invalid UTF-8 an encoding error at the first one, with their count", function()
    -- a script with the start of a program after it: the wrong file, or a corrupted one
    local path = h.write(dir .. "/bin.txt", '## SCENE 1: A (6s)\nNarration: "hi"\n'
      .. "\127ELF\2\1\1\0\0\0\0\255\254\n")
    local _, err, code = h.run { "check", path, "--caret" }
    assert.equal(1, code, err)
    assert.truthy(err:find(path .. ":3:8: error: binary data: 4 NUL bytes and 2 invalid UTF-8 "
      .. "bytes, the first here; is this the right file? (each reads as U+FFFD) [encoding]\n"
      .. "  \239\191\189ELF\239\191\189\239\191\189\239\191\189\239\191\189", 1, true), err)
    assert.is_nil(err:find("\0", 1, true), "no NUL reaches the terminal with the caret")
    local got, list = found("## SCENE 1: Caf\233 (6s)\n")
    assert.same({ "1:encoding" }, got, "Latin-1 text")
    assert.equal("1 byte is not UTF-8, the first here; save the script as UTF-8 (each reads as "
      .. "U+FFFD)", list[1].message)
    assert.equal(16, list[1].column)
    -- runs (and parse) show it as a warning and go on
    _, err, code = h.run { "parse", path }
    assert.equal(0, code, err)
    assert.truthy(err:find(path .. ":3:8: warning: binary data", 1, true), err)
  end)

  it("warns about durations that are surely typos, and a title's '(abc)' where one was meant", function()
    local got, list = found("## SCENE 1: A (0 seconds)\n## SCENE 2: B (99999 seconds)\n"
      .. "## SCENE 3: Title (abc)\n## SCENE 4: Setup (Part 2)\n## SCENE 5: Air (CO2)\n")
    assert.same({ "1:duration", "2:duration", "3:duration" }, got)
    assert.equal("scene 2: '(99999 seconds)' is over 10 minutes; a typo?", list[2].message)
    assert.equal("warning", list[3].severity)
    assert.equal(19, list[3].column)
  end)

  it("reads UTF-16 scripts, numbering lines as the parser does", function()
    local text = "# T - 1 SCENES\r\n\r\n## SCENE 1: [Title here] (6s)\r\nNarration: \"Hi.\"\r\n"
    local wide = { "\255\254" }
    for _, c in utf8.codes(text) do wide[#wide + 1] = string.char(c % 256, c // 256) end
    local got = found(table.concat(wide))
    assert.same({ "3:placeholder" }, got)
  end)
end)
