--- The offline voices of the `local` audio backend: which voice a name means,
-- speaking a text with it, and pacing the speech to its scene.
--
-- Engines, each reading the text from a file or from its standard input, never
-- from a command line:
--
-- * `flite` (the default, voice `rms`): ffmpeg's `flite` source (Debian's ffmpeg
--   links libflite, so no other package is needed), reading a text file.
-- * `festival` (voice `slt-hts`, when `festival` and `festvox-us-slt-hts` are
--   installed): `text2wave`, reading a text file.
-- * `espeak` (`espeak:en-us`, `espeak:en-gb`, ... every espeak-ng voice):
--   `espeak-ng`, reading its standard input, at `rate` words a minute.
--
-- Each engine writes its WAV to a pipe; the track is measured from the WAV's
-- header and size, then one ffmpeg reads it from its standard input, speeds it
-- up when the scene needs it (`atempo`), resamples it once to the film's 48 kHz
-- and encodes the MP3. No temporary WAV.
-- @module explainer.recipes.voice

local lfs = require "lfs"
local artifact = require "explainer.artifact"
local common = require "explainer.recipes.common"

local M = {}

--- The voice used when none is chosen.
M.DEFAULT = "rms"

--- flite's voices, as ffmpeg's flite source names them (best first, by the
-- word error rate measured in bench/voice.sh).
M.FLITE = { "rms", "awb", "slt", "kal16" }

--- festival's voices by the names explainer gives them.
M.FESTIVAL = { ["slt-hts"] = "cmu_us_slt_arctic_hts" }

--- The sample rate of every local track: the film's.
M.SAMPLE_RATE = 48000

--- At most this much faster than its natural pace is a narration spoken to
-- fit its scene (flite's ~150 words a minute on the example become ~185).
M.MAX_TEMPO = 1.25

--- What the MP3 adds to a track's length (the encoder's delay and padding,
-- 35 to 75 ms at 48 kHz): a track fitted to its scene is made this much shorter,
-- so that its clip is not a frame or two longer than the scene.
M.MP3_SLACK = 0.08

--- The pacing rule, for the keys: a change here remakes the local tracks.
M.PACING = "fit-scene/1.25/0.08"

--- About how many words a minute each engine speaks by itself (flite `rms`:
-- 146 on the example's narrations; espeak-ng: explainer's default rate).
-- Used to estimate lengths before anything is spoken.
M.NATURAL_WPM = { flite = 145, festival = 150, espeak = 165 }

local function is_flite(name)
  for _, v in ipairs(M.FLITE) do
    if v == name then return true end
  end
  return false
end

local function on_path(program)
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    if lfs.attributes(dir .. "/" .. program, "mode") == "file" then return true end
  end
  return false
end

-- What espeak-ng and festival offer here, asked once a process.
local known = { espeak = {}, festival = nil }

local function espeak_knows(name)
  if known.espeak[name] == nil then
    local r, err = common.run({ "espeak-ng", "-q", "-v", name, "--stdin" }, { stdin = "", timeout = 30 })
    if not r and err and err:find("not found; run make deps", 1, true) then error(err, 0) end
    known.espeak[name] = r ~= nil
  end
  return known.espeak[name]
end

-- festival's installed voices (name -> true), or nil when it is not installed.
local function festival_voices()
  if known.festival == nil then
    known.festival = false
    if on_path("festival") and on_path("text2wave") then
      local r = common.run({ "festival", "--pipe" }, { stdin = "(print (voice.list))\n", timeout = 60 })
      local set = {}
      for name in ((r and r.stdout or ""):match("%((.-)%)") or ""):gmatch("[%w_%-]+") do set[name] = true end
      known.festival = set
    end
  end
  return known.festival or nil
end

-- espeak-ng's English voices and how many languages it has, for a message.
local function espeak_summary()
  local r = common.run({ "espeak-ng", "--voices" }, { timeout = 30 })
  if not r then return "espeak-ng (not installed: make deps)" end
  local english, seen, languages = {}, {}, 0
  for line in r.stdout:gmatch("[^\n]+") do
    local lang = line:match("^%s*%d+%s+(%S+)")
    if lang and not seen[lang] then
      seen[lang] = true
      languages = languages + 1
      if lang:match("^en%-") then english[#english + 1] = "espeak:" .. lang end
    end
  end
  table.sort(english)
  return ("espeak-ng %s and %d other languages (espeak-ng --voices)"):format(
    table.concat(english, ", "), languages - #english)
end

--- Every offline voice, as one line for a message.
-- @treturn string
function M.available()
  local festival = festival_voices()
  local fest
  if festival then
    local names, aliased = {}, {}
    for alias, full in pairs(M.FESTIVAL) do
      if festival[full] then names[#names + 1], aliased[full] = alias, true end
    end
    for full in pairs(festival) do
      if not aliased[full] then names[#names + 1] = "festival:" .. full end
    end
    table.sort(names)
    fest = #names > 0 and ("festival " .. table.concat(names, ", "))
      or "festival (no voice installed: apt-get install festvox-us-slt-hts)"
  else
    fest = "festival slt-hts (not installed: apt-get install festival festvox-us-slt-hts)"
  end
  return ("flite %s (default %s); %s; %s"):format(table.concat(M.FLITE, ", "), M.DEFAULT, fest,
    espeak_summary())
end

local function unknown(problem)
  return ("EXPLAINER_VOICE: %s; the offline voices are: %s"):format(problem, M.available())
end

--- Which engine and voice a name means: `rms` or `flite:rms`, `slt-hts` or
-- `festival:slt-hts` (or any festival voice by its own name), `espeak:en-gb`.
-- A bare name that is neither flite's nor festival's is espeak-ng's when
-- espeak-ng has it (`en-gb`, as before flite was the default).
-- @tparam string name
-- @treturn table|nil `{engine =, voice =, id = "engine:voice"}`
-- @treturn string|nil one line naming the voice and listing the offline voices
function M.resolve(name)
  name = tostring(name or M.DEFAULT)
  local engine, voice = name:match("^(%a[%a%-]*):(.+)$")
  if engine == "espeak-ng" then engine = "espeak" end
  if not engine then
    if is_flite(name) then
      engine, voice = "flite", name
    elseif M.FESTIVAL[name] then
      engine, voice = "festival", name
    else
      engine, voice = "espeak", name
    end
  end
  if engine == "flite" then
    if not is_flite(voice) then return nil, unknown(("flite has no voice '%s'"):format(voice)) end
  elseif engine == "festival" then
    local installed = festival_voices()
    if not installed then
      return nil, unknown(("'%s' is festival's, and festival is not installed"):format(name))
    end
    if not installed[M.FESTIVAL[voice] or voice] then
      return nil, unknown(("festival has no voice '%s'"):format(voice))
    end
  elseif engine == "espeak" then
    if voice:find("^%-") or not espeak_knows(voice) then
      return nil, unknown(("no voice '%s'"):format(name))
    end
  else
    return nil, unknown(("no engine '%s' in '%s' (flite, festival or espeak)"):format(engine, name))
  end
  return { engine = engine, voice = voice, id = engine .. ":" .. voice }
end

--- What a WAV holds, from its header and its size (a WAV written to a pipe
-- cannot know its size: its data runs to the end).
-- @tparam string bytes a whole WAV file
-- @treturn table|nil `{rate, channels, byte_rate, data (bytes of samples), seconds}`
-- @treturn string|nil message
function M.wav_info(bytes)
  if #bytes < 12 or bytes:sub(1, 4) ~= "RIFF" or bytes:sub(9, 12) ~= "WAVE" then
    return nil, "not a WAV (first bytes: " .. bytes:sub(1, 12):gsub("[^%g ]", "?") .. ")"
  end
  local pos, fmt = 13, nil
  while pos + 7 <= #bytes do
    local id, size = bytes:sub(pos, pos + 3), string.unpack("<I4", bytes, pos + 4)
    if id == "fmt " and pos + 23 <= #bytes then
      local _, channels, rate, byte_rate = string.unpack("<I2I2I4I4", bytes, pos + 8)
      fmt = { channels = channels, rate = rate, byte_rate = byte_rate }
    elseif id == "data" then
      if not fmt or fmt.byte_rate == 0 then return nil, "a WAV without its format" end
      local available = #bytes - (pos + 8) + 1
      local data = (size > 0 and size <= available) and size or available
      fmt.data, fmt.seconds = data, data / fmt.byte_rate
      return fmt
    end
    pos = pos + 8 + size + size % 2
  end
  return nil, "a WAV without samples"
end

-- A text file beside the track, for the engines that read one: its name has
-- only letters, digits and dots, so it needs no quoting in ffmpeg's filter
-- syntax, and the engine runs in its folder.
local function with_text_file(dir, text, fn)
  local file = artifact.temp_beside(dir .. "/voice", ".txt")
  local ok, err = common.write_file(file, text .. "\n")
  if not ok then return nil, err end
  local r
  r, err = fn(file:match("[^/]*$"))
  os.remove(file)
  return r, err
end

local SPEAK = {}

function SPEAK.flite(v, text, dir)
  return with_text_file(dir, text, function(name)
    local r, err = common.run({ "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
      "-i", ("flite=textfile=%s:voice=%s"):format(name, v.voice), "-f", "wav", "pipe:1" },
      { cwd = dir, timeout = 300 })
    if not r and err and err:find("No such filter: 'flite'", 1, true) then
      err = "this ffmpeg has no flite source (Debian's has: make deps), or choose EXPLAINER_VOICE=espeak:en-us"
    end
    return r, err
  end)
end

function SPEAK.festival(v, text, dir)
  return with_text_file(dir, text, function(name)
    return common.run({ "text2wave", "-eval", ("(voice_%s)"):format(M.FESTIVAL[v.voice] or v.voice),
                        "-otype", "riff", common.safe_path(name) }, { cwd = dir, timeout = 300 })
  end)
end

function SPEAK.espeak(v, text, _, rate)
  return common.run({ "espeak-ng", "--stdin", "-v", v.voice, "-s", tostring(rate), "--stdout" },
                    { stdin = text, timeout = 300 })
end

--- How much faster than its natural length a track is played: the rate asked
-- for (flite and festival: `rate` words a minute against the track's own), then
-- faster when it would outlast its scene (less `MP3_SLACK`), up to `MAX_TEMPO` (a rate asked for
-- is kept even when faster). Never slower to fill a scene.
-- @tparam number seconds the track's natural length
-- @tparam number words how many words it speaks
-- @tparam[opt] number scene the scene's length (nil: no fitting)
-- @tparam[opt] number rate words a minute asked for (nil: the voice's own pace)
-- @treturn number the tempo (1: as spoken)
function M.tempo(seconds, words, scene, rate)
  local base = 1
  if rate and words > 0 and seconds > 0 then base = rate / (words / seconds * 60) end
  base = math.min(math.max(base, 0.5), 4)
  local fit = (scene and scene > M.MP3_SLACK) and seconds / (scene - M.MP3_SLACK) or 1
  return math.max(base, math.min(fit, M.MAX_TEMPO))
end

--- Speak a text with a voice into an MP3 (mono, 48 kHz) at `path`.
-- @tparam table v a voice (`resolve`)
-- @tparam string text
-- @tparam string path where the MP3 goes (a temporary name; its folder holds the text file)
-- @tparam table pace `scene` (the scene's length, s), `rate` (words a minute
--   asked for, or nil), `words`
-- @treturn table|nil `{natural = s, tempo = x}` when it was made
-- @treturn string|nil message
function M.speak(v, text, path, pace)
  local dir = path:match("^(.*)/") or "."
  local engine_rate = v.engine == "espeak" and (pace.rate or M.NATURAL_WPM.espeak) or nil
  local r, err = SPEAK[v.engine](v, text, dir, engine_rate)
  if not r then return nil, err end
  local info, why = M.wav_info(r.stdout)
  if not info then return nil, ("%s (%s) said %s"):format(v.id, v.engine, why) end
  if info.data == 0 then return nil, v.id .. " made no sound for the narration" end
  -- espeak-ng's own rate is its pace; the others are stretched to theirs.
  local tempo = M.tempo(info.seconds, pace.words, pace.scene, v.engine ~= "espeak" and pace.rate or nil)
  local filter = ("aresample=%d"):format(M.SAMPLE_RATE)
  if math.abs(tempo - 1) > 0.001 then filter = ("atempo=%.4f,%s"):format(tempo, filter) end
  local ok
  ok, err = common.run({ "ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
    "-f", "wav", "-i", "pipe:0", "-af", filter, "-ac", "1", "-ar", tostring(M.SAMPLE_RATE),
    "-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3", common.ffpath(path) }, { stdin = r.stdout, timeout = 300 })
  if not ok then return nil, err end
  return { natural = info.seconds, tempo = tempo }
end

return M
