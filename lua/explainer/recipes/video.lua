--- Recipe: a clip per scene and the whole film.
--
-- `clip` makes `clip.mp4` in a scene's folder from its `final.png` and
-- `narration.mp3` (making either first when it is missing), lasting
-- max(scene duration, narration length). `film` joins the clips of a
-- document, in scene order, into `<output>/<name>/<name>.mp4` (ffmpeg's
-- concat demuxer, streams copied). The frame size follows the document's
-- format: 9:16 -> 1080x1920, 16:9 -> 1920x1080, 1:1 -> 1080x1080, else 9:16.
-- @module explainer.recipes.video

local common = require "explainer.recipes.common"
local image = require "explainer.recipes.image"
local audio = require "explainer.recipes.audio"

local M = {}

local function settings(opts)
  local w, h = common.parse_size(common.option(opts, "size", "EXPLAINER_VIDEO_SIZE", nil))
  if not w then w, h = common.frame_size(common.format_of(opts)) end
  return {
    width = w, height = h,
    fps = common.option(opts, "fps", "EXPLAINER_VIDEO_FPS", 25),
    preset = common.option(opts, "preset", "EXPLAINER_VIDEO_PRESET", "veryfast"),
    crf = common.option(opts, "crf", "EXPLAINER_VIDEO_CRF", 23),
  }
end

local function sub_options(opts, key)
  local sub = {}
  for k, v in pairs(opts[key] or {}) do sub[k] = v end
  sub.document = sub.document or opts.document
  sub.format = sub.format or opts.format
  return sub
end

--- Make a scene's clip (`clip.mp4`).
-- @tparam table scene
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `document` or `format`, `filename` (default
-- `clip.mp4`), `size` ("WxH"), `fps` (25), `preset` (veryfast), `crf` (23),
-- `image` and `audio` (options for the recipes that make a missing image or
-- narration), `produce_missing` (default true)
-- @treturn string|nil the clip's path
-- @treturn string|nil message
function M.clip(scene, output_dir, opts)
  common.check_scene_args("clip", scene, output_dir, 2)
  opts = opts or {}
  local image_opts, audio_opts = sub_options(opts, "image"), sub_options(opts, "audio")
  local picture = output_dir .. "/" .. (image_opts.filename or "final.png")
  local narration = output_dir .. "/" .. (audio_opts.filename or "narration.mp3")
  local produce = opts.produce_missing ~= false
  if not common.exists(picture) then
    if not produce then return nil, picture .. ": no image" end
    local ok, err = image.generate(scene, output_dir, image_opts)
    if not ok then return nil, err end
  end
  if not common.exists(narration) then
    if not produce then return nil, narration .. ": no narration" end
    local ok, err = audio.generate(scene, output_dir, audio_opts)
    if not ok then return nil, err end
  end
  local spoken, err = common.media_duration(narration)
  if not spoken then return nil, err end
  local duration = math.max(tonumber(scene.duration) or 6, spoken)
  local s = settings(opts)
  local path = output_dir .. "/" .. (opts.filename or "clip.mp4")
  local tmp = common.temp_beside(path, ".mp4")
  -- The still is scaled once and its frame repeated (loop filter): decoding
  -- and scaling a PNG for every frame would cost five times as much.
  local filter = string.format(
    "[0:v]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=white," ..
    "setsar=1,format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/%d/TB[v];[1:a]apad[a]",
    s.width, s.height, s.width, s.height, s.fps)
  local ok
  ok, err = common.run({
    "ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
    "-i", picture, "-i", narration, "-filter_complex", filter,
    "-map", "[v]", "-map", "[a]", "-t", string.format("%.3f", duration), "-r", tostring(s.fps),
    "-c:v", "libx264", "-preset", s.preset, "-tune", "stillimage", "-crf", tostring(s.crf),
    "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2",
    "-movflags", "+faststart", "-f", "mp4", tmp,
  }, { timeout = 600 })
  if not ok then
    os.remove(tmp)
    return nil, err
  end
  ok, err = common.commit(tmp, path)
  if not ok then return nil, err end
  return path
end

--- A scene's folder, as the orchestrator names it.
function M.scene_dir(base, name, number)
  return string.format("%s/%s/scene_%02d", base, name, number)
end

--- Join a document's clips, in scene order, into `<base>/<name>/<name>.mp4`.
-- Scenes without a clip are left out (and named in the result).
-- @tparam table document
-- @tparam[opt="output"] string base the output base folder
-- @tparam[opt] table opts `clip_filename` (default `clip.mp4`), `filename`
-- (default `<name>.mp4`)
-- @treturn string|nil the film's path
-- @treturn table|string `{duration=, clips=, missing={scene numbers}}`, or a message
function M.film(document, base, opts)
  if type(document) ~= "table" or type(document.scenes) ~= "table" then
    error("bad argument #1 to 'film' (document table expected, got " .. type(document) .. ")", 2)
  end
  base, opts = base or "output", opts or {}
  local name = document.name or "script"
  local dir = base .. "/" .. name
  local clip_name = opts.clip_filename or "clip.mp4"
  local scenes = {}
  for _, scene in ipairs(document.scenes) do scenes[#scenes + 1] = scene end
  table.sort(scenes, function(a, b) return a.scene_number < b.scene_number end)
  local lines, missing, count = {}, {}, 0
  for _, scene in ipairs(scenes) do
    local rel = string.format("scene_%02d/%s", scene.scene_number, clip_name)
    if common.exists(dir .. "/" .. rel) then
      count = count + 1
      lines[#lines + 1] = "file '" .. rel:gsub("'", "'\\''") .. "'"
    else
      missing[#missing + 1] = scene.scene_number
    end
  end
  if count == 0 then return nil, "no clips to join in " .. dir end
  local list = common.temp_beside(dir .. "/concat", ".txt")
  local ok, err = common.write_file(list, table.concat(lines, "\n") .. "\n")
  if not ok then return nil, err end
  local path = dir .. "/" .. (opts.filename or (name .. ".mp4"))
  local tmp = common.temp_beside(path, ".mp4")
  ok, err = common.run({
    "ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
    "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", tmp,
  }, { timeout = 600 })
  os.remove(list)
  if not ok then
    os.remove(tmp)
    return nil, err
  end
  ok, err = common.commit(tmp, path)
  if not ok then return nil, err end
  local duration = common.media_duration(path)
  return path, { duration = duration, clips = count, missing = missing }
end

--- A `process_scene` that makes a scene's clip (and its image and narration
-- when they are missing).
function M.processor(opts)
  opts = opts or {}
  return function(scene, output_dir)
    return M.clip(scene, output_dir, opts)
  end
end

return M
