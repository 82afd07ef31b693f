-- explainer.http: raw requests, and the retrying API client.
local explainer = require "explainer"
local http = require "explainer.http"
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
  end)
end)
