--- What the bundled recipes share: options, running tools, files, sizes.
-- @module explainer.recipes.common

local artifact = require "explainer.artifact"
local media = require "explainer.media"
local tool = require "explainer.tool"
local settings = require "explainer.settings"

local M = {}

--- An option's value: the caller's `opts[key]`, else the environment
-- variable `env`, else `default`. Empty strings count as unset.
-- @tparam table|nil opts
-- @tparam string key
-- @tparam string|nil env
-- @param default
function M.option(opts, key, env, default)
  local v = opts and opts[key]
  if v ~= nil and v ~= "" then return v end
  v = env and os.getenv(env)
  if v ~= nil and v ~= "" then
    if type(default) == "number" then
      -- A setting that is not what it should be is an error, never silently
      -- the default (EXPLAINER_VIDEO_FPS=30fps would make 25 fps films).
      local n = tonumber(v)
      if not n then settings.fail(("%s: '%s' is not a number"):format(env, v)) end
      return n
    end
    return v
  end
  return default
end

-- Half a frame's side for a draft: even (as yuv420p needs), at least 16.
local function half(n)
  return math.max(16, n // 4 * 2)
end

--- A frame size option ("1280x720"): `opts[key]`, else `$env`; nil when
-- neither is set; an error naming the setting when it is not WxH. Half that
-- in each direction for a draft (`preview`).
-- @treturn number|nil width
-- @treturn number|nil height
function M.size_option(opts, key, env)
  local v = M.option(opts, key, env, nil)
  if v == nil then return nil end
  local w, h = M.parse_size(v)
  if not w or w < 16 or h < 16 then
    error(("%s: '%s' is not a size like 1280x720"):format(opts and opts[key] ~= nil and key or env,
      tostring(v)), 0)
  end
  if M.preview() then return half(w), half(h) end
  return w, h
end

--- Run a program (an argument vector, never a shell): explainer.tool.run.
M.run = tool.run

--- Does a file exist (and is it not empty)?
function M.exists(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local size = f:seek("end")
  f:close()
  return size ~= nil and size > 0
end

--- Write data to a file, every step checked (explainer.artifact.write_file).
-- The recipes write to the temporary name explainer.artifact gives them; it
-- renames.
M.write_file = artifact.write_file

--- A path as a tool's argument must be given it: a relative one starting with
-- "-" gets "./" (else it reads as an option).
function M.safe_path(path)
  if path:sub(1, 1) == "-" then return "./" .. path end
  return path
end

--- A path as ffmpeg must be given it: with the file protocol spelt out, so
-- that a name starting with "-" is not an option and "http:x" not a URL.
function M.ffpath(path)
  return "file:" .. path
end

--- ffmpeg with the project's usual flags, writing `output` (its format
-- given: the name may be a temporary one). `args` come between the flags
-- and the output; give input paths through `ffpath`.
-- @treturn true|nil
-- @treturn string|nil message
function M.ffmpeg(args, output, format, timeout)
  local argv = { "ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  argv[#argv + 1] = "-f"
  argv[#argv + 1] = format
  argv[#argv + 1] = M.ffpath(output)
  local ok, err = M.run(argv, { timeout = timeout or 600 })
  if not ok then return nil, err end
  return true
end

--- The shared shape of a recipe's generate(): the backend the options name,
-- the output's path and key, and explainer.artifact.make, which keeps a
-- fresh output, takes a cached one, or builds it.
-- @tparam table spec `kind` ("image"), `backends` (name -> function),
--   `env` (the backend's variable), `names` (for the message), `filename`
--   (the default), `key` (function(scene, opts)), `build`
--   (function(backend, scene, tmp, opts)), `media` (the kind of file)
-- @treturn string|nil the output's path
-- @treturn string how it came ("fresh", "kept", "cached", "made"), or a message
function M.generate(spec, scene, output_dir, opts)
  local fn, err = M.backend(spec.kind, spec.backends, opts, spec.env, spec.names)
  if not fn then return nil, err end
  local path = output_dir .. "/" .. (opts.filename or spec.filename)
  local made, how = artifact.make(path, spec.key(scene, opts), function(tmp)
    return spec.build(fn, scene, tmp, opts)
  end, { kind = spec.media })
  if not made then return nil, how end
  return path, how
end

--- What is known of a media file without reading it again: the facts
-- recorded beside it when explainer made it (explainer.artifact.facts), else
-- what one read of it says (explainer.media.inspect, remembered for the rest
-- of the process).
-- @tparam string path
-- @treturn table|nil facts (see explainer.media.inspect)
-- @treturn string|nil message
function M.facts(path)
  local facts = artifact.facts(path)
  if facts then return facts end
  return media.inspect(path)
end

--- The duration of a media file in seconds: recorded when it was made, else
-- from ffprobe.
-- @treturn number|nil
-- @treturn string|nil message
function M.media_duration(path)
  local facts = M.facts(path)
  if facts and facts.duration then return facts.duration end
  local r, err = M.run({ "ffprobe", "-v", "error", "-show_entries", "format=duration",
                         "-of", "default=noprint_wrappers=1:nokey=1", M.ffpath(path) }, { timeout = 60 })
  if not r then return nil, err end
  local d = tonumber(r.stdout:match("[%d%.]+"))
  if not d then return nil, "ffprobe found no duration in " .. path end
  return d
end

--- Where a track speaks, from its silences (explainer.media.silences:
-- quieter than -35 dB for 0.12 s or more is a pause), recorded when it was
-- made or found now. `first` and `last` bound the speech, `pauses` are the
-- silences between, `{from, to}` in seconds, in order.
-- @tparam string path
-- @tparam number duration the track's length
-- @treturn table|nil `{first=, last=, pauses={...}}`
-- @treturn string|nil message
function M.speech(path, duration)
  local facts = M.facts(path)
  local found = facts and facts.silences
  if not found then
    local err
    found, err = media.silences(path)
    if not found then return nil, err end
  end
  local silences = {}
  for _, s in ipairs(found) do
    silences[#silences + 1] = { s[1], math.min(s[2] or duration, duration) }
  end
  local span = { first = 0, last = duration, pauses = silences }
  if silences[1] and silences[1][1] <= 0.1 then span.first = table.remove(silences, 1)[2] end
  if silences[#silences] and silences[#silences][2] >= duration - 0.1 then
    span.last = table.remove(silences)[1]
  end
  if span.last <= span.first then return { first = 0, last = duration, pauses = {} } end
  return span
end

local FRAMES = {
  ["9:16"] = { 1080, 1920 },
  ["16:9"] = { 1920, 1080 },
  ["1:1"] = { 1080, 1080 },
}

--- The aspect ratio a document's `Format:` names ("9:16 VERTICAL" -> "9:16").
-- Unknown or absent: "9:16".
-- @tparam string|nil format
-- @treturn string one of "9:16", "16:9", "1:1"
function M.aspect(format)
  format = tostring(format or ""):upper()
  local a, b = format:match("(%d+)%s*[:xX/]%s*(%d+)")
  if a then
    local key = a .. ":" .. b
    if FRAMES[key] then return key end
  end
  if format:find("HORIZONTAL", 1, true) or format:find("LANDSCAPE", 1, true) then return "16:9" end
  if format:find("SQUARE", 1, true) then return "1:1" end
  return "9:16"
end

--- Is this a draft (`EXPLAINER_PREVIEW=1`, or `on`, `yes`, `true`)? Frames
-- are then half the size in each direction (`frame_size`, `size_option`:
-- 540x960 for 9:16), and the film is
-- `<name>.preview.mp4`: the sizes are in every key, so drafts never pass for
-- the full-size files, nor these for drafts.
-- @treturn boolean
function M.preview()
  local v = os.getenv("EXPLAINER_PREVIEW")
  if v == nil or v == "" or v == "0" or v == "off" or v == "no" or v == "false" then return false end
  if v == "1" or v == "on" or v == "yes" or v == "true" then return true end
  error(("EXPLAINER_PREVIEW: '%s' is not 1 or 0"):format(v), 0)
end

--- The video frame size for a document's format: 9:16 -> 1080x1920,
-- 16:9 -> 1920x1080, 1:1 -> 1080x1080 (9:16 when unknown); half that in each
-- direction for a draft (`preview`: 540x960).
-- @treturn number width
-- @treturn number height
function M.frame_size(format)
  local f = FRAMES[M.aspect(format)]
  if M.preview() then return half(f[1]), half(f[2]) end
  return f[1], f[2]
end

--- Parse "WxH".
function M.parse_size(s)
  local w, h = tostring(s or ""):match("^%s*(%d+)%s*[xX]%s*(%d+)%s*$")
  if w then return tonumber(w), tonumber(h) end
  return nil
end

--- The format to size things for: `opts.format`, else `opts.document.format`.
function M.format_of(opts)
  if opts and opts.format then return opts.format end
  return opts and opts.document and opts.document.format or nil
end

--- The backend function chosen by `opts.backend`, else `$env`, else "local".
-- @tparam string kind "image" or "audio", for the message
-- @tparam table backends name -> function
-- @tparam string names the names as a message lists them ("local, openai or fal")
-- @treturn function|nil the backend, or nil and a message
function M.backend(kind, backends, opts, env, names)
  local name = M.option(opts, "backend", env, "local")
  local fn = backends[name]
  if not fn then
    return nil, ("unknown %s backend '%s' (%s)"):format(kind, tostring(name), names)
  end
  return fn
end

--- An API key: `opts.api_key`, else the environment variable `env`; nil when
-- neither is set (or empty).
function M.api_key(opts, env)
  local k = opts and opts.api_key or os.getenv(env)
  if k == "" then k = nil end
  return k
end

--- Check the arguments every recipe takes: a scene table and a directory.
function M.check_scene_args(fname, scene, output_dir, level)
  if type(scene) ~= "table" then
    error(string.format("bad argument #1 to '%s' (scene table expected, got %s)", fname, type(scene)), level + 1)
  end
  if type(output_dir) ~= "string" then
    error(string.format("bad argument #2 to '%s' (string expected, got %s)", fname, type(output_dir)), level + 1)
  end
end

return M
