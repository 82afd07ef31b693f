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
--
-- Keys: a clip's key holds the keys of its image and narration, the
-- encoder's settings and its motion; the film's holds its clips' keys in
-- order, the transition, the music's bytes and level, the loudness target
-- and whether captions are burned in. So an edited narration remakes that
-- scene's track, its clip and the film, and nothing else; an all-fresh rerun
-- leaves every file as it was.
-- @module explainer.recipes.video

local cjson = require "cjson.safe"
local lfs = require "lfs"
local core = require "explainer_core"
local key = require "explainer.key"
local artifact = require "explainer.artifact"
local common = require "explainer.recipes.common"
local image = require "explainer.recipes.image"
local audio = require "explainer.recipes.audio"
local animate = require "explainer.recipes.animate"
local captions = require "explainer.recipes.captions"

local M = {}

M.CLIP_VERSION = "clip/2"
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
  if not ok then error(err, 0) end
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
    animation = animate.key(scene, source_part(src.picture, src.image_key), opts),
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
  append(args, aac_args("128k", 44100))
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
    return encode_clip(scene, src, math.max(tonumber(scene.duration) or 6, spoken), s, tmp, opts)
  end, { kind = "mp4" })
  if not made then return nil, how end
  return path, how
end

------------------------------------------------------------------------------
-- The film
------------------------------------------------------------------------------

local function basename(path)
  return path:match("([^/]*)$")
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return (lfs.currentdir() or ".") .. "/" .. path
end

-- ffmpeg run in folder `dir` (the film's: every path given relative to it, so
-- that the `subtitles` filter gets a plain file name); `output` relative too.
local function ffmpeg_in(dir, args, output, format, timeout, loglevel)
  local argv = { "ffmpeg", "-nostdin", "-nostats", "-y", "-hide_banner", "-loglevel", loglevel or "error" }
  append(argv, args)
  if output then append(argv, { "-f", format, common.ffpath(output) }) end
  return common.run(argv, { cwd = dir, timeout = timeout or 600 })
end

-- What ffprobe says of a clip: its video's codec, size, rate, frames,
-- header hash, and whether it has sound.
local function probe(path)
  local r, err = common.run({ "ffprobe", "-v", "error", "-show_data_hash", "md5", "-of", "json",
    "-show_entries", "stream=codec_type,codec_name,width,height,pix_fmt,r_frame_rate,nb_frames,duration,"
      .. "extradata_hash:format=duration", common.ffpath(path) }, { timeout = 60 })
  if not r then return nil, err end
  local data = cjson.decode(r.stdout)
  if type(data) ~= "table" then return nil, path .. ": ffprobe gave no answer" end
  local info = { audio = false }
  for _, st in ipairs(data.streams or {}) do
    if st.codec_type == "video" and not info.codec then
      info.codec, info.width, info.height, info.pix_fmt = st.codec_name, st.width, st.height, st.pix_fmt
      info.rate, info.frames, info.extradata = st.r_frame_rate, tonumber(st.nb_frames), st.extradata_hash
      info.duration = tonumber(st.duration)
    elseif st.codec_type == "audio" then
      info.audio = true
    end
  end
  if not info.codec then return nil, path .. ": no video in it" end
  info.duration = info.duration or tonumber((data.format or {}).duration)
  return info
end

local function same_rate(rate, fps)
  local a, b = tostring(rate or ""):match("^(%d+)/(%d+)$")
  return a and tonumber(b) > 0 and math.abs(tonumber(a) / tonumber(b) - fps) < 1e-6
end

-- The film's timeline: each clip's frames, where its body starts, the
-- transition's frames; probes the clips once.
local function timeline(entries, s, fs)
  local fps = tonumber(s.fps)
  local t_frames = fs.transition ~= "none" and math.max(1, math.floor(fs.transition_seconds * fps + 0.5)) or 0
  local tl = { fps = fps, t_frames = t_frames, t = t_frames / fps, clips = {} }
  local at = t_frames
  for i, e in ipairs(entries) do
    local info, err = probe(e.path)
    if not info then return nil, err end
    local frames = same_rate(info.rate, fps) and info.frames
    if not frames then frames = math.max(1, math.floor((info.duration or 0) * fps + 0.5)) end
    tl.clips[i] = { entry = e, info = info, frames = frames, start = at / fps, duration = frames / fps }
    at = at + frames + t_frames
  end
  tl.frames = at
  tl.duration = at / fps
  return tl
end

-- The film's sound: each clip's track, held silent over the transitions and
-- crossfaded (acrossfade) over them; the music looped or cut to the film,
-- faded, and ducked under the narration (sidechaincompress); written at
-- `wav` (32-bit float, 48 kHz stereo) before loudness normalisation.
local function mix_audio(dir, tl, music, wav)
  local rate = 48000
  local args, parts = {}, {}
  local n = #tl.clips
  local t_samples = math.floor(tl.t * rate + 0.5)
  for i, c in ipairs(tl.clips) do
    append(args, { "-i", common.ffpath(c.entry.rel) })
    local src = c.info.audio and string.format("[%d:a]aresample=%d,", i - 1, rate)
      or string.format("anullsrc=r=%d:cl=stereo,", rate)
    local chain = src .. string.format(
      "aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=end_sample=%d,apad=whole_len=%d,asetpts=PTS-STARTPTS",
      math.floor(c.duration * rate + 0.5), math.floor(c.duration * rate + 0.5))
    if t_samples > 0 then
      chain = chain .. string.format(",adelay=delays=%dS:all=1,apad=pad_len=%d", t_samples, t_samples)
    end
    parts[#parts + 1] = chain .. string.format("[a%d]", i)
  end
  local voice
  if n == 1 then
    voice = "a1"
  elseif t_samples > 0 then
    local prev = "a1"
    for i = 2, n do
      local out = (i == n) and "voice" or ("x" .. i)
      parts[#parts + 1] = string.format("[%s][a%d]acrossfade=ns=%d:c1=tri:c2=tri[%s]", prev, i, t_samples, out)
      prev = out
    end
    voice = "voice"
  else
    local ins = {}
    for i = 1, n do ins[i] = "[a" .. i .. "]" end
    parts[#parts + 1] = table.concat(ins) .. string.format("concat=n=%d:v=0:a=1[voice]", n)
    voice = "voice"
  end
  local out = voice
  if music then
    local total = tl.duration
    local fade_in, fade_out = math.min(1, total / 4), math.min(3, total / 4)
    append(args, { "-stream_loop", "-1", "-i", common.ffpath(music.path) })
    parts[#parts + 1] = string.format(
      "[%d:a]aresample=%d,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=end_sample=%d,asetpts=PTS-STARTPTS,"
        .. "volume=%.2fdB,afade=t=in:d=%.3f,afade=t=out:st=%.3f:d=%.3f[music]",
      n, rate, math.floor(total * rate + 0.5), music.gain, fade_in, total - fade_out, fade_out)
    parts[#parts + 1] = string.format("[%s]volume=%.2fdB,asplit=2[speech][key]", voice, music.voice_gain)
    -- The narration keys a compressor on the music: 20:1 above -40 dBFS, so
    -- speech at film level takes the music down 15 to 20 dB, and it comes
    -- back half a second after the speech stops.
    parts[#parts + 1] = "[music][key]sidechaincompress=threshold=0.01:ratio=20:attack=20:release=500[ducked]"
    parts[#parts + 1] = "[speech][ducked]amix=inputs=2:duration=first:normalize=0[mix]"
    out = "mix"
  end
  append(args, { "-filter_complex", table.concat(parts, ";"), "-map", "[" .. out .. "]",
                 "-c:a", "pcm_f32le", "-ar", tostring(rate) })
  local ok, err = ffmpeg_in(dir, args, wav, "wav", 600 + 2 * tl.duration)
  if not ok then return nil, err end
  return true
end

-- EBU R128 measurement of a file's sound by ffmpeg's ebur128 filter:
-- `{i=, thresh=, lra=, tp=}` (LUFS, LU, dBTP); i is nil for silence.
-- `extra` are input options (a length, a loop).
local function measure(dir, input, extra, timeout)
  local args = {}
  append(args, extra or {})
  append(args, { "-i", common.ffpath(input), "-vn", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-" })
  local r, err = ffmpeg_in(dir, args, nil, nil, timeout, "info")
  if not r then return nil, err end
  local summary = r.stderr:match(".*Summary:(.*)$")
  if not summary then return nil, "ebur128 gave no summary for " .. input end
  local m = {
    i = tonumber(summary:match("I:%s*(%-?[%d%.]+) LUFS")),
    thresh = tonumber(summary:match("Integrated loudness:.-Threshold:%s*(%-?[%d%.]+) LUFS")),
    lra = tonumber(summary:match("LRA:%s*(%-?[%d%.]+) LU")),
    tp = tonumber(summary:match("Peak:%s*(%-?[%d%.]+) dBFS")),
  }
  if m.i and m.i <= -70 then m.i = nil end
  return m
end

-- The true peak the normalisation aims at: half a dB under the limit, the
-- room the AAC encoder's own overshoot needs.
local function peak_target(fs)
  return fs.true_peak - 0.5
end

-- Normalise the mix to the target loudness (EBU R128): measure it
-- (ebur128), apply the one gain that reaches the target (what loudnorm's
-- linear mode does), and where that gain takes the true peak over its
-- limit, limit the peaks (alimiter at four times the rate, so that peaks
-- between samples count), then measure again and trim the small loss. Not
-- loudnorm's dynamic mode: it levels as it goes, and would lift the music
-- between the narrated scenes. Silence stays silence.
local function normalise(dir, mix, out, fs, timeout)
  local m, err = measure(dir, mix, nil, timeout)
  if not m then return nil, err end
  local filter = "anull"
  if m.i and m.tp then
    local gain = fs.loudness - m.i
    filter = string.format("volume=%.2fdB", gain)
    if m.tp + gain > peak_target(fs) then
      local limited = out .. ".limited.wav"
      local r
      r, err = ffmpeg_in(dir, { "-i", common.ffpath(mix), "-af", filter .. string.format(
        ",aresample=192000,alimiter=limit=%.5f:attack=1:release=50:asc=0:level=0,aresample=48000",
        10 ^ ((peak_target(fs) - 0.3) / 20)), "-c:a", "pcm_f32le" }, limited, "wav", timeout)
      if r then m, err = measure(dir, limited, nil, timeout) end
      if not r or not m then
        os.remove(dir .. "/" .. limited)
        return nil, err
      end
      local trim = m.i and (fs.loudness - m.i) or 0
      if m.tp and m.tp + trim > peak_target(fs) then trim = math.min(trim, peak_target(fs) - m.tp) end
      r, err = ffmpeg_in(dir, { "-i", common.ffpath(limited), "-af", string.format("volume=%.2fdB", trim),
                                "-c:a", "pcm_f32le" }, out, "wav", timeout)
      os.remove(dir .. "/" .. limited)
      if not r then return nil, err end
      return true
    end
  end
  local r
  r, err = ffmpeg_in(dir, { "-i", common.ffpath(mix), "-af", filter, "-c:a", "pcm_f32le", "-ar", "48000" },
                     out, "wav", timeout)
  if not r then return nil, err end
  return true
end

-- The first frame of input `idx` held for n frames, as a filter chain.
local function held(idx, n, fps)
  return string.format("[%d:v]trim=end_frame=1,setpts=PTS-STARTPTS,loop=loop=%d:size=1:start=0,setpts=N/%s/TB,"
    .. "setsar=1,format=yuv420p", idx, n - 1, tostring(fps))
end

-- Input options that open a clip at its last frame: a keyframe (see
-- encode_clip), so seeking to it decodes nothing else.
local function at_end(c, fps)
  return { "-noaccurate_seek", "-ss", string.format("%.6f", math.max(0, c.duration - 0.5 / fps)),
           "-i", common.ffpath(c.entry.rel) }
end

-- The short pieces between the clips, encoded like them: the fade in from
-- black on the first clip's first frame, a crossfade from each clip's last
-- frame to the next one's first, the fade out to black on the last clip's
-- last frame. Returns the list of files (relative to dir).
local function encode_transitions(dir, tl, s, fs, stem, made)
  local n, fps, nt = #tl.clips, tl.fps, tl.t_frames
  local pieces = {}
  local function encode(name, inputs, filter)
    made[#made + 1] = name
    local args = {}
    append(args, inputs)
    append(args, { "-filter_complex", filter, "-map", "[v]", "-an", "-frames:v", tostring(nt), "-r", tostring(fps) })
    append(args, x264_args(s))
    local ok, err = ffmpeg_in(dir, args, name, "mp4", 600)
    if not ok then return nil, err end
    return name
  end
  local first, err = encode(stem .. ".in.mp4", { "-i", common.ffpath(tl.clips[1].entry.rel) },
    held(0, nt, fps) .. string.format(",fade=t=in:s=0:n=%d[v]", nt))
  if not first then return nil, err end
  pieces.lead = first
  pieces.between = {}
  for i = 1, n - 1 do
    local inputs = at_end(tl.clips[i], fps)
    append(inputs, { "-i", common.ffpath(tl.clips[i + 1].entry.rel) })
    local name
    name, err = encode(string.format("%s.x%d.mp4", stem, i), inputs,
      held(0, nt, fps) .. "[a];" .. held(1, nt, fps) .. "[b];"
        .. string.format("[a][b]xfade=transition=%s:duration=%.6f:offset=0,format=yuv420p[v]", fs.transition, tl.t))
    if not name then return nil, err end
    pieces.between[i] = name
  end
  pieces.tail, err = encode(stem .. ".out.mp4", at_end(tl.clips[n], fps),
    held(0, nt, fps) .. string.format(",fade=t=out:s=0:n=%d[v]", nt))
  if not pieces.tail then return nil, err end
  return pieces
end

local function video_header(dir, rel)
  local info = probe(dir .. "/" .. rel)
  return info and info.extradata
end

-- Does a clip's video end on a keyframe (as encode_clip makes it)?
local function ends_on_keyframe(path)
  local r = common.run({ "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                         "-of", "csv=p=0", common.ffpath(path) }, { timeout = 60 })
  local last = r and r.stdout:match("([^\n]*)\n?$")
  return last ~= nil and last:find("K", 1, true) ~= nil
end

-- Can the clips' frames be copied into the film as they are? Only when
-- each is H.264 at the film's size and rate with the very headers of the
-- film's own encoder (then the pieces join without a seam), and (with
-- transitions) ends on a keyframe.
local function copyable(tl, s)
  local reference
  for _, c in ipairs(tl.clips) do
    local i = c.info
    if i.codec ~= "h264" or i.width ~= s.width or i.height ~= s.height or i.pix_fmt ~= "yuv420p"
        or not same_rate(i.rate, tl.fps) or not i.frames or i.frames ~= c.frames or not i.extradata then
      return false
    end
    reference = reference or i.extradata
    if i.extradata ~= reference then return false end
    if tl.t_frames > 0 and not ends_on_keyframe(c.entry.path) then return false end
  end
  return true
end

local function concat_line(rel, seconds)
  return "file '" .. rel:gsub("'", "'\\''") .. "'\nduration " .. string.format("%.6f", seconds)
end

-- The film's frames by copying: transitions encoded apart, everything
-- joined by the concat demuxer, the sound added.
local function film_by_copy(dir, tl, s, fs, sound, out, stem)
  if not copyable(tl, s) then return false end
  local made = {}
  local function cleanup()
    for _, f in ipairs(made) do os.remove(dir .. "/" .. f) end
  end
  local pieces
  if tl.t_frames > 0 then
    local err
    pieces, err = encode_transitions(dir, tl, s, fs, stem, made)
    if not pieces then
      cleanup()
      return nil, err
    end
    if video_header(dir, pieces.lead) ~= tl.clips[1].info.extradata then
      cleanup()
      return false
    end
  end
  local lines = { "ffconcat version 1.0" }
  for i, c in ipairs(tl.clips) do
    if pieces and i == 1 then lines[#lines + 1] = concat_line(pieces.lead, tl.t) end
    lines[#lines + 1] = concat_line(c.entry.rel, c.duration)
    if pieces then
      lines[#lines + 1] = concat_line(i < #tl.clips and pieces.between[i] or pieces.tail, tl.t)
    end
  end
  local list = stem .. ".txt"
  made[#made + 1] = list
  local ok, err = common.write_file(dir .. "/" .. list, table.concat(lines, "\n") .. "\n")
  if ok then
    ok, err = ffmpeg_in(dir, { "-f", "concat", "-safe", "0", "-i", common.ffpath(list), "-i", common.ffpath(sound),
      "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", table.unpack(append(aac_args("160k", 48000),
      { "-t", string.format("%.6f", tl.duration), "-movflags", "+faststart" })) }, out, "mp4", 600 + tl.duration)
  end
  cleanup()
  if not ok then return nil, err end
  return true
end

-- The film's frames encoded again whole: for burned-in captions, and clips
-- that are not the film encoder's own (another size, rate or encoder).
local function film_by_encoding(dir, tl, s, fs, sound, out, subtitles)
  local args, parts = {}, {}
  local n, nt, fps = #tl.clips, tl.t_frames, tl.fps
  for i, c in ipairs(tl.clips) do
    append(args, { "-i", common.ffpath(c.entry.rel) })
    local chain = string.format(
      "[%d:v]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,"
        .. "fps=%s,format=yuv420p,tpad=stop=-1:stop_mode=clone,trim=end_frame=%d,setpts=PTS-STARTPTS",
      i - 1, s.width, s.height, s.width, s.height, tostring(fps), c.frames)
    if nt > 0 then
      chain = chain .. string.format(",tpad=start=%d:start_mode=clone:stop=%d:stop_mode=clone", nt, nt)
    end
    parts[#parts + 1] = chain .. string.format("[c%d]", i)
  end
  local last
  if n == 1 then
    last = "c1"
  elseif nt > 0 then
    local prev, length = "c1", tl.clips[1].frames + 2 * nt
    for i = 2, n do
      local offset = (length - nt) / fps
      parts[#parts + 1] = string.format("[%s][c%d]xfade=transition=%s:duration=%.6f:offset=%.6f[x%d]", prev, i,
                                        fs.transition, tl.t, offset, i)
      prev, length = "x" .. i, length + tl.clips[i].frames + nt
    end
    last = prev
  else
    local ins = {}
    for i = 1, n do ins[i] = "[c" .. i .. "]" end
    parts[#parts + 1] = table.concat(ins) .. string.format("concat=n=%d:v=1:a=0[joined]", n)
    last = "joined"
  end
  local tail = ""
  if nt > 0 then
    tail = string.format("fade=t=in:s=0:n=%d,fade=t=out:s=%d:n=%d,", nt, tl.frames - nt, nt)
  end
  if subtitles then tail = tail .. "subtitles=filename=" .. subtitles .. "," end
  parts[#parts + 1] = string.format("[%s]%sformat=yuv420p[v]", last, tail)
  append(args, { "-i", common.ffpath(sound), "-filter_complex", table.concat(parts, ";"),
                 "-map", "[v]", "-map", n .. ":a:0", "-frames:v", tostring(tl.frames), "-r", tostring(fps) })
  append(args, x264_args(s))
  append(args, aac_args("160k", 48000))
  append(args, { "-t", string.format("%.6f", tl.duration), "-movflags", "+faststart" })
  local ok, err = ffmpeg_in(dir, args, out, "mp4", 600 + 20 * tl.duration)
  if not ok then return nil, err end
  return true
end

-- Each narrated scene's cues, timed where its narration falls in the film.
local function film_cues(tl)
  local all = {}
  for _, c in ipairs(tl.clips) do
    local text = c.entry.text
    if text then
      local spoken = c.entry.narration and common.exists(c.entry.narration) and common.media_duration(c.entry.narration)
      spoken = math.min(spoken or c.duration, c.duration)
      -- The backend's character timings, while they are the track's.
      local kept = audio.read_alignment(c.entry.narration)
      local alignment = kept and kept.text == text and kept.alignment or nil
      local cues = captions.split(text)
      -- Without them, the characters' shares of the speech (not of the
      -- track's trailing silence), put on the voice's pauses.
      local speech = not alignment and c.entry.narration and common.speech(c.entry.narration, spoken)
      if speech then
        captions.time(cues, c.start + speech.first, speech.last - speech.first)
        captions.snap(cues, c.start, speech.pauses)
      else
        captions.time(cues, c.start, spoken, alignment, utf8.len(text) or #text)
      end
      -- A last cue too short to read ("How?") stays up into the silence
      -- after it, as long as the scene lasts.
      local last = cues[#cues]
      if last and last.finish - last.start < M.MIN_LAST_CUE then
        last.finish = math.max(last.finish, math.min(last.start + M.MIN_LAST_CUE, c.start + c.duration))
      end
      for _, cue in ipairs(cues) do all[#all + 1] = cue end
    end
  end
  return all
end

local function music_source(fs)
  if not fs.music then return nil end
  local path = fs.music
  local hash = core.hash_file(path)
  if not hash or lfs.attributes(path, "mode") ~= "file" then
    return nil, "EXPLAINER_MUSIC: " .. path .. ": no such file"
  end
  return { path = absolute(path), id = "bytes:" .. hash }
end

--- Join a document's clips, in scene order, into `<base>/<name>/<name>.mp4`,
-- unless the film there was made from these very clips with these settings;
-- and write its captions beside it (`<name>.srt`, `<name>.vtt`).
-- Scenes without a clip, or whose clip is out of date (made before an edit
-- of the scene and not made again since), are left out and named.
-- @tparam table document
-- @tparam[opt="output"] string base the output base folder
-- @tparam[opt] table opts `clip_filename` (default `clip.mp4`), `filename`
-- (default `<name>.mp4`), `transition`, `transition_seconds`, `captions`,
-- `music`, `music_volume`, `loudness`, `true_peak` (see `film_settings`),
-- the encoder's (`size`, `fps`, `preset`, `crf`, `motion`) and `document`'s
-- `image`/`audio` options (for the narration's file names)
-- @treturn string|nil the film's path
-- @treturn table|string `{duration=, clips=, missing={scene numbers}, how=,
--   captions={srt=, vtt=}}` (how: "fresh" when the film was left as it
--   was, "kept" when it was made by hand, else "made"), or a message
function M.film(document, base, opts)
  if type(document) ~= "table" or type(document.scenes) ~= "table" then
    error("bad argument #1 to 'film' (document table expected, got " .. type(document) .. ")", 2)
  end
  base, opts = base or "output", opts or {}
  local name = document.name or "script"
  local dir = base .. "/" .. name
  local clip_name = opts.clip_filename or "clip.mp4"
  local s = M.settings(setmetatable({ document = opts.document or document }, { __index = opts }))
  local ok, err = check_settings(s)
  if not ok then return nil, err end
  s.fps = tonumber(s.fps)
  local fs
  fs, err = M.film_settings(opts)
  if not fs then return nil, err end
  local audio_opts = sub_options(opts, "audio")
  local narration_name = audio_opts.filename or "narration.mp3"
  local scenes = {}
  for _, scene in ipairs(document.scenes) do scenes[#scenes + 1] = scene end
  table.sort(scenes, function(a, b) return a.scene_number < b.scene_number end)
  local entries, missing, stale, used, spoken = {}, {}, {}, {}, {}
  local clip_opts = setmetatable({ document = opts.document or document }, { __index = opts })
  for _, scene in ipairs(scenes) do
    local sub = string.format("scene_%02d", scene.scene_number)
    local rel = sub .. "/" .. clip_name
    -- A clip made from what the scene said before an edit (a run of other
    -- scenes only, or a scene that failed since) is left out, not joined:
    -- nothing stale reaches the film, and the captions follow the film.
    local standing = common.exists(dir .. "/" .. rel)
      and artifact.standing(dir .. "/" .. rel, M.clip_key(scene, dir .. "/" .. sub, clip_opts))
    if standing == "stale" then
      stale[#stale + 1] = scene.scene_number
    elseif standing then
      local narration = dir .. "/" .. sub .. "/" .. narration_name
      local e = { scene = scene, rel = rel, path = dir .. "/" .. rel, text = audio.narration_text(scene),
                  narration = narration, alignment = audio.alignment_path(narration) }
      entries[#entries + 1] = e
      used[#used + 1] = { scene.scene_number, artifact.identity(e.path) }
      spoken[#spoken + 1] = { scene.scene_number, e.text or false, artifact.identity(narration) or "missing",
                              artifact.identity(e.alignment) or "none" }
    else
      missing[#missing + 1] = scene.scene_number
    end
  end
  if #entries == 0 then
    return nil, "no clips to join in " .. dir .. (#stale > 0 and (" (scenes " .. table.concat(stale, ", ")
      .. " have clips out of date: run them again)") or "")
  end
  local music
  music, err = music_source(fs)
  if fs.music and not music then return nil, err end

  local path = dir .. "/" .. (opts.filename or (name .. ".mp4"))
  local stem_path = path:gsub("%.%w+$", "")
  local t_seconds = fs.transition ~= "none" and fs.transition_seconds or 0
  local caption_key = key.of(M.CAPTIONS_VERSION, {
    clips = used, narrations = spoken, transition = t_seconds, fps = s.fps,
    max_chars = captions.MAX_CHARS, max_lines = captions.MAX_LINES,
  })
  local film_key = key.of(M.FILM_VERSION, {
    clips = used, size = s.width .. "x" .. s.height, fps = s.fps, preset = s.preset, crf = s.crf,
    still = s.motion == "none", transition = fs.transition, transition_seconds = t_seconds,
    music = music and { music.id, fs.music_volume } or false,
    loudness = fs.loudness, true_peak = fs.true_peak,
    burned = fs.captions == "burn" and { caption_key, captions.style(s.width, s.height) } or false,
  })

  -- Probed at most once, and only when something is to be made.
  local tl
  local function get_timeline()
    if not tl then
      local e
      tl, e = timeline(entries, s, fs)
      if not tl then return nil, e end
    end
    return tl
  end

  local made, how = artifact.make(path, film_key, function(tmp)
    local t, e = get_timeline()
    if not t then return nil, e end
    local stem = basename(tmp)
    local mix, sound = stem .. ".mix.wav", stem .. ".sound.wav"
    local function clean(...)
      os.remove(dir .. "/" .. mix)
      os.remove(dir .. "/" .. sound)
      return ...
    end
    local timeout = 600 + 2 * t.duration
    if music then
      -- The music sits `music_volume` LU under the film's loudness, and the
      -- narration at the film's loudness, before they are mixed.
      local m = measure(dir, music.path, { "-stream_loop", "-1", "-t", string.format("%.3f", t.duration) }, timeout)
      if not m then return clean(nil, "EXPLAINER_MUSIC: " .. fs.music .. ": not a sound ffmpeg reads") end
      music.gain = m.i and (fs.loudness + fs.music_volume - m.i) or 0
      local ok1, e1 = mix_audio(dir, t, nil, mix)
      if not ok1 then return clean(nil, e1) end
      local v = measure(dir, mix, nil, timeout)
      music.voice_gain = v and v.i and (fs.loudness - v.i) or 0
    end
    local ok2, e2 = mix_audio(dir, t, music, mix)
    if not ok2 then return clean(nil, e2) end
    ok2, e2 = normalise(dir, mix, sound, fs, timeout)
    if not ok2 then return clean(nil, e2) end
    os.remove(dir .. "/" .. mix)
    local out = basename(tmp)
    if fs.captions == "burn" then
      local ass = string.format(".captions-%d.ass", math.random(1, 1e9))
      local cues = film_cues(t)
      ok2, e2 = common.write_file(dir .. "/" .. ass, captions.ass(cues, s.width, s.height))
      if ok2 then ok2, e2 = film_by_encoding(dir, t, s, fs, sound, out, ass) end
      os.remove(dir .. "/" .. ass)
    else
      ok2, e2 = film_by_copy(dir, t, s, fs, sound, out, stem)
      if ok2 == false then ok2, e2 = film_by_encoding(dir, t, s, fs, sound, out, nil) end
    end
    return clean(ok2, e2)
  end, { kind = "mp4", cache = false })
  if not made then return nil, how end

  local info = { clips = #entries, missing = missing, stale = stale, how = how }
  if fs.captions == "off" then
    -- Captions an earlier run wrote would no longer follow the film: gone
    -- (a file put there by hand stays).
    for _, kind in ipairs { "srt", "vtt" } do
      local file = stem_path .. "." .. kind
      local standing = artifact.standing(file)
      if standing == "fresh" or standing == "stale" then
        os.remove(file)
        os.remove(key.sidecar(file))
      end
    end
  else
    info.captions = {}
    for _, kind in ipairs { "srt", "vtt" } do
      local file = stem_path .. "." .. kind
      local done, why = artifact.make(file, caption_key, function(tmp)
        local t, e = get_timeline()
        if not t then return nil, e end
        local cues = film_cues(t)
        -- A film without narration has no cues: a file that says so.
        local text = kind == "srt" and (#cues > 0 and captions.srt(cues) or "\n") or captions.vtt(cues)
        return common.write_file(tmp, text)
      end, { cache = false })
      if not done then return nil, why end
      info.captions[kind] = file
    end
  end
  info.duration = common.media_duration(path)
  return path, info
end

return M
