-- The storyboard page (explainer.board): what a run and `explainer board` write,
-- rendered in a real browser (Debian's headless chromium: --dump-dom and
-- --screenshot), followed live during a run, served on 127.0.0.1.
local h = require "helpers"
local cjson = require "cjson"
local core = require "explainer_core"

local q = h.shell_quote

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null"))
  local out = p:read("a")
  p:close()
  return out
end

local has_chromium = os.execute("command -v chromium >/dev/null 2>&1") == true

-- Headless chromium on a page: the DOM after its scripts ran (--dump-dom), or
-- a screenshot. No network, a profile of its own, no sanitizer runtime.
local function chromium(args, url)
  local profile = h.tmpdir()
  local out = sh(("env -u LD_PRELOAD timeout 120 chromium --headless --no-sandbox --disable-gpu "
    .. "--disable-quic --no-first-run --disable-background-networking --disable-component-update "
    .. "--disable-sync --hide-scrollbars --user-data-dir=%s %s %s"):format(q(profile), args, q(url)))
  h.rm_rf(profile)
  return out
end

local function need_chromium()
  if not has_chromium then
    pending("chromium is not installed (.ci/run installs it): the page was not rendered in a browser")
    return false
  end
  return true
end

-- Text of the DOM dump as a person reads it.
local function unescape(s)
  return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&"))
end

-- The data a board file holds: board.html's inline JSON or board-data.js's call.
local function board_data(path)
  local text = assert(h.read(path), path)
  local json = text:match('<script id="board%-data" type="application/json">(.-)</script>')
    or text:match("^explainerBoard%((.*)%);%s*$")
  assert(json, "no data in " .. path)
  return cjson.decode(json)
end

-- Small media made once: a frame, a voice, a clip, captions.
local media
local function make_media(dir)
  media = dir .. "/media"
  assert(require("lfs").mkdir(media))
  local ff = "ffmpeg -v error -nostdin -y "
  assert(os.execute(ff .. "-f lavfi -i color=c=0x3366cc:s=160x90 -frames:v 1 " .. q(media .. "/frame.png")))
  assert(os.execute(ff .. "-f lavfi -i sine=f=440:d=1 -c:a libmp3lame -q:a 9 " .. q(media .. "/voice.mp3")))
  assert(os.execute(ff .. "-f lavfi -i color=c=0xcc6633:s=160x90:d=1 -pix_fmt yuv420p -c:v libx264 "
    .. "-preset ultrafast " .. q(media .. "/clip.mp4")))
  h.write(media .. "/film.vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:00.900\nA <i>caption</i> & more\n")
end

-- A cheap workflow: each scene copies the small media into its folder (a
-- narration only where it speaks) after `pause` seconds, "Broken" scenes
-- fail, finish makes the film.
local function workflow(pause)
  return ([[
local media, pause = %q, %s
local function copy(from, to)
  local f = assert(io.open(from, "rb")); local data = f:read("a"); f:close()
  local g = assert(io.open(to, "wb")); g:write(data); g:close()
end
return {
  output_filename = "clip.mp4",
  process_scene = function(scene, dir)
    if pause > 0 then require("explainer_core").sleep(pause) end
    if scene.title:find("Broken", 1, true) then return nil, 'boom <b>bold</b> & "quoted"' end
    copy(media .. "/frame.png", dir .. "/final.png")
    if scene.narration then copy(media .. "/voice.mp3", dir .. "/narration.mp3") end
    copy(media .. "/clip.mp4", dir .. "/clip.mp4")
  end,
  finish = function(stats, document)
    copy(media .. "/clip.mp4", stats.output_dir .. "/" .. document.name .. ".mp4")
    copy(media .. "/film.vtt", stats.output_dir .. "/" .. document.name .. ".vtt")
  end,
}
]]):format(media, pause or 0)
end

-- Every text of it is a way to try to run a script in the page.
local SCRIPT = [[
# Pumps <script>document.body.dataset.pwned="title"</script> - 4 SCENES
Style: flat "><img src=x onerror=document.body.dataset.pwned='style'>
Format: 16:9
Total Duration: 14 seconds

## SCENE 1: Hello <script>document.body.dataset.pwned="scene"</script> & "onerror=x (4 seconds)

Narration: "One </textarea><img src=x onerror=document.body.dataset.pwned='narration'> two."

Layout Design:
- Background: </details><b onclick=x>white</b>

Nano Banana Iterative Prompt:
"Initial: A picture <svg onload=document.body.dataset.pwned='prompt'> | Iteration 1: sharper"

## SCENE 2: Broken Scene (2 seconds)

Narration: "This narration has far too many words to be spoken in only two seconds by anyone at all."

## SCENE 3: Silent (4 seconds) - NO NARRATION

## SCENE 4: [Scene Title] (4 seconds)

Narration: "Bye."
]]

describe("the storyboard page", function()
  local dir, wf, talk, out, page

  setup(function()
    dir = h.tmpdir()
    make_media(dir)
    wf = h.write(dir .. "/wf.lua", workflow())
    talk = h.write(dir .. "/talk.txt", SCRIPT)
    out = dir .. "/out"
    local _, err, code = h.run({ wf, talk, "--output-dir", out })
    assert.equal(1, code, err) -- scene 2 fails
    page = out .. "/talk/board.html"
    assert.truthy(err:find("Board: " .. page, 1, true), err)
  end)
  teardown(function() h.rm_rf(dir) end)

  it("is written by every run, whole, with its data file beside it, and says the run is over", function()
    assert.truthy(h.exists(page))
    local data = board_data(page)
    assert.is_false(data.running)
    assert.same(data, board_data(out .. "/talk/board-data.js"))
    assert.equal(4, #data.scenes)
    for name in require("lfs").dir(out .. "/talk") do
      assert.is_nil(name:match("%.tmp"), "a temporary file was left: " .. name)
    end
  end)

  it("references only files that exist, has one player a narrated scene, and says what status says", function()
    if not need_chromium() then return end
    local dom = chromium("--dump-dom", "file://" .. page)
    assert.truthy(dom:find('id="scene-4"', 1, true), "the cards were not drawn:\n" .. dom:sub(1, 2000))
    -- Every image, audio and video the page points at is there.
    local refs = 0
    for attr, value in dom:gmatch('%s([%a%-]+)="([^"]*)"') do
      if attr == "src" or attr == "poster" or attr == "data-src" then
        local path = unescape(value):gsub("[?#].*$", ""):gsub("%%(%x%x)", function(x)
          return string.char(tonumber(x, 16)) end)
        if not path:match("^blob:") then
          refs = refs + 1
          assert.truthy(h.exists(out .. "/talk/" .. path), path .. " is referenced but not there")
        end
      end
    end
    assert.is_true(refs >= 8, "only " .. refs .. " references")
    -- One audio player a narrated scene that has its narration (1 and 4; 2 failed, 3 is silent).
    local players = select(2, dom:gsub("<audio", ""))
    assert.equal(2, players)
    assert.truthy(dom:find('<audio[^>]-src="scene_01/narration.mp3'), "scene 1's narration")
    assert.truthy(dom:find('<audio[^>]-src="scene_04/narration.mp3'), "scene 4's narration")
    assert.truthy(dom:find('<video[^>]-src="talk.mp4'), "the film")
    assert.truthy(dom:find('<button[^>]-data%-src="scene_01/clip.mp4'), "scene 1's clip, to play")
    assert.truthy(dom:find('<track[^>]-kind="captions"'), "its captions")
    assert.matches("^talk%.vtt%?v=%d+$", board_data(page).film.captions)
    -- Each card's standing: the words of `explainer status`.
    local status_out = h.run({ "status", wf, talk, "--output-dir", out, "--json" })
    local shown = 0
    for _, st in ipairs(cjson.decode(status_out)) do
      local card = dom:match('<article[^>]-id="scene%-' .. ("%d"):format(st.scene_number) .. '".-</article>')
      local word = unescape(assert(card, "no card for scene " .. st.scene_number)
        :match('<span class="badge [^"]*">(.-)</span>'))
      if st.status == "failed" then
        assert.equal('failed: boom <b>bold</b> & "quoted"', word)
      else
        assert.equal(st.reason, word)
      end
      shown = shown + 1
    end
    assert.equal(4, shown)
  end)

  it("shows every text of the script as text: no script of it runs", function()
    if not need_chromium() then return end
    local dom = chromium("--dump-dom", "file://" .. page)
    assert.is_nil(dom:find("data-pwned", 1, true), "a script from the page's text ran")
    assert.is_nil(dom:find('<img src="x"', 1, true))
    assert.is_nil(dom:find("<svg", 1, true))
    assert.equal(2, select(2, dom:gsub("<script", "")), "the page's own scripts, and no other")
    local text = unescape(dom)
    for _, shown in ipairs { '<script>document.body.dataset.pwned="title"</script>',
        '<script>document.body.dataset.pwned="scene"</script> & "onerror=x',
        "</textarea><img src=x onerror=document.body.dataset.pwned='narration'>",
        "<svg onload=document.body.dataset.pwned='prompt'>", "</details><b onclick=x>white</b>",
        'failed: boom <b>bold</b> & "quoted"' } do
      assert.truthy(text:find(shown, 1, true), "not shown as text: " .. shown)
    end
  end)

  it("renders in a screenshot with the title as text, and the check's warnings on their cards", function()
    if not need_chromium() then return end
    local shot = dir .. "/board.png"
    chromium("--screenshot=" .. q(shot) .. " --window-size=1280,2000", "file://" .. page)
    assert.equal("1280 2000", sh("identify -format '%w %h' " .. q(shot)))
    -- What a reader sees at the top: the title (its line alone), its <script> written out.
    local top = dir .. "/top.png"
    assert(os.execute(("convert %s -crop 1280x58+0+0 +repage %s"):format(q(shot), q(top))))
    local seen = sh("tesseract " .. q(top) .. " - --psm 7 2>/dev/null")
    assert.truthy(seen:find("Pumps <script>document.body", 1, true), "OCR of the title: " .. seen)
    -- The warnings of `explainer check` are on their scenes' cards.
    local data = board_data(page)
    local rules = {}
    for _, s in ipairs(data.scenes) do
      for _, w in ipairs(s.warnings or {}) do rules[#rules + 1] = ("%d:%s"):format(s.number, w.rule) end
    end
    table.sort(rules)
    assert.same({ "2:pacing", "4:placeholder" }, rules)
    -- The totals count them by severity, as `explainer check` says them.
    local by = {}
    for _, w in ipairs(data.warnings) do by[w.severity] = (by[w.severity] or 0) + 1 end
    local check_row
    for _, row in ipairs(data.totals) do if row[1] == "Check" then check_row = row[2] end end
    assert.equal(data.problems .. ", below", check_row)
    for sev, n in pairs(by) do
      assert.truthy(check_row:find(("%d %s"):format(n, sev), 1, true), sev .. " in " .. check_row)
    end
    assert.equal("2 warnings, below", check_row)
    -- and a list with an error and a note is not "5 warnings"
    assert.equal("1 error, 3 warnings, 1 note", require("explainer.board").problems {
      { severity = "warning" }, { severity = "error" }, { severity = "note" }, { severity = "warning" },
      { severity = "warning" } })
    assert.equal(require("explainer.check").DEFAULT_PACE, require("explainer.board").PACE)
    assert.equal("too fast", data.scenes[2].pacing)
    assert.equal("too slow", data.scenes[1].pacing) -- one second of voice in four
  end)

  it("prints as a storyboard: a grid of frames with their words, without players", function()
    if not need_chromium() then return end
    local pdf = dir .. "/board.pdf"
    chromium("--no-pdf-header-footer --print-to-pdf=" .. q(pdf), "file://" .. page)
    local text = sh("pdftotext " .. q(pdf) .. " - ")
    if text == "" then
      pending("pdftotext (poppler-utils) is not installed: the printed page was not read")
      return
    end
    assert.truthy(text:find("Hello", 1, true))
    assert.truthy(text:find("Bye.", 1, true), "the words are printed")
    assert.is_nil(text:find("Prompts", 1, true), "the folded prompts are not printed")
  end)
end)

-- h.spawn with SIGINT as a terminal leaves it (not ignored): returns pid, wait().
local function spawn_interruptible(dir, args)
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local tag = dir .. "/serve"
  os.execute(("(env -u LD_PRELOAD setsid -w sh -c 'echo $$ > %s.pid; exec python3 -c \"import os, signal, sys; "
    .. "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])\" \"$0\" \"$@\"' "
    .. "%s %s >%s.out 2>%s.err; echo $? > %s.code) &"):format(q(tag), q(h.bin), table.concat(words, " "),
      q(tag), q(tag), q(tag)))
  h.wait_for(tag .. ".pid")
  core.sleep(0.05)
  return {
    pid = tonumber(h.read(tag .. ".pid")),
    wait = function()
      h.wait_for(tag .. ".code", 30)
      core.sleep(0.05)
      return h.read(tag .. ".out"), h.read(tag .. ".err"), tonumber(h.read(tag .. ".code"))
    end,
  }
end

describe("explainer board", function()
  local dir, wf, talk, out

  before_each(function()
    dir = h.tmpdir()
    make_media(dir)
    wf = h.write(dir .. "/wf.lua", workflow())
    talk = h.write(dir .. "/talk.txt", h.script(3, { all_narrated = true }))
    out = dir .. "/out"
  end)
  after_each(function() h.rm_rf(dir) end)

  it("writes the board of the workflow of the last run in the folder, and prints its path", function()
    h.run({ wf, talk, "--output-dir", out })
    os.remove(out .. "/talk/board.html")
    local _, err, code = h.run({ "board", talk, "--output-dir", out })
    assert.equal(2, code, err) -- wf is no bundled workflow: its script is asked for
    local stdout
    assert.matches("the last run there was of the workflow 'wf'", err, 1, true)
    stdout, err, code = h.run({ "board", wf, talk, "--output-dir", out })
    assert.equal(0, code, err)
    assert.equal(out .. "/talk/board.html\n", stdout)
    local data = board_data(out .. "/talk/board.html")
    assert.equal("wf", data.workflow)
    for _, s in ipairs(data.scenes) do assert.equal("fresh", s.standing) end
    -- --workflow names it too; a bundled workflow is found by the last run's name.
    _, err, code = h.run({ "board", talk, "--workflow", wf, "--output-dir", out })
    assert.equal(0, code, err)
    h.run({ "prompts", talk, "--output-dir", out })
    _, err, code = h.run({ "board", talk, "--output-dir", out })
    assert.equal(0, code, err)
    assert.equal("prompts", board_data(out .. "/talk/board.html").workflow)
  end)

  it("says what to do when no run was made there, and takes --scenes", function()
    local _, err, code = h.run({ "board", talk, "--output-dir", out })
    assert.equal(2, code)
    assert.matches("no run of .* there yet to take the workflow from; name it: explainer board SCRIPT.lua", err)
    local stdout
    stdout, err, code = h.run({ "board", wf, talk, "--output-dir", out, "--scenes", "1,2" })
    assert.equal(0, code, err)
    local data = board_data(stdout:match("^(.-)\n"))
    assert.equal(2, #data.scenes)
    for _, s in ipairs(data.scenes) do assert.equal("new", s.standing) end
  end)

  it("is explained by help board, and its bad port is a usage error", function()
    local stdout, _, code = h.run({ "help", "board" })
    assert.equal(0, code)
    assert.matches("usage: explainer board", stdout, 1, true)
    local _, err
    _, err, code = h.run({ "board", talk, "--serve", "70000" })
    assert.equal(2, code)
    assert.matches("--serve: expected a port from 1 to 65535, got '70000'", err, 1, true)
    -- a mistyped port is a port, not a file named "80x" (found by review)
    _, err, code = h.run({ "board", talk, "--serve", "80x" })
    assert.equal(2, code)
    assert.matches("--serve: expected a port from 1 to 65535, got '80x'", err, 1, true)
  end)

  it("says only the error when the port is taken, not that it serves", function()
    h.run({ wf, talk, "--output-dir", out })
    local holder = io.popen([[python3 -c 'import os,socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); ]]
      .. [[s.listen(); print(s.getsockname()[1], os.getpid()); sys.stdout.flush(); time.sleep(20)']])
    local port, pid = holder:read("l"):match("^(%d+) (%d+)$")
    local stdout, err, code = h.run({ "board", wf, talk, "--output-dir", out, "--serve", port })
    os.execute("kill " .. pid)
    holder:close()
    assert.equal(1, code, err)
    assert.is_nil(err:find("Serving", 1, true), err)
    assert.matches("Address already in use", err, 1, true)
    assert.is_nil(stdout:find("http://", 1, true), stdout)
  end)

  it("serves the folder on 127.0.0.1 with --serve until it is stopped, and the server ends with it", function()
    h.run({ wf, talk, "--output-dir", out })
    local port = tonumber(sh([[python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); ]]
      .. [[print(s.getsockname()[1])']]))
    -- As from a terminal, where Ctrl-C is SIGINT to the foreground group (a
    -- background job of a shell starts with SIGINT ignored: undone first).
    local p = spawn_interruptible(dir, { "board", wf, talk, "--output-dir", out, "--serve", tostring(port) })
    local url = ("http://127.0.0.1:%d/board.html"):format(port)
    local answer
    for _ = 1, 200 do -- the server takes a moment to listen
      answer = core.http_request { url = url, timeout = 2 }
      if answer then break end
      core.sleep(0.05)
    end
    assert.truthy(answer, "nothing answered on " .. url)
    assert.equal(200, answer.status)
    assert.truthy(answer.body:find("explainerBoard", 1, true))
    local data = core.http_request { url = ("http://127.0.0.1:%d/board-data.js"):format(port), timeout = 2 }
    assert.equal(200, data.status)
    os.execute("kill -INT -" .. p.pid)
    local stdout, _, code = p.wait()
    assert.equal(out .. "/talk/board.html\n" .. url .. "\n", stdout)
    assert.equal(130, code) -- as Ctrl-C leaves it
    -- The server is gone with it.
    local gone, down
    for _ = 1, 100 do
      gone, down = core.http_request { url = url, timeout = 1 }
      if not gone then break end
      core.sleep(0.05)
    end
    assert.is_nil(gone, "the server still answers after explainer stopped")
    assert.truthy(down)
  end)
end)

describe("the board during a run", function()
  local dir, wf, out

  before_each(function()
    dir = h.tmpdir()
    make_media(dir)
    wf = h.write(dir .. "/wf.lua", workflow())
    out = dir .. "/out"
  end)
  after_each(function() h.rm_rf(dir) end)

  it("follows the run: running while it goes, each scene as it settles, then over", function()
    local talk = h.write(dir .. "/talk.txt", h.script(3, { all_narrated = true }))
    h.write(wf, workflow(1.2))
    local p = h.spawn(dir, { wf, talk, "--output-dir", out })
    local data_js = out .. "/talk/board-data.js"
    local seen_running, seen_done_while_running = false, false
    local deadline = os.time() + 60
    while os.time() < deadline do
      local ok, data = pcall(board_data, data_js)
      if ok then
        if not data.running then break end
        for _, s in ipairs(data.scenes) do
          if s.standing == "running" then seen_running = true end
          if s.standing == "done" then seen_done_while_running = true end
        end
        assert.truthy(h.exists(out .. "/talk/board.html"), "the page is there while the run goes")
        assert.is_true(board_data(out .. "/talk/board.html").running)
      end
      core.sleep(0.1)
    end
    local _, err, code = p.wait()
    assert.equal(0, code, err)
    assert.is_true(seen_running, "no scene was shown running")
    assert.is_true(seen_done_while_running, "no scene was shown done while the run went on")
    local final = board_data(data_js)
    assert.is_false(final.running)
    assert.same(final, board_data(out .. "/talk/board.html"))
  end)

  it("says where the scenes stand after a run with --no-skip as status does: fresh, not forced", function()
    local talk = h.write(dir .. "/talk.txt", h.script(3, { all_narrated = true }))
    h.run({ wf, talk, "--output-dir", out })
    local _, err, code = h.run({ wf, talk, "--output-dir", out, "--no-skip" })
    assert.equal(0, code, err)
    for _, s in ipairs(board_data(out .. "/talk/board.html").scenes) do
      assert.equal("fresh", s.standing)
      assert.equal("fresh", s.standing_text)
    end
  end)

  it("is written at most about once a second however fast the scenes settle", function()
    local explainer = require "explainer"
    local board = require "explainer.board"
    local talk = h.write(dir .. "/many.txt", h.script(2000))
    local real, writes = board.write, 0
    board.write = function(...)
      writes = writes + 1
      return real(...)
    end
    local t0 = core.time()
    local ok, stats = pcall(explainer.orchestrate_workflow, { explainer_path = talk, progress = "quiet",
      output_base_dir = out, process_scene = function() end })
    board.write = real
    assert.is_true(ok, tostring(stats))
    assert.equal(2000, stats.completed)
    -- the first, one a second at most, the last
    assert.is_true(writes >= 2 and writes <= 2 + math.ceil(core.time() - t0), writes .. " writes")
    assert.equal(board.MAX_SCENES, #board_data(out .. "/many/board.html").scenes)
  end)

  it("draws what board-data.js says, loaded again until the run is over", function()
    if not need_chromium() then return end
    local board = require "explainer.board"
    local doc = require("explainer").parse_string(h.script(2), "live")
    doc.path = "live.txt"
    local data = board.collect { document = doc, dir = dir, shown = board.shown(doc), running = true,
      state = "first state" }
    assert(board.write(dir, data))
    data.running, data.state = false, "the state from board-data.js"
    -- Counts its loads: one, then the page stops asking.
    h.write(dir .. "/board-data.js", "window.loads = (window.loads || 0) + 1;"
      .. "document.documentElement.setAttribute('data-loads', window.loads);"
      .. "explainerBoard(" .. cjson.encode(data) .. ");\n")
    local dom = chromium("--virtual-time-budget=9000 --dump-dom", "file://" .. dir .. "/board.html")
    assert.truthy(dom:find("the state from board-data.js", 1, true), dom:sub(1, 1500))
    assert.truthy(dom:find('data-loads="1"', 1, true), "it went on loading after the run was over")
  end)
end)
