--- Recipe: a scene's narration, `narration.mp3` in the scene's folder.
--
-- Backends (option `backend`, or `EXPLAINER_AUDIO_BACKEND`):
--
-- * `local` (default, offline): espeak-ng speaks the text (read from its
--   stdin, never from a command line) to WAV; ffmpeg makes the MP3.
-- * `openai`: POST `{OPENAI_BASE_URL}/audio/speech` with
--   `{model, input, voice, response_format = "mp3"}`.
-- * `elevenlabs`: POST `{ELEVENLABS_BASE_URL}/v1/text-to-speech/{voice_id}`
--   with header `xi-api-key` and `{text, model_id}`.
--
-- A scene without narration (NO NARRATION, or no text) gets a silent track
-- as long as the scene, whatever the backend: no API call is made for it.
-- @module explainer.recipes.audio

local http = require "explainer.http"
local common = require "explainer.recipes.common"

local M = {}

--- The text to speak for a scene, or nil for a silent scene.
function M.narration_text(scene)
  if scene.no_narration then return nil end
  local text = type(scene.narration) == "string" and scene.narration:gsub("^%s+", ""):gsub("%s+$", "")
  if not text or text == "" then return nil end
  return text
end

local function to_mp3(input_args, path, extra)
  local tmp = common.temp_beside(path, ".mp3")
  local argv = { "ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error" }
  for _, a in ipairs(input_args) do argv[#argv + 1] = a end
  for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
  for _, a in ipairs { "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3", tmp } do
    argv[#argv + 1] = a
  end
  local ok, err = common.run(argv, { timeout = 300 })
  if not ok then
    os.remove(tmp)
    return nil, err
  end
  return common.commit(tmp, path)
end

--- Write a silent MP3 of the given length.
-- @tparam string path
-- @tparam number seconds
function M.silence(path, seconds)
  seconds = math.max(tonumber(seconds) or 6, 0.1)
  return to_mp3({ "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono" }, path,
                { "-t", string.format("%.3f", seconds) })
end

local function speak_local(text, path, opts)
  local voice = common.option(opts, "voice", "EXPLAINER_VOICE", "en-us")
  local rate = common.option(opts, "rate", "EXPLAINER_SPEECH_RATE", 165)
  local wav = common.temp_beside(path, ".wav")
  local ok, err = common.run({ "espeak-ng", "--stdin", "-v", voice, "-s", tostring(math.floor(rate)), "-w", wav },
                             { stdin = text, timeout = 300 })
  if not ok then
    os.remove(wav)
    return nil, err
  end
  ok, err = to_mp3({ "-i", wav }, path)
  os.remove(wav)
  return ok, err
end

local function api_key(opts, env)
  local key = opts.api_key or os.getenv(env)
  if key == "" then key = nil end
  return key
end

local function speak_openai(text, path, opts)
  local key = api_key(opts, "OPENAI_API_KEY")
  if not key then return nil, "OPENAI_API_KEY is not set (the openai audio backend needs it)" end
  local client = http.client {
    name = "OpenAI speech",
    base_url = common.option(opts, "base_url", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    headers = { Authorization = "Bearer " .. key },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout or 300,
  }
  local response, err = client:request {
    method = "POST", path = "/audio/speech",
    json = {
      model = common.option(opts, "model", "EXPLAINER_AUDIO_MODEL", "gpt-4o-mini-tts"),
      input = text,
      voice = common.option(opts, "voice", "EXPLAINER_VOICE", "alloy"),
      response_format = "mp3",
    },
  }
  if not response then return nil, err end
  if response.body == "" then return nil, "OpenAI speech: the answer is empty" end
  return common.write_file(path, response.body)
end

local function url_escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function speak_elevenlabs(text, path, opts)
  local key = opts.api_key or os.getenv("ELEVENLABS_API_KEY")
  if not key or key == "" then
    return nil, "ELEVENLABS_API_KEY is not set (the elevenlabs audio backend needs it)"
  end
  local voice = common.option(opts, "voice", "EXPLAINER_VOICE", "21m00Tcm4TlvDq8ikWAM")
  local client = http.client {
    name = "ElevenLabs",
    base_url = common.option(opts, "base_url", "ELEVENLABS_BASE_URL", "https://api.elevenlabs.io"),
    headers = { ["xi-api-key"] = key },
    retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout or 300,
  }
  local response, err = client:request {
    method = "POST", path = "/v1/text-to-speech/" .. url_escape(voice),
    headers = { Accept = "audio/mpeg" },
    json = { text = text,
             model_id = common.option(opts, "model", "EXPLAINER_AUDIO_MODEL", "eleven_multilingual_v2") },
  }
  if not response then return nil, err end
  if response.body == "" then return nil, "ElevenLabs: the answer is empty" end
  return common.write_file(path, response.body)
end

M.backends = { ["local"] = speak_local, openai = speak_openai, elevenlabs = speak_elevenlabs }

--- Make a scene's narration track.
-- @tparam table scene a scene table (DESIGN.md keys)
-- @tparam string output_dir the scene's folder
-- @tparam[opt] table opts `backend` (`local`, `openai`, `elevenlabs`; default
-- `EXPLAINER_AUDIO_BACKEND` or `local`), `filename` (default
-- `narration.mp3`), `voice`, `model`, `rate` (espeak-ng words per minute),
-- `api_key`, `base_url`, `retries`, `backoff`, `timeout`
-- @treturn string|nil the track's path
-- @treturn string|nil message
function M.generate(scene, output_dir, opts)
  common.check_scene_args("generate", scene, output_dir, 2)
  opts = opts or {}
  local fn, berr = common.backend("audio", M.backends, opts, "EXPLAINER_AUDIO_BACKEND", "local, openai or elevenlabs")
  if not fn then return nil, berr end
  local path = output_dir .. "/" .. (opts.filename or "narration.mp3")
  local text = M.narration_text(scene)
  local ok, err
  if text then
    ok, err = fn(text, path, opts)
  else
    ok, err = M.silence(path, scene.duration)
  end
  if not ok then return nil, err end
  return path
end

--- A `process_scene` for `orchestrate_workflow`, with these options.
function M.processor(opts)
  opts = opts or {}
  return function(scene, output_dir)
    return M.generate(scene, output_dir, opts)
  end
end

return M
