--- The settings of the run in progress that hooks and recipes follow: how to
-- print (explainer.log), where the cache is (explainer.cache), whether outputs
-- are forced or synced (explainer.artifact). The runner sets them from the
-- run's options before the first hook; workers inherit them.
-- @module explainer.settings

--- A setting that cannot work (`EXPLAINER_VOICE=bogus`): the run's usage
-- error, not a scene's or a hook's failure. `tostring` gives the message.
local SettingError = {}
SettingError.__index = SettingError
SettingError.__tostring = function(e) return e.message end

return {
  Error = SettingError,
  --- Raise a SettingError: the recipes say a bad setting with it, so that a
  -- run refuses it in one line (exit 2) wherever it is found first (a
  -- workflow's inputs or setup), before anything runs.
  -- @tparam string message names the setting and the value
  fail = function(message) error(setmetatable({ message = tostring(message) }, SettingError), 0) end,
  progress = "auto",   -- "auto", "plain", "json", "quiet"
  file = nil,          -- the script being run (in JSON messages)
  cache = true,        -- false: --no-cache
  cache_dir = nil,     -- --cache-dir
  force = false,       -- --no-skip: remake outputs even when fresh
  durable = false,     -- --durable: fsync outputs and their folders
}
