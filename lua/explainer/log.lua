--- Messages from hooks and recipes that follow the run's progress mode.
--
-- `explainer.say("Film: out/film.mp4")` prints a line on stderr in a plain run,
-- nothing with `--quiet`, and a `{"event":"message"}` line with
-- `--progress json`, so that a JSON-lines reader never meets a stray line.
-- Warnings are printed in every mode but JSON (where they are events too).
-- @module explainer.log

local settings = require "explainer.settings"

local M = {}

--- Where messages go: a file handle (io.stderr); a spec may put anything
-- with a `write` method here to read them.
M.output = io.stderr

-- JSON without cjson (start-up time): strings escaped as json_out.c does.
local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function emit(level, message)
  if settings.progress == "json" then
    local now = require("explainer_core").time()
    M.output:write(('{"event":"message","file":%s,"time":%.3f,"level":"%s","message":%s}\n')
      :format(settings.file and json_string(settings.file) or "null", now, level, json_string(message)))
  elseif level == "warning" or settings.progress ~= "quiet" then
    M.output:write(message, "\n")
  end
end

--- Print a message for people (a hook's result, "Film: …").
function M.say(message)
  emit("info", tostring(message))
end

--- Print a warning ("warning: " is added).
function M.warn(message)
  emit("warning", "warning: " .. tostring(message))
end

-- Warnings said once per process, by key.
local said = {}

--- Print a warning only the first time `key` is seen.
function M.warn_once(key, message)
  if said[key] then return end
  said[key] = true
  M.warn(message)
end

return M
