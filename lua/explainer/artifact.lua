--- Outputs that know what made them: make a file only when its key changed.
--
-- `artifact.make(path, k, build)` keeps `path` when the key recorded beside
-- it (`.NAME.key`, see explainer.key) is `k` and the file's bytes are the
-- ones that key was recorded for; otherwise it takes the file from the cache
-- (explainer.cache) or calls `build(tmp)`, checks what was made (not empty,
-- the right magic bytes), stores it in the cache and moves it into place.
--
-- A file with no key beside it, or whose bytes changed since its key was
-- written, was made by hand (or by an older version): it is kept, with a
-- warning, and never overwritten — unless the run is forced (`--no-skip`) or
-- the file is unusable (empty, or not the kind of file its name says).
--
-- Order of writes: the new key (holding the hashes of the new bytes and of
-- the bytes they replace) goes first, then the file is renamed into place.
-- A crash between the two leaves the old bytes beside a key that names them as
-- replaced, which reads as stale: the file is made again. A file made again
-- with the very bytes it had is not rewritten: only its key is.
--
-- The key file also holds what the check of the new bytes learnt of them
-- (`facts`: a track's length and silences, a clip's stream), so that what is
-- made from the file later need not probe it.
--
-- One maker at a time: a file that is not fresh is made under a lock
-- (`.NAME.lock` beside it), and looked at again once the lock is held, so
-- that two runs needing it at once (two workflows on one folder: image.lua
-- and video.lua both make final.png) pay for it once; the second finds it
-- fresh. A cache entry is likewise built under its own lock (explainer.cache),
-- so two scripts that need the same narration at once make it once.
-- @module explainer.artifact

local cjson = require "cjson.safe"
local core = require "explainer_core"
local lfs = require "lfs"
local key = require "explainer.key"
local cache = require "explainer.cache"
local media = require "explainer.media"
local log = require "explainer.log"
local settings = require "explainer.settings"
local sweep = require "explainer.sweep"

local M = {}

local function exists(path)
  return lfs.attributes(path, "mode") == "file"
end

--- A temporary name beside `path` (".NAME.<random><ext>"): a half-written
-- output never looks finished, and a later run can find it to clean up.
function M.temp_beside(path, ext)
  local dir, base = path:match("^(.*)/([^/]*)$")
  dir, base = dir or ".", base or path
  return ("%s/.%s.%d.tmp%s"):format(dir, base, math.random(1, 1e9), ext or "")
end

--- Remove the temporary files a killed run left beside `path`
-- (explainer.sweep).
function M.clean_temporaries(path)
  sweep.clean_folder(path:match("^(.*)/[^/]*$") or ".")
end

--- Where an output stands against the key it should have.
-- @tparam string path
-- @tparam[opt] table k the key it should have (nil: only read what it has)
-- @treturn string "fresh", "stale", "missing" or "foreign" (made by hand, or
--   before keys: kept)
-- @treturn table|nil the key record beside it (explainer.key.read), when it
--   describes the file's bytes
function M.standing(path, k, kind)
  if not exists(path) then return "missing" end
  local usable = media.check_file(path, kind or media.kind_of_name(path))
  local rec, err = key.read(path)
  if err then
    log.warn(err .. ": ignored, " .. path .. " is made again")
    return "stale"
  end
  if not rec then return usable and "foreign" or "stale" end
  local content = core.hash_file(path)
  if content == rec.content then
    return (k == nil or rec.id == k.id) and usable and "fresh" or "stale", rec
  end
  if content == rec.previous or not usable then return "stale" end
  return "foreign"
end

--- An output's identity, for what is made from it: the id of the key it
-- was made with, else (a file made by hand) a hash of its bytes; nil when it
-- is missing.
function M.identity(path)
  if not exists(path) then return nil end
  local _, rec = M.standing(path)
  if rec then return rec.id end
  return "bytes:" .. (core.hash_file(path) or "unreadable")
end

--- What was learnt of an output's bytes when it was made (explainer.media's
-- `inspect`: a track's length and silences, a clip's stream and last
-- keyframe), read from its key file, so that nothing probes it again.
-- @tparam string path
-- @treturn table|nil the facts; nil for a file made by hand (or changed
--   since), one made before facts were recorded, or one that is missing
function M.facts(path)
  local standing, rec = M.standing(path)
  if standing == "missing" or not rec or not rec.facts then return nil end
  local facts = cjson.decode(rec.facts)
  return type(facts) == "table" and facts or nil
end

--- Write data to a file, every step checked (write, flush, close): a full
-- disk fails here, not later as an empty file that looks finished. A file
-- that could not be written whole is removed.
-- @treturn true|nil
-- @treturn string|nil message naming the path
function M.write_file(path, data)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(data)
  if ok then ok, werr = f:flush() end
  local closed, cerr = f:close()
  if not (ok and closed) then
    os.remove(path)
    return nil, path .. ": " .. tostring(werr or cerr)
  end
  return true
end

-- The facts as a key file holds them: one line of JSON.
local function facts_line(facts)
  if type(facts) ~= "table" or next(facts) == nil then return nil end
  return cjson.encode(facts)
end

--- Move a finished temporary file into place, with its key (and the facts
-- learnt of it, see `facts`) beside it. When the file there already has
-- these very bytes, it is left as it is (its time stamp too) and only its
-- key is written.
-- @tparam string tmp
-- @tparam string path
-- @tparam table k
-- @tparam[opt] table facts
-- @treturn true|nil
-- @treturn string|nil message
function M.commit(tmp, path, k, facts)
  local content, err = core.hash_file(tmp)
  if not content then return nil, err end
  local previous = exists(path) and core.hash_file(path) or nil
  local same = previous == content
  local side = key.sidecar(path)
  local side_tmp = M.temp_beside(side)
  local ok
  ok, err = M.write_file(side_tmp, key.format(k, content, not same and previous or nil, facts_line(facts)))
  if ok and settings.durable then ok, err = core.fsync(side_tmp) end
  if ok then ok, err = os.rename(side_tmp, side) end
  if same then
    os.remove(tmp)
    if ok and settings.durable then ok, err = core.fsync(path:match("^(.*)/") or ".") end
    if not ok then os.remove(side_tmp) return nil, err end
    return true
  end
  if ok and settings.durable then ok, err = core.fsync(tmp) end
  if ok then ok, err = os.rename(tmp, path) end
  if ok and settings.durable then ok, err = core.fsync(path:match("^(.*)/") or ".") end
  if not ok then
    os.remove(side_tmp)
    os.remove(tmp)
    return nil, err
  end
  return true
end

-- Locks this process holds, by lock file: a make inside a make (of the same
-- file or cache entry) must not wait for itself.
local held = {}

-- Hold the lock at `lockpath` while `fn()` runs; returns what fn returns. A
-- lock that cannot be had (a read-only folder: nothing will be written
-- there anyway) is done without; an interrupt while waiting fails.
local function holding(lockpath, fn)
  if not lockpath or held[lockpath] then return fn() end
  local lock, err = core.lock(lockpath)
  if not lock then
    if tostring(err):find("interrupted", 1, true) then return nil, err end
    return fn()
  end
  held[lockpath] = true
  local results = table.pack(pcall(fn))
  held[lockpath] = nil
  lock:unlock()
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

--- The lock file of an output: `.NAME.lock` beside it.
function M.lock_path(path)
  local dir, base = path:match("^(.*)/([^/]*)$")
  return ("%s/.%s.lock"):format(dir or ".", base or path)
end

-- Take the output from the cache, else build it (and store it in the
-- cache); the result is at `tmp`, checked whole. Returns "cached" or
-- "made" and what the check learnt of it (media.inspect), or nil and a
-- message.
local function fetch_or_build(path, k, build, kind, tmp, use_cache)
  local ext = path:match("(%.%w+)$") or ""
  if use_cache and cache.fetch(k.id, ext, tmp, kind) then
    local facts, why = media.inspect(tmp, kind)
    if facts then return "cached", facts end
    log.warn(("ignoring a bad cache entry (%s); it is made again"):format(
      tostring(why):gsub(tmp:gsub("%p", "%%%0"), "entry " .. k.id .. ext)))
    cache.drop(k.id, ext)
    os.remove(tmp)
  end
  local ok, err = build(tmp)
  -- As for process_scene: returning nothing is success (the file is checked
  -- next); nil or false with a message is failure.
  if ok == nil and err == nil then ok = true end
  local facts
  if ok then
    facts, err = media.inspect(tmp, kind)
    ok = facts ~= nil
  end
  if not ok then
    os.remove(tmp)
    -- The temporary name means nothing to the user: name the output.
    err = err and tostring(err):gsub(tmp:gsub("%p", "%%%0"), (path:gsub("%%", "%%%%")))
    return nil, err or (path .. ": not made")
  end
  if use_cache then cache.store(k.id, ext, tmp) end
  return "made", facts
end

-- Make `path` (its lock held): kept when it became fresh meanwhile.
local function make_locked(path, k, build, kind, opts)
  local standing = M.standing(path, k, kind)
  if not settings.force then
    if standing == "fresh" then return path, "fresh" end
    if standing == "foreign" then
      -- A file put there by hand is the user's; one cut short is no one's.
      local whole, why = media.check_whole(path, kind)
      if whole then
        log.warn_once("foreign:" .. path, path .. " was not made by explainer (or was changed "
          .. "since): kept; delete it to have it made")
        return path, "kept"
      end
      log.warn(tostring(why) .. ": made again")
    end
  end
  M.clean_temporaries(path)
  local ext = path:match("(%.%w+)$") or ""
  local tmp = M.temp_beside(path, ext)
  local use_cache = opts.cache ~= false
  local how, facts = holding(use_cache and cache.lock_path(k.id, ext), function()
    return fetch_or_build(path, k, build, kind, tmp, use_cache)
  end)
  if not how then
    os.remove(tmp)
    return nil, facts
  end
  local ok, err = M.commit(tmp, path, k, facts)
  if not ok then return nil, err end
  return path, how
end

--- Make `path` unless it is fresh for key `k`.
-- @tparam string path the output
-- @tparam table k its key (explainer.key.of)
-- @tparam function build `build(tmp)` writes the output at `tmp`; returns
--   nothing or true, or nil and a message
-- @tparam[opt] table opts `kind` (media kind to check, default from the
--   name's extension), `cache` (default true: take it from / put it in the
--   shared cache)
-- @treturn string|nil path
-- @treturn string how: "fresh", "kept" (made by hand), "cached" or "made";
--   or the message when it failed
function M.make(path, k, build, opts)
  opts = opts or {}
  local kind = opts.kind or media.kind_of_name(path)
  -- The common case, a fresh file, takes no lock.
  if not settings.force and M.standing(path, k, kind) == "fresh" then return path, "fresh" end
  return holding(M.lock_path(path), function()
    return make_locked(path, k, build, kind, opts)
  end)
end

--- A key for `deps`, as the helpers of `explainer` take them: a table of
-- values, where `files` (a list of paths) stands for those files' identities.
function M.key_for(recipe, deps)
  local values = {}
  for name, value in pairs(deps or {}) do
    if name == "files" and type(value) == "table" then
      -- In order, each by its name and identity (two files of one name in two
      -- folders stay apart; moving the output folder changes nothing).
      local ids = {}
      for i, file in ipairs(value) do
        ids[i] = { file:match("[^/]*$"), M.identity(file) or "missing" }
      end
      values.files = ids
    else
      values[name] = value
    end
  end
  return key.of(recipe or "user", values)
end

return M
