--- The film: a document's clips joined, in scene order, into
-- `<output>/<name>/<name>.mp4`, with its captions beside it.
--
-- `require "explainer.recipes.video"`'s `film` is this module's; read its
-- documentation there (and in docs/recipes.md). What it does, in order:
--
-- 1. the clips that are there and up to date, each with what was recorded
--    of it when it was made (its stream, frames and last keyframe:
--    explainer.artifact.facts; a clip made by hand is probed once);
-- 2. the sound: each clip's track, held silent over the transitions and
--    crossfaded there, music ducked under it, normalised to the loudness
--    asked for (EBU R128: measured, one gain, a limiter where the peaks need
--    it);
-- 3. the frames: the clips' own, copied, with the short transitions between
--    them (explainer.recipes.transitions, kept and used again while their
--    clips are the same), joined by the concat demuxer; or, for burned-in
--    captions and clips another encoder made, everything encoded again;
-- 4. the captions, worked out once for `.srt` and `.vtt` (and the burned-in
--    ones) from the narrations' text, recorded lengths and silences; a
--    caption file whose bytes would not change is not rewritten.
--
-- How far the join is goes to `opts.on_progress(fraction)`: each ffmpeg run
-- is a step weighted by about its share of the time, and within a step the
-- share comes from ffmpeg's own `-progress` report.
-- @module explainer.recipes.film

local lfs = require "lfs"
local core = require "explainer_core"
local key = require "explainer.key"
local artifact = require "explainer.artifact"
local common = require "explainer.recipes.common"
local audio = require "explainer.recipes.audio"
local captions = require "explainer.recipes.captions"
local transitions = require "explainer.recipes.transitions"
local video = require "explainer.recipes.video"

local M = {}

local encoder = video.encoder

-- The steps of a join, in tenths of a second each took for the 12-scene
-- example on the machine the project is measured on: how the progress
-- report weighs them.
local WEIGHT = { measure = 4, mix = 9, limit = 14, piece = 7, join = 22, check = 3,
                 encode_per_second = 8 }

local function append(list, more)
  for _, v in ipairs(more) do list[#list + 1] = v end
  return list
end

local function basename(path)
  return path:match("([^/]*)$")
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return (lfs.currentdir() or ".") .. "/" .. path
end

-- How far a join is: steps with weights; `step(w)` starts one and returns
-- the function that says how far into it ffmpeg is (0 to 1). What is
-- reported never goes back (a step added later lowers no percentage).
local function new_meter(report)
  local m = { total = 0, done = 0, last = 0 }
  function m.add(w) m.total = m.total + w end
  function m.step(w)
    local base = m.done
    m.done = m.done + w
    return function(x)
      if not report or m.total <= 0 then return end
      local f = math.min(1, (base + w * math.max(0, math.min(1, x))) / m.total)
      if f > m.last then
        m.last = f
        report(f)
      end
    end
  end
  return m
end

-- ffmpeg run in folder `dir` (the film's: every path given relative to it, so
-- that the `subtitles` filter gets a plain file name); `output` relative too.
-- `progress`: `{seconds =, report =}`, ffmpeg's `-progress` report of how
-- much of `seconds` it has made, as a share.
local function ffmpeg_in(dir, args, output, format, timeout, loglevel, progress)
  local argv = { "ffmpeg", "-nostdin", "-nostats", "-y", "-hide_banner", "-loglevel", loglevel or "error" }
  local on_stdout
  if progress and progress.report then
    append(argv, { "-progress", "pipe:1" })
    local pending = ""
    on_stdout = function(piece)
      pending = pending .. piece
      for us in pending:gmatch("out_time_us=(%d+)\n") do
        progress.report(tonumber(us) / 1e6 / math.max(progress.seconds, 0.001))
      end
      pending = pending:match("[^\n]*$")
    end
  end
  append(argv, args)
  if output then append(argv, { "-f", format, common.ffpath(output) }) end
  local r, err = common.run(argv, { cwd = dir, timeout = timeout or 600, on_stdout = on_stdout })
  if r and progress and progress.report then progress.report(1) end
  return r, err
end

local function same_rate(rate, fps)
  local a, b = tostring(rate or ""):match("^(%d+)/(%d+)$")
  return a and tonumber(b) > 0 and math.abs(tonumber(a) / tonumber(b) - fps) < 1e-6
end

-- What the film needs to know of a clip: its video's codec, size, rate,
-- frames, header hash, whether it has sound and whether its video ends on a
-- keyframe. Recorded when the clip was made; a clip made by hand is read
-- once (explainer.media.inspect).
local function clip_info(path)
  local facts, err = common.facts(path)
  if not facts then return nil, err end
  local v = facts.video
  if not v then return nil, path .. ": no video in it" end
  return { codec = v.codec, width = v.width, height = v.height, pix_fmt = v.pix_fmt, rate = v.rate,
           frames = v.frames, extradata = v.extradata, duration = v.duration or facts.duration,
           audio = facts.audio, keyframe_end = facts.keyframe_end }
end

-- A clip on the film's timeline: what is known of it, its frames, its length.
local function timeline_clip(e, fps)
  local info, err = clip_info(e.path)
  if not info then return nil, err end
  local frames = same_rate(info.rate, fps) and info.frames
  if not frames then frames = math.max(1, math.floor((info.duration or 0) * fps + 0.5)) end
  return { entry = e, info = info, frames = frames, duration = frames / fps }
end

-- A transition's frames: a whole number of them, none without transitions.
local function transition_frames(fs, fps)
  return fs.transition ~= "none" and math.max(1, math.floor(fs.transition_seconds * fps + 0.5)) or 0
end

-- The film's timeline: each clip's frames, where its body starts, the
-- transition's frames.
local function timeline(entries, s, fs)
  local fps = tonumber(s.fps)
  local t_frames = transition_frames(fs, fps)
  local tl = { fps = fps, t_frames = t_frames, t = t_frames / fps, clips = {} }
  local at = t_frames
  for i, e in ipairs(entries) do
    local c, err = timeline_clip(e, fps)
    if not c then return nil, err end
    c.start = at / fps
    tl.clips[i] = c
    at = at + c.frames + t_frames
  end
  tl.frames = at
  tl.duration = at / fps
  return tl
end

-- The EBU R128 measurement ffmpeg's ebur128 filter printed on stderr:
-- `{i=, thresh=, lra=, tp=}` (LUFS, LU, dBTP); i is nil for silence.
local function summary_of(stderr, what)
  local summary = stderr:match(".*Summary:(.*)$")
  if not summary then return nil, "ebur128 gave no summary for " .. what end
  local m = {
    i = tonumber(summary:match("I:%s*(%-?[%d%.]+) LUFS")),
    thresh = tonumber(summary:match("Integrated loudness:.-Threshold:%s*(%-?[%d%.]+) LUFS")),
    lra = tonumber(summary:match("LRA:%s*(%-?[%d%.]+) LU")),
    tp = tonumber(summary:match("Peak:%s*(%-?[%d%.]+) dBFS")),
  }
  if m.i and m.i <= -70 then m.i = nil end
  return m
end

-- EBU R128 measurement of a file's sound (the music's, alone). `extra` are
-- input options (a length, a loop).
local function measure(dir, input, extra, timeout, progress)
  local args = {}
  append(args, extra or {})
  append(args, { "-i", common.ffpath(input), "-vn", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-" })
  local r, err = ffmpeg_in(dir, args, nil, nil, timeout, "info", progress)
  if not r then return nil, err end
  return summary_of(r.stderr, input)
end

-- The filter chains that write sound labelled `label` to the output and
-- measure it on the way (asplit to ebur128): one pass where a write and a
-- read of the same samples were two.
local function measured(label)
  return { string.format("[%s]asplit=2[written][measured]", label),
           "[measured]ebur128=peak=true:framelog=verbose,anullsink" }, "written"
end

-- The film's sound: each clip's track, held silent over the transitions and
-- crossfaded (acrossfade) over them; the music looped or cut to the film,
-- faded, and ducked under the narration (sidechaincompress); written at
-- `wav` (32-bit float, 48 kHz stereo) before loudness normalisation, and
-- measured on the way (the measurement is returned).
local function mix_audio(dir, tl, music, wav, report)
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
  local extra, written = measured(out)
  append(parts, extra)
  append(args, { "-filter_complex", table.concat(parts, ";"), "-map", "[" .. written .. "]",
                 "-c:a", "pcm_f32le", "-ar", tostring(rate) })
  local r, err = ffmpeg_in(dir, args, wav, "wav", 600 + 2 * tl.duration, "info",
                           { seconds = tl.duration, report = report })
  if not r then return nil, err end
  return summary_of(r.stderr, wav)
end

-- The true peak the normalisation aims at: half a dB under the limit, the
-- room the AAC encoder's own overshoot needs.
local function peak_target(fs)
  return fs.true_peak - 0.5
end

-- Normalise the mix to the target loudness (EBU R128), from its measurement
-- `m`: the one gain that reaches the target (what loudnorm's linear mode does),
-- applied as the film is joined; where that gain takes the true peak over its
-- limit, the peaks are limited first (alimiter at four times the rate, so
-- that peaks between samples count), measured again on the way, and the
-- small loss trimmed. Not loudnorm's dynamic mode: it levels as it goes, and
-- would lift the music between the narrated scenes. Silence stays silence.
-- Returns the sound to join (a file in `dir`) and the filter the join gives it.
local function normalise(dir, mix, m, limited, fs, timeout, seconds, meter)
  if not (m.i and m.tp) then return { file = mix, filter = "anull" } end
  local gain = fs.loudness - m.i
  local filter = string.format("volume=%.2fdB", gain)
  if m.tp + gain <= peak_target(fs) then return { file = mix, filter = filter } end
  meter.add(WEIGHT.limit)
  local parts, written = measured("limited")
  table.insert(parts, 1, "[0:a]" .. filter .. string.format(
    ",aresample=192000,alimiter=limit=%.5f:attack=1:release=50:asc=0:level=0,aresample=48000[limited]",
    10 ^ ((peak_target(fs) - 0.3) / 20)))
  local r, err = ffmpeg_in(dir, { "-i", common.ffpath(mix), "-filter_complex", table.concat(parts, ";"),
                                  "-map", "[" .. written .. "]", "-c:a", "pcm_f32le" }, limited, "wav", timeout,
                           "info", { seconds = seconds, report = meter.step(WEIGHT.limit) })
  if not r then return nil, err end
  m, err = summary_of(r.stderr, limited)
  if not m then return nil, err end
  local trim = m.i and (fs.loudness - m.i) or 0
  if m.tp and m.tp + trim > peak_target(fs) then trim = math.min(trim, peak_target(fs) - m.tp) end
  return { file = limited, filter = string.format("volume=%.2fdB", trim) }
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
    if tl.t_frames > 0 and not i.keyframe_end then return false end
  end
  return true
end

local function concat_line(rel, seconds)
  return "file '" .. rel:gsub("'", "'\\''") .. "'\nduration " .. string.format("%.6f", seconds)
end

-- The film's frames by copying: the transitions (kept from earlier joins
-- while their clips are the same, else encoded now), everything joined by
-- the concat demuxer, the sound added. Sets `job.pieces` to the
-- transitions it used.
local function film_by_copy(dir, tl, s, fs, sound, out, stem, job)
  if not copyable(tl, s) then return false end
  local pieces
  if tl.t_frames > 0 then
    local err
    pieces, err = transitions.make(dir, transitions.plan(tl, s, fs), tl.t_frames, tl.fps, {
      x264 = encoder.x264_args(s),
      run = function(args, output, format, timeout) return ffmpeg_in(dir, args, output, format, timeout) end,
      step = function() job.meter.step(WEIGHT.piece)(1) end,
    })
    if not pieces then return nil, err end
    if pieces.headers[pieces.files[1]] ~= tl.clips[1].info.extradata then return false end
  end
  local lines = { "ffconcat version 1.0" }
  for i, c in ipairs(tl.clips) do
    if pieces and i == 1 then lines[#lines + 1] = concat_line(pieces.files[1], tl.t) end
    lines[#lines + 1] = concat_line(c.entry.rel, c.duration)
    if pieces then lines[#lines + 1] = concat_line(pieces.files[i + 1], tl.t) end
  end
  local list = stem .. ".txt"
  local ok, err = common.write_file(dir .. "/" .. list, table.concat(lines, "\n") .. "\n")
  if ok then
    ok, err = ffmpeg_in(dir, { "-f", "concat", "-safe", "0", "-i", common.ffpath(list), "-i",
      common.ffpath(sound.file), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-af", sound.filter,
      table.unpack(append(encoder.aac_args("160k", 48000), { "-t", string.format("%.6f", tl.duration),
      "-movflags", "+faststart" })) }, out, "mp4", 600 + tl.duration, nil,
      { seconds = tl.duration, report = job.meter.step(WEIGHT.join) })
  end
  os.remove(dir .. "/" .. list)
  if not ok then return nil, err end
  job.pieces = pieces and pieces.files or {}
  return true
end

-- The film's frames encoded again whole: for burned-in captions, and clips
-- that are not the film encoder's own (another size, rate or encoder).
local function film_by_encoding(dir, tl, s, fs, sound, out, subtitles, job)
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
  parts[#parts + 1] = string.format("[%d:a]%s[sound]", n, sound.filter)
  append(args, { "-i", common.ffpath(sound.file), "-filter_complex", table.concat(parts, ";"),
                 "-map", "[v]", "-map", "[sound]", "-frames:v", tostring(tl.frames), "-r", tostring(fps) })
  append(args, encoder.x264_args(s))
  append(args, encoder.aac_args("160k", 48000))
  append(args, { "-t", string.format("%.6f", tl.duration), "-movflags", "+faststart" })
  local weight = math.ceil(WEIGHT.encode_per_second * tl.duration)
  job.meter.add(weight)
  local ok, err = ffmpeg_in(dir, args, out, "mp4", 600 + 20 * tl.duration, nil,
                            { seconds = tl.duration, report = job.meter.step(weight) })
  if not ok then return nil, err end
  job.pieces = {}
  return true
end

-- Each narrated scene's cues, timed where its narration falls in the film:
-- from the track's recorded length and silences (or its character timings
-- from the speech service), never from probing it again.
local function film_cues(tl, min_last_cue)
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
      if last and last.finish - last.start < min_last_cue then
        last.finish = math.max(last.finish, math.min(last.start + min_last_cue, c.start + c.duration))
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

local function sorted_scenes(document)
  local scenes = {}
  for _, scene in ipairs(document.scenes) do scenes[#scenes + 1] = scene end
  table.sort(scenes, function(a, b) return a.scene_number < b.scene_number end)
  return scenes
end

-- A scene's clip in the film's folder `dir`, with where it stands: a clip
-- made from what the scene said before an edit (a run of other scenes only,
-- or a scene that failed since) is "stale", and is left out, not joined:
-- nothing stale reaches the film, and the captions follow the film.
local function clip_entry(document, scene, dir, opts)
  local sub = string.format("scene_%02d", scene.scene_number)
  local rel = sub .. "/" .. (opts.clip_filename or "clip.mp4")
  local clip_opts = setmetatable({ document = opts.document or document }, { __index = opts })
  local standing = common.exists(dir .. "/" .. rel)
    and artifact.standing(dir .. "/" .. rel, video.clip_key(scene, dir .. "/" .. sub, clip_opts))
  if not standing or standing == "missing" then return nil, "missing" end
  if standing == "stale" then return nil, "stale" end
  local narration = dir .. "/" .. sub .. "/" .. (encoder.sub_options(opts, "audio").filename or "narration.mp3")
  local e = { scene = scene, rel = rel, path = dir .. "/" .. rel, text = audio.narration_text(scene),
              narration = narration, alignment = audio.alignment_path(narration) }
  e.id = artifact.identity(e.path)
  return e
end

-- The scenes' clips that can be joined: those there and up to date, in scene
-- order; the scenes left out (no clip, or one out of date); what the film's
-- and the captions' keys hold of them.
local function collect(document, dir, opts)
  local c = { entries = {}, missing = {}, stale = {}, used = {}, spoken = {} }
  for _, scene in ipairs(sorted_scenes(document)) do
    local e, why = clip_entry(document, scene, dir, opts)
    if why == "stale" then
      c.stale[#c.stale + 1] = scene.scene_number
    elseif e then
      local narration = e.narration
      c.entries[#c.entries + 1] = e
      c.used[#c.used + 1] = { scene.scene_number, e.id }
      c.spoken[#c.spoken + 1] = { scene.scene_number, e.text or false, artifact.identity(narration) or "missing",
                                  artifact.identity(e.alignment) or "none" }
    else
      c.missing[#c.missing + 1] = scene.scene_number
    end
  end
  return c
end

-- Make the film at `tmp`: the sound, then the frames (copied, else encoded).
local function build_film(dir, tmp, job)
  local t, e = job.timeline()
  if not t then return nil, e end
  local s, fs, music = job.s, job.fs, job.music
  local stem = basename(tmp)
  local mix, limited = stem .. ".mix.wav", stem .. ".limited.wav"
  local function clean(...)
    os.remove(dir .. "/" .. mix)
    os.remove(dir .. "/" .. limited)
    return ...
  end
  local timeout = 600 + 2 * t.duration
  local meter = job.meter
  if music then
    -- The music sits `music_volume` LU under the film's loudness, and the
    -- narration at the film's loudness, before they are mixed.
    meter.add(WEIGHT.measure + WEIGHT.mix)
    local m = measure(dir, music.path, { "-stream_loop", "-1", "-t", string.format("%.3f", t.duration) }, timeout,
                      { seconds = t.duration, report = meter.step(WEIGHT.measure) })
    if not m then return clean(nil, "EXPLAINER_MUSIC: " .. fs.music .. ": not a sound ffmpeg reads") end
    music.gain = m.i and (fs.loudness + fs.music_volume - m.i) or 0
    local v, e1 = mix_audio(dir, t, nil, mix, meter.step(WEIGHT.mix))
    if not v then return clean(nil, e1) end
    music.voice_gain = v.i and (fs.loudness - v.i) or 0
  end
  local m, e2 = mix_audio(dir, t, music, mix, meter.step(WEIGHT.mix))
  if not m then return clean(nil, e2) end
  local sound
  sound, e2 = normalise(dir, mix, m, limited, fs, timeout, t.duration, meter)
  if not sound then return clean(nil, e2) end
  local ok2
  if fs.captions == "burn" then
    local ass = string.format(".captions-%d.ass", math.random(1, 1e9))
    ok2, e2 = common.write_file(dir .. "/" .. ass, captions.ass(job.cues(), s.width, s.height))
    if ok2 then ok2, e2 = film_by_encoding(dir, t, s, fs, sound, stem, ass, job) end
    os.remove(dir .. "/" .. ass)
  else
    ok2, e2 = film_by_copy(dir, t, s, fs, sound, stem, stem, job)
    if ok2 == false then ok2, e2 = film_by_encoding(dir, t, s, fs, sound, stem, nil, job) end
  end
  return clean(ok2, e2)
end

-- The captions beside the film, or none (`off`: those an earlier run wrote
-- would no longer follow the film: gone; a file put there by hand stays).
-- Their text is worked out once for both files; a file whose bytes would not
-- change keeps its time stamp (explainer.artifact.commit).
local function write_captions(stem_path, caption_key, fs, job)
  if fs.captions == "off" then
    for _, kind in ipairs { "srt", "vtt" } do
      local file = stem_path .. "." .. kind
      local standing = artifact.standing(file)
      if standing == "fresh" or standing == "stale" then
        os.remove(file)
        os.remove(key.sidecar(file))
      end
    end
    return nil
  end
  local files = {}
  for _, kind in ipairs { "srt", "vtt" } do
    local file = stem_path .. "." .. kind
    local done, why = artifact.make(file, caption_key, function(tmp)
      local cues, e = job.cues()
      if not cues then return nil, e end
      -- A film without narration has no cues: a file that says so.
      local text = kind == "srt" and (#cues > 0 and captions.srt(cues) or "\n") or captions.vtt(cues)
      return common.write_file(tmp, text)
    end, { cache = false })
    if not done then return nil, why end
    files[kind] = file
  end
  return files
end

-- The encoder's and the film's settings for `opts`; nil and a message.
local function settings_for(document, opts)
  local s = video.settings(setmetatable({ document = opts.document or document }, { __index = opts }))
  local ok, err = encoder.check_settings(s)
  if not ok then return nil, err end
  s.fps = tonumber(s.fps)
  local fs
  fs, err = video.film_settings(opts)
  if not fs then return nil, err end
  return s, fs
end

local function prepare(document, scene, output_dir, opts)
  local dir = output_dir:match("^(.*)/[^/]+$") or "."
  local s, fs = settings_for(document, opts)
  if not s or fs.transition == "none" or fs.captions == "burn" then return 0 end
  local t_frames = transition_frames(fs, s.fps)
  local tl = { fps = s.fps, t_frames = t_frames, t = t_frames / s.fps, clips = {} }
  local scenes, at = sorted_scenes(document), nil
  for i, sc in ipairs(scenes) do
    if sc.scene_number == scene.scene_number then at = i end
  end
  local function clip_of(sc)
    local e = sc and clip_entry(document, sc, dir, opts)
    local c = e and timeline_clip(e, s.fps)
    -- only clips the film copies (as clip makes them) have pieces
    if c and copyable({ clips = { c }, fps = s.fps, t_frames = t_frames }, s) then return c end
    return nil
  end
  local me = at and clip_of(scene)
  if not me then return 0 end
  local pieces = {}
  if at == 1 then pieces[#pieces + 1] = transitions.fade_in(me, tl, s, fs) end
  local before, after = clip_of(scenes[at - 1]), clip_of(scenes[at + 1])
  if before then pieces[#pieces + 1] = transitions.cross(before, me, tl, s, fs) end
  if after then pieces[#pieces + 1] = transitions.cross(me, after, tl, s, fs) end
  if at == #scenes then pieces[#pieces + 1] = transitions.fade_out(me, tl, s, fs) end
  local made = transitions.make(dir, pieces, t_frames, s.fps, {
    x264 = encoder.x264_args(s),
    run = function(args, output, format, timeout) return ffmpeg_in(dir, args, output, format, timeout) end,
  })
  return made and made.made or 0
end

--- Make, once a scene's clip is made, the film's transitions beside it
-- whose other clip is made too (and the fade from or to black at the ends),
-- so that the join finds them ready: scenes run side by side (`--jobs`),
-- the join runs alone after them. Nothing here fails the scene: a piece
-- that is not made now is made by the join, which says what went wrong.
-- @tparam table document
-- @tparam table scene
-- @tparam string output_dir the scene's folder (`<base>/<name>/scene_NN`)
-- @tparam[opt] table opts as for video.film
-- @treturn number how many pieces were encoded now
function M.prepare(document, scene, output_dir, opts)
  local ok, made = pcall(prepare, document, scene, output_dir, opts or {})
  return ok and made or 0
end

--- Join a document's clips into its film (see explainer.recipes.video.film,
-- which checks the arguments and calls this).
-- @tparam table document
-- @tparam string base the output base folder
-- @tparam table opts as for video.film, and `on_progress` (a function
--   called with how far the join is, 0 to 1, when there is something to make)
-- @treturn string|nil the film's path
-- @treturn table|string what video.film returns, or a message
function M.film(document, base, opts)
  local name = document.name or "script"
  local dir = base .. "/" .. name
  local s, fs = settings_for(document, opts)
  if not s then return nil, fs end
  local c = collect(document, dir, opts)
  if #c.entries == 0 then
    return nil, "no clips to join in " .. dir .. (#c.stale > 0 and (" (scenes " .. table.concat(c.stale, ", ")
      .. " have clips out of date: run them again)") or "")
  end
  local music, err = music_source(fs)
  if fs.music and not music then return nil, err end

  local path = dir .. "/" .. (opts.filename or (name .. (common.preview() and ".preview" or "") .. ".mp4"))
  local stem_path = path:gsub("%.%w+$", "")
  local t_seconds = fs.transition ~= "none" and fs.transition_seconds or 0
  local caption_key = key.of(video.CAPTIONS_VERSION, {
    clips = c.used, narrations = c.spoken, transition = t_seconds, fps = s.fps,
    max_chars = captions.MAX_CHARS, max_lines = captions.MAX_LINES,
  })
  local film_key = key.of(video.FILM_VERSION, {
    clips = c.used, size = s.width .. "x" .. s.height, fps = s.fps, preset = s.preset, crf = s.crf,
    still = s.motion == "none", transition = fs.transition, transition_seconds = t_seconds,
    music = music and { music.id, fs.music_volume } or false,
    loudness = fs.loudness, true_peak = fs.true_peak,
    burned = fs.captions == "burn" and { caption_key, captions.style(s.width, s.height) } or false,
  })

  -- The timeline and the cues, each worked out at most once, and only when
  -- something is to be made.
  local job = { s = s, fs = fs, music = music, meter = new_meter(opts.on_progress) }
  local tl, cues
  function job.timeline()
    if not tl then
      local e
      tl, e = timeline(c.entries, s, fs)
      if not tl then return nil, e end
    end
    return tl
  end
  function job.cues()
    if not cues then
      local t, e = job.timeline()
      if not t then return nil, e end
      cues = film_cues(t, video.MIN_LAST_CUE)
    end
    return cues
  end

  local made, how = artifact.make(path, film_key, function(tmp)
    -- A first plan of the weights: the sound, the pieces that are not kept
    -- from before, the join and the film's check.
    local t, e = job.timeline()
    if not t then return nil, e end
    job.meter.add(WEIGHT.mix + WEIGHT.check)
    if fs.captions ~= "burn" then
      job.meter.add(WEIGHT.join)
      if t.t_frames > 0 then
        for _, p in ipairs(transitions.plan(t, s, fs)) do
          if artifact.standing(dir .. "/" .. transitions.path_of(p), p.key) ~= "fresh" then
            job.meter.add(WEIGHT.piece)
          end
        end
      end
    end
    return build_film(dir, tmp, job)
  end, { kind = "mp4", cache = false })
  if not made then return nil, how end
  if job.pieces then transitions.prune(dir, basename(path), job.pieces) end

  local info = { clips = #c.entries, missing = c.missing, stale = c.stale, how = how }
  local files, why = write_captions(stem_path, caption_key, fs, job)
  if fs.captions ~= "off" then
    if not files then return nil, why end
    info.captions = files
  end
  info.duration = common.media_duration(path)
  return path, info
end

return M
