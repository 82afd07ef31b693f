--- The film's transitions: the short pieces between its clips.
--
-- A transition never covers narration: each clip is held on its first frame
-- before it and on its last after it for the length of the transition, and
-- the pieces are those holds, encoded like the clips (x264 with the clips'
-- settings and stitchable headers) so that the film can copy the clips' own
-- frames and join everything without encoding it again: the fade in from
-- black on the first clip's first frame, a crossfade from each clip's last
-- frame to the next one's first, the fade out to black on the last clip's
-- last frame.
--
-- Each piece is a file in the film's folder, `.explainer/transitions/ID.mp4`,
-- named by its key: the keys of the clips it joins, the transition, its
-- length and the encoder's settings. A piece is used again while its clips
-- are unchanged, so a film whose scene 5 was edited encodes two pieces again
-- (4 to 5 and 5 to 6), not all of them. What no film in the folder uses any
-- more is removed after each join (`prune`).
-- @module explainer.recipes.transitions

local lfs = require "lfs"
local core = require "explainer_core"
local key = require "explainer.key"
local artifact = require "explainer.artifact"
local common = require "explainer.recipes.common"

local M = {}

--- The version of the pieces' recipe: a new one makes other bytes.
M.VERSION = "transition/1"

--- Where a film's folder keeps its pieces, relative to it.
M.FOLDER = ".explainer/transitions"

local function append(list, more)
  for _, v in ipairs(more) do list[#list + 1] = v end
  return list
end

-- The first frame of input `idx` held for n frames, as a filter chain.
local function held(idx, n, fps)
  return string.format("[%d:v]trim=end_frame=1,setpts=PTS-STARTPTS,loop=loop=%d:size=1:start=0,setpts=N/%s/TB,"
    .. "setsar=1,format=yuv420p", idx, n - 1, tostring(fps))
end

-- Input options that open a clip at its last frame: a keyframe (the clips
-- are made so), so seeking to it decodes nothing else.
local function at_end(c, fps)
  return { "-noaccurate_seek", "-ss", string.format("%.6f", math.max(0, c.duration - 0.5 / fps)),
           "-i", common.ffpath(c.entry.rel) }
end

-- A piece: its key (the keys of the clips it is made from, where in them it
-- starts, their stream header, how it is encoded), and the ffmpeg inputs and
-- filter that make it. `clips` are timeline clips (`entry.id`, `entry.rel`,
-- `duration`, `info.extradata`).
local function piece(name, clips, inputs, filter, tl, s, fs)
  local ids, headers = {}, {}
  for i, c in ipairs(clips) do
    ids[i] = { c.entry.id, c.duration }
    headers[i] = c.info and c.info.extradata or "none"
  end
  local k = key.of(M.VERSION, { kind = name, clips = ids, headers = headers, size = s.width .. "x" .. s.height,
                                fps = tl.fps, preset = s.preset, crf = s.crf, still = s.motion == "none",
                                transition = fs.transition, frames = tl.t_frames })
  return { name = name, key = k, inputs = inputs, filter = filter }
end

--- The fade in from black on a clip's first frame (the film's first clip).
-- @tparam table c a timeline clip
-- @tparam table tl the timeline (`fps`, `t_frames`, `t`)
-- @tparam table s the encoder's settings (explainer.recipes.video.settings)
-- @tparam table fs the film's settings (explainer.recipes.video.film_settings)
-- @treturn table `{name = "in", key, inputs, filter}`
function M.fade_in(c, tl, s, fs)
  return piece("in", { c }, { "-i", common.ffpath(c.entry.rel) },
               held(0, tl.t_frames, tl.fps) .. string.format(",fade=t=in:s=0:n=%d[v]", tl.t_frames), tl, s, fs)
end

--- The crossfade from clip `a`'s last frame to clip `b`'s first.
-- @treturn table `{name = "cross", key, inputs, filter}`
function M.cross(a, b, tl, s, fs)
  local fps, nt = tl.fps, tl.t_frames
  local inputs = at_end(a, fps)
  append(inputs, { "-i", common.ffpath(b.entry.rel) })
  return piece("cross", { a, b }, inputs, held(0, nt, fps) .. "[a];" .. held(1, nt, fps) .. "[b];"
    .. string.format("[a][b]xfade=transition=%s:duration=%.6f:offset=0,format=yuv420p[v]", fs.transition, tl.t),
    tl, s, fs)
end

--- The fade out to black on a clip's last frame (the film's last clip).
-- @treturn table `{name = "out", key, inputs, filter}`
function M.fade_out(c, tl, s, fs)
  return piece("out", { c }, at_end(c, tl.fps),
               held(0, tl.t_frames, tl.fps) .. string.format(",fade=t=out:s=0:n=%d[v]", tl.t_frames), tl, s, fs)
end

--- The pieces a film of these clips needs, in order: the fade in, a
-- crossfade between each two clips, the fade out. A piece's key holds the
-- keys of the clips it is made from, so it stays valid while they do.
-- @tparam table tl the film's timeline (clips with `entry.id`, `entry.rel`,
--   `duration`, `info.extradata`; `fps`, `t_frames`, `t`)
-- @tparam table s the encoder's settings
-- @tparam table fs the film's settings
-- @treturn {table,...}
function M.plan(tl, s, fs)
  local n = #tl.clips
  local list = { M.fade_in(tl.clips[1], tl, s, fs) }
  for i = 1, n - 1 do list[#list + 1] = M.cross(tl.clips[i], tl.clips[i + 1], tl, s, fs) end
  list[#list + 1] = M.fade_out(tl.clips[n], tl, s, fs)
  return list
end

--- Where a piece is kept, relative to the film's folder.
-- @tparam table p a piece (as `plan` gives them)
-- @treturn string
function M.path_of(p)
  return M.FOLDER .. "/" .. p.key.id .. ".mp4"
end

--- Make pieces, or take those made before.
-- @tparam string dir the film's folder
-- @tparam {table,...} pieces as `plan`, `fade_in`, `cross` or `fade_out` give them
-- @tparam number frames each piece's frames
-- @tparam number fps
-- @tparam table opts `x264` (the encoder's arguments), `run` (ffmpeg in
--   `dir`: `run(args, output, format, timeout)`), `step` (called when a
--   piece has been encoded, for progress)
-- @treturn table|nil `{files = {rel, ...} (in the pieces' order), headers =
--   {rel = header hash}, made = number encoded now}`
-- @treturn string|nil message
function M.make(dir, pieces, frames, fps, opts)
  local store = dir .. "/" .. M.FOLDER
  local ok, err = core.mkdir_p(store)
  if not ok then return nil, "cannot create " .. tostring(err) end
  local out = { files = {}, headers = {}, made = 0 }
  for _, p in ipairs(pieces) do
    local rel = M.path_of(p)
    local path, how = artifact.make(dir .. "/" .. rel, p.key, function(tmp)
      local args = append({}, p.inputs)
      append(args, { "-filter_complex", p.filter, "-map", "[v]", "-an", "-frames:v", tostring(frames),
                     "-r", tostring(fps) })
      append(args, opts.x264)
      -- ffmpeg runs in the film's folder: the temporary name relative to it.
      local r, e = opts.run(args, tmp:sub(#dir + 2), "mp4", 600)
      if not r then return nil, e end
      return true
    end, { kind = "mp4", cache = false })
    if not path then return nil, how end
    if how == "made" then
      out.made = out.made + 1
      if opts.step then opts.step() end
    end
    local facts = artifact.facts(path)
    out.files[#out.files + 1] = rel
    out.headers[rel] = facts and facts.video and facts.video.extradata or nil
  end
  return out
end

local function manifest_of(store, film)
  return store .. "/" .. film:gsub("[^%w%._%-]", "_") .. ".list"
end

--- Record which pieces a film uses, and remove the pieces that no film in
-- the folder uses any more (a film that is gone no longer counts).
-- @tparam string dir the film's folder
-- @tparam string film the film's file name (`sample.mp4`)
-- @tparam {string,...} files the pieces it uses (as `make` gives them; none
--   when it was encoded whole)
function M.prune(dir, film, files)
  local store = dir .. "/" .. M.FOLDER
  if lfs.attributes(store, "mode") ~= "directory" then return end
  local lines = {}
  for _, rel in ipairs(files) do lines[#lines + 1] = rel:match("([^/]*)$") end
  artifact.write_file(manifest_of(store, film), "film " .. film .. "\n" .. table.concat(lines, "\n") .. "\n")
  local used = {}
  for name in lfs.dir(store) do
    if name:match("%.list$") then
      local f = io.open(store .. "/" .. name, "rb")
      local text = f and f:read("a") or ""
      if f then f:close() end
      local owner = text:match("^film ([^\n]+)")
      if owner and lfs.attributes(dir .. "/" .. owner, "mode") == "file" then
        for file in text:gmatch("\n(%x+%.mp4)") do used[file] = true end
      else
        os.remove(store .. "/" .. name)
      end
    end
  end
  for name in lfs.dir(store) do
    local file = name:match("^(%x+%.mp4)$") or name:match("^%.(%x+%.mp4)%.key$")
    if file and not used[file] then os.remove(store .. "/" .. name) end
  end
end

return M
