--- Running the programs explainer uses (ffmpeg, ffprobe, espeak-ng, convert):
-- an argument vector, never a shell, a timeout, and a message that says what
-- went wrong.
--
--     local tool = require "explainer.tool"
--     local r, err = tool.run { "ffprobe", "-version" }
-- @module explainer.tool

local core = require "explainer_core"

local M = {}

local function tail(text, lines)
  local out = {}
  for line in tostring(text):gmatch("[^\r\n]+") do
    out[#out + 1] = line
    if #out > lines then table.remove(out, 1) end
  end
  return table.concat(out, " | ")
end

-- What a program says on stderr when it could not write its output, though
-- it may exit 0 (ffmpeg 5.1 does, on a full disk, with a file cut short).
local WRITE_FAILED = { "No space left on device", "Error writing trailer", "Disk quota exceeded" }

local function write_failure(stderr)
  for _, s in ipairs(WRITE_FAILED) do
    local at = stderr:find(s, 1, true)
    if at then
      return stderr:sub(stderr:sub(1, at):match(".*()\n") or 1, (stderr:find("\n", at, true) or 0) - 1)
    end
  end
  return nil
end

--- Run a program (an argument vector, never a shell).
-- @tparam {string,...} argv
-- @tparam[opt] table opts `stdin`, `timeout` (default 600 s), `cwd`,
-- `on_stdout` (a function called with each piece of stdout as it arrives)
-- @treturn table|nil the result (`stdout`, `stderr`, `status`) when it succeeded
-- @treturn string|nil message: "ffmpeg failed (exit 1): <its last lines>",
-- "espeak-ng not found; run make deps", "convert timed out after 600 s",
-- "ffmpeg could not write its output: ... No space left on device"
function M.run(argv, opts)
  opts = opts or {}
  local env = nil
  -- A sanitizer runtime preloaded into the host (make test-asan) is not for
  -- the tools: espeak-ng, for one, hangs with it.
  local preload = os.getenv("LD_PRELOAD")
  if preload and (preload:find("asan", 1, true) or preload:find("sanitizer", 1, true)) then
    env = { LD_PRELOAD = false }
  end
  local r, err = core.exec(argv, { stdin = opts.stdin, timeout = opts.timeout or 600, cwd = opts.cwd, env = env,
                                   on_stdout = opts.on_stdout })
  if not r then return nil, err end
  if r.timed_out then
    return nil, string.format("%s timed out after %g s", argv[1], opts.timeout or 600)
  end
  if not r.ok then
    local why = r.signal and ("signal " .. r.signal) or ("exit " .. r.status)
    local detail = tail(r.stderr ~= "" and r.stderr or r.stdout, 3)
    return nil, string.format("%s failed (%s)%s", argv[1], why, detail ~= "" and (": " .. detail) or "")
  end
  local failed = write_failure(r.stderr or "")
  if failed then
    return nil, string.format("%s could not write its output: %s", argv[1], (failed:gsub("^%s+", "")))
  end
  return r
end

return M
