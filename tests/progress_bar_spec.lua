-- The progress bar of a run on a terminal (src/report.c): the last row,
-- redrawn in place, with the rows above it a scroll region so that what the
-- processors print meanwhile stays whole. Runs under a pseudo-terminal
-- (util-linux `script`), and what it wrote is played on a terminal emulator
-- (pyte, Debian's python3-pyte) to see the screen a person would see.
local h = require "helpers"
local cjson = require "cjson"

local q = h.shell_quote
local ROWS, COLS = 20, 100 -- fewer rows than the run prints: it scrolls

-- A workflow whose scenes print on stdout and stderr, and take a moment.
local WORKFLOW = [[
return { process_scene = function(scene, dir)
  io.stdout:write("hello from scene ", scene.scene_number, "\n")
  io.stdout:flush()
  io.stderr:write("a note of scene ", scene.scene_number, "\n")
  require("explainer_core").sleep(0.12)
end }
]]

-- A Python that has pyte, or nil.
local function python_with_pyte()
  for _, py in ipairs { "python3", "/usr/bin/python3" } do
    if os.execute(py .. " -c 'import pyte' >/dev/null 2>&1") == true then return py end
  end
end
local PYTHON = python_with_pyte()

-- The screens of a terminal fed the bytes: one after each processor's line
-- "hello from scene N" (with that line), and the last, as lists of rows.
local PLAY = [[
import json, sys, pyte
rows, cols, raw = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
screen = pyte.Screen(cols, rows)
stream = pyte.ByteStream(screen)
shots, at = [], 0
while True:
    i = raw.find(b"hello from scene ", at)
    if i < 0:
        break
    end = raw.find(b"\n", i) + 1
    stream.feed(raw[at:end])
    at = end
    said = raw[i:end].decode().strip()
    shots.append({"said": said, "rows": [l.rstrip() for l in screen.display]})
stream.feed(raw[at:])
print(json.dumps({"shots": shots, "last": [l.rstrip() for l in screen.display]}))
]]

-- Run explainer under a pseudo-terminal of ROWS x COLS; returns what it wrote.
local function on_terminal(dir, args, redirect)
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local command = ("stty rows %d cols %d; env -u LD_PRELOAD %s %s %s"):format(ROWS, COLS, q(h.bin),
    table.concat(words, " "), redirect or "")
  local raw = dir .. "/raw"
  assert(os.execute(("cd %s && script -qfec %s /dev/null > %s"):format(q(dir), q(command), q(raw))))
  return h.read(raw), raw
end

local function play(raw_path)
  local p = assert(io.popen(("%s -c %s %d %d %s"):format(PYTHON, q(PLAY), ROWS, COLS, q(raw_path))))
  local out = p:read("a")
  p:close()
  return cjson.decode(out)
end

local function is_bar(row)
  return row:match("^%[[#%-]+%] %d+/%d+ scenes, ") ~= nil
end

describe("the progress bar", function()
  local dir, wf, talk

  before_each(function()
    dir = h.tmpdir()
    wf = h.write(dir .. "/wf.lua", WORKFLOW)
    talk = h.write(dir .. "/talk.txt", h.script(6))
  end)
  after_each(function() h.rm_rf(dir) end)

  local function check_screens(screens, n)
    assert.equal(n, #screens.shots)
    local seen = {}
    for _, shot in ipairs(screens.shots) do
      local rows = shot.rows
      -- The bar on the last row, and only there, counting the scenes.
      assert.is_true(is_bar(rows[ROWS]), ("after a line of a scene, the last row: '%s'"):format(rows[ROWS]))
      assert.matches("/6 scenes", rows[ROWS], 1, true)
      for r = 1, ROWS - 1 do
        assert.is_false(is_bar(rows[r]), ("a bar on row %d: '%s'"):format(r, rows[r]))
        -- The processors' lines whole, each on its own row.
        local said = rows[r]:match("hello from scene %d+")
        if said then
          assert.equal(said, rows[r])
          seen[said] = true
        end
      end
      assert.truthy(seen[shot.said], "the line just printed is not whole on the screen: " .. shot.said)
    end
    for i = 0, n - 1 do assert.truthy(seen["hello from scene " .. i], "scene " .. i .. "'s line") end
    -- At the end: no bar, its row cleared, the summary.
    local last = screens.last
    for _, row in ipairs(last) do
      assert.is_false(is_bar(row), "the bar is left: " .. row)
      assert.is_nil(row:find("scenes, ", 1, true), "a piece of the bar is left: " .. row)
    end
    assert.equal("", last[ROWS], "the bar's row is cleared")
    assert.truthy(table.concat(last, "\n"):find("Completed: 6", 1, true))
  end

  it("is drawn on a terminal's last row, and what processors print goes above it, whole", function()
    if not PYTHON then
      pending("python3-pyte is not installed (.ci/run installs it): the screen was not played")
      return
    end
    local raw, path = on_terminal(dir, { wf, talk, "--output-dir", "out" })
    assert.truthy(raw:find(("\27[1;%dr"):format(ROWS - 1), 1, true), "no scroll region was set")
    assert.truthy(raw:find("\27[r", 1, true), "the scroll region was not released")
    check_screens(play(path), 6)
  end)

  it("keeps several workers' lines whole too (--jobs 2)", function()
    if not PYTHON then
      pending("python3-pyte is not installed (.ci/run installs it): the screen was not played")
      return
    end
    local _, path = on_terminal(dir, { wf, talk, "--output-dir", "out", "--jobs", "2" })
    check_screens(play(path), 6)
  end)

  it("is not drawn in plain, json or quiet mode, nor when stderr is not a terminal", function()
    for _, extra in ipairs { { "--progress", "plain" }, { "--progress", "json" }, { "--quiet" } } do
      local raw = on_terminal(dir, { wf, talk, "--output-dir", "out", "--no-skip", table.unpack(extra) })
      assert.truthy(raw:find("hello from scene 5", 1, true), table.concat(extra, " "))
      assert.is_nil(raw:find("\27", 1, true), table.concat(extra, " ") .. ": escapes on the terminal")
    end
    local raw = on_terminal(dir, { wf, talk, "--output-dir", "out", "--no-skip" }, "2>" .. q(dir .. "/err"))
    assert.is_nil(raw:find("\27", 1, true), "escapes with stderr in a file")
    local err = h.read(dir .. "/err")
    assert.is_nil(err:find("\27", 1, true), "escapes in the file")
    assert.truthy(err:find("[6/6] Processing Scene 5", 1, true))
  end)
end)
