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

local BAR = 20

--- Say that a task has begun, and how far it goes while it runs: `label`
-- is said as `say` says it; `update(fraction)` shows how far the task is
-- (0 to 1) and `done()` ends it. On a terminal (`--progress auto`) the label's
-- line shows a live percentage and bar (`Joining the film ... 42% [########  ]`)
-- on stderr; with `--progress json` the percentage is a `progress` event
-- every 10%; elsewhere (a log file, `plain`, `quiet`) nothing more is
-- printed than the label.
-- @tparam string label
-- @treturn table `{update = function(fraction), done = function()}`
function M.progress(label)
  label = tostring(label)
  local live = settings.progress == "auto" and M.output == io.stderr and require("explainer_core").isatty(2)
  if not live then
    emit("info", label)
    local json, last = settings.progress == "json", 0
    local function event(pct)
      M.output:write(('{"event":"progress","file":%s,"time":%.3f,"task":%s,"percent":%d}\n'):format(
        settings.file and json_string(settings.file) or "null", require("explainer_core").time(),
        json_string(label), pct))
    end
    return {
      update = function(fraction)
        local pct = math.floor(math.max(0, math.min(1, fraction)) * 100)
        if json and pct >= last + 10 then
          last = pct - pct % 10
          event(pct)
        end
      end,
      done = function()
        if json and last > 0 and last < 100 then
          last = 100
          event(100)
        end
      end,
    }
  end
  local core = require "explainer_core"
  local shown, at, drawn = -1, 0, false
  M.output:write(label)
  M.output:flush()
  return {
    update = function(fraction)
      local pct = math.floor(math.max(0, math.min(1, fraction)) * 100)
      local now = core.time()
      if pct == shown or (now - at < 0.1 and pct < 100) then return end
      shown, at, drawn = pct, now, true
      local filled = pct * BAR // 100
      M.output:write(("\r%s %3d%% [%s%s]\27[K"):format(label, pct, ("#"):rep(filled), (" "):rep(BAR - filled)))
      M.output:flush()
    end,
    done = function()
      if drawn and shown < 100 then
        M.output:write(("\r%s 100%% [%s]\27[K"):format(label, ("#"):rep(BAR)))
      end
      M.output:write("\n")
      M.output:flush()
    end,
  }
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
