-- bench/film_floor.lua -- the floor of the film: one ffmpeg pass that makes the same
-- film from the same stills and narrations (a pan or zoom on each still, the holds
-- and crossfades between them, the fades at the ends, the narrations crossfaded),
-- as x264 and AAC with the film's own settings.
-- Writes that pass's argument vector, NUL-separated, for `xargs -0 ffmpeg`.
--   lua5.4 bench/film_floor.lua SCRIPT.txt SCENES_DIR ARGV_FILE OUT.mp4
-- SCENES_DIR holds scene_NN/final.png and scene_NN/narration.mp3 (made by
-- scripts/image.lua and scripts/audio.lua). Needs LUA_PATH/LUA_CPATH to find explainer.
local explainer = require "explainer"
local video = require "explainer.recipes.video"
local common = require "explainer.recipes.common"

local script, scenes_dir, argv_file, out = arg[1], arg[2], arg[3], arg[4]
assert(script and scenes_dir and argv_file and out, "usage: film_floor.lua SCRIPT SCENES_DIR ARGV_FILE OUT.mp4")
local doc = assert(explainer.parse(script))
local s = video.settings { document = doc }
local fps = tonumber(s.fps)
local nt = math.floor(0.5 * fps + 0.5)
local rate = 48000

local scenes = {}
for _, scene in ipairs(doc.scenes) do scenes[#scenes + 1] = scene end
table.sort(scenes, function(a, b) return a.scene_number < b.scene_number end)

-- Each clip's frames, as the clips have them: the scene's length or its
-- narration's, whichever is longer.
local frames = {}
for i, scene in ipairs(scenes) do
  local mp3 = ("%s/scene_%02d/narration.mp3"):format(scenes_dir, scene.scene_number)
  local spoken = assert(common.media_duration(mp3))
  frames[i] = math.max(1, math.floor(math.max(tonumber(scene.duration) or 6, spoken) * fps + 0.5))
end

local args = { "-nostdin", "-y", "-hide_banner", "-loglevel", "error" }
local parts = {}
local t_samples = math.floor(nt / fps * rate + 0.5)
for i, scene in ipairs(scenes) do
  local dir = ("%s/scene_%02d"):format(scenes_dir, scene.scene_number)
  for _, a in ipairs { "-i", dir .. "/final.png", "-i", dir .. "/narration.mp3" } do args[#args + 1] = a end
  local v, a = 2 * (i - 1), 2 * (i - 1) + 1
  -- the clip's motion (a zoom here; a pan costs the same), its first and
  -- last frames held for a transition's length (loop: no frame rendered twice)
  parts[#parts + 1] = string.format(
    "[%d:v]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=white,setsar=1,"
      .. "zoompan=z='1+%.4f*on/%d':x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2':d=%d:s=%dx%d:fps=%d,setsar=1,"
      .. "format=yuv420p,loop=loop=%d:size=1:start=0,loop=loop=%d:size=1:start=%d,setpts=N/%d/TB[c%d]",
    v, s.width, s.height, s.width, s.height, s.zoom, math.max(frames[i] - 1, 1), frames[i], s.width, s.height, fps,
    nt, nt, frames[i] + nt - 1, fps, i)
  local samples = math.floor(frames[i] / fps * rate + 0.5)
  parts[#parts + 1] = string.format(
    "[%d:a]aresample=%d,aformat=sample_fmts=fltp:channel_layouts=stereo,apad=whole_len=%d,atrim=end_sample=%d,"
      .. "adelay=delays=%dS:all=1,apad=pad_len=%d[a%d]", a, rate, samples, samples, t_samples, t_samples, i)
end
-- the crossfades: each offset is the length so far less one transition
local n = #scenes
local prev, aprev, length = "c1", "a1", frames[1] + 2 * nt
for i = 2, n do
  parts[#parts + 1] = string.format("[%s][c%d]xfade=transition=fade:duration=%.6f:offset=%.6f[x%d]", prev, i,
                                    nt / fps, (length - nt) / fps, i)
  parts[#parts + 1] = string.format("[%s][a%d]acrossfade=ns=%d:c1=tri:c2=tri[y%d]", aprev, i, t_samples, i)
  prev, aprev, length = "x" .. i, "y" .. i, length + frames[i] + nt
end
parts[#parts + 1] = string.format("[%s]fade=t=in:s=0:n=%d,fade=t=out:s=%d:n=%d,format=yuv420p[v]", prev, nt,
                                  length - nt, nt)
-- The sound without its loudness step (a one-pass normaliser, loudnorm, costs a
-- few seconds more): a floor that errs low.
parts[#parts + 1] = string.format("[%s]aformat=sample_fmts=fltp:channel_layouts=stereo[a]", aprev)
for _, a in ipairs { "-filter_complex", table.concat(parts, ";"), "-map", "[v]", "-map", "[a]",
                     "-frames:v", tostring(length), "-r", tostring(fps),
                     "-c:v", "libx264", "-preset", tostring(s.preset), "-crf", tostring(s.crf), "-pix_fmt", "yuv420p",
                     "-x264-params", "stitchable=1:me=dia:subme=1",
                     "-c:a", "aac", "-aac_coder", "fast", "-b:a", "160k", "-ar", tostring(rate),
                     "-t", string.format("%.6f", length / fps), "-movflags", "+faststart", "-f", "mp4", out } do
  args[#args + 1] = a
end
local f = assert(io.open(argv_file, "wb"))
f:write(table.concat(args, "\0"), "\0")
f:close()
io.write(string.format("%d scenes, %d frames, %.2f s\n", n, length, length / fps))
