--- What killed runs leave behind: temporary files (`.NAME.<n>.tmp...`,
-- explainer.artifact's) that no later run would remove, since the scene they
-- belong to may be fresh now and never made again.
--
--     require("explainer.sweep").after_run("out/talk", { "out/talk/scene_01" })
-- @module explainer.sweep

local lfs = require "lfs"

local M = {}

--- How old a temporary file must be to be removed: a run that is writing
-- one now (another workflow in the same folder) is not disturbed.
M.AGE = 3600

--- Remove the temporary files over `AGE` seconds old in a folder.
-- @tparam string dir
function M.clean_folder(dir)
  if lfs.attributes(dir, "mode") ~= "directory" then return end
  local before = os.time() - M.AGE
  for name in lfs.dir(dir) do
    if name:match("^%..+%.%d+%.tmp") then
      local full = dir .. "/" .. name
      if (lfs.attributes(full, "modification") or before) < before then os.remove(full) end
    end
  end
end

--- After a run: clean a document's folder and its scenes', at most once
-- every `AGE` seconds (the time of the workflow's stamp,
-- `.explainer/<workflow>/swept`, beside its journal: a stamp of its own in
-- `.explainer/` would take the name of a workflow called `swept`), so that a
-- run of 10,000 fresh scenes does not read 10,000 folders each time.
-- @tparam string doc_dir the document's folder
-- @tparam {string,...} scene_dirs its scenes' folders
-- @tparam[opt="default"] string workflow the run's workflow (its journal's name)
function M.after_run(doc_dir, scene_dirs, workflow)
  -- (the stamp of older versions, in the way of a workflow called swept)
  local old = doc_dir .. "/.explainer/swept"
  if lfs.symlinkattributes(old, "mode") == "file" then os.remove(old) end
  local stamp = ("%s/.explainer/%s/swept"):format(doc_dir, workflow or "default")
  local last = lfs.attributes(stamp, "modification")
  if last and last > os.time() - M.AGE then return end
  local f = io.open(stamp, "w")
  if not f then return end
  f:close()
  M.clean_folder(doc_dir)
  for _, dir in ipairs(scene_dirs) do M.clean_folder(dir) end
end

return M
