--- Shared helpers for the busted specs: temp dirs, files, running the binary.
local lfs = require "lfs"

local M = {}

M.root = os.getenv("EXPLAINER_ROOT") or "."
M.bin = os.getenv("EXPLAINER_BIN") or (M.root .. "/build/explainer")

--- Quote one word for /bin/sh (the tests' own commands, never scene text paths).
function M.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- "LUA_PATH=... LUA_CPATH=..." (shell-quoted) for a child lua5.4 to find what this
-- one finds: a plain `busted` sets its paths inside the process, not in the
-- environment. Under `make test-asan`, also the sanitizer runtime the instrumented
-- module needs (tests/unpreload.lua took it out of this process's environment).
function M.lua_env()
  local preload = os.getenv("EXPLAINER_TEST_PRELOAD") or ""
  return "LUA_PATH=" .. M.shell_quote(package.path) .. " LUA_CPATH=" .. M.shell_quote(package.cpath)
    .. (preload ~= "" and (" LD_PRELOAD=" .. M.shell_quote(preload)) or "")
end

function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(lfs.mkdir(p))
  return p
end

function M.rm_rf(path)
  local attr = lfs.symlinkattributes(path)
  if not attr then return end
  if attr.mode == "directory" then
    for entry in lfs.dir(path) do
      if entry ~= "." and entry ~= ".." then M.rm_rf(path .. "/" .. entry) end
    end
    lfs.rmdir(path)
  else
    os.remove(path)
  end
end

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.exists(path)
  return lfs.attributes(path) ~= nil
end

--- Run the explainer binary with arguments; returns stdout, stderr, exit code.
-- opts.cwd runs it from another directory; opts.env is a string of VAR=value.
function M.run(args, opts)
  opts = opts or {}
  local words = {}
  for i, a in ipairs(args) do words[i] = M.shell_quote(a) end
  local errfile = os.tmpname()
  -- Under `make test-asan` LD_PRELOAD carries the ASan runtime for lua5.4; the
  -- host binary has its own (static) runtime and refuses a second one.
  local cmd = ("%senv -u LD_PRELOAD %s %s %s 2>%s; echo \"::exit=$?\""):format(
    opts.cwd and ("cd " .. M.shell_quote(opts.cwd) .. " && ") or "",
    opts.env or "", M.shell_quote(opts.bin or M.bin), table.concat(words, " "),
    M.shell_quote(errfile))
  local p = io.popen(cmd, "r")
  local out = p:read("a")
  p:close()
  local code = tonumber(out:match("::exit=(%d+)%s*$"))
  out = out:gsub("::exit=%d+%s*$", "")
  local err = M.read(errfile) or ""
  os.remove(errfile)
  return out, err, code
end

--- A small script in the common dialect: n scenes, 0 and n-1 silent.
function M.script(n, opts)
  opts = opts or {}
  local out = { ("# %s - %d SCENES"):format(opts.title or "Test Film", n),
    "Style: flat", "Total Duration: " .. (6 * n) .. " seconds",
    "Format: " .. (opts.format or "9:16 VERTICAL"), "Audience: testers", "", "---", "" }
  for i = 0, n - 1 do
    local silent = (i == 0 or i == n - 1) and not opts.all_narrated
    out[#out + 1] = ("## SCENE %d: Scene Title %d (6 seconds)%s"):format(i, i,
      silent and " - NO NARRATION" or "")
    out[#out + 1] = ""
    if not silent then
      out[#out + 1] = ('Narration: "Narration of scene %d."'):format(i)
      out[#out + 1] = ""
    end
    out[#out + 1] = "Layout Design:"
    out[#out + 1] = "- Background: white"
    out[#out + 1] = ""
    out[#out + 1] = ('Nano Banana Iterative Prompt:\n"Initial: Picture %d | Iteration 1: sharper %d"'):format(i, i)
    out[#out + 1] = ""
    out[#out + 1] = ('Animation Prompt for AI Video Model:\n"Fade in %d."'):format(i)
    out[#out + 1] = ""
    out[#out + 1] = "---"
    out[#out + 1] = ""
  end
  return table.concat(out, "\n")
end

--- Wait until a file exists (polling); raise after `seconds` (default 10).
function M.wait_for(path, seconds)
  local core = require "explainer_core"
  local deadline = os.time() + (seconds or 10)
  while not M.exists(path) do
    if os.time() > deadline then error("timed out waiting for " .. path, 2) end
    core.sleep(0.02)
  end
end

--- Is the process alive (a zombie counts as dead)?
function M.alive(pid)
  local stat = M.read("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("%) (%a)") ~= "Z"
end

--- Start the binary in its own session (so its process group can be signalled
-- as a whole). Returns a handle with pid, and wait() -> stdout, stderr, code.
function M.spawn(dir, args, opts)
  opts = opts or {}
  local core = require "explainer_core"
  local q = M.shell_quote
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local tag = dir .. "/spawn" .. tostring(math.random(1e9))
  os.execute(("(env -u LD_PRELOAD %s setsid -w sh -c 'echo $$ > %s.pid; exec \"$0\" \"$@\"' %s %s >%s.out 2>%s.err; echo $? > %s.code) &")
    :format(opts.env or "", q(tag), q(M.bin), table.concat(words, " "), q(tag), q(tag), q(tag)))
  -- The shell makes each file before it writes the number in it: read until
  -- the number is there.
  local function number_in(path, seconds)
    M.wait_for(path, seconds)
    local deadline = os.time() + 5
    while true do
      local n = tonumber(M.read(path) or "")
      if n then return n end
      if os.time() > deadline then error("no number in " .. path, 3) end
      core.sleep(0.01)
    end
  end
  local pid = number_in(tag .. ".pid")
  return {
    pid = pid,
    wait = function(seconds)
      local code = number_in(tag .. ".code", seconds or 30)
      return M.read(tag .. ".out"), M.read(tag .. ".err"), code
    end,
  }
end

return M
