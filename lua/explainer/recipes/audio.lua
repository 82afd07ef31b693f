--- Recipe: a scene's narration, `narration.mp3` in the scene's folder.
--
-- Backends (option `backend`, or `EXPLAINER_AUDIO_BACKEND`):
--
-- * `local` (default, offline): flite's `rms` voice through ffmpeg's flite
--   source, or another offline voice (`EXPLAINER_VOICE`: flite's, festival's,
--   espeak-ng's; explainer.recipes.voice), sped up when its scene is shorter
--   than its words; the MP3 is 48 kHz mono.
-- * `openai`: POST `{OPENAI_BASE_URL}/audio/speech` with
--   `{model, input, voice, response_format = "mp3"}`.
-- * `elevenlabs`: POST `{ELEVENLABS_BASE_URL}/v1/text-to-speech/{voice_id}/with-timestamps`
--   with header `xi-api-key` and `{text, model_id}`: the MP3 comes as
--   `audio_base64`, with the time each character is spoken (`alignment`),
--   kept beside the track in `narration.json` for the captions. With
--   `timestamps = false` (`EXPLAINER_AUDIO_TIMESTAMPS=0`), the plain
--   endpoint `/v1/text-to-speech/{voice_id}`, which answers the MP3 itself.
--
-- A scene without narration (NO NARRATION, or no text) gets a silent track
-- as long as the scene, whatever the backend: no API call is made for it.
--
-- The track's key (`M.key`) holds the text, the backend, its model, voice
-- (offline: engine and voice, `flite:rms`) and speed (offline also the
-- scene's length, which paces it): a rerun remakes the track only when one of
-- them changed, and takes it from the shared cache when any script made the
-- same one before.
-- @module explainer.recipes.audio

local cjson = require "cjson.safe"
local http = require "explainer.http"
local key = require "explainer.key"
local artifact = require "explainer.artifact"
local media = require "explainer.media"
local common = require "explainer.recipes.common"
local base64 = require "explainer.recipes.base64"
local voice = require "explainer.recipes.voice"
local settings = require "explainer.settings"

local M = {}

M.VERSION = "audio/1"
--- The version of the offline tracks' keys (48 kHz, paced to the scene).
M.LOCAL_VERSION = "audio/2"

--- The text to speak for a scene, or nil for a silent scene.
function M.narration_text(scene)
  if scene.no_narration then return nil end
  local text = type(scene.narration) == "string" and scene.narration:gsub("^%s+", ""):gsub("%s+$", "")
  if not text or text == "" then return nil end
  return text
end

local function to_mp3(input_args, path, extra)
  local args = {}
  for _, a in ipairs(input_args) do args[#args + 1] = a end
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  for _, a in ipairs { "-ac", "1", "-ar", tostring(voice.SAMPLE_RATE), "-c:a", "libmp3lame", "-q:a", "4" } do
    args[#args + 1] = a
  end
  return common.ffmpeg(args, path, "mp3", 300)
end

--- Write a silent MP3 of the given length.
-- @tparam string path
-- @tparam number seconds
function M.silence(path, seconds)
  seconds = math.max(tonumber(seconds) or 6, 0.1)
  return to_mp3({ "-f", "lavfi", "-i", "anullsrc=r=" .. voice.SAMPLE_RATE .. ":cl=mono" }, path,
                { "-t", string.format("%.3f", seconds) })
end

local DEFAULTS = {
  ["local"] = { voice = voice.DEFAULT },
  openai = { model = "gpt-4o-mini-tts", voice = "alloy", base_url = "https://api.openai.com/v1" },
  elevenlabs = { model = "eleven_multilingual_v2", voice = "21m00Tcm4TlvDq8ikWAM",
                 base_url = "https://api.elevenlabs.io" },
}
local BASE_ENV = { openai = "OPENAI_BASE_URL", elevenlabs = "ELEVENLABS_BASE_URL" }

--- The words a minute `EXPLAINER_SPEECH_RATE` may ask for (espeak-ng's range).
M.RATES = { 80, 450 }

-- The offline backend's voice and rate: `engine`, `voice_id` ("flite:rms"),
-- `rate_asked` (the rate set, or nil) and `rate` (that, or the engine's own pace).
local function local_settings(s, opts)
  local v, err = voice.resolve(s.voice)
  if not v then settings.fail(err) end
  s.engine, s.voice, s.voice_id = v.engine, v.voice, v.id
  local env = os.getenv("EXPLAINER_SPEECH_RATE")
  if (opts.rate ~= nil and opts.rate ~= "") or (env ~= nil and env ~= "") then
    local rate = tonumber(common.option(opts, "rate", "EXPLAINER_SPEECH_RATE", 0))
    if not rate or rate < M.RATES[1] or rate > M.RATES[2] then
      settings.fail(("EXPLAINER_SPEECH_RATE: '%s' is not a rate from %d to %d words a minute")
        :format(tostring(opts.rate or env), M.RATES[1], M.RATES[2]))
    end
    s.rate_asked = math.floor(rate)
  end
  s.rate = s.rate_asked or voice.NATURAL_WPM[v.engine]
end

--- What the options choose: `backend`, and the `voice`, `model`, `rate`
-- (words a minute) and `base_url` that backend uses. Offline also `engine`
-- (`flite`, `festival` or `espeak`), `voice_id` (`flite:rms`) and
-- `rate_asked` (`EXPLAINER_SPEECH_RATE`, or nil for the voice's own pace,
-- which `rate` then estimates).
-- Raises an error naming the setting for an offline voice that is not
-- there (listing those that are) or a rate out of range: a run says so before
-- its first scene.
function M.settings(opts)
  opts = opts or {}
  local backend = common.option(opts, "backend", "EXPLAINER_AUDIO_BACKEND", "local")
  local d = DEFAULTS[backend] or {}
  local s = { backend = backend, voice = common.option(opts, "voice", "EXPLAINER_VOICE", d.voice) }
  if backend == "local" then
    local_settings(s, opts)
  else
    s.model = common.option(opts, "model", "EXPLAINER_AUDIO_MODEL", d.model)
    s.base_url = common.option(opts, "base_url", BASE_ENV[backend], d.base_url)
  end
  if backend == "elevenlabs" then
    local t = common.option(opts, "timestamps", "EXPLAINER_AUDIO_TIMESTAMPS", true)
    s.timestamps = not (t == false or t == "0" or t == "false" or t == "no" or t == "off")
  end
  return s
end

--- The key of a scene's track: its text and the voice that speaks it (a
-- silent track: only its length). Offline, the engine and voice
-- (`flite:rms`), the rate asked for, and the scene's length and the pacing
-- rule, which decide how fast it is played.
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn table the key (explainer.key)
function M.key(scene, opts)
  local text = M.narration_text(scene)
  if not text then
    -- `narration` too (no words): a scene that gains or loses its words then
    -- reads as "changed: narration", whatever else follows from it.
    return key.of("silence/1", { duration = tonumber(scene.duration) or 6, narration = "" })
  end
  local s = M.settings(opts)
  if s.backend == "local" then
    return key.of(M.LOCAL_VERSION, { narration = text, backend = s.backend, voice = s.voice_id,
                                     speed = s.rate_asked, duration = tonumber(scene.duration) or 6,
                                     pacing = voice.PACING })
  end
  return key.of(M.VERSION, { narration = text, backend = s.backend, voice = s.voice,
                             model = s.model, speed = s.rate, base_url = s.base_url })
end

local function word_count(text)
  return select(2, text:gsub("%S+", ""))
end

--- About how long a scene's narration will last, before it is spoken: its
-- words at the voice's rate (`settings().rate`; the services: 150 a minute),
-- an offline one played faster to fit its scene as `generate` would.
-- @tparam table scene
-- @tparam[opt] table opts as for `generate`
-- @treturn number seconds (0 for a silent scene)
function M.estimate_seconds(scene, opts)
  local text = M.narration_text(scene)
  if not text then return 0 end
  local s, words = M.settings(opts), word_count(text)
  local seconds = words / ((s.rate or 150) / 60)
  if s.backend == "local" then
    seconds = seconds / voice.tempo(seconds, words, tonumber(scene.duration) or 6)
  end
  return seconds
end

local function speak_local(text, path, opts, scene)
  local s = M.settings(opts)
  local made, err = voice.speak({ engine = s.engine, voice = s.voice, id = s.voice_id }, text, path,
    { words = word_count(text), scene = tonumber(scene and scene.duration) or 6, rate = s.rate_asked })
  if not made then return nil, err end
  return true
end

local function speak_openai(text, path, opts)
  local k = common.api_key(opts, "OPENAI_API_KEY")
  if not k then return nil, "OPENAI_API_KEY is not set (the openai audio backend needs it)" end
  local s = M.settings(opts)
  local client = http.client {
    name = "OpenAI speech", base_url = s.base_url, headers = { Authorization = "Bearer " .. k },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout,
  }
  local response, err = client:request {
    method = "POST", path = "/audio/speech", expect = "audio",
    json = { model = s.model, input = text, voice = s.voice, response_format = "mp3" },
  }
  if not response then return nil, err end
  if response.body == "" then return nil, "OpenAI speech: the answer is empty" end
  return common.write_file(path, response.body)
end

local function url_escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The alignment the last request answered, for generate to keep beside
-- the track it was made with.
local pending_alignment

local function speak_elevenlabs(text, path, opts)
  local k = common.api_key(opts, "ELEVENLABS_API_KEY")
  if not k then
    return nil, "ELEVENLABS_API_KEY is not set (the elevenlabs audio backend needs it)"
  end
  local s = M.settings(opts)
  local client = http.client {
    name = "ElevenLabs", base_url = s.base_url, headers = { ["xi-api-key"] = k },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout,
  }
  if s.timestamps then
    local data, err = client:json {
      method = "POST", path = "/v1/text-to-speech/" .. url_escape(s.voice) .. "/with-timestamps",
      headers = { Accept = "application/json" }, json = { text = text, model_id = s.model },
    }
    if not data then return nil, err end
    if type(data.audio_base64) ~= "string" or data.audio_base64 == "" then
      return nil, "ElevenLabs: the answer has no audio_base64"
    end
    local bytes, why = base64.decode(data.audio_base64)
    if not bytes then return nil, "ElevenLabs: audio_base64 is not valid base64 (" .. tostring(why) .. ")" end
    local kind = media.kind_of(bytes:sub(1, media.HEAD_BYTES))
    if kind ~= "mp3" then
      return nil, "ElevenLabs: audio_base64 is not an MP3 (first bytes: "
        .. media.preview(bytes:sub(1, 16), 40, true) .. ")"
    end
    local ok, werr = common.write_file(path, bytes)
    if not ok then return nil, werr end
    if type(data.alignment) == "table" then
      pending_alignment = { text = text, alignment = data.alignment, normalized_alignment = data.normalized_alignment }
    end
    return true
  end
  local response, err = client:request {
    method = "POST", path = "/v1/text-to-speech/" .. url_escape(s.voice),
    headers = { Accept = "audio/mpeg" }, expect = "audio",
    json = { text = text, model_id = s.model },
  }
  if not response then return nil, err end
  if response.body == "" then return nil, "ElevenLabs: the answer is empty" end
  return common.write_file(path, response.body)
end

M.backends = { ["local"] = speak_local, openai = speak_openai, elevenlabs = speak_elevenlabs }

local SPEC = {
  kind = "audio", backends = M.backends, env = "EXPLAINER_AUDIO_BACKEND",
  names = "local, openai or elevenlabs", filename = "narration.mp3", media = "mp3",
  key = M.key,
  build = function(speak, scene, tmp, opts)
    local text = M.narration_text(scene)
    if not text then return M.silence(tmp, scene.duration) end
    local ok, err = speak(text, tmp, opts, scene)
    if not ok then return nil, err end
    -- An offline voice may be played up to MAX_TEMPO times its rate.
    local s = M.settings(opts)
    return M.check_length(tmp, text, s.backend == "local" and s.rate * voice.MAX_TEMPO or nil)
  end,
}

--- Faster than this many words a second no voice speaks (an offline
-- voice's rate may raise it): a shorter track is cut short.
M.MAX_WORDS_PER_SECOND = 6

--- Is a track long enough for its text? A well-formed file that a service
-- (or a proxy) cut short plays without an error, but 14 words do not fit in
-- 1.5 s. Texts under 4 words are not judged.
-- @tparam string path the track
-- @tparam string text what it speaks
-- @tparam[opt] number rate the fastest words a minute the voice may have
--   spoken at (offline: its rate times `voice.MAX_TEMPO`)
-- @treturn true|nil
-- @treturn string|nil message
function M.check_length(path, text, rate)
  local words = word_count(text)
  if words < 4 then return true end
  local seconds, err = common.media_duration(path)
  if not seconds then return nil, err end
  local fastest = math.max(M.MAX_WORDS_PER_SECOND, (tonumber(rate) or 0) / 60 * 1.5)
  if seconds < words / fastest then
    return nil, ("%s lasts %.2f s for %d words (a voice needs at least %.2f s): it was cut short")
      :format(path, seconds, words, words / fastest)
  end
  return true
end

--- Make a scene's narration track, unless the one there is fresh.
-- @tparam table scene a scene table (docs/lua-api.md keys)
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `backend` (`local`, `openai`, `elevenlabs`; default
-- `EXPLAINER_AUDIO_BACKEND` or `local`), `filename` (default
-- `narration.mp3`), `voice`, `model`, `rate` (offline: words a minute),
-- `api_key`, `base_url`, `retries`, `backoff`, `timeout`
-- @treturn string|nil the track's path
-- @treturn string how it came: "fresh", "kept", "cached" or "made"; or a message
function M.generate(scene, output_dir, opts)
  common.check_scene_args("generate", scene, output_dir, 2)
  opts = opts or {}
  -- A voice that is not there, or a rate out of range, is the caller's
  -- answer here, not an error raised from the key.
  if M.narration_text(scene) then
    local usable, why = pcall(M.settings, opts)
    if not usable then return nil, tostring(why) end
  end
  pending_alignment = nil
  local path, how = common.generate(SPEC, scene, output_dir, opts)
  local answered = pending_alignment
  pending_alignment = nil
  if path and M.narration_text(scene) then
    local s = M.settings(opts)
    if s.timestamps then M.keep_alignment(path, answered) end
  end
  return path, how
end

--- Where a track's character timings are kept: beside it, `.json` for
-- its extension (`narration.mp3` -> `narration.json`).
-- @tparam string track the track's path
-- @treturn string
function M.alignment_path(track)
  return (track:gsub("%.[%w]+$", "")) .. ".json"
end

--- Keep a track's character timings beside it (`alignment_path`), as JSON
-- `{track, text, alignment, normalized_alignment}` where `track` is the id of
-- the track's key: a reader uses them only while the track is that one.
-- Unless they are there already, or in the cache with the track.
-- @tparam string track the track's path
-- @tparam[opt] table answered `{text, alignment, normalized_alignment}` from
--   the service (nil: only keep what is there or cached)
-- @treturn string|nil the file's path, or nil when there are no timings
function M.keep_alignment(track, answered)
  local id = artifact.identity(track)
  if not id then return nil end
  local file = M.alignment_path(track)
  local made = artifact.make(file, key.of("alignment/1", { track = id }), function(tmp)
    if not answered then return nil, "no alignment" end
    local data = { track = id, text = answered.text, alignment = answered.alignment,
                   normalized_alignment = answered.normalized_alignment }
    return common.write_file(tmp, assert(cjson.encode(data)))
  end, {})
  return made
end

--- The character timings kept beside a track, when they belong to the
-- track there now.
-- @tparam string track the track's path
-- @treturn table|nil `{text, alignment = {characters, character_start_times_seconds,
--   character_end_times_seconds}, ...}`
function M.read_alignment(track)
  local f = io.open(M.alignment_path(track), "rb")
  if not f then return nil end
  local data = cjson.decode(f:read("a") or "")
  f:close()
  if type(data) ~= "table" or type(data.alignment) ~= "table" then return nil end
  if data.track == nil or data.track ~= artifact.identity(track) then return nil end
  return data
end

return M
