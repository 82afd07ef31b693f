-- Image-to-video: final.png and the animation prompt to a video model (fal's queue,
-- OpenAI's videos), polled until done, falling back to the still.
local explainer = require "explainer"
local animate = require "explainer.recipes.animate"
local video = require "explainer.recipes.video"
local image = require "explainer.recipes.image"
local base64 = require "explainer.recipes.base64"
local key = require "explainer.key"
local log = require "explainer.log"
local cjson = require "cjson"
local mock = require "mock.server"
local util = require "mock.util"

local FAL = "fal-key-id:fal-secret-3b9d8e7f"
local OPENAI = "sk-test-animate-5c1e9a"

local SCRIPT = [[
# Motion - 2 SCENES
Style: navy and orange
Format: 9:16 VERTICAL

## SCENE 1: Rolling (3 seconds)

Narration: "The ball rolls."

Layout Design:
- Background: a table

Animation Prompt for AI Video Model:
"The ball rolls slowly to the right, static camera."

## SCENE 2: Still Life (2 seconds)

Narration: "Nothing moves."
]]

describe("image-to-video", function()
  local document, server, dir, warnings
  setup(function() document = assert(explainer.parse_string(SCRIPT, "motion")) end)
  before_each(function()
    dir = util.tmpdir()
    require("explainer.settings").cache_dir = dir .. "/cache"
    warnings = {}
    log.output = { write = function(_, ...) warnings[#warnings + 1] = table.concat { ... } end }
  end)
  after_each(function()
    log.output = io.stderr
    if server then server:stop() end
    server = nil
    util.rmtree(dir)
  end)

  local function fal_opts(extra)
    local o = { document = document, video_backend = "fal", api_key = FAL, video_base_url = server.url .. "/queue",
                poll = 0.01, backoff = 0.01, size = "180x320", image = { size = "180x320" } }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  local function openai_opts(extra)
    local o = { document = document, video_backend = "openai", api_key = OPENAI, video_base_url = server.url .. "/v1",
                poll = 0.01, backoff = 0.01, size = "180x320", image = { size = "180x320" } }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  local function api_requests()
    local list = {}
    for _, r in ipairs(server:requests()) do
      if not r.path:find("^/files/") and not r.path:find("^/video/") then list[#list + 1] = r end
    end
    return list
  end

  describe("fal", function()
    before_each(function() server = mock.start { key = FAL, lifetime = 90 } end)

    it("submits the frame's plate and the animation prompt, polls until COMPLETED, lays the text over the video", function()
      server:plan { { polls = 2 } }
      local scene = document.scenes[1]
      local path = assert(video.clip(scene, dir, fal_opts()))
      local reqs = api_requests()
      assert.same({ "POST /queue/fal-ai/kling-video/v2.1/standard/image-to-video",
                    "GET /queue/fal-ai/kling-video/requests/00000001-0000-4000-8000-000000000001/status",
                    "GET /queue/fal-ai/kling-video/requests/00000001-0000-4000-8000-000000000001/status",
                    "GET /queue/fal-ai/kling-video/requests/00000001-0000-4000-8000-000000000001/status",
                    "GET /queue/fal-ai/kling-video/requests/00000001-0000-4000-8000-000000000001" },
                  (function()
                    local t = {}
                    for i, r in ipairs(reqs) do t[i] = r.method .. " " .. r.path end
                    return t
                  end)())
      for _, r in ipairs(reqs) do assert.equal("Key " .. FAL, r.headers.authorization) end
      local body = cjson.decode(reqs[1].body)
      assert.equal(scene.animation_prompt, body.prompt)
      assert.equal("5", body.duration)
      local sent = assert(base64.decode(body.image_url:match("^data:image/png;base64,(.+)$")))
      -- the frame's plate: the model never sees (nor redraws) the on-screen text
      assert.equal(util.read(dir .. "/plate.png"), sent)
      assert.not_equal(util.read(dir .. "/final.png"), sent)
      -- ... and the clip has it laid over the animation: where the text layer is
      -- opaque, the clip's last frame differs from the animation's own
      local function sh(cmd)
        local f = io.popen(cmd .. " 2>&1")
        local out = f:read("a")
        f:close()
        return out
      end
      local q = util.quote
      sh(("ffmpeg -v error -y -sseof -0.1 -i %s -frames:v 1 %s"):format(q(path), q(dir .. "/clip_last.png")))
      sh(("ffmpeg -v error -y -sseof -0.1 -i %s -vf scale=180:320 -frames:v 1 %s")
        :format(q(dir .. "/animation.mp4"), q(dir .. "/anim_last.png")))
      sh(("convert %s -alpha extract -threshold 50%% %s"):format(q(dir .. "/text.png"), q(dir .. "/mask.png")))
      sh(("convert %s %s -compose difference -composite -colorspace gray %s")
        :format(q(dir .. "/clip_last.png"), q(dir .. "/anim_last.png"), q(dir .. "/diff.png")))
      local function mean(mask_args)
        return tonumber(sh(("convert %s \\( %s %s \\) -compose multiply -composite -format '%%[fx:mean]' info:")
          :format(q(dir .. "/diff.png"), q(dir .. "/mask.png"), mask_args)))
      end
      local mask_share = tonumber(sh(("convert %s -format '%%[fx:mean]' info:"):format(q(dir .. "/mask.png"))))
      assert.is_true(mask_share > 0.005, "the text layer has text")
      local inside = mean("") / mask_share
      local outside = mean("-negate") / (1 - mask_share)
      assert.is_true(inside > 0.2 and inside > 5 * outside,
        ("text over the animation: %.3f inside the text, %.3f outside"):format(inside, outside))
      -- the clip: the frame's size, as long as the scene (or its narration), from the video
      local p = util.probe(path)
      assert.same({ 180, 320 }, { p.width, p.height })
      assert.is_true(p.duration >= 3 - 0.05 and p.has_audio)
      assert.truthy(util.read(dir .. "/animation.mp4"))
      assert.same({}, warnings)
    end)

    it("sends nothing again for a fresh clip, and a new request when the prompt changes", function()
      local scene = document.scenes[1]
      assert(video.clip(scene, dir, fal_opts()))
      local n = #api_requests()
      assert.equal(dir .. "/clip.mp4", video.clip(scene, dir, fal_opts()))
      assert.equal(n, #api_requests())
      local moved = {}
      for k, v in pairs(scene) do moved[k] = v end
      moved.animation_prompt = "The ball bounces twice."
      assert(video.clip(moved, dir, fal_opts()))
      local reqs = api_requests()
      assert.is_true(#reqs > n)
      assert.equal("The ball bounces twice.", cjson.decode(reqs[n + 1].body).prompt)
    end)

    it("keeps polling through a 503 with the retry policy", function()
      server:plan { { poll_errors = 2 } }
      assert(video.clip(document.scenes[1], dir, fal_opts()))
      local statuses = 0
      for _, r in ipairs(api_requests()) do
        if r.path:find("/status$") then statuses = statuses + 1 end
      end
      assert.equal(4, statuses)   -- two 503s retried, one IN_PROGRESS, one COMPLETED
      assert.same({}, warnings)
    end)

    it("falls back to the still, with a warning, when the job fails", function()
      server:plan { { fail = true } }
      local path = assert(video.clip(document.scenes[1], dir, fal_opts()))
      assert.equal(1, #warnings)
      assert.matches("scene 1: image%-to%-video failed %(fal video: HTTP 422: body.image_url: Image could not be "
        .. "processed: content policy violation%): its clip is made from the still", warnings[1])
      assert.is_nil(io.open(dir .. "/animation.mp4"))
      -- the clip says what it is: the still's key, not the animation's
      local rec = assert(key.read(path))
      assert.equal(video.clip_key(document.scenes[1], dir, animate.without(fal_opts())).id, rec.id)
      assert.same({ 180, 320 }, { util.probe(path).width, util.probe(path).height })
    end)

    it("falls back to the still when the submit is refused", function()
      server:plan { { status = 401 } }
      assert(video.clip(document.scenes[1], dir, fal_opts()))
      assert.matches("fal video: HTTP 401: No user found for Key ID and Secret", warnings[1], 1, true)
      assert.is_nil(warnings[1]:find(FAL, 1, true))
    end)

    it("sends the key only to the queue's own host, whatever URLs the answer names", function()
      server:plan { { url_host = "127.0.0.2" } }
      assert(video.clip(document.scenes[1], dir, fal_opts()))
      assert.same({}, warnings)
      assert.truthy(util.read(dir .. "/animation.mp4"))
    end)

    it("leaves a scene without an animation prompt to its still, sending nothing", function()
      assert(video.clip(document.scenes[2], dir, fal_opts()))
      assert.same({}, api_requests())
      assert.same({}, warnings)
    end)
  end)

  describe("OpenAI", function()
    before_each(function() server = mock.start { key = OPENAI, lifetime = 90 } end)

    it("creates a video from the image cropped to its size, polls until completed, downloads the content", function()
      local scene = document.scenes[1]
      local path = assert(video.clip(scene, dir, openai_opts()))
      local reqs = api_requests()
      assert.equal("POST /v1/videos", reqs[1].method .. " " .. reqs[1].path)
      assert.equal("Bearer " .. OPENAI, reqs[1].headers.authorization)
      assert.matches("^multipart/form%-data; boundary=", reqs[1].headers["content-type"])
      local parts = reqs[1].parts
      assert.equal(scene.animation_prompt, parts.prompt.value)
      assert.equal("sora-2", parts.model.value)
      assert.equal("4", parts.seconds.value)
      assert.equal("720x1280", parts.size.value)   -- the mock refuses a reference of another size
      assert.equal("image/png", parts.input_reference.content_type)
      local id = reqs[2].path:match("^/v1/videos/(video_%x+)$")
      assert.truthy(id)
      assert.equal("GET /v1/videos/" .. id .. "/content", reqs[#reqs].method .. " " .. reqs[#reqs].path)
      local p = util.probe(path)
      assert.same({ 180, 320 }, { p.width, p.height })
      assert.same({}, warnings)
    end)

    it("falls back to the still with the service's reason when the video fails", function()
      server:plan { { fail = true } }
      assert(video.clip(document.scenes[1], dir, openai_opts()))
      assert.matches("OpenAI videos: the video failed: Your request was blocked by our moderation system.",
        warnings[1], 1, true)
    end)

    it("gives up waiting after EXPLAINER_VIDEO_WAIT seconds and uses the still", function()
      server:plan { { polls = 1000 } }
      assert(video.clip(document.scenes[1], dir, openai_opts { wait = 0.05 }))
      assert.matches("OpenAI videos: not done after 0.05 s", warnings[1], 1, true)
    end)
  end)

  describe("scripts/video.lua", function()
    before_each(function() server = mock.start { key = OPENAI, lifetime = 120 } end)

    it("sends a generation, an edit per iteration with the image before, then the video request", function()
      local input = require("helpers").write(dir .. "/chain.txt", [[
# Chain - 1 SCENES
Format: 16:9

## SCENE 1: Ball (3 seconds)

Narration: "A ball."

Nano Banana Iterative Prompt:
"Initial: A red ball on a table. | Iteration 1: Make the ball blue. | Iteration 2: Add a soft shadow."

Animation Prompt for AI Video Model:
"The ball rolls to the right."
]])
      local status, _, err = util.run_host(dir, "video.lua", input, {
        EXPLAINER_IMAGE_BACKEND = "openai", EXPLAINER_IMAGE_EDITS = "on", EXPLAINER_VIDEO_BACKEND = "openai",
        OPENAI_API_KEY = OPENAI, OPENAI_BASE_URL = server.url .. "/v1", EXPLAINER_VIDEO_POLL = "0.01",
        EXPLAINER_HTTP_BACKOFF = "0.01", EXPLAINER_VIDEO_SIZE = "320x180",
      }, { "--output-dir", dir .. "/out" })
      assert.equal(0, status, err)
      local scene_dir = dir .. "/out/chain/scene_01/"
      local posts = {}
      for _, r in ipairs(server:requests()) do
        if r.method == "POST" then posts[#posts + 1] = r end
      end
      assert.same({ "/v1/images/generations", "/v1/images/edits", "/v1/images/edits", "/v1/videos" },
        { posts[1].path, posts[2].path, posts[3].path, posts[4].path })
      assert.equal("A red ball on a table.", cjson.decode(posts[1].body).prompt)
      assert.same({ "Make the ball blue.", "Add a soft shadow." }, { posts[2].parts.prompt.value, posts[3].parts.prompt.value })
      local function sha(path)
        return (assert(explainer.exec({ "sha256sum", path })).stdout:match("^%x+"))
      end
      assert.equal(sha(scene_dir .. "initial.png"), posts[2].parts.image.sha256)
      assert.equal(sha(scene_dir .. "iteration_1.png"), posts[3].parts.image.sha256)
      assert.equal("The ball rolls to the right.", posts[4].parts.prompt.value)
      assert.equal("1280x720", posts[4].parts.size.value)
      assert.truthy(util.read(scene_dir .. "animation.mp4"))
      assert.same({ 320, 180 }, { util.probe(scene_dir .. "clip.mp4").width, util.probe(scene_dir .. "clip.mp4").height })
      assert.is_nil(err:find("warning", 1, true))
    end)
  end)

  describe("keys", function()
    it("holds backend, model, prompt, seconds and the image's key; none without a backend or a prompt", function()
      local scene = document.scenes[1]
      local img = image.key(scene, { document = document })
      local k = animate.key(scene, img, { video_backend = "fal" })
      assert.equal("animation/1", k.recipe)
      assert.not_equal(k.id, animate.key(scene, image.key(document.scenes[2], { document = document }),
        { video_backend = "fal" }).id)
      assert.not_equal(k.id, animate.key(scene, img, { video_backend = "fal", video_model = "fal-ai/other" }).id)
      assert.not_equal(k.id, animate.key(scene, img, { video_backend = "openai" }).id)
      assert.is_nil(animate.key(scene, img, {}))
      assert.is_nil(animate.key(document.scenes[2], img, { video_backend = "fal" }))
    end)

    it("leaves the clip's key as it was when no backend is chosen", function()
      local scene = document.scenes[1]
      local plain = video.clip_key(scene, dir, { document = document })
      assert.equal(plain.id, video.clip_key(scene, dir, { document = document, video_backend = "none" }).id)
      assert.not_equal(plain.id, video.clip_key(scene, dir, { document = document, video_backend = "fal" }).id)
      assert.is_nil(plain.parts["animation/recipe"])
    end)

    it("asks OpenAI for 4, 8 or 12 seconds and Kling for 5 or 10", function()
      local function secs(backend, d, model)
        return animate.seconds({ duration = d }, assert(animate.settings { video_backend = backend, video_model = model }))
      end
      assert.same({ "4", "8", "12", "12" }, { secs("openai", 3), secs("openai", 6), secs("openai", 9), secs("openai", 30) })
      assert.same({ "5", "10" }, { secs("fal", 5), secs("fal", 7) })
      assert.is_nil(secs("fal", 6, "fal-ai/minimax/video-01/image-to-video"))
    end)

    it("refuses an unknown backend by name, failing the scene", function()
      local s, err = animate.settings { video_backend = "crayons" }
      assert.is_nil(s)
      assert.equal("unknown image-to-video backend 'crayons' (fal, openai or none)", err)
      local path
      path, err = video.clip(document.scenes[1], dir, { document = document, video_backend = "crayons",
                                                       size = "180x320", image = { size = "180x320" } })
      assert.is_nil(path)
      assert.equal("unknown image-to-video backend 'crayons' (fal, openai or none)", err)
      assert.is_nil(io.open(dir .. "/clip.mp4"))
    end)
  end)
end)
