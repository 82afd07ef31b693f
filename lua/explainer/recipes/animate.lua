--- Recipe: a scene's clip from an image-to-video model (`final.png` and the
-- scene's animation prompt), for `explainer.recipes.video`.
--
-- Off by default. `EXPLAINER_VIDEO_BACKEND` (or the option `video_backend`):
--
-- * `fal`: fal's queue API. `POST {FAL_QUEUE_URL}/<model>` with
--   `Authorization: Key $FAL_KEY` and JSON `{prompt, image_url}` (the image
--   inline as a `data:` URI; `duration` "5" or "10" for Kling models), then
--   `GET` the `status_url` it answers until `COMPLETED`, then `GET` the
--   `response_url`: its `video.url` is downloaded. Default model
--   `fal-ai/kling-video/v2.1/standard/image-to-video`.
-- * `openai`: OpenAI's videos API. `POST {OPENAI_BASE_URL}/videos`,
--   multipart/form-data with `model`, `prompt`, `seconds` ("4", "8" or
--   "12"), `size` (`720x1280`, `1280x720`) and `input_reference` (the image,
--   cropped to exactly that size); then `GET /videos/{id}` until `completed`
--   (or `failed`), then `GET /videos/{id}/content`, the MP4. Default model
--   `sora-2`.
--
-- Each status request goes through the retrying client (429, 5xx and lost
-- connections are retried with backoff); between polls it waits `poll`
-- seconds (`EXPLAINER_VIDEO_POLL`, 5), at most `wait` seconds in all
-- (`EXPLAINER_VIDEO_WAIT`, 1200). The video is kept as `animation.mp4` in the
-- scene's folder (its key: the backend, model, prompt, seconds, size and the
-- key of the image it animates), and the clip is that video scaled to the
-- frame, its last frame held as long as the narration needs, over the
-- narration. A scene without an animation prompt keeps its still; a request
-- that fails falls back to the still, with a warning.
-- @module explainer.recipes.animate

local core = require "explainer_core"
local artifact = require "explainer.artifact"
local http = require "explainer.http"
local key = require "explainer.key"
local log = require "explainer.log"
local common = require "explainer.recipes.common"

local M = {}

--- The animation's recipe version (in its key).
M.VERSION = "animation/1"

local DEFAULT_MODEL = { fal = "fal-ai/kling-video/v2.1/standard/image-to-video", openai = "sora-2" }
local BASE_ENV = { fal = "FAL_QUEUE_URL", openai = "OPENAI_BASE_URL" }
local DEFAULT_BASE = { fal = "https://queue.fal.run", openai = "https://api.openai.com/v1" }
local KEY_ENV = { fal = "FAL_KEY", openai = "OPENAI_API_KEY" }
local OPENAI_SIZES = { ["9:16"] = "720x1280", ["16:9"] = "1280x720", ["1:1"] = "720x1280" }

--- The image-to-video backend the options choose: `"fal"`, `"openai"`, or
-- nil (none: `video_backend` or `EXPLAINER_VIDEO_BACKEND` unset, `none` or
-- `off`).
-- @tparam[opt] table opts
-- @treturn string|nil
function M.backend(opts)
  local name = common.option(opts, "video_backend", "EXPLAINER_VIDEO_BACKEND", nil)
  if name == nil or name == "none" or name == "off" then return nil end
  return name
end

--- Options that choose no image-to-video backend (the still's clip).
-- @tparam[opt] table opts
-- @treturn table a copy of `opts` with `video_backend = "none"`
function M.without(opts)
  local copy = {}
  for k, v in pairs(opts or {}) do copy[k] = v end
  copy.video_backend = "none"
  return copy
end

--- The seconds of video asked for a scene: OpenAI's 4, 8 or 12 (the first
-- that covers the scene), Kling's 5 or 10; nil for a model that decides.
-- @tparam table scene
-- @tparam table s `animate.settings(opts)`
-- @treturn string|nil
function M.seconds(scene, s)
  local d = tonumber(scene.duration) or 6
  if s.backend == "openai" then
    return d <= 4 and "4" or d <= 8 and "8" or "12"
  elseif s.backend == "fal" and s.model:find("kling", 1, true) then
    return d <= 5 and "5" or "10"
  end
  return nil
end

--- What the options choose: `backend`, `model`, `base_url`, `size`
-- (OpenAI), `poll` and `wait` (seconds); nil when no backend is chosen.
-- @tparam[opt] table opts `video_backend`, `video_model`, `video_base_url`,
-- `poll`, `wait`, `document` or `format`
-- @treturn table|nil
-- @treturn string|nil message for an unknown backend
function M.settings(opts)
  local backend = M.backend(opts)
  if not backend then return nil end
  if not DEFAULT_MODEL[backend] then
    return nil, ("unknown image-to-video backend '%s' (fal, openai or none)"):format(backend)
  end
  return {
    backend = backend,
    model = common.option(opts, "video_model", "EXPLAINER_VIDEO_MODEL", DEFAULT_MODEL[backend]),
    base_url = (common.option(opts, "video_base_url", BASE_ENV[backend], DEFAULT_BASE[backend]):gsub("/+$", "")),
    size = backend == "openai" and OPENAI_SIZES[common.aspect(common.format_of(opts))] or nil,
    poll = common.option(opts, "poll", "EXPLAINER_VIDEO_POLL", 5),
    wait = common.option(opts, "wait", "EXPLAINER_VIDEO_WAIT", 1200),
  }
end

local function present(s)
  return type(s) == "string" and s:find("%S") ~= nil
end

--- The key of a scene's animation, or nil when none is to be made (no
-- backend chosen, or a scene without an animation prompt).
-- @tparam table scene
-- @param image what the animated image is: its key (or, made by hand, its
-- identity), as the clip's key holds it
-- @tparam[opt] table opts as for `settings`
-- @treturn table|nil the key (explainer.key)
function M.key(scene, image, opts)
  local s = M.settings(opts)
  if not s or not present(scene.animation_prompt) then return nil end
  return key.of(M.VERSION, { backend = s.backend, model = s.model, base_url = s.base_url,
    prompt = scene.animation_prompt, seconds = M.seconds(scene, s) or false, size = s.size or false,
    image = image })
end

local function origin(url)
  local o = tostring(url or ""):match("^(%a[%w+.%-]*://[^/?#]+)")
  return o and o:lower()
end

local function write(path, data)
  local ok, err = common.write_file(path, data)
  if not ok then return nil, err end
  return true
end

-- Poll `check` (which answers "done", "running", or nil and a message) every
-- `s.poll` seconds, at most `s.wait` seconds.
local function poll(s, name, check, sleep)
  local started = core.time()
  while true do
    local state, err = check()
    if state == "done" then return true end
    if not state then return nil, err end
    if core.time() - started + s.poll > s.wait then
      return nil, ("%s: not done after %g s (EXPLAINER_VIDEO_WAIT)"):format(name, s.wait)
    end
    sleep(s.poll)
  end
end

local function download_video(url, tmp, opts)
  local client = http.client { name = "video download", retries = opts.retries, backoff = opts.backoff,
                               timeout = opts.timeout }
  local response, err = client:request { method = "GET", url = url, follow_redirects = true, expect = "video" }
  if not response then return nil, err end
  return write(tmp, response.body)
end

-- fal's queue: submit, poll the status, fetch the result.
local function animate_fal(scene, picture, tmp, s, k, opts)
  local client = http.client { name = "fal video", base_url = s.base_url, headers = { Authorization = "Key " .. k },
                               retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout }
  local uri, err = require("explainer.recipes.image").data_uri(picture, "image/png")
  if not uri then return nil, err end
  local body = { prompt = scene.animation_prompt, image_url = uri, duration = M.seconds(scene, s) }
  local job
  job, err = client:json { method = "POST", path = "/" .. s.model:gsub("^/+", ""), json = body }
  if not job then return nil, err end
  if type(job.request_id) ~= "string" then return nil, "fal video: the answer holds no request_id" end
  -- The key goes only where it came from: URLs elsewhere are not followed.
  local app = s.model:match("^/*([^/]+/[^/]+)") or s.model
  local base = s.base_url .. "/" .. app .. "/requests/" .. job.request_id
  local status_url, response_url = job.status_url, job.response_url
  if origin(status_url) ~= origin(s.base_url) then status_url = base .. "/status" end
  if origin(response_url) ~= origin(s.base_url) then response_url = base end
  local ok
  ok, err = poll(s, "fal video", function()
    local st, why = client:json { method = "GET", url = status_url }
    if not st then return nil, why end
    if st.status == "COMPLETED" then return "done" end
    if st.status == "IN_QUEUE" or st.status == "IN_PROGRESS" then return "running" end
    return nil, "fal video: the request ended as " .. tostring(st.status)
  end, opts.sleep or core.sleep)
  if not ok then return nil, err end
  local result
  result, err = client:json { method = "GET", url = response_url }
  if not result then return nil, err end
  local video = type(result.video) == "table" and result.video
  if not video or type(video.url) ~= "string" then return nil, "fal video: the result holds no video URL" end
  return download_video(video.url, tmp, opts)
end

-- OpenAI's videos API: create (the image as input_reference), poll, download.
local function animate_openai(scene, picture, tmp, s, k, opts)
  local client = http.client { name = "OpenAI videos", base_url = s.base_url,
                               headers = { Authorization = "Bearer " .. k },
                               retries = opts.retries, backoff = opts.backoff, timeout = opts.timeout }
  -- The reference must be exactly the video's size: cropped to fill it.
  local ref = tmp .. ".ref.png"
  local ok, err = common.run({ "convert", common.safe_path(picture), "-resize", s.size .. "^", "-gravity", "center",
                               "-extent", s.size, "+repage", "PNG24:" .. ref }, { timeout = 120 })
  local bytes
  if ok then
    local f = io.open(ref, "rb")
    bytes = f and f:read("a")
    if f then f:close() end
  end
  os.remove(ref)
  if not ok then return nil, err end
  if not bytes then return nil, ref .. ": unreadable" end
  local body, ctype = http.multipart {
    { name = "model", value = s.model },
    { name = "prompt", value = scene.animation_prompt },
    { name = "seconds", value = M.seconds(scene, s) },
    { name = "size", value = s.size },
    { name = "input_reference", filename = "reference.png", content_type = "image/png", data = bytes },
  }
  local video
  video, err = client:json { method = "POST", path = "/videos", body = body, headers = { ["Content-Type"] = ctype } }
  if not video then return nil, err end
  if type(video.id) ~= "string" or not video.id:match("^[%w_%-]+$") then
    return nil, "OpenAI videos: the answer holds no video id"
  end
  ok, err = poll(s, "OpenAI videos", function()
    local v, why = client:json { method = "GET", path = "/videos/" .. video.id }
    if not v then return nil, why end
    if v.status == "completed" then return "done" end
    if v.status == "queued" or v.status == "in_progress" then return "running" end
    local e = type(v.error) == "table" and v.error or {}
    return nil, ("OpenAI videos: the video %s%s"):format(tostring(v.status),
      type(e.message) == "string" and (": " .. http.shorten(e.message, 300)) or "")
  end, opts.sleep or core.sleep)
  if not ok then return nil, err end
  local response
  response, err = client:request { method = "GET", path = "/videos/" .. video.id .. "/content", expect = "video" }
  if not response then return nil, err end
  return write(tmp, response.body)
end

M.backends = { fal = animate_fal, openai = animate_openai }

--- Make a scene's `animation.mp4` from its image, unless the one there is
-- fresh for `key`.
-- @tparam table scene
-- @tparam string output_dir the scene's folder
-- @tparam string picture the image to animate
-- @param image the image's key or identity (as for `key`)
-- @tparam[opt] table opts as for `settings`, and `api_key`, `retries`,
-- `backoff`, `timeout`, `sleep` (function(seconds), for the polls)
-- @treturn string|nil the video's path (nil and no message: nothing to make)
-- @treturn string how it came ("fresh", "cached", "made"...), or a message
function M.generate(scene, output_dir, picture, image, opts)
  opts = opts or {}
  local s, err = M.settings(opts)
  if not s then return nil, err end
  local k = M.key(scene, image, opts)
  if not k then return nil end
  local api_key = opts.api_key or os.getenv(KEY_ENV[s.backend])
  local path = output_dir .. "/" .. (opts.animation_filename or "animation.mp4")
  local made, how = artifact.make(path, k, function(tmp)
    if not api_key or api_key == "" then
      return nil, KEY_ENV[s.backend] .. " is not set (the " .. s.backend .. " video backend needs it)"
    end
    return M.backends[s.backend](scene, picture, tmp, s, api_key, opts)
  end, { kind = "mp4" })
  if not made then return nil, how end
  return path, how
end

--- Encode a clip from an animation: scaled to the frame, its last frame
-- held until `duration`, over the narration; the frame's text laid over it.
-- @tparam string animation the video
-- @tparam string narration the track
-- @tparam number duration seconds
-- @tparam table v the video recipe's settings (`width`, `height`, `fps`,
-- `preset`, `crf`)
-- @tparam string out where to write the MP4
-- @tparam[opt] table text the frame's text layer: `path` (its PNG) and
-- `filter` (the video recipe's overlay of input 1 on `[p]`)
-- @treturn true|nil
-- @treturn string|nil message
function M.encode(animation, narration, duration, v, out, text)
  local filter = string.format(
    "[0:v]scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2:color=black," ..
    "setsar=1,fps=%s,format=yuv420p,tpad=stop_mode=clone:stop_duration=%.3f",
    v.width, v.height, v.width, v.height, tostring(v.fps), duration)
  local inputs = { "-i", common.ffpath(animation) }
  if text then
    filter = filter .. "[p];" .. text.filter .. ",format=yuv420p"
    inputs[#inputs + 1], inputs[#inputs + 2] = "-i", common.ffpath(text.path)
  end
  filter = filter .. string.format("[v];[%d:a]apad[a]", text and 2 or 1)
  local args = inputs
  for _, a in ipairs {
    "-i", common.ffpath(narration), "-filter_complex", filter,
    "-map", "[v]", "-map", "[a]", "-t", string.format("%.3f", duration), "-r", tostring(v.fps),
    "-c:v", "libx264", "-preset", v.preset, "-crf", tostring(v.crf),
    "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart",
  } do args[#args + 1] = a end
  return common.ffmpeg(args, out, "mp4")
end

--- The video recipe's hook: make a scene's clip from its animation.
-- @tparam table scene
-- @tparam string output_dir the scene's folder
-- @tparam string path the clip to make
-- @tparam table clip_key the clip's key (with the animation's in it)
-- @tparam table src `picture`, `narration` (paths), `image` (the image's
-- part of the clip's key), `settings` (the video recipe's), `text` (the
-- frame's text layer to lay over, as for `encode`)
-- @tparam[opt] table opts the clip's options
-- @treturn string|false|nil the clip's path; nil when the still must make it
-- (no animation for this scene, or it failed: then with a warning); false
-- for a setting that cannot work (an unknown backend): the scene fails
-- @treturn string how it came, or the reason it did not
function M.clip(scene, output_dir, path, clip_key, src, opts)
  local s, bad = M.settings(opts)
  if not s then return false, bad end
  local animation, how = M.generate(scene, output_dir, src.picture, src.image, opts)
  local made
  if animation then
    made, how = artifact.make(path, clip_key, function(tmp)
      local spoken, err = common.media_duration(src.narration)
      if not spoken then return nil, err end
      return M.encode(animation, src.narration, math.max(tonumber(scene.duration) or 6, spoken), src.settings, tmp,
        src.text)
    end, { kind = "mp4" })
    if made then return made, how end
  end
  if how then
    log.warn(("scene %s: image-to-video failed (%s): its clip is made from the still"):format(
      tostring(scene.scene_number), tostring(how)))
  end
  return nil, how
end

return M
