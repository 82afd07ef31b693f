--- Recipe: a clip per scene and the whole film.
--
-- `clip` makes `clip.mp4` in a scene's folder from its `final.png` and
-- `narration.mp3` (making or remaking either first unless it is fresh),
-- lasting max(scene duration, narration length), with a slow pan or zoom
-- over the still (ffmpeg's `zoompan`; the direction changes from scene to
-- scene). `film` joins the clips of a document, in scene order, into
-- `<output>/<name>/<name>.mp4`: crossfades between clips and fades at the
-- ends (`xfade`, `acrossfade`, `fade`), music under the whole film ducked
-- under the narration (`sidechaincompress`), the mix normalised to -16 LUFS
-- (`loudnorm`, two passes), and captions beside it (`<name>.srt`,
-- `<name>.vtt`) or burned in (`subtitles`). The frame size follows the
-- document's format: 9:16 -> 1080x1920, 16:9 -> 1920x1080, 1:1 -> 1080x1080,
-- else 9:16.
--
-- A transition never covers narration: each clip is held on its first frame
-- before it and on its last after it for the length of the transition, and
-- the crossfade runs over those holds. So the film's frames are the clips'
-- own, copied (not encoded again), with only the short transitions between
-- them encoded: a film costs little more than its clips. (Burned-in
-- captions, or clips that another encoder made, are encoded again whole.)
-- The join itself is explainer.recipes.film's, the pieces between the clips
-- explainer.recipes.transitions' (kept, and used again while the two clips
-- they join are the same).
--
-- Keys: a clip's key holds the keys of its image and narration, the
-- encoder's settings and its motion; the film's holds its clips' keys in
-- order, the transition, the music's bytes and level, the loudness target
-- and whether captions are burned in. So an edited narration remakes that
-- scene's track, its clip and the film, and nothing else; an all-fresh rerun
-- leaves every file as it was.
-- @module explainer.recipes.video

local key = require "explainer.key"
local artifact = require "explainer.artifact"
local common = require "explainer.recipes.common"
local image = require "explainer.recipes.image"
local audio = require "explainer.recipes.audio"
local animate = require "explainer.recipes.animate"
local settings = require "explainer.settings"

local M = {}

M.CLIP_VERSION = "clip/3"
M.FILM_VERSION = "film/2"
M.CAPTIONS_VERSION = "captions/3"
--- A last cue of a scene is shown at least this long (seconds), into the
-- silence after it while the scene lasts.
M.MIN_LAST_CUE = 1.2

--- The motions a clip's still can have, taken in turn by scene number
-- (scene n gets `MOTIONS[n % 6 + 1]`).
M.MOTIONS = { "zoom_in", "pan_right", "zoom_out", "pan_down", "pan_left", "pan_up" }

--- The transitions `xfade` knows that a film may use (`fade` by default;
-- `none` for hard cuts).
M.TRANSITIONS = {}
for name in ([[fade wipeleft wiperight wipeup wipedown slideleft slideright slideup slidedown
  circlecrop rectcrop distance fadeblack fadewhite radial smoothleft smoothright smoothup smoothdown
  circleopen circleclose vertopen vertclose horzopen horzclose dissolve pixelize diagtl diagtr diagbl
  diagbr hlslice hrslice vuslice vdslice hblur fadegrays wipetl wipetr wipebl wipebr squeezeh
  squeezev zoomin]]):gmatch("%S+") do
  M.TRANSITIONS[name] = true
end

local CAPTION_MODES = { file = true, burn = true, off = true }

--- How the on-screen text enters (`EXPLAINER_TEXT_ANIMATION`, or a scene's
-- `Text Animation:` bullet): `fade` in, `slide` up as it fades in, or `none`
-- (there from the first frame).
M.TEXT_ANIMATIONS = { fade = true, slide = true, none = true }
--- Seconds the text takes to come in.
M.TEXT_FADE = 0.6

--- The animation of a scene's text: its layout's `Text Animation:`, else
-- the option or `EXPLAINER_TEXT_ANIMATION`, else `fade`.
-- @tparam table layers what `image.layers` says of the scene (its `animation`)
-- @tparam[opt] table opts
-- @treturn string
function M.text_animation(layers, opts)
  return layers.animation or M.settings(opts).text_animation
end

-- A number option: the caller's, else the environment's, else the default;
-- nil and a message when it is not a number in [lo, hi].
local function number_option(opts, name, env, default, lo, hi)
  local v = common.option(opts, name, env, nil)
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n ~= n or n < lo or n > hi then
    return nil, string.format("%s: '%s' is not a number from %g to %g", opts and opts[name] ~= nil and name or env,
                              tostring(v), lo, hi)
  end
  return n
end

--- The encoder's settings and the clips' motion: `width`, `height`, `fps`,
-- `preset`, `crf`, `motion` (`zoompan` or `none`) and `zoom` (how far the
-- motion zooms or pans, a fraction of the frame).
-- @tparam[opt] table opts
-- @treturn table
function M.settings(opts)
  local w, h = common.size_option(opts, "size", "EXPLAINER_VIDEO_SIZE")
  if not w then w, h = common.frame_size(common.format_of(opts)) end
  return {
    width = w, height = h,
    fps = common.option(opts, "fps", "EXPLAINER_VIDEO_FPS", 25),
    preset = common.option(opts, "preset", "EXPLAINER_VIDEO_PRESET", "veryfast"),
    crf = common.option(opts, "crf", "EXPLAINER_VIDEO_CRF", 23),
    motion = common.option(opts, "motion", "EXPLAINER_MOTION", "zoompan"),
    zoom = common.option(opts, "motion_zoom", "EXPLAINER_MOTION_ZOOM", 0.06),
    text_animation = common.option(opts, "text_animation", "EXPLAINER_TEXT_ANIMATION", "fade"),
  }
end

local function check_settings(s)
  if s.motion ~= "zoompan" and s.motion ~= "none" then
    return nil, "EXPLAINER_MOTION: '" .. tostring(s.motion) .. "' is not a motion (zoompan or none)"
  end
  if type(s.zoom) ~= "number" or s.zoom < 0 or s.zoom > 0.5 then
    return nil, "EXPLAINER_MOTION_ZOOM: '" .. tostring(s.zoom) .. "' is not a number from 0 to 0.5"
  end
  if not M.TEXT_ANIMATIONS[s.text_animation] then
    return nil, "EXPLAINER_TEXT_ANIMATION: '" .. tostring(s.text_animation) .. "' is not an animation (fade, "
      .. "slide or none)"
  end
  local fps = tonumber(s.fps)
  if not fps or fps <= 0 or fps > 240 then
    return nil, "EXPLAINER_VIDEO_FPS: '" .. tostring(s.fps) .. "' is not a frame rate"
  end
  return true
end

--- What a film is made with, beyond the encoder's settings: `transition`
-- (an `xfade` transition, or `none`), `transition_seconds`, `captions`
-- (`file`, `burn` or `off`), `music` (a file, or nil), `music_volume` (the
-- music's loudness against the film's, in LU, before ducking), `loudness`
-- (LUFS) and `true_peak` (dBTP).
-- @tparam[opt] table opts
-- @treturn table|nil the settings
-- @treturn string|nil message for a value that makes no sense
function M.film_settings(opts)
  opts = opts or {}
  local s = { captions = common.option(opts, "captions", "EXPLAINER_CAPTIONS", "file"),
              transition = common.option(opts, "transition", "EXPLAINER_TRANSITION", "fade"),
              music = common.option(opts, "music", "EXPLAINER_MUSIC", nil) }
  if not CAPTION_MODES[s.captions] then
    return nil, "EXPLAINER_CAPTIONS: '" .. tostring(s.captions) .. "' is not a mode (file, burn or off)"
  end
  if s.transition ~= "none" and not M.TRANSITIONS[s.transition] then
    return nil, "EXPLAINER_TRANSITION: '" .. tostring(s.transition) .. "' is not an xfade transition (fade, "
      .. "dissolve, wipeleft, slideup, ... or none)"
  end
  local err
  s.transition_seconds, err = number_option(opts, "transition_seconds", "EXPLAINER_TRANSITION_SECONDS", 0.5, 0, 10)
  if not s.transition_seconds then return nil, err end
  s.music_volume, err = number_option(opts, "music_volume", "EXPLAINER_MUSIC_VOLUME", -12, -60, 20)
  if not s.music_volume then return nil, err end
  s.loudness, err = number_option(opts, "loudness", "EXPLAINER_LOUDNESS", -16, -70, -5)
  if not s.loudness then return nil, err end
  s.true_peak, err = number_option(opts, "true_peak", "EXPLAINER_TRUE_PEAK", -1.5, -9, 0)
  if not s.true_peak then return nil, err end
  if s.transition_seconds == 0 then s.transition = "none" end
  return s
end

local function sub_options(opts, name)
  local sub = {}
  for k, v in pairs(opts[name] or {}) do sub[k] = v end
  sub.document = sub.document or opts.document
  sub.format = sub.format or opts.format
  return sub
end

-- Where a frame's text can be: the box around its text groups, in even
-- pixels (yuv420's chroma), in the frame's pixels.
local function text_box(d)
  local x0, y0, x1, y1 = math.huge, math.huge, 0, 0
  for _, g in ipairs(d.groups) do
    x0, y0 = math.min(x0, g.box.x), math.min(y0, g.box.y)
    x1, y1 = math.max(x1, g.box.x + g.box.w), math.max(y1, g.box.y + g.box.h)
  end
  if x1 <= x0 then return nil end
  x0, y0 = x0 - x0 % 2, y0 - y0 % 2
  x1, y1 = math.min(d.width, x1 + x1 % 2), math.min(d.height, y1 + y1 % 2)
  return { x = x0, y = y0, w = x1 - x0, h = y1 - y0, width = d.width, height = d.height }
end

-- What a clip is made from, in a scene's folder: where the image and the
-- narration are and the keys they should have; the frame's layers (its
-- plate and its text layer) when the image is a frame made here. The image
-- is drawn at the film's frame size.
local function sources(scene, output_dir, opts, s)
  local image_opts, audio_opts = sub_options(opts, "image"), sub_options(opts, "audio")
  image_opts.frame_size = image_opts.frame_size or (s.width .. "x" .. s.height)
  local src = {
    picture = output_dir .. "/" .. (image_opts.filename or "final.png"),
    narration = output_dir .. "/" .. (audio_opts.filename or "narration.mp3"),
    image_opts = image_opts, audio_opts = audio_opts,
    image_key = image.key(scene, image_opts),
    audio_key = audio.key(scene, audio_opts),
  }
  local layers = image.layers(scene, image_opts)
  if layers and artifact.standing(src.picture, src.image_key) ~= "foreign" then
    src.layers = { plate = output_dir .. "/" .. layers.plate.file, text = output_dir .. "/" .. layers.text.file,
                   plate_key = layers.plate.key,
                   texts = #layers.design.text.groups, animation = layers.design.animation,
                   box = text_box(layers.design.text) }
  end
  return src
end

-- A source's part of the clip's key: the key it should have, or, for a file
-- made by hand (which the recipes keep), its bytes.
local function source_part(path, expected)
  if artifact.standing(path, expected) == "foreign" then return artifact.identity(path) end
  return expected
end

-- What an image-to-video model is given: the frame's plate when the frame
-- has a text layer (the text is laid over the animation afterwards, crisp,
-- never drawn by the model), else the image. Its path and its part of the key.
local function animation_source(src)
  if src.layers and src.layers.box then return src.layers.plate, src.layers.plate_key end
  return src.picture, source_part(src.picture, src.image_key)
end

--- The motion of a scene's still: one of `MOTIONS`, by its number.
-- @tparam table scene
-- @treturn string
function M.motion_of(scene)
  local n = math.tointeger(tonumber(scene.scene_number) or 0) or 0
  return M.MOTIONS[n % #M.MOTIONS + 1]
end

--- The key of a scene's clip: its image's, its narration's, the encoder's
-- settings and the motion.
-- @tparam table scene
-- @tparam string output_dir the scene's folder (an image or narration made by
--   hand there counts by its bytes)
-- @tparam[opt] table opts as for `clip`
-- @treturn table the key (explainer.key)
function M.clip_key(scene, output_dir, opts)
  opts = opts or {}
  local s = M.settings(opts)
  -- A bad setting is said before anything runs (inputs and status call this).
  local ok, err = check_settings(s)
  if not ok then settings.fail(err) end
  local src = sources(scene, output_dir, opts, s)
  local motion = s.motion == "zoompan" and { M.motion_of(scene), s.zoom } or "none"
  return key.of(M.CLIP_VERSION, {
    -- nil without a text layer (the storyboard card, an image made by hand)
    text_motion = src.layers and src.layers.texts > 0 and { M.text_animation(src.layers, opts), M.TEXT_FADE }
      or nil,
    ["final.png"] = source_part(src.picture, src.image_key),
    ["narration.mp3"] = source_part(src.narration, src.audio_key),
    size = s.width .. "x" .. s.height, fps = s.fps, preset = s.preset, crf = s.crf,
    duration = tonumber(scene.duration) or 6, motion = motion,
    -- nil unless an image-to-video backend animates this scene (animate.lua)
    animation = animate.key(scene, select(2, animation_source(src)), opts),
  })
end

local function append(list, more)
  for _, v in ipairs(more) do list[#list + 1] = v end
  return list
end

-- The encoder's arguments, the same for clips and the film's transitions:
-- `stitchable` keeps x264's headers independent of the content, so that
-- pieces encoded apart can be joined without encoding them again. A slow
-- pan or zoom is one smooth motion of the whole frame, which the cheapest
-- motion search (`me=dia:subme=1`) finds as well as any: a third less time
-- for a fifth more bytes.
local function x264_args(s)
  local args = { "-c:v", "libx264", "-preset", tostring(s.preset), "-crf", tostring(s.crf), "-pix_fmt", "yuv420p" }
  if s.motion == "none" then
    append(args, { "-tune", "stillimage", "-x264-params", "stitchable=1" })
  else
    append(args, { "-x264-params", "stitchable=1:me=dia:subme=1" })
  end
  return args
end

-- AAC as the clips and the film carry it (the fast coder: half the time of
-- the default, no difference one hears in speech).
local function aac_args(bitrate, rate)
  return { "-c:a", "aac", "-aac_coder", "fast", "-b:a", bitrate, "-ar", tostring(rate) }
end

-- zoompan's zoom and position for a motion over `frames` frames: the
-- progress p runs from 0 to 1; pans go over the zoomed still's margin.
local function zoompan_expr(motion, zoom, frames, s)
  local p = frames > 1 and string.format("on/%d", frames - 1) or "0"
  local z, x, y = string.format("%.4f", 1 + zoom), "(iw-iw/zoom)/2", "(ih-ih/zoom)/2"
  if motion == "zoom_in" then
    z = string.format("1+%.4f*%s", zoom, p)
  elseif motion == "zoom_out" then
    z = string.format("1+%.4f*(1-%s)", zoom, p)
  elseif motion == "pan_right" then
    x = "(iw-iw/zoom)*" .. p
  elseif motion == "pan_left" then
    x = "(iw-iw/zoom)*(1-" .. p .. ")"
  elseif motion == "pan_down" then
    y = "(ih-ih/zoom)*" .. p
  elseif motion == "pan_up" then
    y = "(ih-ih/zoom)*(1-" .. p .. ")"
  end
  return string.format("zoompan=z='%s':x='%s':y='%s':d=%d:s=%dx%d:fps=%s", z, x, y, frames, s.width, s.height,
                       tostring(s.fps))
end

-- When the text comes in: as the voice starts. The narration starts where
-- the clip does; a service's character timings (narration.json) say when
-- its first word is heard. 0.15 s in at the earliest, 2 s at the latest.
local function text_start(src)
  local kept = audio.read_alignment(src.narration)
  local times = kept and kept.alignment and kept.alignment.character_start_times_seconds
  local first = type(times) == "table" and tonumber(times[1]) or 0
  return math.max(0.15, math.min(2, first))
end

-- The text layer over the moving plate, unmoved (crisp): faded in at its
-- time, or slid up by 4% of the frame as it fades. Only the box its text can
-- be in is laid over (a third of the frame or so: the blending of each frame
-- costs that much less), cut out of the layer once, then repeated.
local function text_overlay(animation, start, box, s)
  local fade = string.format("fade=t=in:st=%.3f:d=%.3f:alpha=1,", start, M.TEXT_FADE)
  local sx, sy = s.width / box.width, s.height / box.height
  local x, y, w, h = math.floor(box.x * sx / 2) * 2, math.floor(box.y * sy / 2) * 2,
    math.floor(box.w * sx / 2) * 2, math.floor(box.h * sy / 2) * 2
  local chain = string.format("[1:v]scale=%d:%d,crop=%d:%d:%d:%d,format=yuva420p,loop=loop=-1:size=1:start=0,"
    .. "setpts=N/%s/TB,%s", s.width, s.height, w, h, x, y, tostring(s.fps), animation == "none" and "" or fade)
  local ypos = tostring(y)
  if animation == "slide" then
    ypos = string.format("'%d+%d*pow(1-clip((t-%.3f)/%.3f,0,1),2)'", y, math.floor(s.height * 0.04), start,
      M.TEXT_FADE)
  end
  return chain .. "null[t];[p][t]overlay=x=" .. x .. ":y=" .. ypos .. ":eval="
    .. (animation == "slide" and "frame" or "init") .. ":shortest=1:format=yuv420"
end

local function encode_clip(scene, src, duration, s, tmp, opts)
  local frames = math.max(1, math.floor(duration * s.fps + 0.5))
  local layered = src.layers and src.layers.box
  local fit = string.format(
    "[0:v]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=white,setsar=1,",
    s.width, s.height, s.width, s.height)
  local filter
  if s.motion == "zoompan" and s.zoom > 0 then
    -- zoompan renders each frame from the still at the frame's own size:
    -- one scale per frame, cheaper than the encoding that follows.
    filter = fit .. zoompan_expr(M.motion_of(scene), s.zoom, frames, s) .. ",setsar=1,format=yuv420p"
  else
    -- The still is scaled once and its frame repeated (loop filter): decoding
    -- and scaling a PNG for every frame would cost five times as much.
    filter = fit .. string.format("format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/%s/TB", tostring(s.fps))
  end
  local inputs = { "-i", common.ffpath(layered and src.layers.plate or src.picture) }
  local audio_in = 1
  if layered then
    filter = filter .. "[p];" .. text_overlay(M.text_animation(src.layers, opts), text_start(src),
      src.layers.box, s)
      .. ",format=yuv420p"
    append(inputs, { "-i", common.ffpath(src.layers.text) })
    audio_in = 2
  end
  filter = filter .. string.format("[v];[%d:a]apad[a]", audio_in)
  append(inputs, { "-i", common.ffpath(src.narration) })
  -- The last frame is a keyframe too: the film's crossfade out of this clip
  -- starts from it, and reads it without decoding the clip.
  local args = inputs
  append(args, { "-filter_complex", filter,
                 "-map", "[v]", "-map", "[a]", "-frames:v", tostring(frames),
                 "-t", string.format("%.6f", frames / s.fps), "-r", tostring(s.fps),
                 "-force_key_frames", string.format("expr:eq(n,%d)", frames - 1) })
  append(args, x264_args(s))
  append(args, aac_args("128k", 48000))
  append(args, { "-ac", "2", "-movflags", "+faststart" })
  return common.ffmpeg(args, tmp, "mp4")
end

--- Make a scene's clip (`clip.mp4`), and its image and narration first,
-- unless they are fresh.
-- @tparam table scene
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `document` or `format`, `filename` (default
-- `clip.mp4`), `size` ("WxH"), `fps` (25), `preset` (veryfast), `crf` (23),
-- `motion` (`zoompan` or `none`), `motion_zoom` (0.06),
-- `image` and `audio` (options for the recipes that make the image and the
-- narration), `produce_missing` (default true: false uses the files there)
-- @treturn string|nil the clip's path
-- @treturn string how it came: "fresh", "kept", "cached" or "made"; or a message
function M.clip(scene, output_dir, opts)
  common.check_scene_args("clip", scene, output_dir, 2)
  opts = opts or {}
  local s = M.settings(opts)
  local oks, serr = check_settings(s)
  if not oks then return nil, serr end
  local src = sources(scene, output_dir, opts, s)
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
  local path = output_dir .. "/" .. (opts.filename or "clip.mp4")
  -- Hook: an image-to-video backend (animate.lua), when one is chosen, makes the
  -- clip from the frame's plate (or final.png), its text laid over; without an
  -- animation (or when it fails) the still does, under the still's own key.
  if animate.backend(opts) then
    local picture, part = animation_source(src)
    local text = src.layers and src.layers.box and {
      path = src.layers.text,
      filter = text_overlay(M.text_animation(src.layers, opts), text_start(src), src.layers.box, s),
    } or nil
    local animated, how = animate.clip(scene, output_dir, path, M.clip_key(scene, output_dir, opts), {
      picture = picture, narration = src.narration, settings = s, image = part, text = text }, opts)
    if animated ~= nil then return animated or nil, how end   -- made, or false: a bad setting
    opts = animate.without(opts)
  end
  local made, how = artifact.make(path, M.clip_key(scene, output_dir, opts), function(tmp)
    local spoken, err = common.media_duration(src.narration)
    if not spoken then return nil, err end
    return encode_clip(scene, src, math.max(tonumber(scene.duration) or 6, spoken), s, tmp, opts)
  end, { kind = "mp4" })
  if not made then return nil, how end
  return path, how
end

------------------------------------------------------------------------------
-- The film (explainer.recipes.film joins the clips, explainer.recipes.transitions
-- makes the pieces between them; what they share with the clips is here)
------------------------------------------------------------------------------

--- What the film's modules share with the clips (not for scripts): the
-- check of the encoder's settings, sub-options, and the encoder's arguments.
M.encoder = { check_settings = check_settings, sub_options = sub_options, x264_args = x264_args,
              aac_args = aac_args }

--- Join a document's clips, in scene order, into `<base>/<name>/<name>.mp4`,
-- unless the film there was made from these very clips with these settings;
-- and write its captions beside it (`<name>.srt`, `<name>.vtt`).
-- Scenes without a clip, or whose clip is out of date (made before an edit
-- of the scene and not made again since), are left out and named. With
-- `EXPLAINER_PREVIEW=1` the film is `<name>.preview.mp4` (and its captions
-- `<name>.preview.srt`, `.vtt`). The work is explainer.recipes.film's.
-- @tparam table document
-- @tparam[opt="output"] string base the output base folder
-- @tparam[opt] table opts `clip_filename` (default `clip.mp4`), `filename`
-- (default `<name>.mp4`), `transition`, `transition_seconds`, `captions`,
-- `music`, `music_volume`, `loudness`, `true_peak` (see `film_settings`),
-- the encoder's (`size`, `fps`, `preset`, `crf`, `motion`) and `document`'s
-- `image`/`audio` options (for the narration's file names), `on_progress`
-- (called with how far the join is, from 0 to 1, while it runs)
-- @treturn string|nil the film's path
-- @treturn table|string `{duration=, clips=, missing={scene numbers}, how=,
--   captions={srt=, vtt=}}` (how: "fresh" when the film was left as it
--   was, "kept" when it was made by hand, else "made"), or a message
function M.film(document, base, opts)
  if type(document) ~= "table" or type(document.scenes) ~= "table" then
    error("bad argument #1 to 'film' (document table expected, got " .. type(document) .. ")", 2)
  end
  return require("explainer.recipes.film").film(document, base or "output", opts or {})
end

return M
