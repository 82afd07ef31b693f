--- Recipe: a clip per scene and the whole film.
--
-- `clip` makes `clip.mp4` in a scene's folder from its `final.png` and
-- `narration.mp3` (making or remaking either first unless it is fresh),
-- lasting max(scene duration, narration length). `film` joins the clips of a
-- document, in scene order, into `<output>/<name>/<name>.mp4` (ffmpeg's
-- concat demuxer, streams copied). The frame size follows the document's
-- format: 9:16 -> 1080x1920, 16:9 -> 1920x1080, 1:1 -> 1080x1080, else 9:16.
--
-- Keys: a clip's key holds the keys of its image and narration and the
-- encoder's settings; the film's holds its clips' keys in order. So an edited
-- narration remakes that scene's track, its clip and the film, and nothing
-- else; an all-fresh rerun leaves every file as it was.
-- @module explainer.recipes.video

local key = require "explainer.key"
local artifact = require "explainer.artifact"
local common = require "explainer.recipes.common"
local image = require "explainer.recipes.image"
local audio = require "explainer.recipes.audio"
local animate = require "explainer.recipes.animate"

local M = {}

M.CLIP_VERSION = "clip/1"
M.FILM_VERSION = "film/1"

--- The encoder's settings: `width`, `height`, `fps`, `preset`, `crf`.
function M.settings(opts)
  local w, h = common.parse_size(common.option(opts, "size", "EXPLAINER_VIDEO_SIZE", nil))
  if not w then w, h = common.frame_size(common.format_of(opts)) end
  return {
    width = w, height = h,
    fps = common.option(opts, "fps", "EXPLAINER_VIDEO_FPS", 25),
    preset = common.option(opts, "preset", "EXPLAINER_VIDEO_PRESET", "veryfast"),
    crf = common.option(opts, "crf", "EXPLAINER_VIDEO_CRF", 23),
  }
end

local function sub_options(opts, name)
  local sub = {}
  for k, v in pairs(opts[name] or {}) do sub[k] = v end
  sub.document = sub.document or opts.document
  sub.format = sub.format or opts.format
  return sub
end

-- What a clip is made from, in a scene's folder: where the image and the
-- narration are and the keys they should have.
local function sources(scene, output_dir, opts)
  local image_opts, audio_opts = sub_options(opts, "image"), sub_options(opts, "audio")
  return {
    picture = output_dir .. "/" .. (image_opts.filename or "final.png"),
    narration = output_dir .. "/" .. (audio_opts.filename or "narration.mp3"),
    image_opts = image_opts, audio_opts = audio_opts,
    image_key = image.key(scene, image_opts),
    audio_key = audio.key(scene, audio_opts),
  }
end

-- A source's part of the clip's key: the key it should have, or, for a file
-- made by hand (which the recipes keep), its bytes.
local function source_part(path, expected)
  if artifact.standing(path, expected) == "foreign" then return artifact.identity(path) end
  return expected
end

--- The key of a scene's clip: its image's, its narration's and the
-- encoder's settings.
-- @tparam table scene
-- @tparam string output_dir the scene's folder (an image or narration made by
--   hand there counts by its bytes)
-- @tparam[opt] table opts as for `clip`
-- @treturn table the key (explainer.key)
function M.clip_key(scene, output_dir, opts)
  opts = opts or {}
  local src = sources(scene, output_dir, opts)
  local s = M.settings(opts)
  return key.of(M.CLIP_VERSION, {
    ["final.png"] = source_part(src.picture, src.image_key),
    ["narration.mp3"] = source_part(src.narration, src.audio_key),
    size = s.width .. "x" .. s.height, fps = s.fps, preset = s.preset, crf = s.crf,
    duration = tonumber(scene.duration) or 6,
    -- nil unless an image-to-video backend animates this scene (animate.lua)
    animation = animate.key(scene, source_part(src.picture, src.image_key), opts),
  })
end

local function encode_clip(picture, narration, duration, s, tmp)
  -- The still is scaled once and its frame repeated (loop filter): decoding
  -- and scaling a PNG for every frame would cost five times as much.
  local filter = string.format(
    "[0:v]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=white," ..
    "setsar=1,format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/%d/TB[v];[1:a]apad[a]",
    s.width, s.height, s.width, s.height, s.fps)
  return common.ffmpeg({
    "-i", common.ffpath(picture), "-i", common.ffpath(narration), "-filter_complex", filter,
    "-map", "[v]", "-map", "[a]", "-t", string.format("%.3f", duration), "-r", tostring(s.fps),
    "-c:v", "libx264", "-preset", s.preset, "-tune", "stillimage", "-crf", tostring(s.crf),
    "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2", "-movflags", "+faststart",
  }, tmp, "mp4")
end

--- Make a scene's clip (`clip.mp4`), and its image and narration first,
-- unless they are fresh.
-- @tparam table scene
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `document` or `format`, `filename` (default
-- `clip.mp4`), `size` ("WxH"), `fps` (25), `preset` (veryfast), `crf` (23),
-- `image` and `audio` (options for the recipes that make the image and the
-- narration), `produce_missing` (default true: false uses the files there)
-- @treturn string|nil the clip's path
-- @treturn string how it came: "fresh", "kept", "cached" or "made"; or a message
function M.clip(scene, output_dir, opts)
  common.check_scene_args("clip", scene, output_dir, 2)
  opts = opts or {}
  local src = sources(scene, output_dir, opts)
  if opts.produce_missing ~= false then
    local ok, err = image.generate(scene, output_dir, src.image_opts)
    if not ok then return nil, err end
    ok, err = audio.generate(scene, output_dir, src.audio_opts)
    if not ok then return nil, err end
  elseif not common.exists(src.picture) then
    return nil, src.picture .. ": no image"
  elseif not common.exists(src.narration) then
    return nil, src.narration .. ": no narration"
  end
  local s = M.settings(opts)
  local path = output_dir .. "/" .. (opts.filename or "clip.mp4")
  -- Hook: an image-to-video backend (animate.lua), when one is chosen, makes the
  -- clip from final.png; without an animation (or when it fails) the still does,
  -- under the still's own key.
  if animate.backend(opts) then
    local animated, how = animate.clip(scene, output_dir, path, M.clip_key(scene, output_dir, opts), {
      picture = src.picture, narration = src.narration, settings = s,
      image = source_part(src.picture, src.image_key) }, opts)
    if animated ~= nil then return animated or nil, how end   -- made, or false: a bad setting
    opts = animate.without(opts)
  end
  local made, how = artifact.make(path, M.clip_key(scene, output_dir, opts), function(tmp)
    local spoken, err = common.media_duration(src.narration)
    if not spoken then return nil, err end
    return encode_clip(src.picture, src.narration, math.max(tonumber(scene.duration) or 6, spoken), s, tmp)
  end, { kind = "mp4" })
  if not made then return nil, how end
  return path, how
end

--- Join a document's clips, in scene order, into `<base>/<name>/<name>.mp4`,
-- unless the film there was made from these very clips.
-- Scenes without a clip are left out (and named in the result).
-- @tparam table document
-- @tparam[opt="output"] string base the output base folder
-- @tparam[opt] table opts `clip_filename` (default `clip.mp4`), `filename`
-- (default `<name>.mp4`)
-- @treturn string|nil the film's path
-- @treturn table|string `{duration=, clips=, missing={scene numbers}, how=}`
--   (how: "fresh" when the film was left as it was, "kept" when it was made
--   by hand, else "made"), or a message
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
  local lines, missing, used = {}, {}, {}
  for _, scene in ipairs(scenes) do
    local rel = string.format("scene_%02d/%s", scene.scene_number, clip_name)
    if common.exists(dir .. "/" .. rel) then
      lines[#lines + 1] = "file '" .. rel:gsub("'", "'\\''") .. "'"
      used[#used + 1] = { scene.scene_number, artifact.identity(dir .. "/" .. rel) }
    else
      missing[#missing + 1] = scene.scene_number
    end
  end
  if #used == 0 then return nil, "no clips to join in " .. dir end
  local path = dir .. "/" .. (opts.filename or (name .. ".mp4"))
  local made, how = artifact.make(path, key.of(M.FILM_VERSION, { clips = used }), function(tmp)
    local list = tmp .. ".txt"
    local ok, err = common.write_file(list, table.concat(lines, "\n") .. "\n")
    if ok then
      ok, err = common.ffmpeg({ "-f", "concat", "-safe", "0", "-i", common.ffpath(list), "-c", "copy",
                                "-movflags", "+faststart" }, tmp, "mp4")
    end
    os.remove(list)
    return ok, err
  end, { kind = "mp4", cache = false })
  if not made then return nil, how end
  return path, { duration = common.media_duration(path), clips = #used, missing = missing, how = how }
end

return M
