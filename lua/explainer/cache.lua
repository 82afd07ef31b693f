--- A content-addressed cache of what costs money or time to make.
--
-- Entries are named by the key of what made them (explainer.key): the same
-- narration with the same voice and backend, in any script, is one entry,
-- paid for once. The cache lives in `$EXPLAINER_CACHE_DIR`, else
-- `$XDG_CACHE_HOME/explainer`, else `~/.cache/explainer` (or where
-- `--cache-dir` says); `--no-cache` turns it off. Layout:
-- `<dir>/v1/<first two hex digits>/<id>.<ext>`.
--
-- Entries are written under a temporary name and renamed, so concurrent runs
-- and shards never see half of one; an entry is checked (not empty, the
-- right magic bytes) before it is used, and a bad one is removed with a
-- warning. A cache folder that cannot be written turns the cache off for the
-- run, with one warning. Each use touches the entry, so that `prune` removes
-- the least recently used first.
-- @module explainer.cache

local core = require "explainer_core"
local lfs = require "lfs"
local media = require "explainer.media"
local log = require "explainer.log"
local settings = require "explainer.settings"

local M = {}

-- Folders found unwritable in this process: the cache is off for them.
local broken = {}

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
  return nil
end

--- The cache folder, or nil when the cache is off.
function M.dir()
  if settings.cache == false or env("EXPLAINER_NO_CACHE") then return nil end
  local dir = settings.cache_dir or env("EXPLAINER_CACHE_DIR")
  if not dir and env("XDG_CACHE_HOME") then dir = env("XDG_CACHE_HOME") .. "/explainer" end
  if not dir and env("HOME") then dir = env("HOME") .. "/.cache/explainer" end
  if not dir or broken[dir] then return nil end
  return dir
end

local function entry_path(dir, id, ext)
  return ("%s/v1/%s/%s%s"):format(dir, id:sub(1, 2), id, ext or "")
end

--- The lock file under which the entry for `id` is built (`locks/` in the
-- cache folder, made when needed), or nil when the cache is off or that
-- folder cannot be made.
-- @tparam string id a key's id
-- @tparam string ext the entry's extension
function M.lock_path(id, ext)
  local dir = M.dir()
  if not dir then return nil end
  local folder = ("%s/locks/%s"):format(dir, id:sub(1, 2))
  if not core.mkdir_p(folder) then return nil end
  return ("%s/%s%s.lock"):format(folder, id, ext or "")
end

--- Copy the entry for `id` to `dest` (a new file), when there is a good one.
-- @tparam string id a key's id
-- @tparam string ext the entry's extension (".mp3")
-- @tparam string dest where to copy it (must not exist)
-- @tparam[opt] string kind the media kind to check ("mp3"; default from ext)
-- @treturn boolean whether dest now holds the entry
function M.fetch(id, ext, dest, kind)
  local dir = M.dir()
  if not dir then return false end
  local path = entry_path(dir, id, ext)
  if not lfs.attributes(path, "mode") then return false end
  local ok, err = media.check_file(path, kind or media.kind_of_name(ext))
  if not ok then
    log.warn("ignoring a bad cache entry (" .. tostring(err) .. "); it is made again")
    os.remove(path)
    return false
  end
  if not core.copy_file(path, dest) then return false end
  lfs.touch(path) -- least recently used goes first
  return true
end

--- Remove the entry for `id` (one found bad after it was fetched).
function M.drop(id, ext)
  local dir = M.dir()
  if dir then os.remove(entry_path(dir, id, ext)) end
end

local function give_up(dir, why)
  broken[dir] = true
  log.warn_once("cache:" .. dir, ("the cache folder %s cannot be written (%s): going on without the cache")
    :format(dir, tostring(why)))
end

--- Store the file at `src` as the entry for `id`.
-- @treturn boolean whether it was stored
function M.store(id, ext, src)
  local dir = M.dir()
  if not dir then return false end
  local path = entry_path(dir, id, ext)
  local ok, err = core.mkdir_p(path:match("^(.*)/"))
  if not ok then
    give_up(dir, err)
    return false
  end
  local tmp = ("%s.%d.tmp"):format(path, math.random(1, 1e9))
  ok, err = core.copy_file(src, tmp)
  if ok then ok, err = os.rename(tmp, path) end
  if not ok then
    os.remove(tmp)
    give_up(dir, err)
    return false
  end
  return true
end

-- Every entry: {path=, size=, used=} (temporary files of dead writers too).
local function entries(dir)
  local list = {}
  local root = dir .. "/v1"
  if lfs.attributes(root, "mode") ~= "directory" then return list end
  for sub in lfs.dir(root) do
    local subdir = root .. "/" .. sub
    if sub:match("^%x%x$") and lfs.attributes(subdir, "mode") == "directory" then
      for name in lfs.dir(subdir) do
        local path = subdir .. "/" .. name
        local attr = lfs.attributes(path)
        if attr and attr.mode == "file" then
          list[#list + 1] = { path = path, size = attr.size, used = attr.modification,
                              temporary = name:match("%.tmp$") ~= nil }
        end
      end
    end
  end
  return list
end

--- How big the cache is.
-- @tparam[opt] string dir (default: M.dir())
-- @treturn table `{dir=, entries=, bytes=}`
function M.stats(dir)
  dir = dir or M.dir()
  local n, bytes = 0, 0
  for _, e in ipairs(dir and entries(dir) or {}) do
    if not e.temporary then n = n + 1 end
    bytes = bytes + e.size
  end
  return { dir = dir, entries = n, bytes = bytes }
end

--- Remove the least recently used entries until the cache holds at most
-- `max_bytes` (and temporary files older than a day).
-- @treturn table `{removed=, freed=, entries=, bytes=}`
function M.prune(dir, max_bytes)
  local list = entries(dir)
  table.sort(list, function(a, b) return a.used < b.used end)
  local total = 0
  for _, e in ipairs(list) do total = total + e.size end
  local removed, freed = 0, 0
  local day_ago = os.time() - 86400
  for _, e in ipairs(list) do
    if total > max_bytes or (e.temporary and e.used < day_ago) then
      if os.remove(e.path) then
        total = total - e.size
        freed = freed + e.size
        removed = removed + 1
      end
    end
  end
  local left = M.stats(dir)
  return { removed = removed, freed = freed, entries = left.entries, bytes = left.bytes }
end

--- "2G", "500M", "10k", "1024" -> bytes (powers of 1024).
-- @treturn number|nil
function M.parse_size(text)
  local n, unit = tostring(text):match("^%s*([%d%.]+)%s*([kKmMgGtT]?)[iI]?[bB]?%s*$")
  n = tonumber(n)
  if not n then return nil end
  local scale = ({ [""] = 1, k = 2^10, m = 2^20, g = 2^30, t = 2^40 })[unit:lower()]
  return math.floor(n * scale)
end

--- Bytes for people: "1.5 GB".
function M.format_size(bytes)
  local units = { "bytes", "KB", "MB", "GB", "TB" }
  local i = 1
  while bytes >= 1024 and i < #units do
    bytes = bytes / 1024
    i = i + 1
  end
  return i == 1 and ("%d bytes"):format(bytes) or ("%.1f %s"):format(bytes, units[i])
end

return M
