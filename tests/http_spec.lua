-- explainer.http: raw requests, and the retrying API client.
local explainer = require "explainer"
local http = require "explainer.http"
local h = require "helpers"
local cjson = require "cjson"
local mock = require "mock.server"

local KEY = "sk-test-http-5f1e0c9d7b"

describe("explainer.http", function()
  local server
  setup(function() server = mock.start { key = KEY, lifetime = 90 } end)
  teardown(function() server:stop() end)
  before_each(function() server:plan({}) end)

  local function client(extra)
    local delays = {}
    local spec = {
      name = "OpenAI images", base_url = server.url .. "/v1",
      headers = { Authorization = "Bearer " .. KEY },
      retries = 3, backoff = 0.2,
      sleep = function(s) delays[#delays + 1] = s end,
      log = function() end,
    }
    for k, v in pairs(extra or {}) do spec[k] = v end
    return http.client(spec), delays
  end

  local function count_requests()
    return #server:requests()
  end

  describe("request", function()
    it("is reachable from the facade", function()
      assert.equal(http.request, explainer.http.request)
    end)

    it("returns any answer, a 404 included, with lower-case header names", function()
      local r = assert(http.request { url = server.url .. "/nowhere" })
      assert.equal(404, r.status)
      assert.equal("application/json", r.headers["content-type"])
      assert.equal("Not Found", cjson.decode(r.body).detail)
    end)

    it("keeps binary bodies whole", function()
      local r = assert(http.request { url = server.url .. "/files/image.png" })
      assert.equal(200, r.status)
      assert.equal("\137PNG\r\n\26\n", r.body:sub(1, 8))
      assert.equal(tonumber(r.headers["content-length"]), #r.body)
    end)

    it("returns nil and a message when nothing answers", function()
      local r, err = http.request { url = "http://127.0.0.1:9/", timeout = 5 }
      assert.is_nil(r)
      assert.matches("127.0.0.1", err, 1, true)
    end)

    it("gives up at its timeout with nil and a message", function()
      server:plan { { delay = 3 } }
      local t0 = os.time()
      local r, err = http.request { method = "POST", url = server.url .. "/fal-ai/x", body = "{}", timeout = 0.5 }
      assert.is_nil(r)
      assert.matches("timed out", err, 1, true)
      assert.is_true(os.time() - t0 <= 2)
    end)

    it("says what kind of failure it was, so that a caller need not read the message", function()
      local r, err, kind = http.request { url = "http://127.0.0.1:9/", timeout = 5 }
      assert.is_nil(r)
      assert.is_string(err)
      assert.equal("connect", kind)
      server:plan { { delay = 2 } }
      r, err, kind = http.request { method = "POST", url = server.url .. "/fal-ai/x", body = "{}", timeout = 0.3 }
      assert.is_nil(r)
      assert.matches("timed out", err, 1, true)
      assert.equal("timeout", kind)
    end)

    it("never puts the URL in its message: it may carry a key", function()
      local r, err = http.request { url = "http://127.0.0.1:9/x?key=sk-in-the-url-123456", timeout = 5 }
      assert.is_nil(r)
      assert.is_nil(err:find("sk-in-the-url", 1, true))
    end)

    it("refuses a header that would smuggle in another", function()
      local r, err = http.request { url = server.url .. "/x", headers = { ["X-A"] = "a\r\nX-B: b" } }
      assert.is_nil(r)
      assert.matches("invalid HTTP header", err, 1, true)
    end)
  end)

  describe("client", function()
    it("retries a 429, honouring Retry-After, then succeeds", function()
      server:plan { { status = 429, retry_after = "1" } }
      local c, delays = client()
      local n0 = count_requests()
      local data = assert(c:json { path = "/images/generations", json = { model = "m", prompt = "p" } })
      assert.is_table(data.data)
      assert.same({ 1 }, delays)
      assert.equal(2, count_requests() - n0)
    end)

    it("backs off exponentially with jitter when the service names no delay", function()
      server:plan { { status = 500 }, { status = 503 }, { status = 500 } }
      local c, delays = client()
      assert(c:request { path = "/images/generations", json = { model = "m", prompt = "p" } })
      assert.equal(3, #delays)
      for i, d in ipairs(delays) do
        local full = 0.2 * 2 ^ (i - 1)
        assert.is_true(d >= full / 2 and d <= full, "delay " .. i .. " = " .. d)
      end
    end)

    it("gives up after its retries with the service's own message", function()
      server:plan { { status = 500 }, { status = 500 }, { status = 500 }, { status = 500 } }
      local c = client()
      local n0 = count_requests()
      local r, err = c:request { path = "/images/generations", json = { model = "m", prompt = "p" } }
      assert.is_nil(r)
      assert.equal("OpenAI images: HTTP 500: The server had an error while processing your request. "
                   .. "Sorry about that! (gave up after 4 attempts)", err)
      assert.equal(4, count_requests() - n0)
    end)

    it("does not retry a 400 or a 401", function()
      for _, status in ipairs { 400, 401 } do
        server:plan { { status = status } }
        local c, delays = client()
        local n0 = count_requests()
        local r, err = c:request { path = "/images/generations", json = { model = "m", prompt = "p" } }
        assert.is_nil(r)
        assert.matches("^OpenAI images: HTTP " .. status .. ": ", err)
        assert.equal(1, count_requests() - n0)
        assert.same({}, delays)
      end
    end)

    it("retries when there is no answer at all, then reports it", function()
      local c, delays = client { base_url = "http://127.0.0.1:9", retries = 2 }
      local r, err = c:request { path = "/x" }
      assert.is_nil(r)
      assert.equal(2, #delays)
      assert.matches("gave up after 3 attempts", err, 1, true)
    end)

    it("masks the key in every message, even when the service repeats it", function()
      server:plan { { status = 401, echo_key = true } }
      local logged = {}
      local c = client { log = function(m) logged[#logged + 1] = m end }
      local r, err = c:request { path = "/images/generations", json = { model = "m", prompt = "p" } }
      assert.is_nil(r)
      assert.matches("Incorrect API key provided: ***", err, 1, true)
      assert.is_nil(err:find(KEY, 1, true))
      server:plan { { status = 429, retry_after = "0", echo_key = true } }
      c:request { path = "/images/generations", json = { model = "m", prompt = "p" } }
      for _, m in ipairs(logged) do assert.is_nil(m:find(KEY, 1, true)) end
    end)

    it("sends the key only in the headers it was given", function()
      local c = client()
      assert(c:request { path = "/images/generations", json = { model = "m", prompt = "p" } })
      local reqs = server:requests()
      local last = reqs[#reqs]
      assert.equal("Bearer " .. KEY, last.headers.authorization)
      assert.is_nil(last.path:find(KEY, 1, true))
      assert.is_nil(last.body:find(KEY, 1, true))
      assert.equal("application/json", last.headers["content-type"])
    end)
  end)

  describe("error_message", function()
    local function msg(body) return http.error_message { status = 400, body = body } end

    it("reads the messages of OpenAI, ElevenLabs and fal", function()
      assert.equal("bad size", msg('{"error":{"message":"bad size","type":"invalid_request_error"}}'))
      assert.equal("Invalid API key", msg('{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}'))
      assert.equal("Unauthorized", msg('{"detail":"Unauthorized"}'))
      assert.equal("body.prompt: field required", msg('{"detail":[{"loc":["body","prompt"],"msg":"field required"}]}'))
      assert.is_nil(msg("<html><body>502 Bad Gateway</body></html>"))
    end)
  end)

  describe("client defaults", function()
    local function child(env, code)
      local p = io.popen(("env %s %s lua5.4 -e %q 2>&1"):format(env, h.lua_env(), code))
      local out = p:read("a")
      p:close()
      return out
    end

    it("takes its timeout from EXPLAINER_HTTP_TIMEOUT, else 300 seconds, unless given one", function()
      local code = [[local http = require "explainer.http"
        io.write(http.client{}.timeout, " ", http.client{ timeout = 9 }.timeout)]]
      assert.equal("300 9", child("-u EXPLAINER_HTTP_TIMEOUT", code))
      assert.equal("42 9", child("EXPLAINER_HTTP_TIMEOUT=42", code))
      assert.equal("300 9", child("EXPLAINER_HTTP_TIMEOUT=soon", code))
    end)
  end)

  describe("error_message", function()
    it("masks a key before it cuts a long plain-text message, so no prefix is left at the cut", function()
      local key = "sk-cut-0123456789abcdef"
      for at = 285, 300 do
        local msg = http.error_message({ status = 400, body = string.rep("y", at) .. key .. " tail" }, { key })
        assert.is_true(#msg <= 303, "at " .. at)
        for n = 4, #key do
          assert.is_nil(msg:find(key:sub(1, n), 1, true), "at " .. at .. ": " .. msg)
        end
      end
    end)

    it("masks a key in a JSON message and cuts it to 300 characters", function()
      local key = "sk-json-0123456789abcdef"
      local body = cjson.encode { error = { message = string.rep("z", 290) .. key } }
      local msg = http.error_message({ status = 400, body = body }, { key })
      assert.equal(string.rep("z", 290) .. "***", msg)
      body = cjson.encode { error = { message = string.rep("z", 400) } }
      assert.equal(string.rep("z", 300) .. "...", http.error_message({ status = 400, body = body }))
    end)
  end)

  describe("shorten", function()
    it("drops a secret cut at the end of the part of a huge text it reads", function()
      local key = "sk-huge-0123456789abcdef"
      for shift = 0, #key do
        local text = string.rep(" ", 65536 - shift) .. key .. string.rep("w", 1000)
        local msg = http.shorten(text, 300, { key })
        for n = 4, #key do
          assert.is_nil(msg:find(key:sub(1, n), 1, true), "shift " .. shift .. ": " .. msg)
        end
      end
    end)

    it("makes one line of at most the limit", function()
      assert.equal("a b c", http.shorten("  a\n b\t\tc  ", 10))
      assert.equal("abcde...", http.shorten("abcdefgh", 5))
    end)
  end)

  describe("retry_delay", function()
    it("reads Retry-After as seconds or as an HTTP date, within max_delay", function()
      assert.equal(7, http.retry_delay({ headers = { ["retry-after"] = "7" } }, 1))
      assert.equal(60, http.retry_delay({ headers = { ["retry-after"] = "3600" } }, 1))
      assert.equal(0.25, http.retry_delay({ headers = { ["retry-after-ms"] = "250" } }, 1))
      local soon = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 10)
      local d = http.retry_delay({ headers = { ["retry-after"] = soon } }, 1)
      assert.is_true(d >= 8 and d <= 11, "delay " .. d)
    end)
  end)

  describe("mask", function()
    it("replaces every occurrence of each secret", function()
      assert.equal("a *** b ***", http.mask("a sk-12345 b sk-12345", { "sk-12345" }))
      assert.equal("a.b", http.mask("a.b", { "." }))   -- too short to be a key
    end)

    it("masks the userinfo and the parameter values of any URL", function()
      assert.equal("GET https://***@cdn.example/img.png?X-Amz-Signature=***&X-Amz-Expires=*** failed",
        http.mask("GET https://user:pw-1234@cdn.example/img.png?X-Amz-Signature=abc123&X-Amz-Expires=300 failed"))
      assert.equal("see http://h/cb#access_token=***", http.mask("see http://h/cb#access_token=tok-987"))
      assert.equal("http://h/path/file.png stays", http.mask("http://h/path/file.png stays"))
    end)

    it("masks Authorization and key-like header values and Bearer tokens", function()
      assert.equal("sent Authorization: Bearer *** and xi-api-key: *** ok",
        http.mask("sent Authorization: Bearer sk-abc123 and xi-api-key: el-999 ok"))
      assert.equal('{"api_key": "***", "token":"***"}', http.mask('{"api_key": "k-1", "token":"t-2"}'))
      assert.equal("authorization=Key ***", http.mask("authorization=Key fal-id:fal-secret"))
      assert.equal("a bearer *** here", http.mask("a bearer abc.def.ghi here"))
    end)

    it("leaves a service's ordinary words alone", function()
      for _, text in ipairs { "Incorrect API key provided: ***. You can find your API key at ***.",
                              "No user found for Key ID and Secret",
                              "HTTP 500: The server had an error while processing your request." } do
        assert.equal(text, http.mask(text))
      end
    end)

    it("leaves a megabyte-long word alone (each pattern is tried once per word)", function()
      local text = string.rep("a1B2", 1024 * 1024 / 4)   -- 1 MB of one "word"
      assert.equal(text, http.mask(text))
    end)
  end)
end)
