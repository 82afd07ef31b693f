-- explainer.recipes.image: storyboard cards offline, OpenAI and fal online.
local image = require "explainer.recipes.image"
local cjson = require "cjson"
local mock = require "mock.server"
local util = require "mock.util"

local KEY = "sk-test-image-a7c3e9f1b2d4"
local FAL = "fal-key-id:fal-secret-3b9d8e7f"

local scene = {
  scene_number = 4, title = "The Core Problem", duration = 6,
  narration = "Every project means writing parsers.",
  layout = "- Background: white\n- Text: \"Repetitive Coding\" - bold",
  initial_prompt = "Create a minimalist 9:16 scene with a tired developer",
  animation_prompt = "Code files stack up.",
}

describe("image recipe", function()
  local server, dir
  setup(function() server = mock.start { key = KEY, lifetime = 90 } end)
  teardown(function() server:stop() end)
  before_each(function()
    dir = util.tmpdir()
    -- each test its own cache: these specs count the requests they cause
    require("explainer.settings").cache_dir = dir .. "/cache"
    server:plan({})
  end)
  after_each(function() util.rmtree(dir) end)

  local function last_request()
    local reqs = server:requests()
    return reqs[#reqs], #reqs
  end

  describe("local backend", function()
    it("draws a PNG card with the frame's aspect for each format", function()
      local cases = { { nil, 1080, 1920 }, { "9:16 VERTICAL", 1080, 1920 },
                      { "16:9 HORIZONTAL", 1920, 1080 }, { "1:1 SQUARE", 1080, 1080 } }
      for i, case in ipairs(cases) do
        local out = dir .. "/" .. i
        os.execute("mkdir -p " .. util.quote(out))
        local path = assert(image.generate(scene, out, { backend = "local", format = case[1] }))
        assert.equal(out .. "/final.png", path)
        local w, h = util.png_size(path)
        assert.same({ case[2], case[3] }, { w, h })
      end
    end)

    it("draws scenes with no prompt, no layout, or text full of shell and ImageMagick syntax", function()
      local odd = { scene_number = 12, title = "$(touch pwned) `id`; 'x' \"y\" 100%", duration = 6,
                    initial_prompt = "@/etc/passwd %[w] \\n " .. string.rep("long words ", 400) }
      assert(image.generate(odd, dir, { backend = "local" }))
      assert(image.generate({ scene_number = 1, title = "Bare" }, dir, { backend = "local", filename = "b.png" }))
      assert.truthy(util.png_size(dir .. "/final.png"))
      assert.truthy(util.png_size(dir .. "/b.png"))
      assert.is_nil(io.open("pwned"))
    end)
  end)

  describe("prompt_for", function()
    it("uses the scene's initial prompt", function()
      assert.equal(scene.initial_prompt, image.prompt_for(scene))
    end)

    it("builds a prompt from title, layout and animation prompt when there is none", function()
      local p = image.prompt_for({ title = "Opening", layout = "- Background: white\n- Text: Hello",
                                   animation_prompt = "Fade in." }, { format = "16:9" })
      assert.matches("horizontal 16:9", p, 1, true)
      assert.matches("Scene: Opening.", p, 1, true)
      assert.matches("Layout: Background: white", p, 1, true)
      assert.matches("Fade in.", p, 1, true)
      -- the on-screen text is set over the image afterwards, never asked of the model
      assert.is_nil(p:find("Hello", 1, true))
      assert.matches("No lettering", p, 1, true)
    end)
  end)

  describe("openai backend", function()
    local function opts(extra)
      local o = { backend = "openai", api_key = KEY, base_url = server.url .. "/v1", backoff = 0.01,
                  format = "9:16 VERTICAL" }
      for k, v in pairs(extra or {}) do o[k] = v end
      return o
    end

    it("posts {model, prompt, size, n} with a Bearer key and stores the b64_json image", function()
      local path = assert(image.generate(scene, dir, opts()))
      local req = last_request()
      assert.equal("/v1/images/generations", req.path)
      assert.equal("Bearer " .. KEY, req.headers.authorization)
      assert.same({ model = "gpt-image-1", prompt = scene.initial_prompt, size = "1024x1536", n = 1 },
                  cjson.decode(req.body))
      local png = assert(require("explainer.http").request { url = server.url .. "/files/image.png" }).body
      -- the service's image is kept as it came; final.png is the frame with it, at the frame's size
      assert.equal(png, util.read(dir .. "/generated.png"))
      assert.equal(dir .. "/final.png", path)
      assert.same({ 1080, 1920 }, { util.png_size(path) })
      assert.not_equal(png, util.read(path))
    end)

    it("remakes the frame, not the service's image, when only the on-screen text changes", function()
      assert(image.generate(scene, dir, opts()))
      local _, n = last_request()
      local generated, final = util.read(dir .. "/generated.png"), util.read(dir .. "/final.png")
      local edited = {}
      for k, v in pairs(scene) do edited[k] = v end
      edited.layout = "- Background: white\n- Text: \"Other words\" - top third, bold"
      assert(image.generate(edited, dir, opts()))
      local _, n2 = last_request()
      assert.equal(n, n2)
      assert.equal(generated, util.read(dir .. "/generated.png"))
      assert.not_equal(final, util.read(dir .. "/final.png"))
    end)

    it("takes a service's image made before it had its own file from final.png, paying nothing", function()
      local artifact = require "explainer.artifact"
      local png = assert(require("explainer.http").request { url = server.url .. "/files/image.png" }).body
      local source = image.sources(scene, opts())[1]
      local write = require("explainer.recipes.common").write_file
      assert(artifact.make(dir .. "/final.png", source.key, function(tmp) return write(tmp, png) end))
      local _, n = last_request()
      assert(image.generate(scene, dir, opts()))
      local _, n2 = last_request()
      assert.equal(n, n2)
      assert.equal(png, util.read(dir .. "/generated.png"))
      assert.same({ 1080, 1920 }, { util.png_size(dir .. "/final.png") })
    end)

    it("downloads the image when the answer is a URL", function()
      server:plan { { kind = "url" } }
      local path = assert(image.generate(scene, dir, opts { model = "dall-e-3", format = "16:9" }))
      assert.equal("\137PNG", util.read(path):sub(1, 4))
      local reqs = server:requests()
      assert.equal("1792x1024", cjson.decode(reqs[#reqs].body).size)
    end)

    it("retries a 429 and then succeeds", function()
      server:plan { { status = 429, retry_after = "0" } }
      local _, n0 = last_request()
      assert(image.generate(scene, dir, opts()))
      local _, n1 = last_request()
      assert.equal(2, n1 - (n0 or 0))
    end)

    it("fails with the service's message on a refused key, and never repeats the key", function()
      server:plan { { status = 401, echo_key = true } }
      local path, err = image.generate(scene, dir, opts { api_key = KEY .. "-wrong" })
      assert.is_nil(path)
      assert.matches("^OpenAI images: HTTP 401: Incorrect API key provided", err)
      assert.is_nil(err:find(KEY, 1, true))
      assert.is_nil(io.open(dir .. "/final.png"))
    end)

    it("says which variable to set when there is no key", function()
      local path, err = image.generate(scene, dir, { backend = "openai", api_key = "" })
      if os.getenv("OPENAI_API_KEY") then return end
      assert.is_nil(path)
      assert.matches("OPENAI_API_KEY is not set", err, 1, true)
    end)
  end)

  describe("fal backend", function()
    it("posts the prompt to fal.run/<model> with a Key header and downloads the image", function()
      server:stop()
      server = mock.start { key = FAL, lifetime = 90 }
      local path = assert(image.generate(scene, dir, { backend = "fal", api_key = FAL, base_url = server.url,
                                                       backoff = 0.01 }))
      local req = server:requests()[1]
      assert.equal("/fal-ai/flux/schnell", req.path)
      assert.equal("Key " .. FAL, req.headers.authorization)
      assert.same({ prompt = scene.initial_prompt, image_size = "portrait_16_9", num_images = 1 },
                  cjson.decode(req.body))
      assert.equal("\137PNG", util.read(path):sub(1, 4))
      -- asked again for the same image: it is fresh, nothing is sent
      local n = #server:requests()
      assert.equal(path, image.generate(scene, dir, { backend = "fal", api_key = FAL, base_url = server.url }))
      assert.equal(n, #server:requests())
      server:plan { { status = 401 } }
      local edited = { scene_number = scene.scene_number, title = scene.title, duration = scene.duration,
                       initial_prompt = scene.initial_prompt .. " At dusk." }
      local p2, err = image.generate(edited, dir, { backend = "fal", api_key = FAL, base_url = server.url })
      assert.is_nil(p2)
      assert.equal("fal: HTTP 401: No user found for Key ID and Secret", err)
      server:stop()
      server = mock.start { key = KEY, lifetime = 90 }
    end)
  end)

  describe("edits: the script's own iterations", function()
    local chain = {
      scene_number = 5, title = "Chain", duration = 6,
      initial_prompt = "A red ball on a table.",
      iterations = { "Make the ball blue.", "Add a shadow.", "Zoom in a little." },
      final_prompt = nil,
    }
    local function sha256(path)
      local r = assert(require("explainer").exec({ "sha256sum", path }, { timeout = 30 }))
      return r.stdout:match("^(%x+)")
    end
    local function edits_opts(extra)
      local o = { backend = "openai", api_key = KEY, base_url = server.url .. "/v1", backoff = 0.01,
                  format = "9:16", edits = "on" }
      for k, v in pairs(extra or {}) do o[k] = v end
      return o
    end

    it("sends files in a multipart body whose boundary is in none of its parts", function()
      local http = require "explainer.http"
      local data = "\137PNG\r\n--explainer-\r\n\0binary\r\n"
      local body, ctype = http.multipart { { name = "prompt", value = "Make it \"blue\"." },
        { name = "image", filename = "image.png", content_type = "image/png", data = data } }
      local boundary = ctype:match("^multipart/form%-data; boundary=(%S+)$")
      assert.truthy(boundary)
      assert.is_nil(data:find(boundary, 1, true))
      local expected = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n"
        .. "Make it \"blue\".\r\n--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"image\"; "
        .. "filename=\"image.png\"\r\nContent-Type: image/png\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
      assert.equal(expected, body)
    end)

    it("sends one generation, then one edit per iteration in order, each with the image before it", function()
      local _, before = last_request()
      before = before or 0
      local path = assert(image.generate(chain, dir, edits_opts()))
      local reqs = server:requests()
      assert.equal(before + 4, #reqs)
      assert.equal("/v1/images/generations", reqs[before + 1].path)
      assert.equal(chain.initial_prompt, cjson.decode(reqs[before + 1].body).prompt)
      local files = { "initial.png", "iteration_1.png", "iteration_2.png", "iteration_3.png" }
      for i = 1, 3 do
        local r = reqs[before + 1 + i]
        assert.equal("/v1/images/edits", r.path)
        assert.equal("Bearer " .. KEY, r.headers.authorization)
        assert.equal(chain.iterations[i], r.parts.prompt.value)
        assert.equal("gpt-image-1", r.parts.model.value)
        assert.equal("1024x1536", r.parts.size.value)
        assert.equal("image/png", r.parts.image.content_type)
        assert.equal(sha256(dir .. "/" .. files[i]), r.parts.image.sha256)
      end
      -- every step kept, each different, the last one as generated.png (final.png: the frame with it)
      local seen = {}
      for _, f in ipairs(files) do
        local h = sha256(dir .. "/" .. f)
        assert.is_nil(seen[h], f)
        seen[h] = true
      end
      assert.equal(dir .. "/final.png", path)
      assert.equal(util.read(dir .. "/iteration_3.png"), util.read(dir .. "/generated.png"))
      -- asked again: every step is fresh, nothing is sent
      local n = #server:requests()
      assert(image.generate(chain, dir, edits_opts()))
      assert.equal(n, #server:requests())
    end)

    it("remakes from a changed iteration on, each edit again with the image before it", function()
      assert(image.generate(chain, dir, edits_opts()))
      local n = #server:requests()
      local changed = {}
      for k, v in pairs(chain) do changed[k] = v end
      changed.iterations = { chain.iterations[1], "Add a long soft shadow.", chain.iterations[3] }
      local first = util.read(dir .. "/iteration_1.png")
      assert(image.generate(changed, dir, edits_opts()))
      local reqs = server:requests()
      assert.equal(n + 2, #reqs)
      assert.equal("Add a long soft shadow.", reqs[n + 1].parts.prompt.value)
      assert.equal(sha256(dir .. "/iteration_1.png"), reqs[n + 1].parts.image.sha256)
      assert.equal(sha256(dir .. "/iteration_2.png"), reqs[n + 2].parts.image.sha256)
      assert.equal(first, util.read(dir .. "/iteration_1.png"))
      assert.equal(util.read(dir .. "/iteration_3.png"), util.read(dir .. "/generated.png"))
    end)

    it("keys each step on the one before, and the image's source is the last step", function()
      local steps = assert(image.steps(chain, edits_opts()))
      assert.same({ "initial.png", "iteration_1.png", "iteration_2.png", "iteration_3.png" },
        { steps[1].file, steps[2].file, steps[3].file, steps[4].file })
      assert.equal("image/1", steps[1].key.recipe)
      assert.equal(image.sources(chain, edits_opts { edits = "off" })[1].key.id, steps[1].key.id)
      for i = 2, 4 do
        assert.equal("image-edit/1", steps[i].key.recipe)
        assert.equal(steps[i - 1].key.parts.prompt, steps[i].key.parts["previous/prompt"])
      end
      assert.equal(steps[4].key.id, image.layers(chain, edits_opts()).source.key.id)
    end)

    it("stops at a failed edit, keeps the steps before it, and resumes there", function()
      server:plan { {}, {}, { status = 400 } }
      local path, err = image.generate(chain, dir, edits_opts())
      assert.is_nil(path)
      assert.matches("^OpenAI images: HTTP 400", err)
      assert.truthy(util.png_size(dir .. "/iteration_1.png"))
      assert.is_nil(io.open(dir .. "/iteration_2.png"))
      assert.is_nil(io.open(dir .. "/final.png"))
      local n = #server:requests()
      assert(image.generate(chain, dir, edits_opts()))
      local reqs = server:requests()
      assert.equal(n + 2, #reqs)
      assert.equal(chain.iterations[2], reqs[n + 1].parts.prompt.value)
      assert.equal(sha256(dir .. "/iteration_1.png"), reqs[n + 1].parts.image.sha256)
    end)

    it("makes one image from the initial prompt when edits are off (the default)", function()
      local _, before = last_request()
      assert(image.generate(chain, dir, edits_opts { edits = false }))
      local _, after = last_request()
      assert.equal(1, after - (before or 0))
      assert.is_nil(io.open(dir .. "/initial.png"))
    end)

    it("says so, and makes one image, when the model cannot edit", function()
      local log = require "explainer.log"
      local said = {}
      log.output = { write = function(_, ...) said[#said + 1] = table.concat { ... } end }
      local ok = image.generate(chain, dir, edits_opts { model = "dall-e-3" })
      log.output = io.stderr
      assert.truthy(ok)
      assert.matches("the openai image backend with dall%-e%-3 cannot edit images", said[1])
      assert.is_nil(io.open(dir .. "/initial.png"))
    end)

    it("sends a 2-step scene's final prompt to fal's nano-banana edit with the first image inline", function()
      server:stop()
      server = mock.start { key = FAL, lifetime = 90 }
      local two = { scene_number = 6, title = "Two", duration = 6, initial_prompt = "A lighthouse, rough sketch.",
                    final_prompt = "The lighthouse at dusk, warm beam." }
      local path = assert(image.generate(two, dir, { backend = "fal", api_key = FAL, base_url = server.url,
                                                     backoff = 0.01, edits = "on" }))
      local reqs = {}
      for _, r in ipairs(server:requests()) do
        if r.method == "POST" then reqs[#reqs + 1] = r end
      end
      assert.same({ "/fal-ai/flux/schnell", "/fal-ai/nano-banana/edit" }, { reqs[1].path, reqs[2].path })
      local body = cjson.decode(reqs[2].body)
      assert.equal(two.final_prompt, body.prompt)
      assert.equal(1, body.num_images)
      local sent = assert(require("explainer.recipes.base64").decode(body.image_urls[1]:match("^data:image/png;base64,(.+)$")))
      assert.equal(util.read(dir .. "/initial.png"), sent)
      assert.equal(dir .. "/final.png", path)
      assert.not_equal(util.read(dir .. "/initial.png"), util.read(path))
      server:stop()
      server = mock.start { key = KEY, lifetime = 90 }
    end)
  end)

  it("refuses an unknown backend with a message", function()
    local path, err = image.generate(scene, dir, { backend = "crayons" })
    assert.is_nil(path)
    assert.matches("unknown image backend 'crayons'", err, 1, true)
  end)

  describe("scripts/image.lua", function()
    it("fails a scene refused by the service with its message, the key nowhere", function()
      local input = util.root() .. "/tests/fixtures/recipes_image.txt"
      local status, out, err = util.run_host(dir, "image.lua", input, {
        EXPLAINER_IMAGE_BACKEND = "openai", OPENAI_API_KEY = KEY .. "-refused",
        OPENAI_BASE_URL = server.url .. "/v1", EXPLAINER_HTTP_BACKOFF = "0.01",
      }, { "--output-dir", dir .. "/out" })
      assert.equal(1, status, err)
      assert.matches("Incorrect API key provided", err, 1, true)
      for _, text in ipairs { out, err } do
        assert.is_nil(text:find(KEY, 1, true))
      end
      for _, file in ipairs(util.files(dir)) do
        assert.is_nil((util.read(file) or ""):find(KEY, 1, true), file)
      end
    end)

    it("makes a card per scene offline", function()
      local input = util.root() .. "/tests/fixtures/recipes_image.txt"
      local status, _, err = util.run_host(dir, "image.lua", input, {}, { "--output-dir", dir .. "/out" })
      assert.equal(0, status, err)
      assert.same({ 1080, 1080 }, { util.png_size(dir .. "/out/recipes_image/scene_01/final.png") })
      assert.same({ 1080, 1080 }, { util.png_size(dir .. "/out/recipes_image/scene_02/final.png") })
    end)
  end)
end)
