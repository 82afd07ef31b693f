-- Attacks and accidents: full disks, odd names, symlinks, readers that go away,
-- processors with side effects. Each ends with a clear error and the right
-- exit status; nothing is recorded as done that is not complete; nothing is
-- written outside the output folder.
local h = require "helpers"
local cjson = require "cjson"
local lfs = require "lfs"

local function workflow(dir, body)
  return h.write(dir .. "/wf.lua", body)
end

local WRITER = [[
return { process_scene = function(scene, d)
  local f = assert(io.open(d .. "/final.png", "w")); f:write("png"); f:close()
end }]]

-- Can this machine mount a small tmpfs (root, or a user namespace)?
local function mount_tmpfs(dir, size)
  lfs.mkdir(dir)
  local ok = os.execute(("mount -t tmpfs -o size=%s tmpfs %s 2>/dev/null"):format(size, h.shell_quote(dir)))
  return ok == true or ok == 0
end

local function umount(dir)
  os.execute("umount " .. h.shell_quote(dir) .. " 2>/dev/null")
end

-- Write `kb` KiB (all it takes, without kb) of zeros into dir/filler, from
-- Lua (no tool that a sanitizer preload could upset).
local function fill(dir, kb)
  local f = assert(io.open(dir .. "/filler", "wb"))
  local block = string.rep("\0", 1024)
  local n = 0
  while (not kb or n < kb) and f:write(block) and f:flush() do n = n + 1 end
  f:close()
  return n
end

describe("a full disk", function()
  local dir, mnt, mounted
  before_each(function()
    dir = h.tmpdir()
    mnt = dir .. "/small"
    mounted = mount_tmpfs(mnt, "2m")
  end)
  after_each(function()
    umount(mnt)
    h.rm_rf(dir)
  end)

  it("fails the scene whose output could not be written, and records nothing as done", function()
    if not mounted then
      pending("cannot mount a tmpfs here (needs root or user namespaces): skipped")
      return
    end
    local film = h.write(dir .. "/film.txt", h.script(2, { all_narrated = true }))
    local out = mnt .. "/out"
    -- the folders and the journal exist; then the disk fills up
    local _, err, code = h.run { h.root .. "/scripts/prompts.lua", film, "--output-dir", out,
      "--dry-run" }
    assert.equal(0, code, err)
    lfs.mkdir(out)
    os.execute(("mkdir -p %s/film/scene_00 %s/film/scene_01 %s/film/.explainer/prompts"):format(out, out, out))
    h.write(out .. "/film/.explainer/prompts/journal", "")
    fill(mnt)
    _, err, code = h.run { h.root .. "/scripts/prompts.lua", film, "--output-dir", out }
    assert.equal(1, code, err)
    assert.matches("cannot write " .. out .. "/film/.explainer/prompts/journal: No space left on device",
      err, 1, true)
    assert.is_nil(lfs.attributes(out .. "/film/scene_00/prompts.md"), "no scene ran")
    -- room again: the journal has room, the outputs not
    os.remove(mnt .. "/filler")
    assert.equal(1900, fill(mnt, 1900))
    local big = h.write(dir .. "/big.txt", h.script(2, { all_narrated = true }):gsub("Narration of scene (%d)%.",
      function(n) return "Narration " .. n .. " " .. string.rep("long words ", 20000) end))
    h.rm_rf(out)
    _, err, code = h.run { h.root .. "/scripts/prompts.lua", big, "--output-dir", out }
    assert.equal(1, code, err)
    assert.matches("No space left on device", err, 1, true)
    local st = cjson.decode(h.read(out .. "/big/report.json") or "{}")
    assert.equal(0, st.completed or -1, "nothing counts as done")
    for n = 0, 1 do
      assert.is_nil(lfs.attributes(("%s/big/scene_%02d/prompts.md"):format(out, n)), "no partial output")
    end
    -- and once there is room, the next run makes them
    os.remove(mnt .. "/filler")
    _, err, code = h.run { h.root .. "/scripts/prompts.lua", big, "--output-dir", out }
    assert.equal(0, code, err)
    assert.matches("Completed: 2", err, 1, true)
  end)

  it("never keeps a track the disk cut short (the tools exit 0 on a full disk), and remakes it", function()
    if not mounted then
      pending("cannot mount a tmpfs here (needs root or user namespaces): skipped")
      return
    end
    local media = require "explainer.media"
    local text = h.script(3, { all_narrated = true }):gsub("Narration of scene (%d)%.", function(n)
      return "Scene " .. n .. " says a dozen words, so that its track needs a few seconds."
    end)
    local film = h.write(dir .. "/film.txt", text)
    local out = mnt .. "/out"
    local args = { h.root .. "/scripts/audio.lua", film, "--output-dir", out, "--no-cache" }
    -- room for the folders, the journal and some of a track, not for all
    assert.is_true(fill(mnt, 1930) > 0)
    local _, err, code = h.run(args)
    assert.equal(1, code, err)
    local report = cjson.decode(h.read(out .. "/film/report.json") or "{}")
    for _, sc in ipairs(report.scenes or {}) do
      local track = ("%s/film/scene_%02d/narration.mp3"):format(out, sc.scene_number)
      if sc.state == "completed" then
        assert.is_true(media.check_whole(track, "mp3"), track .. " counted as done but is not whole")
      end
    end
    assert.is_true((report.failed or 0) > 0, "the disk was full: " .. err)
    -- room again: whatever is not whole is made again, and every track plays whole
    os.remove(mnt .. "/filler")
    _, err, code = h.run(args)
    assert.equal(0, code, err)
    for n = 0, 2 do
      local track = ("%s/film/scene_%02d/narration.mp3"):format(out, n)
      assert.is_true(media.check_whole(track, "mp3"))
      assert.is_true(require("explainer.recipes.audio").check_length(track, "Scene 1 says a dozen words, so "
        .. "that its track needs a few seconds."))
    end
    local stdout = h.run { "status", h.root .. "/scripts/audio.lua", film, "--output-dir", out }
    assert.matches("3 scenes: 3 fresh", stdout, 1, true)
  end)
end)

describe("paths", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rm_rf(dir) end)

  it("refuses an empty output folder", function()
    local film = h.write(dir .. "/film.txt", h.script(2))
    local _, err, code = h.run { workflow(dir, WRITER), film, "--output-dir", "" }
    assert.equal(2, code)
    assert.matches("output folder is empty", err, 1, true)
  end)

  for _, name in ipairs { "...txt", "..txt" } do
    it("refuses a script named " .. name .. " whose name would climb out of the output folder", function()
      local film = h.write(dir .. "/" .. name, h.script(2))
      lfs.mkdir(dir .. "/out")
      local _, err, code = h.run { workflow(dir, WRITER), film, "--output-dir", dir .. "/out" }
      assert.equal(2, code)
      assert.matches("cannot name an output folder", err, 1, true)
      assert.is_nil(lfs.attributes(dir .. "/scene_00"))
      assert.is_nil(lfs.attributes(dir .. "/out/scene_00"))
      assert.is_nil(lfs.attributes(dir .. "/out/.explainer"))
    end)
  end

  it("makes media in an output folder whose name starts with a dash", function()
    local film = h.write(dir .. "/film.txt", h.script(2, { all_narrated = true }))
    local _, err, code = h.run({ h.root .. "/scripts/audio.lua", film, "--output-dir", "-out",
      "--scenes", "1" }, { cwd = dir, env = "EXPLAINER_CACHE_DIR=" .. h.shell_quote(dir .. "/cache") })
    assert.equal(0, code, err)
    local f = io.open(dir .. "/-out/film/scene_01/narration.mp3", "rb")
    assert.truthy(f, "the track is there")
    assert.equal("ID3", f:read(3))
    f:close()
  end)

  it("refuses to write through a symlinked scene folder", function()
    local film = h.write(dir .. "/film.txt", h.script(2))
    local out, elsewhere = dir .. "/out", dir .. "/elsewhere"
    lfs.mkdir(elsewhere)
    os.execute(("mkdir -p %s/film"):format(out))
    assert(lfs.link(elsewhere, out .. "/film/scene_00", true))
    local _, err, code = h.run { workflow(dir, WRITER), film, "--output-dir", out }
    assert.equal(1, code)
    assert.matches("refusing to write through " .. out .. "/film/scene_00: it is a symlink", err, 1, true)
    assert.is_nil(lfs.attributes(elsewhere .. "/final.png"), "nothing written through the link")
    assert.truthy(lfs.attributes(out .. "/film/scene_01/final.png"), "the other scene is made")
  end)

  it("refuses a journal that is a symlink (to /dev/zero: it would never end)", function()
    local film = h.write(dir .. "/film.txt", h.script(2))
    local out = dir .. "/out"
    os.execute(("mkdir -p %s/film/.explainer/wf"):format(out))
    assert(lfs.link("/dev/zero", out .. "/film/.explainer/wf/journal", true))
    local _, err, code = h.run { workflow(dir, WRITER), film, "--output-dir", out }
    assert.equal(2, code)
    assert.matches("journal: Too many levels of symbolic links", err, 1, true)
    local _, err2, code2 = h.run { "status", dir .. "/wf.lua", film, "--output-dir", out }
    assert.equal(2, code2)
    assert.matches("journal", err2, 1, true)
  end)
end)

describe("the run's standard output", function()
  local dir
  before_each(function()
    dir = h.tmpdir()
    h.write(dir .. "/film.txt", h.script(6))
    workflow(dir, [[
      return { output_filename = "x.txt", process_scene = function(scene, d)
        for i = 1, 3000 do print(("scene %d line %d"):format(scene.scene_number, i)) end
        io.open(d .. "/x.txt", "w"):close()
        require("explainer_core").sleep(0.15)   -- long enough for head(1) to be gone
      end }]])
  end)
  after_each(function() h.rm_rf(dir) end)

  local function sh(cmd)
    local p = io.popen("cd " .. h.shell_quote(dir) .. " && env -u LD_PRELOAD " .. cmd .. "; echo \"::$?\"")
    local out = p:read("a")
    p:close()
    return out
  end

  for _, jobs in ipairs { "1", "2" } do
    it("ends the run with its summary and report when the reader goes away (jobs " .. jobs .. ")", function()
      local out = sh(("bash -c '%s wf.lua film.txt -j %s --output-dir out 2>err.txt | head -2; exit ${PIPESTATUS[0]}'")
        :format(h.bin, jobs))
      assert.matches("::1%s*$", out)
      local err = h.read(dir .. "/err.txt")
      assert.matches("Summary for film.txt", err, 1, true)
      assert.matches("standard output was closed", err, 1, true)
      local report = cjson.decode(h.read(dir .. "/out/film/report.json"))
      assert.is_true(report.completed < 6, "it stopped")
      assert.matches("standard output was closed", report.fatal, 1, true)
    end)
  end

  it("keeps running scenes on time while a slow reader holds up their output", function()
    local out = sh(("bash -c '%s wf.lua film.txt -j 2 --timeout 2 --output-dir out 2>err.txt | (sleep 4; wc -l); exit ${PIPESTATUS[0]}'")
      :format(h.bin))
    assert.matches("18000", out, 1, true)
    assert.matches("::0%s*$", out)
    local err = h.read(dir .. "/err.txt")
    assert.matches("Completed: 6", err, 1, true)
    assert.is_nil(err:find("timed out", 1, true))
  end)
end)

describe("processors with side effects", function()
  local dir, film
  before_each(function()
    dir = h.tmpdir()
    film = h.write(dir .. "/film.txt", h.script(4))
  end)
  after_each(function() h.rm_rf(dir) end)

  it("gives each worker its own random numbers", function()
    workflow(dir, [[
      return { process_scene = function(scene, d)
        io.open(d .. "/final.png", "w"):close()
        return math.random(1, 1e9)
      end,
      finish = function(stats)
        local seen, same = {}, 0
        for _, v in pairs(stats.results) do
          if seen[v] then same = same + 1 end
          seen[v] = true
        end
        print("same=" .. same)
      end }]])
    local out, err, code = h.run { dir .. "/wf.lua", film, "-j", "2", "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.matches("same=0", out, 1, true)
  end)

  it("keeps the run's folders where they are when a processor changes directory", function()
    lfs.mkdir(dir .. "/away")
    workflow(dir, ([[
      local lfs = require "lfs"
      return { process_scene = function(scene, d)
        io.open(d .. "/final.png", "w"):close()
        lfs.chdir(%q)
      end }]]):format(dir .. "/away"))
    local _, err, code = h.run({ "wf.lua", "film.txt", "--output-dir", "out" }, { cwd = dir })
    assert.equal(0, code, err)
    for n = 0, 3 do
      assert.truthy(lfs.attributes(("%s/out/film/scene_%02d/final.png"):format(dir, n)), "scene " .. n)
    end
    assert.truthy(lfs.attributes(dir .. "/out/film/report.json"))
    assert.is_nil(lfs.attributes(dir .. "/away/out"))
  end)

  it("fails the scene that calls os.exit, and goes on (in this process)", function()
    workflow(dir, [[
      return { process_scene = function(scene, d)
        if scene.scene_number == 1 then os.exit(3) end
        io.open(d .. "/final.png", "w"):close()
      end }]])
    local _, err, code = h.run { dir .. "/wf.lua", film, "--output-dir", dir .. "/out" }
    assert.equal(1, code, err)
    assert.matches("Scene 1 failed: .*called os.exit%(3%)", err)
    assert.matches("Completed: 3", err, 1, true)
    assert.truthy(lfs.attributes(dir .. "/out/film/report.json"))
  end)

  it("stops a scene waiting in os.execute when the run is interrupted, exits 130, joins nothing",
      function()
    local core = require "explainer_core"
    workflow(dir, ([[
      return { process_scene = function(scene, d)
        io.open(%q, "w"):close()
        os.execute("sleep 20")
        io.open(d .. "/final.png", "w"):close()
      end,
      finish = function() io.open(%q, "w"):close() end }]]):format(dir .. "/started", dir .. "/joined"))
    local p = h.spawn(dir, { dir .. "/wf.lua", film, "--output-dir", dir .. "/out" })
    h.wait_for(dir .. "/started")
    core.sleep(0.2)
    os.execute("kill -INT " .. p.pid) -- the run alone, not its process group
    local _, err, code = p.wait(10)
    assert.equal(130, code, err)
    assert.matches("Interrupted by SIGINT", err, 1, true)
    assert.matches("Completed: 0", err, 1, true)
    assert.is_nil(lfs.attributes(dir .. "/out/film/scene_00/final.png"), "the scene stays undone")
    -- finish (a film's join) would replace a whole film with the clips made so far
    assert.is_nil(lfs.attributes(dir .. "/joined"), "finish is not run after an interrupt")
    assert.matches("finish was not run; `--finish-only` runs it", err, 1, true)
    local _, ferr, fcode = h.run { dir .. "/wf.lua", film, "--output-dir", dir .. "/out", "--finish-only" }
    assert.equal(0, fcode, ferr)
    assert.truthy(lfs.attributes(dir .. "/joined"), "--finish-only runs it when asked")
  end)

  -- `kill -TERM <run>` (a supervisor, a CI timeout) reaches the run alone, not
  -- its process group as a terminal's Ctrl-C does: what a processor's shell
  -- commands started must end with the run all the same, not live on under
  -- pid 1 (`sleep 1000` did, for os.execute and io.popen alike).
  for _, case in ipairs {
    { "TERM", 143, 'os.execute(CMD)' },
    { "INT", 130, 'os.execute(CMD)' },
    { "TERM", 143, 'local p = io.popen(CMD); p:read("a"); p:close()' },
    { "INT", 130, 'local p = io.popen(CMD, "w"); p:write("x"); p:close()' },
    -- a closed terminal or a dropped ssh session
    { "HUP", 129, 'os.execute(CMD)' },
    -- what an earlier command of the scene left in the background
    { "TERM", 143, 'os.execute(BG); os.execute("sleep 1000")' },
  } do
    it(("ends what %s started when the run alone gets SIG%s"):format(case[3]:match("[%w.]+%(") .. ")", case[1]),
        function()
      local core = require "explainer_core"
      local pidfile = dir .. "/sleeper.pid"
      -- a grandchild: the shell runs it and waits, so ending the shell alone leaves it
      local command = ("sh -c 'echo $$ > %s; exec sleep 1000'; echo after"):format(pidfile)
      local background = ("sh -c 'echo $$ > %s; exec sleep 1000' >/dev/null 2>&1 &"):format(pidfile)
      workflow(dir, ([[
        local CMD, BG = %q, %q
        return { process_scene = function(scene, d)
          %s
          io.open(d .. "/final.png", "w"):close()
        end }]]):format(command, background, case[3]))
      local p = h.spawn(dir, { dir .. "/wf.lua", film, "--output-dir", dir .. "/out" })
      h.wait_for(pidfile)
      local sleeper
      repeat sleeper = tonumber(h.read(pidfile)) until sleeper or not core.sleep(0.01)
      assert.is_true(h.alive(sleeper))
      os.execute(("kill -%s %d"):format(case[1], p.pid)) -- the run alone
      local _, err, code = p.wait(10)
      assert.equal(case[2], code, err)
      local deadline = core.time() + 5
      while h.alive(sleeper) and core.time() < deadline do core.sleep(0.05) end
      local alive = h.alive(sleeper)
      if alive then os.execute("kill -KILL " .. sleeper) end
      assert.is_false(alive, "the command's sleep 1000 outlived the run")
      assert.is_nil(lfs.attributes(dir .. "/out/film/scene_00/final.png"), "the scene stays undone")
    end)
  end

  it("ends what a scene's commands left in the background when the scene ends, as a worker's", function()
    local core = require "explainer_core"
    workflow(dir, ([[
      return { process_scene = function(scene, d)
        if scene.scene_number == 1 then
          os.execute("sh -c 'echo $$ > %s.tmp && mv %s.tmp %s; exec sleep 1000' >/dev/null 2>&1 &")
          while not io.open(%q) do require("explainer_core").sleep(0.01) end
        end
        io.open(d .. "/final.png", "w"):close()
      end }]]):format(dir .. "/bg.pid", dir .. "/bg.pid", dir .. "/bg.pid", dir .. "/bg.pid"))
    local _, err, code = h.run { dir .. "/wf.lua", film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    local pid = tonumber(h.read(dir .. "/bg.pid"))
    local deadline = core.time() + 5
    while h.alive(pid) and core.time() < deadline do core.sleep(0.05) end
    local alive = h.alive(pid)
    if alive then os.execute("kill -KILL " .. pid) end
    assert.is_false(alive, "the background sleep 1000 outlived its scene")
  end)

  it("gives a processor's os.execute and io.popen the results Lua's own give", function()
    workflow(dir, ([[
      return { process_scene = function(scene, d)
        if scene.scene_number ~= 1 then return end
        local r = {}
        r[#r + 1] = table.concat({ tostring(os.execute("exit 3")), select(2, os.execute("exit 3")),
                                   select(3, os.execute("exit 3")) }, " ")
        r[#r + 1] = tostring(os.execute())
        local p = io.popen("printf 'a\nb\n'")
        r[#r + 1] = p:read("l") .. p:read("l")
        r[#r + 1] = table.concat({ tostring(p:close()) }, " ")
        local q = io.popen("exit 7")
        local ok, how, n = q:close()
        r[#r + 1] = tostring(ok) .. " " .. how .. " " .. n
        local w = io.popen("cat > " .. %q, "w")
        w:write("written")
        r[#r + 1] = tostring(w:close())
        r[#r + 1] = tostring(select(2, pcall(io.popen, "true", "rw")))
        r[#r + 1] = io.type(io.popen("true"))
        local f = assert(io.open(%q, "w")); f:write(table.concat(r, "|")); f:close()
      end }]]):format(dir .. "/w.txt", dir .. "/results.txt"))
    local _, err, code = h.run { dir .. "/wf.lua", film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.equal("nil exit 3|true|ab|true|nil exit 7|true|bad argument #2 to 'io.popen' (invalid mode)|file",
      h.read(dir .. "/results.txt"))
    assert.equal("written", h.read(dir .. "/w.txt"))
  end)

  it("shows a title's control characters escaped, never raw", function()
    h.write(film, (h.read(film):gsub("Scene Title 1", "Evil \27]0;pwned\7 title")))
    workflow(dir, WRITER)
    local _, err, code = h.run { dir .. "/wf.lua", film, "--output-dir", dir .. "/out" }
    assert.equal(0, code, err)
    assert.is_nil(err:find("\27", 1, true), "no raw escape reaches the terminal")
    assert.is_nil(err:find("\7", 1, true))
    assert.matches("Evil \\x1b]0;pwned\\x07 title", err, 1, true)
  end)

  it("escapes a title's control characters in parse, status and narration too", function()
    h.write(film, (h.read(film):gsub("Scene Title 1", "Evil \27]0;pwned\7 title")
      :gsub("Narration of scene 2%.", "Bell \7 here.")))
    workflow(dir, WRITER)
    for _, args in ipairs { { "parse", film }, { "narration", film },
                            { "status", dir .. "/wf.lua", film, "--output-dir", dir .. "/out" } } do
      local out, err, code = h.run(args)
      assert.equal(0, code, err)
      assert.is_nil(out:find("[\27\7]"), args[1] .. " prints no raw control character")
      assert.is_nil(err:find("[\27\7]"), args[1] .. " (stderr)")
    end
    local out = h.run { "parse", film }
    assert.matches("Evil \\x1b]0;pwned\\x07 title", out, 1, true)
    out = h.run { "narration", film }
    assert.matches("Bell \\x07 here.", out, 1, true)
  end)
end)
