--- Shared helpers for the recipe specs: temporary folders, running the host,
-- reading files, probing media.
local M = {}

-- The basics are the specs' common helpers.
local h = require "helpers"
M.quote, M.read, M.tmpdir, M.rmtree = h.shell_quote, h.read, h.tmpdir, h.rm_rf

function M.root()
  return h.root
end

--- Run a shell-free-enough command line built from quoted pieces; returns
-- exit status, stdout, stderr.
function M.sh(cmd, dir)
  local out, err = dir .. "/.stdout", dir .. "/.stderr"
  local _, how, code = os.execute(cmd .. " >" .. M.quote(out) .. " 2>" .. M.quote(err))
  local status = (how == "exit") and code or 128 + (code or 0)
  local o, e = M.read(out) or "", M.read(err) or ""
  os.remove(out)
  os.remove(err)
  return status, o, e
end

--- Run the host on a workflow script in `dir` (its working folder), with
-- environment settings `env` (name -> value).
function M.run_host(dir, script, input, env, extra)
  local parts = { "cd", M.quote(dir), "&&", "exec", "env" }
  -- The sanitizer runtime preloaded for lua5.4 is not for the host, which
  -- links its own when it is built with one.
  parts[#parts + 1] = "-u"
  parts[#parts + 1] = "LD_PRELOAD"
  env = env or {}
  -- A cache of the test's own unless it says otherwise: tests count requests.
  if env.EXPLAINER_CACHE_DIR == nil then env.EXPLAINER_CACHE_DIR = dir .. "/.cache" end
  for k, v in pairs(env) do parts[#parts + 1] = M.quote(k .. "=" .. v) end
  parts[#parts + 1] = M.quote(os.getenv("EXPLAINER_BIN") or (M.root() .. "/build/explainer"))
  parts[#parts + 1] = M.quote(M.root() .. "/scripts/" .. script)
  parts[#parts + 1] = M.quote(input)
  for _, a in ipairs(extra or {}) do parts[#parts + 1] = M.quote(a) end
  return M.sh(table.concat(parts, " "), dir)
end

--- Every regular file under dir (find), as a list of paths.
function M.files(dir)
  local p = assert(io.popen("find " .. M.quote(dir) .. " -type f"))
  local list = {}
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

--- ffprobe a file: duration (seconds) and the first video stream's size.
function M.probe(path)
  local p = assert(io.popen("ffprobe -v error -show_entries format=duration:stream=codec_type,width,height " ..
                            "-of default=noprint_wrappers=1 " .. M.quote(path)))
  local text = p:read("a")
  p:close()
  return {
    duration = tonumber(text:match("duration=([%d%.]+)")),
    width = tonumber(text:match("width=(%d+)")),
    height = tonumber(text:match("height=(%d+)")),
    has_audio = text:find("codec_type=audio", 1, true) ~= nil,
    has_video = text:find("codec_type=video", 1, true) ~= nil,
  }
end

--- Width and height of an image, read from its PNG header.
function M.png_size(path)
  local data = M.read(path)
  if not data or data:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
  local width, height = string.unpack(">I4I4", data, 17)
  return width, height
end

return M
