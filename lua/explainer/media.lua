--- What a media file is, from its first bytes.
--
-- A file or an answer counts as an image, a track or a clip only when its
-- bytes say so: a service that answers `200` with an HTML error page, or a
-- disk that filled up, must not leave a `narration.mp3` that later runs
-- take as done. `check_file` reads the magic bytes at the start (and the
-- size); `inspect` (and `check_whole`) also reads a track or a clip through
-- once, and says what it found (its length, its silences, a clip's stream
-- and last keyframe): the facts that explainer.artifact records beside a file
-- it makes, so that nothing probes it again.
--
--     local media = require "explainer.media"
--     media.kind_of("\137PNG\r\n\26\n...")          --> "png"
--     media.check_file("scene_01/final.png", "png") --> true
--     media.check_file("scene_01/narration.mp3", "audio")
--     --> nil, "scene_01/narration.mp3: not audio (first bytes: <html>...)"
--     media.inspect("scene_01/narration.mp3")
--     --> {kind = "mp3", duration = 5.01551, audio = true, silences = {{3.88, 4.24}, {4.6}}}
-- @module explainer.media

local cjson = require "cjson.safe"
local core = require "explainer_core"
local tool = require "explainer.tool"

local M = {}

--- How many bytes `kind_of` needs to tell every kind apart.
M.HEAD_BYTES = 16

--- The kinds of each family: `image`, `audio` and `video`.
M.families = {
  image = { png = true, jpeg = true, webp = true, gif = true },
  audio = { mp3 = true, wav = true },
  video = { mp4 = true },
}

local LABELS = { image = "an image", audio = "audio", video = "a video",
                 png = "a PNG image", jpeg = "a JPEG image", webp = "a WebP image",
                 gif = "a GIF image", mp3 = "an MP3 track", wav = "a WAV track",
                 mp4 = "an MP4 video" }

-- An MPEG audio frame header: 11 sync bits, then a version, a layer and a
-- bitrate that are not the reserved values (an AAC ADTS header, layer 00,
-- is not MP3).
local function mpeg_frame(b1, b2, b3)
  if b1 ~= 0xFF or not b2 or b2 & 0xE0 ~= 0xE0 then return false end
  local version, layer = (b2 >> 3) & 3, (b2 >> 1) & 3
  if version == 1 or layer == 0 then return false end
  if b3 and ((b3 >> 4) == 0xF or (b3 >> 2) & 3 == 3) then return false end
  return true
end

--- The kind of media some bytes start with.
-- @tparam string bytes the start of a file or an answer (16 bytes suffice)
-- @treturn string|nil `"png"`, `"jpeg"`, `"webp"`, `"gif"`, `"mp3"`,
-- `"wav"` or `"mp4"`; nil when the bytes are none of these
function M.kind_of(bytes)
  if type(bytes) ~= "string" then return nil end
  if bytes:sub(1, 8) == "\137PNG\r\n\26\n" then return "png" end
  if bytes:sub(1, 3) == "\255\216\255" then return "jpeg" end
  if bytes:sub(1, 4) == "RIFF" then
    local form = bytes:sub(9, 12)
    if form == "WEBP" then return "webp" end
    if form == "WAVE" then return "wav" end
    return nil
  end
  local six = bytes:sub(1, 6)
  if six == "GIF87a" or six == "GIF89a" then return "gif" end
  if bytes:sub(1, 3) == "ID3" then return "mp3" end
  if mpeg_frame(bytes:byte(1, 3)) then return "mp3" end
  if bytes:sub(5, 8) == "ftyp" then return "mp4" end   -- ISO base media (mp4, m4a, mov)
  return nil
end

--- The kinds an expectation accepts.
-- @tparam string|table expect a family (`"image"`, `"audio"`, `"video"`),
-- a kind (`"png"`, `"mp3"`...) or a list of them
-- @treturn table set of kinds (kind -> true)
-- @treturn string how a message names it ("audio", "an image", "a PNG image")
function M.accepted(expect)
  if type(expect) == "table" then
    local set, names = {}, {}
    for _, e in ipairs(expect) do
      local s, name = M.accepted(e)
      for k in pairs(s) do set[k] = true end
      names[#names + 1] = name
    end
    return set, table.concat(names, " or ")
  end
  if type(expect) ~= "string" then
    error("bad expectation (a kind or a family of media expected, got " .. type(expect) .. ")", 2)
  end
  local family = M.families[expect]
  if family then return family, LABELS[expect] end
  for _, kinds in pairs(M.families) do
    if kinds[expect] then return { [expect] = true }, LABELS[expect] end
  end
  error("unknown kind of media '" .. expect .. "' (image, audio, video, png, jpeg, webp, gif, mp3, wav or mp4)", 2)
end

--- The family of a kind (`"png"` -> `"image"`).
-- @tparam string kind
-- @treturn string|nil
function M.family_of(kind)
  for family, kinds in pairs(M.families) do
    if kinds[kind] then return family end
  end
  return nil
end

--- Some bytes as printable text, for a message: control and non-ASCII bytes
-- as `\xNN`, cut after `limit` characters (default 40) with "...".
-- Mask any secret in the bytes before calling this.
-- @tparam string bytes
-- @tparam[opt] number limit
-- @tparam[opt] boolean more the bytes are the start of something longer:
-- end with "..." in any case
-- @treturn string
function M.preview(bytes, limit, more)
  limit = limit or 40
  local out, n = {}, 0
  for i = 1, #bytes do
    local b = bytes:byte(i)
    local piece = (b >= 0x20 and b < 0x7F) and string.char(b) or string.format("\\x%02X", b)
    if n + #piece > limit then
      more = true
      break
    end
    out[#out + 1] = piece
    n = n + #piece
  end
  return table.concat(out) .. (more and "..." or "")
end

--- The kind a file name's extension promises ("x.mp3" -> "mp3", "x.jpg" ->
-- "jpeg"); nil for a name whose kind this module does not tell by its bytes
-- (a text file: "prompts.md").
-- @tparam string path
-- @treturn string|nil
function M.kind_of_name(path)
  local ext = tostring(path):match("%.(%w+)$")
  ext = ext and ext:lower()
  if ext == "jpg" then ext = "jpeg" elseif ext == "m4a" or ext == "mov" then ext = "mp4" end
  return ext and M.family_of(ext) and ext or nil
end

--- Check that a file holds the media it should, from its first bytes.
-- Reads at most `M.HEAD_BYTES` bytes and the size.
-- @tparam string path
-- @tparam string|table|nil expect as for `accepted` ("png", "audio", {"mp3",
-- "wav"}...); nil: only that the file is there and not empty
-- @treturn true|nil true when the file is there, not empty, and of an
-- accepted kind
-- @treturn string|nil message naming the file and the problem, e.g.
-- "out/final.png: not a PNG image (first bytes: <html><head>...)"
-- @treturn string|nil the kind found (when the check failed on the kind)
function M.check_file(path, expect)
  if type(path) ~= "string" then
    error("bad argument #1 to 'check_file' (string expected, got " .. type(path) .. ")", 2)
  end
  local accepted, name
  if expect ~= nil then accepted, name = M.accepted(expect) end
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local head = f:read(M.HEAD_BYTES)
  local size, serr = f:seek("end")
  f:close()
  if not size then return nil, path .. ": " .. tostring(serr) end
  if size == 0 or not head then return nil, path .. ": empty file" end
  if not accepted then return true end
  local kind = M.kind_of(head)
  if not kind or not accepted[kind] then
    local found = kind and (", it is " .. LABELS[kind]) or ""
    return nil, ("%s: not %s%s (first bytes: %s)"):format(path, name, found, M.preview(head, 40, size > #head)), kind
  end
  return true
end

-- Does a file end as a whole one of its kind does? (A file cut short by a
-- full disk or a dropped answer keeps its first bytes.)
local function ends_whole(f, kind, size)
  if kind == "png" then
    f:seek("set", math.max(0, size - 12))
    return f:read(12) == "\0\0\0\0IEND\174\66\96\130"
  elseif kind == "jpeg" then
    f:seek("set", math.max(0, size - 64))   -- a few bytes of padding may follow the end marker
    return (f:read(64) or ""):find("\255\217", 1, true) ~= nil
  elseif kind == "gif" then
    f:seek("set", size - 1)
    return f:read(1) == ";"
  elseif kind == "webp" or kind == "wav" then
    f:seek("set", 4)
    local riff = string.unpack("<I4", f:read(4))
    -- a WAV written to a pipe cannot know its size: 0 or all ones
    return riff + 8 <= size or kind == "wav" and (riff == 0 or riff == 0xFFFFFFFF)
  end
  return true
end

-- One read of a track or a clip through its packets, without decoding
-- (ffprobe, about 0.1 s): the demuxer's errors, how long it plays against
-- what its header declares, and what the film needs of a clip (its video's
-- codec, size, rate, frames and header hash; whether it has sound; whether its
-- video ends on a keyframe). nil and why when it is damaged or cut short.
local function read_through(path)
  local r, err = tool.run({ "ffprobe", "-v", "level+warning", "-show_data_hash", "md5", "-of", "json",
    "-show_entries", "format=duration:stream=index,codec_type,codec_name,width,height,pix_fmt,r_frame_rate,"
      .. "nb_frames,duration,extradata_hash:packet=stream_index,pts_time,duration_time,flags",
    "file:" .. path }, { timeout = 120 })
  if not r then return nil, err end
  for line in r.stderr:gmatch("[^\n]+") do
    if line:find("[error]", 1, true) or line:find("[fatal]", 1, true) or line:find("[panic]", 1, true) then
      return nil, "damaged (" .. line:gsub("^%[.-%]%s*", ""):gsub("^%[%a+%]%s*", "") .. ")"
    end
  end
  local data = cjson.decode(r.stdout)
  if type(data) ~= "table" then return nil, "damaged (ffprobe could not read it)" end
  local facts = { duration = tonumber((data.format or {}).duration), audio = false }
  local video_index
  for _, st in ipairs(data.streams or {}) do
    if st.codec_type == "video" and not facts.video then
      video_index = st.index
      facts.video = { codec = st.codec_name, width = st.width, height = st.height, pix_fmt = st.pix_fmt,
                      rate = st.r_frame_rate, frames = tonumber(st.nb_frames), extradata = st.extradata_hash,
                      duration = tonumber(st.duration) }
    elseif st.codec_type == "audio" then
      facts.audio = true
    end
  end
  local first, last, last_video
  for _, p in ipairs(data.packets or {}) do
    local t = tonumber(p.pts_time)
    if t then
      first = math.min(first or t, t)
      last = math.max(last or t, t + (tonumber(p.duration_time) or 0))
    end
    if p.stream_index == video_index then last_video = p end
  end
  if facts.video then
    facts.keyframe_end = last_video ~= nil and tostring(last_video.flags):find("K", 1, true) ~= nil
  end
  -- A duration guessed from the bit rate (an MP3 without a Xing header) says
  -- nothing about the file's end: only the demuxer's errors count then.
  local declared = not r.stderr:find("Estimating duration", 1, true) and facts.duration
  local played = last and last - first or 0
  if declared and played < declared - math.max(0.25, declared * 0.03) then
    return nil, ("cut short (%.2f s of the %.2f s its header declares)"):format(played, declared)
  end
  return facts
end

--- Where a track is silent: ffmpeg's `silencedetect` (quieter than -35 dB
-- for 0.12 s or more), decoded once. The silences as ffmpeg reports them, in
-- order: `{from, to}` in seconds, the last one `{from}` when it lasts to the
-- end. (`explainer.recipes.common.speech` turns them into where the voice
-- speaks.)
-- @tparam string path
-- @treturn {table,...}|nil
-- @treturn string|nil message
function M.silences(path)
  local r, err = tool.run({ "ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", "file:" .. path,
                            "-af", "silencedetect=noise=-35dB:duration=0.12", "-f", "null", "-" }, { timeout = 60 })
  if not r then return nil, err end
  local silences, from = {}, nil
  for line in r.stderr:gmatch("[^\n]+") do
    local a = tonumber(line:match("silence_start: (%-?[%d%.e%-]+)"))
    local b = tonumber(line:match("silence_end: (%-?[%d%.e%-]+)"))
    if a then from = math.max(a, 0) end
    if b and from then
      silences[#silences + 1] = { from, b }
      from = nil
    end
  end
  if from then silences[#silences + 1] = { from } end
  return silences
end

-- What inspect found of each file's bytes lately (content hash and kind ->
-- facts), so that a file checked twice in one process is read once: a
-- track's length asked while it is made, then its check before it is kept.
local seen, seen_count = {}, 0

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return c
end

--- Is a file whole, and what is it? `check_file`, then: a file must end as
-- its format ends (PNG's IEND chunk, JPEG's end marker, a RIFF's size...),
-- and a track or a clip must play, without a demuxer error, as long as its
-- header declares (one ffprobe read of its packets, about 0.1 s; a WAV's
-- RIFF size says it all). An MP3 is also decoded once for its silences.
-- What inspect learns is what later steps need to know without opening the
-- file again: recorded beside it when it is made (explainer.artifact).
-- @tparam string path
-- @tparam string|table|nil expect as for `check_file`
-- @treturn table|nil the facts: `kind`; for a track or a clip `duration`
--   (its header's, in seconds, as ffprobe says it) and `audio` (it has
--   sound); for a clip `video` (`codec`, `width`, `height`, `pix_fmt`, `rate`
--   as "25/1", `frames`, `extradata` (a hash of its header), `duration`) and
--   `keyframe_end`; for an MP3 `silences` (as from `silences`)
-- @treturn string|nil message naming the file and the problem, e.g.
-- "out/narration.mp3: cut short (1.93 s of the 5.02 s its header declares)"
function M.inspect(path, expect)
  local ok, err, found = M.check_file(path, expect)
  if not ok then return nil, err, found end
  local f = io.open(path, "rb")
  if not f then return nil, path .. ": cannot be read" end
  local kind = M.kind_of(f:read(M.HEAD_BYTES))
  local size = f:seek("end")
  local ends = ends_whole(f, kind, size)
  f:close()
  if not ends then
    return nil, ("%s: cut short (%s does not end as one does)"):format(path, LABELS[kind])
  end
  if kind ~= "mp3" and kind ~= "mp4" then return { kind = kind } end
  local id = (core.hash_file(path) or "?") .. kind
  if seen[id] then return copy(seen[id]) end
  local facts, why = read_through(path)
  if not facts then return nil, path .. ": " .. why end
  facts.kind = kind
  if kind == "mp3" then
    facts.silences, why = M.silences(path)
    if not facts.silences then return nil, why end
  end
  if seen_count >= 64 then seen, seen_count = {}, 0 end
  seen[id], seen_count = copy(facts), seen_count + 1
  return facts
end

--- Is a file whole? As `inspect`, without the facts.
-- @tparam string path
-- @tparam string|table|nil expect as for `check_file`
-- @treturn true|nil
-- @treturn string|nil message naming the file and the problem
function M.check_whole(path, expect)
  local facts, err, found = M.inspect(path, expect)
  if not facts then return nil, err, found end
  return true
end

return M
