--- The settings of the run in progress that hooks and recipes follow: how to
-- print (explainer.log), where the cache is (explainer.cache), whether outputs
-- are forced or synced (explainer.artifact). The runner sets them from the
-- run's options before the first hook; workers inherit them.
-- @module explainer.settings

return {
  progress = "auto",   -- "auto", "plain", "json", "quiet"
  file = nil,          -- the script being run (in JSON messages)
  cache = true,        -- false: --no-cache
  cache_dir = nil,     -- --cache-dir
  force = false,       -- --no-skip: remake outputs even when fresh
  durable = false,     -- --durable: fsync outputs and their folders
}
