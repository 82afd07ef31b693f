-- explainer.http against hostile and broken servers: bodies too large (a gzip
-- bomb, a 2 GiB Content-Length), Ctrl-C during a request, answers that are
-- not what was asked for, errors that cannot get better, and keys that a
-- server or a URL tries to leak. The servers are tests/mock/api_server.py's
-- hostile answers, on 127.0.0.1.
local http = require "explainer.http"
local cjson = require "cjson"
local core = require "explainer_core"
local mock = require "mock.server"
local h = require "helpers"

local KEY = "sk-test-hardening-7c1d9e2f4a6b8c0d"
local MB = 1024 * 1024
-- Under make test-asan the sanitizer's shadow memory and quarantine inflate
-- every process: the memory bound is then not what is measured.
local SANITIZED = (os.getenv("EXPLAINER_TEST_PRELOAD") or "") ~= ""

-- Every prefix of the key long enough to help a thief (4 characters on).
local function assert_no_key(text, key, what)
  key = key or KEY
  for n = #key, 6, -1 do
    assert.is_nil(tostring(text):find(key:sub(1, n), 1, true),
                  (what or "text") .. " holds the first " .. n .. " characters of the key: " .. tostring(text))
  end
end

-- A regression must fail these tests, not exhaust the machine that runs
-- them: the children that face a 4 GiB answer get 1.5 GB of address space
-- (not under ASan, which reserves terabytes of it).
local function limit_memory()
  return SANITIZED and "" or "ulimit -v 1500000 && "
end

-- Run a Lua program in a child lua5.4 (same LUA_PATH/LUA_CPATH) with extra
-- environment variables; returns its stdout and stderr together, and the
-- fields it printed as "name=value" lines.
local function run_lua(code, env)
  local dir = h.tmpdir()
  local file = h.write(dir .. "/child.lua", code)
  local words = { limit_memory() .. "env", h.lua_env() }
  for k, v in pairs(env or {}) do words[#words + 1] = h.shell_quote(k .. "=" .. v) end
  words[#words + 1] = "lua5.4"
  words[#words + 1] = h.shell_quote(file)
  local p = io.popen(table.concat(words, " ") .. " 2>&1")
  local out = p:read("a")
  p:close()
  h.rm_rf(dir)
  local fields = {}
  for k, v in out:gmatch("([%w_]+)=([^\n]*)") do fields[k] = v end
  return out, fields
end

-- The peak resident memory of this process, in kB, printed by a child.
local PRINT_HWM = [[
local f = io.open("/proc/self/status")
print("hwm=" .. f:read("a"):match("VmHWM:%s*(%d+)"))
f:close()
]]

describe("explainer.http against hostile servers", function()
  local server
  setup(function() server = mock.start { key = KEY, lifetime = 170 } end)
  teardown(function() server:stop() end)
  before_each(function() server:plan({}) end)

  local function stats(name)
    local r = assert(http.request { url = server.url .. "/_mock/stats", timeout = 10 })
    return cjson.decode(r.body)[name] or { started = 0, sent = 0, hung_up = 0 }
  end

  local function client(extra)
    local delays = {}
    local spec = { name = "OpenAI speech", base_url = server.url .. "/v1",
                   headers = { Authorization = "Bearer " .. KEY }, retries = 2, backoff = 0.01,
                   sleep = function(s) delays[#delays + 1] = s end, log = function() end }
    for k, v in pairs(extra or {}) do spec[k] = v end
    return http.client(spec), delays
  end

  describe("body cap", function()
    it("stops a gzip bomb once its decoded bytes pass max_bytes", function()
      local r, err, kind = http.request { url = server.url .. "/hostile/gzip_bomb?size=" .. 64 * MB,
                                          max_bytes = 4 * MB }
      assert.is_nil(r)
      assert.equal("answer larger than 4 MB (limit max_bytes)", err)
      assert.equal("too_large", kind)
    end)

    it("counts a deflate answer the same way, decoded", function()
      local r, err = http.request { url = server.url .. "/hostile/gzip_bomb?encoding=deflate&size=" .. 64 * MB,
                                    max_bytes = 3 * MB }
      assert.is_nil(r)
      assert.equal("answer larger than 3 MB (limit max_bytes)", err)
      local ok = assert(http.request { url = server.url .. "/hostile/gzip_bomb?encoding=deflate&size=" .. 2 * MB,
                                       max_bytes = 3 * MB })
      assert.equal(2 * MB, #ok.body)
      assert.equal(string.rep("\0", 2 * MB), ok.body)
    end)

    it("keeps a 4 GiB decompressed answer under 300 MB of memory with the default 200 MB cap", function()
      local out, got = run_lua(([[
        local http = require "explainer.http"
        local r, err, kind = http.request { url = %q }
        print("status=" .. tostring(r and r.status))
        print("err=" .. tostring(err))
        print("kind=" .. tostring(kind))
      ]]):format(server.url .. "/hostile/gzip_bomb") .. PRINT_HWM)
      assert.equal("nil", got.status, out)
      assert.equal("answer larger than 200 MB (limit EXPLAINER_HTTP_MAX_BYTES)", got.err)
      assert.equal("too_large", got.kind)
      local hwm = assert(tonumber(got.hwm), out)
      assert.is_true(hwm > 200 * 1024, "the child held the 200 MB it was allowed: " .. hwm .. " kB")
      if not SANITIZED then
        assert.is_true(hwm < 300 * 1024, "peak RSS " .. hwm .. " kB")
      end
    end)

    it("refuses a 2 GiB Content-Length before reading the body, and hangs up", function()
      local before = stats("huge_length")
      local r, err, kind = http.request { url = server.url .. "/hostile/huge_length", max_bytes = 100 * MB }
      assert.is_nil(r)
      assert.equal("answer larger than 100 MB (limit max_bytes)", err)
      assert.equal("too_large", kind)
      local after = stats("huge_length")
      -- What the server wrote before it noticed: socket buffers, not the
      -- 100 MB a client that ignored the Content-Length would have read.
      assert.is_true(after.sent - before.sent < 48 * MB, "sent " .. (after.sent - before.sent))
      for _ = 1, 100 do   -- the server notices the hang-up on its next write
        if after.hung_up > before.hung_up then break end
        core.sleep(0.05)
        after = stats("huge_length")
      end
      assert.equal(before.hung_up + 1, after.hung_up)
    end)

    it("accepts a body of exactly max_bytes and refuses one byte more, with or without a Content-Length", function()
      for _, chunked in ipairs { "", "&chunked=1" } do
        local ok = assert(http.request { url = server.url .. "/hostile/bytes?n=10000" .. chunked, max_bytes = 10000 })
        assert.equal(10000, #ok.body)
        local r, err = http.request { url = server.url .. "/hostile/bytes?n=10001" .. chunked, max_bytes = 10000 }
        assert.is_nil(r)
        assert.equal("answer larger than 10000 bytes (limit max_bytes)", err)
      end
    end)

    it("takes its default from EXPLAINER_HTTP_MAX_BYTES (bytes, K, M or G)", function()
      local code = ([[
        local http = require "explainer.http"
        local r, err = http.request { url = %q }
        print("err=" .. tostring(err))
        print("len=" .. tostring(r and #r.body))
      ]]):format(server.url .. "/hostile/bytes?n=" .. (MB + 1))
      local _, got = run_lua(code, { EXPLAINER_HTTP_MAX_BYTES = "1M" })
      assert.equal("answer larger than 1 MB (limit EXPLAINER_HTTP_MAX_BYTES)", got.err)
      _, got = run_lua(code, { EXPLAINER_HTTP_MAX_BYTES = "2M" })
      assert.equal(tostring(MB + 1), got.len)
      _, got = run_lua(code, { EXPLAINER_HTTP_MAX_BYTES = "1048577" })
      assert.equal(tostring(MB + 1), got.len)
    end)

    it("says which setting is wrong when EXPLAINER_HTTP_MAX_BYTES is not a size", function()
      for _, bad in ipairs { "lots", "0", "-5", "12X", "1.5M" } do
        local _, got = run_lua(([[
          local r, err, kind = require("explainer.http").request { url = %q }
          print("err=" .. tostring(err)); print("kind=" .. tostring(kind))
        ]]):format(server.url .. "/files/a.png"), { EXPLAINER_HTTP_MAX_BYTES = bad })
        assert.equal("EXPLAINER_HTTP_MAX_BYTES='" .. bad .. "' is not a size (bytes, or a number with K, M or G)",
                     got.err)
        assert.equal("setup", got.kind)
      end
    end)

    it("refuses a max_bytes that is not a whole number of bytes, as a caller's mistake", function()
      for _, bad in ipairs { 0, -1, 1.5, "10" } do
        assert.has_error(function() http.request { url = server.url .. "/files/a.png", max_bytes = bad } end,
                         "bad field 'max_bytes' (a whole number of bytes, at least 1)")
      end
    end)

    it("does not retry an answer over the cap", function()
      local c, delays = client()
      local before = stats("gzip_bomb").started
      local r, err, _, kind = c:request { url = server.url .. "/hostile/gzip_bomb?size=" .. 16 * MB, max_bytes = MB }
      assert.is_nil(r)
      assert.equal("OpenAI speech: answer larger than 1 MB (limit max_bytes)", err)
      assert.equal("too_large", kind)
      assert.same({}, delays)
      assert.equal(before + 1, stats("gzip_bomb").started)
    end)

    it("passes the client's max_bytes to every request", function()
      local c = client { max_bytes = 1000 }
      local r, err = c:request { url = server.url .. "/hostile/bytes?n=1001" }
      assert.is_nil(r)
      assert.equal("OpenAI speech: answer larger than 1000 bytes (limit max_bytes)", err)
      assert(c:request { url = server.url .. "/hostile/bytes?n=1001", max_bytes = 2000 })
    end)
  end)

  describe("errors that cannot get better", function()
    it("does not retry a redirect loop, and says so", function()
      local c, delays = client()
      local before = stats("redirect_loop").started
      local r, err, _, kind = c:request { url = server.url .. "/hostile/redirect_loop", follow_redirects = true }
      assert.is_nil(r)
      assert.equal("OpenAI speech: too many redirects: Maximum (5) redirects followed", err)
      assert.equal("redirects", kind)
      assert.same({}, delays)
      assert.equal(before + 6, stats("redirect_loop").started)   -- the request and 5 redirects, once
    end)

    it("does not retry an answer that is not HTTP or not decodable", function()
      for _, case in ipairs { { "garbage", "Received HTTP/0.9" }, { "bad_gzip", "unencoding" } } do
        local c, delays = client()
        local r, err, _, kind = c:request { url = server.url .. "/hostile/" .. case[1] }
        assert.is_nil(r)
        assert.matches("^OpenAI speech: the server's answer breaks HTTP: .*" .. case[2], err)
        assert.equal("protocol", kind)
        assert.same({}, delays)
      end
    end)

    it("does not retry a bad URL or an unsupported protocol", function()
      for _, url in ipairs { "ftp://127.0.0.1/file.mp3", "http://[::1", "file:///etc/passwd" } do
        local c, delays = client()
        local r, err, _, kind = c:request { url = url }
        assert.is_nil(r, url)
        assert.equal("bad_url", kind, url .. ": " .. tostring(err))
        assert.same({}, delays)
      end
    end)

    it("does not retry a certificate that cannot be trusted", function()
      if os.execute("command -v openssl >/dev/null") ~= true then
        pending("openssl is not installed: no certificate to distrust")
        return
      end
      local pipe = assert(io.popen(("echo $$; exec python3 %s --tls --lifetime 30")
        :format(h.shell_quote(h.root .. "/tests/mock/api_server.py"))))
      local pid = assert(tonumber(pipe:read("l")))
      local port = assert(tonumber(pipe:read("l")), "the TLS stand-in did not start")
      local c, delays = client()
      local r, err, _, kind = c:request { url = "https://127.0.0.1:" .. port .. "/files/x.png" }
      assert.is_nil(r)
      assert.equal("certificate", kind, err)
      assert.matches("^OpenAI speech: SSL certificate problem: self.signed certificate", err)
      assert.same({}, delays)
      os.execute("kill " .. pid)   -- it cannot be asked over HTTPS: nothing trusts it
      pipe:close()
    end)

    it("still retries a timeout and a refused connection", function()
      server:plan { { delay = 2 } }
      local c, delays = client { retries = 1 }
      local r = assert(c:request { path = "/audio/speech", timeout = 0.5,
                                   json = { model = "m", input = "hi", voice = "v" } })
      assert.equal(200, r.status)
      assert.equal(1, #delays)
      local c2, delays2 = client { base_url = "http://127.0.0.1:9", retries = 1 }
      local r2, _, _, kind = c2:request { path = "/x" }
      assert.is_nil(r2)
      assert.equal("connect", kind)
      assert.equal(1, #delays2)
    end)
  end)

  describe("answers checked against what was asked for", function()
    it("fails a 200 text/html answer where audio was expected, naming the type and the first bytes", function()
      server:plan { { hostile = "html" } }
      local c, delays = client()
      local r, err, last, kind = c:request { path = "/audio/speech", expect = "audio",
                                             json = { model = "m", input = "hi", voice = "v" } }
      assert.is_nil(r)
      assert.equal("OpenAI speech: the answer is text/html, not audio (first bytes: "
                   .. "<!DOCTYPE html><html><head><title>Sign i...)", err)
      assert.equal(200, last.status)
      assert.equal("unexpected", kind)
      assert.same({}, delays)
    end)

    it("fails a JSON answer where an image was expected", function()
      local c = client()
      local r, err = c:request { url = server.url .. "/hostile/json", expect = "image" }
      assert.is_nil(r)
      assert.matches("^OpenAI speech: the answer is application/json, not an image %(first bytes: {", err)
    end)

    it("fails an audio/mpeg answer whose bytes are not audio, and an empty one", function()
      local c = client()
      local r, err = c:request { url = server.url .. "/hostile/wrong_bytes", expect = "audio" }
      assert.is_nil(r)
      assert.equal("OpenAI speech: the answer is audio/mpeg but its bytes are not audio "
                   .. "(first bytes: this is not audio at all)", err)
      r, err = c:request { url = server.url .. "/hostile/empty", expect = "audio" }
      assert.is_nil(r)
      assert.equal("OpenAI speech: the answer is empty (audio/mpeg)", err)
    end)

    it("shows only the media type of a Content-Type, without its parameters or control characters", function()
      local c = client()
      local r, err = c:request { url = server.url .. "/hostile/html?content_type=text/h%1Btml%3B%20key%3Dsk-x",
                                 expect = "audio" }
      assert.is_nil(r)
      assert.matches("^OpenAI speech: the answer is text/h%?tml, not audio ", err)
    end)

    it("accepts application/octet-stream only when the bytes are of the kind asked for", function()
      local c = client()
      local r = assert(c:request { url = server.url .. "/hostile/octet", expect = "audio" })
      assert.equal("mp3", r.kind)
      r = assert(c:request { url = server.url .. "/hostile/octet?what=png", expect = "image" })
      assert.equal("png", r.kind)
      local bad, err = c:request { url = server.url .. "/hostile/octet?what=png", expect = "audio" }
      assert.is_nil(bad)
      assert.matches("^OpenAI speech: the answer is application/octet%-stream but its bytes are not audio "
                     .. "%(first bytes: \\x89PNG\\x0D\\x0A", err)
    end)

    it("accepts a real answer and says what it holds", function()
      local c = client()
      local r = assert(c:request { path = "/audio/speech", expect = "audio",
                                   json = { model = "m", input = "hi", voice = "v" } })
      assert.equal("mp3", r.kind)
      r = assert(c:request { url = server.url .. "/files/x.png", expect = { "png", "jpeg" } })
      assert.equal("png", r.kind)
    end)

    it("refuses an expectation it does not know, as a caller's mistake", function()
      assert.has_error(function() client():request { url = server.url .. "/files/x.png", expect = "smell" } end,
        "bad field 'expect': unknown kind of media 'smell' "
        .. "(image, audio, video, png, jpeg, webp, gif, mp3, wav or mp4)")
    end)
  end)

  describe("keys kept out of every message", function()
    it("masks a key that straddles the 300-character cut of a message, leaving no prefix", function()
      for _, at in ipairs { 280, 290, 295, 299 } do
        local c = client { retries = 0 }
        local r, err = c:request { url = server.url .. "/hostile/key_at?at=" .. at }
        assert.is_nil(r)
        assert.matches("^OpenAI speech: HTTP 400: x+", err)
        assert_no_key(err, KEY, "cut at " .. at)
      end
    end)

    it("masks a key that a download URL carries when a 404 echoes it, with no secrets given", function()
      local secret = "dl-sig-91be7c3d5f"
      local download = http.client { name = "image download", retries = 0, log = function() end }
      local r, err = download:request { url = server.url .. "/hostile/echo_404?X-Amz-Signature=" .. secret
                                         .. "&expires=99", follow_redirects = true }
      assert.is_nil(r)
      assert.matches("^image download: HTTP 404: Not Found: /hostile/echo_404%?X%-Amz%-Signature=%*%*%*", err)
      assert_no_key(err, secret)
    end)

    it("masks the password of a URL and the Authorization header a server repeats", function()
      local download = http.client { name = "image download", retries = 0, log = function() end }
      local url = server.url:gsub("//", "//reader:pa55word-7d1e@") .. "/hostile/echo_404"
      local r, err = download:request { url = url }
      assert.is_nil(r)
      assert.matches("Authorization: Basic %*%*%*", err)
      assert_no_key(err, "pa55word-7d1e")
      assert_no_key(err, "cmVhZGVyOnBhNTV3b3JkLTdkMWU=")   -- reader:pa55word-7d1e in base64
    end)

    it("masks the key of another client in a download's message (a URL an API gave)", function()
      local fal = http.client { name = "fal", headers = { Authorization = "Key fal-id:fal-secret-5e6f7a" } }
      assert.truthy(fal)
      local download = http.client { name = "image download", retries = 0, log = function() end }
      local r, err = download:request { url = server.url .. "/hostile/echo_404/fal-id:fal-secret-5e6f7a/x.png" }
      assert.is_nil(r)
      assert.matches("^image download: HTTP 404: Not Found: /hostile/echo_404/%*%*%*/x.png", err)
    end)

    it("masks a credential given with one request, and each half of an id:secret key", function()
      local c = http.client { name = "ElevenLabs", retries = 0,
                              headers = { Authorization = "Key fal-id-0a1b2c3d:fal-secret-4e5f6a7b" } }
      local r, err = c:request { url = server.url .. "/hostile/key_at?at=3",
                                 headers = { ["xi-api-key"] = "el-request-9a8b7c6d5e" } }
      assert.is_nil(r)
      assert.equal("ElevenLabs: HTTP 400: xxx*** was not accepted", err)
      assert.equal("id *** secret ***", c:mask("id fal-id-0a1b2c3d secret fal-secret-4e5f6a7b"))
    end)

    it("masks the start and the end of a key that a service echoes in part", function()
      local key = "sk-test-SECRET123"
      assert.equal("bad key prefix ***... and tail ...***.",
                   http.mask("bad key prefix sk-test-S... and tail ...RET123.", { key }))
      -- inside a longer word a fragment is some other word's
      assert.equal("xsk-test-Sy", http.mask("xsk-test-Sy", { key }))
      -- five characters say too little to mask ("sk-te" is any OpenAI key's start)
      assert.equal("sk-te and T123", http.mask("sk-te and T123", { key }))
      assert.equal("***", http.mask(key, { key }))
    end)

    it("masks the keys named in the environment in every client's messages", function()
      local _, got = run_lua(([[
        local http = require "explainer.http"
        local c = http.client { name = "plain", retries = 0 }
        local r, err = c:request { url = %q }
        print("err=" .. tostring(err))
        print("masked=" .. http.mask("sent el-key-0a1b2c3d4e5f and oa-key-9f8e7d6c5b4a"))
      ]]):format(server.url .. "/hostile/echo_404/el-key-0a1b2c3d4e5f"),
        { ELEVENLABS_API_KEY = "el-key-0a1b2c3d4e5f", OPENAI_API_KEY = "oa-key-9f8e7d6c5b4a" })
      assert.equal("plain: HTTP 404: Not Found: /hostile/echo_404/***", got.err)
      assert.equal("sent *** and ***", got.masked)
    end)

    it("masks a key that a service echoes in a long plain-text error, and in the retry notices", function()
      local logged = {}
      local c = client { retries = 1, log = function(m) logged[#logged + 1] = m end }
      local r, err = c:request { url = server.url .. "/hostile/key_at?status=503&at=10" }
      assert.is_nil(r)
      assert.equal("OpenAI speech: HTTP 503: xxxxxxxxxx*** was not accepted (gave up after 2 attempts)", err)
      assert.equal(1, #logged)
      assert_no_key(logged[1])
    end)
  end)

  describe("a run of explainer", function()
    local dir
    before_each(function() dir = h.tmpdir() end)
    after_each(function() h.rm_rf(dir) end)

    local function film()
      return h.write(dir .. "/film.txt", h.script(3))
    end

    local function env_words(env)
      local words = {}
      for k, v in pairs(env) do words[#words + 1] = h.shell_quote(k .. "=" .. v) end
      return table.concat(words, " ")
    end

    it("fails a narration whose answer is a 4 GiB gzip bomb: clear error, exit 1, nothing written, under 300 MB",
      function()
      server:plan { { hostile = "gzip_bomb" } }
      local out = dir .. "/out"
      local before = stats("gzip_bomb").started
      -- Python reports the peak RSS of the explainer process it waited for.
      local cmd = (limit_memory()
                   .. "env -u LD_PRELOAD %s python3 -c %s %s %s %s --scenes 1 --output-dir %s --jobs 1 >%s 2>%s")
        :format(env_words { EXPLAINER_AUDIO_BACKEND = "openai", OPENAI_API_KEY = KEY,
                            OPENAI_BASE_URL = server.url .. "/v1", EXPLAINER_HTTP_BACKOFF = "0" },
                h.shell_quote("import resource, subprocess, sys; s = subprocess.call(sys.argv[1:]); "
                              .. "print('maxrss=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
                              .. "file=sys.stderr); print('status=%d' % s, file=sys.stderr)"),
                h.shell_quote(h.bin), h.shell_quote(h.root .. "/scripts/audio.lua"), h.shell_quote(film()),
                h.shell_quote(out), h.shell_quote(dir .. "/stdout"), h.shell_quote(dir .. "/stderr"))
      os.execute(cmd)
      local stderr = h.read(dir .. "/stderr")
      assert.equal("1", stderr:match("status=(%d+)"), stderr)
      assert.matches("OpenAI speech: answer larger than 200 MB (limit EXPLAINER_HTTP_MAX_BYTES)", stderr, 1, true)
      assert.is_false(h.exists(out .. "/film/scene_01/narration.mp3"))
      assert.equal(before + 1, stats("gzip_bomb").started)   -- not retried
      local maxrss = tonumber(stderr:match("maxrss=(%d+)"))
      if not SANITIZED then
        assert.is_true(maxrss < 300 * 1024, "peak RSS " .. maxrss .. " kB")
      end
      local report = cjson.decode(h.read(out .. "/film/report.json"))
      assert.matches("answer larger than 200 MB", cjson.encode(report), 1, true)
      assert_no_key(stderr .. h.read(dir .. "/stdout") .. h.read(out .. "/film/report.json"))
    end)

    for _, case in ipairs { { "INT", 130 }, { "TERM", 143 } } do
      it(("ends an in-process request on SIG%s long before the server answers, and exits %d")
        :format(case[1], case[2]), function()
        local wf = h.write(dir .. "/wf.lua", ([[
          return { process_scene = function(scene)
            local c = require("explainer.http").client { name = "slow", retries = 3 }
            local r, err = c:request { url = %q }
            return r ~= nil, err
          end }]]):format(server.url .. "/hostile/slow?delay=30"))
        local before = stats("slow").started
        local t0 = os.time()
        local p = h.spawn(dir, { wf, film(), "--scenes", "1", "--output-dir", dir .. "/out", "--jobs", "1" })
        while stats("slow").started == before do core.sleep(0.05) end   -- the request is in flight
        core.sleep(0.5)
        os.execute(("kill -%s %d"):format(case[1], p.pid))
        local _, err, code = p.wait(30)
        assert.equal(case[2], code, err)
        assert.is_true(os.time() - t0 < 25, "the run waited for the server's answer")
        assert.matches("Interrupted by SIG" .. case[1], err, 1, true)
        assert.equal(before + 1, stats("slow").started)   -- no retry after the interrupt
      end)
    end

    it("keeps a key that a download URL carries and a 404 echoes out of stderr and report.json", function()
      server:plan { { url_path = "/hostile/echo_404?key=KEY&size=large" } }
      local out = dir .. "/out"
      local stdout, stderr, code = h.run({ h.root .. "/scripts/image.lua", film(), "--scenes", "1",
                                           "--output-dir", out },
        { env = env_words { EXPLAINER_IMAGE_BACKEND = "fal", FAL_KEY = KEY, FAL_BASE_URL = server.url,
                            EXPLAINER_HTTP_RETRIES = "0" } })
      assert.equal(1, code, stderr)
      assert.matches("image download: HTTP 404: Not Found: /hostile/echo_404?key=***", stderr, 1, true)
      assert.is_false(h.exists(out .. "/film/scene_01/final.png"))
      assert_no_key(stdout .. stderr, KEY, "output")
      assert_no_key(h.read(out .. "/film/report.json"), KEY, "report.json")
    end)
  end)
end)
