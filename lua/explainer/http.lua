--- HTTP for recipes: one raw request, and a retrying client for web APIs.
--
-- `request` is the core's libcurl call as is. `client` wraps it the way the
-- services' own SDKs do: retry on 429 and 5xx (and on a lost connection or a
-- timeout) with exponential backoff and jitter, honouring `Retry-After`; no
-- retry for what cannot get better (other 4xx, a bad URL, a redirect loop,
-- a protocol or certificate error, an answer over the size cap); the
-- service's own error message in the failure; an answer checked against
-- what the caller expects (`expect = "audio"`); API keys, secrets in URLs
-- and credentials masked in every message it returns or prints, before any
-- message is shortened.
--
-- Limits: a body is held up to `max_bytes` decoded bytes (default
-- `EXPLAINER_HTTP_MAX_BYTES` or 200 MB), a request lasts at most `timeout`
-- seconds (default `EXPLAINER_HTTP_TIMEOUT` or 300), and a Ctrl-C or SIGTERM
-- of the run ends it within about a second.
-- @module explainer.http

local core = require "explainer_core"
local cjson = require "cjson.safe"
local media = require "explainer.media"

local M = {}

local function env_number(name, default)
  local v = tonumber(os.getenv(name) or "")
  if v and v >= 0 then return v end
  return default
end

--- Perform one HTTP request, without retries.
-- @tparam table req `url` (required), `method` (default GET, or POST with a
-- body), `headers` (name -> value), `body` (string), `timeout` (seconds,
-- default 300), `follow_redirects` (bool, default false), `max_bytes` (most
-- body bytes after decompression; default `EXPLAINER_HTTP_MAX_BYTES` or
-- 200 MB)
-- @treturn table|nil `{status=, headers={lower-case name=value}, body=}`;
-- any status counts as an answer
-- @treturn string|nil message when there was no answer (refused, timed out,
-- "answer larger than 200 MB (limit EXPLAINER_HTTP_MAX_BYTES)"...); it never
-- holds the URL
-- @treturn string|nil the kind of failure: `connect`, `network`, `timeout`
-- (worth a retry), `too_large`, `interrupted`, `protocol`, `redirects`,
-- `bad_url`, `certificate`, `setup`, `other`
function M.request(req)
  if type(req) ~= "table" then
    error("bad argument #1 to 'request' (table expected, got " .. type(req) .. ")", 2)
  end
  return core.http_request(req)
end

--- A multipart/form-data body (RFC 7578), for APIs that take files.
-- @tparam {table,...} parts in order, each `{name=, value=}` (a text field)
-- or `{name=, filename=, content_type=, data=}` (a file's bytes)
-- @treturn string the body
-- @treturn string its Content-Type, with the boundary (random, and found in
-- none of the parts)
function M.multipart(parts)
  if type(parts) ~= "table" then
    error("bad argument #1 to 'multipart' (table expected, got " .. type(parts) .. ")", 2)
  end
  local function clean(s) return (tostring(s):gsub("[\r\n\"]", "_")) end
  local boundary
  repeat
    boundary = ("explainer-%08x%08x"):format(math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
    local clash = false
    for _, part in ipairs(parts) do
      if tostring(part.data or part.value or ""):find(boundary, 1, true) then clash = true end
    end
  until not clash
  local out = {}
  for i, part in ipairs(parts) do
    if type(part) ~= "table" or type(part.name) ~= "string" then
      error(("bad part #%d to 'multipart' (a table with a name expected)"):format(i), 2)
    end
    out[#out + 1] = "--" .. boundary .. "\r\n"
    if part.filename then
      out[#out + 1] = ('Content-Disposition: form-data; name="%s"; filename="%s"\r\n'):format(
        clean(part.name), clean(part.filename))
      out[#out + 1] = "Content-Type: " .. clean(part.content_type or "application/octet-stream") .. "\r\n\r\n"
      out[#out + 1] = tostring(part.data or "")
    else
      out[#out + 1] = ('Content-Disposition: form-data; name="%s"\r\n\r\n'):format(clean(part.name))
      out[#out + 1] = tostring(part.value or "")
    end
    out[#out + 1] = "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(out), "multipart/form-data; boundary=" .. boundary
end

-- ---- masking -----------------------------------------------------------------

--- Environment variables whose values are masked in every message of every
-- client, whether or not that client sends them.
M.secret_env = { "OPENAI_API_KEY", "FAL_KEY", "ELEVENLABS_API_KEY" }

-- Secrets of every client made so far: the image download client masks the
-- key of the service that gave it the URL.
local known = {}

--- Mask a secret in the messages of every client from now on.
-- @tparam string secret (shorter than 4 characters: ignored)
function M.add_secret(secret)
  if type(secret) == "string" and #secret >= 4 then known[secret] = true end
end

-- Names of headers, fields and query parameters whose values are secrets.
local SENSITIVE = { "auth", "key", "token", "secret", "passw", "signature",
                    "credential", "session", "cookie" }

local function sensitive(name)
  name = name:lower()
  for _, word in ipairs(SENSITIVE) do
    if name:find(word, 1, true) then return true end
  end
  return false
end

-- Authorization schemes: the word before the credential, kept in messages.
local SCHEMES = { basic = true, bearer = true, key = true, token = true, digest = true,
                  bot = true, apikey = true }

local function url_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Mask the userinfo and the query and fragment values of one URL.
local function mask_url(scheme, rest)
  local authority, tail = rest:match("^([^/?#]*)(.*)$")
  local at = authority:find("@[^@]*$")
  if at then authority = "***" .. authority:sub(at) end
  local path, query = tail:match("^([^?#]*)(.*)$")
  query = query:gsub("([?#&;])([^&;#]*)", function(sep, pair)
    local k = pair:match("^([^=]*)=")
    if k then return sep .. k .. "=***" end
    if pair == "" then return sep end
    return sep .. "***"
  end)
  return scheme .. authority .. path .. query
end

-- Mask what looks like a credential whatever the secrets: URLs' userinfo and
-- parameters, "Authorization: Bearer …", "api_key=…", `"token": "…"`.
local function mask_patterns(text)
  -- Each pattern starts at a frontier, so a long run of letters is tried
  -- once, not at every one of its characters.
  text = text:gsub("%f[%w+.%-](%a[%w+.%-]*://)([^%s\"'<>`]+)", mask_url)
  text = text:gsub("%f[%w_%-]([%w_%-]+)(\"?%s*[:=]%s*\"?)(%a+)(%s+)([^%s\"',;]+)",
    function(name, sep, scheme, sp)
      if name:lower():find("auth", 1, true) then return name .. sep .. scheme .. sp .. "***" end
    end)
  text = text:gsub("%f[%w]([Bb][Ee][Aa][Rr][Ee][Rr]%s+)([^%s\"',;]+)", "%1***")
  text = text:gsub("%f[%w_%-]([%w_%-]+)(\"?%s*[:=]%s*\"?)([^%s\"',;&]+)()", function(name, sep, value, after)
    if value == "***" or not sensitive(name) then return nil end
    -- "Authorization: Basic ***" (masked above) keeps its scheme.
    if SCHEMES[value:lower()] and text:find("^%s+%*%*%*", after) then return nil end
    return name .. sep .. "***"
  end)
  return text
end

-- Every secret to mask: the given ones, every client's, the environment's;
-- longest first, so that a key containing another is masked whole.
local function all_secrets(secrets)
  local set = {}
  for _, s in ipairs(secrets or {}) do
    if type(s) == "string" and #s >= 4 then set[s] = true end
  end
  for s in pairs(known) do set[s] = true end
  for _, name in ipairs(M.secret_env) do
    local v = os.getenv(name)
    if v and #v >= 4 then set[v] = true end
  end
  local list = {}
  for s in pairs(set) do list[#list + 1] = s end
  table.sort(list, function(a, b) return #a > #b end)
  return list
end

local function replace_all(text, secret)
  local out, pos = {}, 1
  while true do
    local s, e = text:find(secret, pos, true)
    if not s then break end
    out[#out + 1] = text:sub(pos, s - 1)
    out[#out + 1] = "***"
    pos = e + 1
  end
  if pos == 1 then return text end
  out[#out + 1] = text:sub(pos)
  return table.concat(out)
end

-- What continues a word: a fragment is masked where a word starts or ends.
local WORD_CHAR = "[%w%-_]"

-- A service that echoes part of a key ("sk-test-S...RET123") gives away part
-- of it: the start of a key where a word starts, and its end where a word
-- ends, FRAGMENT characters or more, are masked too; the longest first.
local function mask_fragments(text, list)
  local pieces = {}
  for _, secret in ipairs(list) do
    -- only keys (a header value such as "Bearer x" is none)
    if #secret >= 2 * M.FRAGMENT and not secret:find("[^%w%-_%.:]") then
      for n = #secret - 1, M.FRAGMENT, -1 do
        pieces[#pieces + 1] = { secret:sub(1, n), "start" }
        pieces[#pieces + 1] = { secret:sub(-n), "end" }
      end
    end
  end
  table.sort(pieces, function(a, b) return #a[1] > #b[1] end)
  for _, p in ipairs(pieces) do
    local piece, at_start = p[1], p[2] == "start"
    local pos = 1
    while true do
      local s, e = text:find(piece, pos, true)
      if not s then break end
      local edge = at_start and (s == 1 or not text:sub(s - 1, s - 1):find(WORD_CHAR))
        or not at_start and (e == #text or not text:sub(e + 1, e + 1):find(WORD_CHAR))
      if edge then
        text = text:sub(1, s - 1) .. "***" .. text:sub(e + 1)
        pos = s + 3
      else
        pos = s + 1
      end
    end
  end
  return text
end

--- Mask secrets in a text: every occurrence of each secret (and of every
-- client's secrets and the keys in `secret_env`) becomes `***`, and so do
-- its start and its end (`FRAGMENT` characters or more), and
-- the userinfo and parameter values of any URL, the value of an
-- `Authorization` header or a `Bearer` token, and values named like keys
-- (`api_key=…`, `"token": "…"`).
-- @tparam string text
-- @tparam[opt] {string,...} secrets (empty or short strings are left alone)
-- @treturn string
function M.mask(text, secrets)
  text = tostring(text)
  local list = all_secrets(secrets)
  for _, secret in ipairs(list) do
    text = replace_all(text, secret)
  end
  return mask_patterns(mask_fragments(text, list))
end

--- The shortest start or end of a secret that `mask` masks on its own (in
-- a key of twice that or more).
M.FRAGMENT = 6

-- Bytes of a long text looked at for a message: masking runs on this much,
-- then the message is cut.
local WINDOW = 65536

-- The first n bytes of a text (about), masked. Masking runs on a little more
-- than n bytes so that a secret across byte n is masked whole; a secret cut
-- at the end of what was read is dropped.
local function masked_head(text, n, secrets)
  local list = all_secrets(secrets)
  local longest = list[1] and #list[1] or 0
  if #text <= n + longest then return M.mask(text, list), false end
  text = M.mask(text:sub(1, n + longest), list)
  local strip = 0
  for _, secret in ipairs(list) do
    for k = math.min(#secret - 1, #text), strip + 1, -1 do
      if text:sub(-k) == secret:sub(1, k) then
        strip = k
        break
      end
    end
  end
  return text:sub(1, #text - strip), true
end

--- Mask a text, then shorten it to one line of at most `limit` characters.
-- Masking comes first, so a secret across the cut cannot leave its prefix;
-- of a very long text only the start is read, and a secret cut there is
-- dropped whole.
-- @tparam string text
-- @tparam number limit characters (then "...")
-- @tparam[opt] {string,...} secrets as for `mask`
-- @treturn string
function M.shorten(text, limit, secrets)
  local head, cut = masked_head(tostring(text), WINDOW, secrets)
  head = head:sub(1, WINDOW):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  if #head > limit or cut then head = head:sub(1, limit) .. "..." end
  return head
end

-- ---- answers -----------------------------------------------------------------

--- The error message a service put in its answer, if any, masked and
-- shortened to 300 characters.
-- Understands OpenAI's `{"error":{"message":…}}`, ElevenLabs'
-- `{"detail":{"message":…}}`, FastAPI-style `{"detail":"…"}` and
-- `{"detail":[{"msg":…}]}` (fal), a bare `{"message":…}`, and a plain-text
-- body; an HTML page gives nil.
-- @tparam table response as returned by `request`
-- @tparam[opt] {string,...} secrets to mask besides the known ones
-- @treturn string|nil
function M.error_message(response, secrets)
  local body = response and response.body
  if type(body) ~= "string" or body == "" then return nil end
  local data = cjson.decode(body)
  if type(data) ~= "table" then
    if body:find("^%s*<") then return nil end   -- an HTML error page
    return M.shorten(body, 300, secrets)
  end
  local msg
  local err, detail = data.error, data.detail
  if type(err) == "table" and type(err.message) == "string" then
    msg = err.message
  elseif type(err) == "string" then
    msg = err
  elseif type(detail) == "string" then
    msg = detail
  elseif type(detail) == "table" then
    if type(detail.message) == "string" then
      msg = detail.message
    else
      local parts = {}
      for _, d in ipairs(detail) do
        if type(d) == "table" and type(d.msg) == "string" then
          local loc = type(d.loc) == "table" and table.concat(d.loc, ".") or nil
          parts[#parts + 1] = loc and (loc .. ": " .. d.msg) or d.msg
        end
      end
      if #parts > 0 then msg = table.concat(parts, "; ") end
    end
  end
  if not msg and type(data.message) == "string" then msg = data.message end
  return msg and M.shorten(msg, 300, secrets) or nil
end

local OCTET = { [""] = true, ["application/octet-stream"] = true, ["binary/octet-stream"] = true }

--- Check that an answer holds the media a caller expects.
-- The Content-Type must be of the family (`audio/*` for audio, `image/*`
-- for images, `video/*` for video; `application/octet-stream` or none is
-- let through to the next check) and the body's first bytes must be of an
-- accepted kind (see `explainer.media`); an empty body fails.
-- @tparam table response as returned by `request`
-- @tparam string|table expect as for `media.accepted`: "audio", "image",
-- "png", {"mp3", "wav"}...
-- @tparam[opt] {string,...} secrets to mask in the message
-- @treturn string|nil the kind found ("mp3", "png"...)
-- @treturn string|nil message: "the answer is text/html, not audio (first
-- bytes: <html><body>...)"
function M.check_answer(response, expect, secrets)
  local accepted, name = media.accepted(expect)
  -- The media type alone, in characters a media type may hold: a hostile
  -- header cannot put a parameter or a terminal escape in the message.
  local ctype = ((response.headers or {})["content-type"] or ""):match("^%s*([^;%s]*)"):lower()
  ctype = ctype:gsub("[^%w%-%+%./]", "?"):sub(1, 60)
  local body = response.body or ""
  local shown = ctype ~= "" and ctype or "without a Content-Type"
  if body == "" then return nil, "the answer is empty (" .. shown .. ")" end
  local families = {}
  for kind in pairs(accepted) do families[media.family_of(kind)] = true end
  local major = ctype:match("^([%w%-]+)/") or ""
  local kind = media.kind_of(body:sub(1, media.HEAD_BYTES))
  local function first_bytes()
    local head, cut = masked_head(body, 64, secrets)
    return media.preview(head, 40, cut)
  end
  if not OCTET[ctype] and not families[major] then
    return nil, ("the answer is %s, not %s (first bytes: %s)"):format(shown, name, first_bytes())
  end
  if not kind or not accepted[kind] then
    return nil, ("the answer is %s but its bytes are not %s (first bytes: %s)"):format(
      shown, name, first_bytes())
  end
  return kind
end

-- ---- retries -------------------------------------------------------------------

local function parse_http_date(s)
  local months = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                   Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
  local d, mon, y, h, mi, sec = s:match("%a+, (%d+) (%a+) (%d+) (%d+):(%d+):(%d+) GMT")
  if not d or not months[mon] then return nil end
  local t = { year = tonumber(y), month = months[mon], day = tonumber(d),
              hour = tonumber(h), min = tonumber(mi), sec = tonumber(sec) }
  -- os.time reads the table as local time: correct by the offset of "now".
  local now = os.time()
  local offset = os.time(os.date("!*t", now)) - now
  return os.time(t) - offset - now
end

--- Seconds to wait before the next attempt.
-- The service's `Retry-After` (seconds or an HTTP date) or `retry-after-ms`
-- when it sent one, else `backoff * 2^(attempt-1)` with jitter (between half
-- and all of it); never more than `max_delay`.
-- @tparam table|nil response the failed answer (nil when there was none)
-- @tparam number attempt 1 for the first retry
-- @tparam[opt] table spec `backoff` (default 1), `max_delay` (default 60)
-- @treturn number
function M.retry_delay(response, attempt, spec)
  spec = spec or {}
  local max_delay = spec.max_delay or 60
  local headers = response and response.headers or {}
  local delay
  local ms = tonumber(headers["retry-after-ms"] or "")
  if ms then delay = ms / 1000 end
  local ra = headers["retry-after"]
  if not delay and ra then
    delay = tonumber(ra) or parse_http_date(ra)
  end
  if delay then
    delay = math.max(0, delay)
  else
    local base = (spec.backoff or 1) * 2 ^ (attempt - 1)
    delay = base / 2 + math.random() * base / 2
  end
  return math.min(delay, max_delay)
end

--- Kinds of failure without an answer that a retry may mend (a lost
-- connection, a timeout); the others (`too_large`, `redirects`, `bad_url`,
-- `protocol`, `certificate`, `interrupted`...) end the request at once.
M.retry_kinds = { connect = true, network = true, timeout = true }

-- ---- the client ------------------------------------------------------------------

local Client = {}
Client.__index = Client

-- Credentials among headers ("Authorization: Bearer sk-…", "xi-api-key: …",
-- "Authorization: Key id:secret"): the whole value, the key alone, and each
-- half of an id:secret pair, appended to list.
local function header_secrets(headers, list)
  for k, v in pairs(headers) do
    if type(v) == "string" and sensitive(tostring(k)) then
      list[#list + 1] = v
      local key = v:match("^%a+ (.+)$") or v
      list[#list + 1] = key
      for part in key:gmatch("[^:]+") do
        if #part >= 8 then list[#list + 1] = part end
      end
    end
  end
  return list
end

--- Make an API client.
-- @tparam table spec
-- `name` (for messages, e.g. "OpenAI images"), `base_url`, `headers`
-- (sent with every request: put the key here), `secrets` (strings to mask in
-- every message; the values of `headers` are added automatically when they
-- look like keys), `retries` (default `EXPLAINER_HTTP_RETRIES` or 4),
-- `backoff` (first delay in seconds, default `EXPLAINER_HTTP_BACKOFF` or 1),
-- `max_delay` (default 60), `timeout` (per attempt, default
-- `EXPLAINER_HTTP_TIMEOUT` or 300), `max_bytes` (default
-- `EXPLAINER_HTTP_MAX_BYTES` or 200 MB), `sleep` (function(seconds)), `log`
-- (function(message) for retry notices; default: a line on stderr)
-- @treturn table the client, with `request` and `json`
function M.client(spec)
  if type(spec) ~= "table" then
    error("bad argument #1 to 'client' (table expected, got " .. type(spec) .. ")", 2)
  end
  local c = setmetatable({
    name = spec.name or "HTTP",
    base_url = spec.base_url and spec.base_url:gsub("/+$", "") or "",
    headers = spec.headers or {},
    secrets = {},
    retries = spec.retries or env_number("EXPLAINER_HTTP_RETRIES", 4),
    backoff = spec.backoff or env_number("EXPLAINER_HTTP_BACKOFF", 1),
    max_delay = spec.max_delay or 60,
    timeout = spec.timeout or env_number("EXPLAINER_HTTP_TIMEOUT", 300),
    max_bytes = spec.max_bytes,
    sleep = spec.sleep or core.sleep,
    log = spec.log or function(msg) io.stderr:write("  ", msg, "\n") end,
  }, Client)
  for _, s in ipairs(spec.secrets or {}) do c.secrets[#c.secrets + 1] = s end
  header_secrets(c.headers, c.secrets)
  for _, s in ipairs(c.secrets) do M.add_secret(s) end
  table.sort(c.secrets, function(a, b) return #a > #b end)   -- longest first
  return c
end

-- Secrets a URL carries: its userinfo, and the values of its query and
-- fragment (long ones, or any under a name like "key" or "token").
local function url_secrets(url)
  local list = {}
  local function add(v, named)
    if #v >= 8 or (named and #v >= 4) then
      list[#list + 1] = v
      local decoded = url_decode(v)
      if decoded ~= v then list[#list + 1] = decoded end
    end
  end
  local authority = url:match("^%a[%w+.%-]*://([^/?#]*)") or ""
  local userinfo = authority:match("^(.*)@")
  if userinfo then
    for part in userinfo:gmatch("[^:]+") do add(part, true) end
  end
  local params = url:match("[?#](.*)$")
  if params then
    for pair in params:gmatch("[^&;#]+") do
      local k, v = pair:match("^([^=]*)=(.*)$")
      if k then add(v, sensitive(k)) else add(pair, false) end
    end
  end
  return list
end

-- This client's secrets and those of a URL.
local function secrets_for(self, url)
  local list = {}
  for _, s in ipairs(self.secrets) do list[#list + 1] = s end
  for _, s in ipairs(url_secrets(url)) do list[#list + 1] = s end
  return list
end

--- Mask this client's secrets in a text.
-- @tparam string text
-- @treturn string
function Client:mask(text)
  return M.mask(text, self.secrets)
end

local function describe(response, err, secrets)
  if not response then return M.shorten(err or "no answer", 300, secrets) end
  local msg = M.error_message(response, secrets)
  local text = "HTTP " .. response.status
  if msg then text = text .. ": " .. msg end
  return text
end

local function url_of(self, req)
  return req.url or (self.base_url .. (req.path or ""))
end

--- Send a request, retrying as the service asks.
-- @tparam table req `method` (default POST with a body, else GET), `path`
-- (appended to `base_url`) or `url`, `json` (a table, sent as JSON) or
-- `body`, `headers` (added to the client's), `timeout`, `follow_redirects`,
-- `max_bytes`, `expect` (the media the answer must hold: "audio", "image",
-- "png"... as for `check_answer`; a wrong Content-Type or wrong first bytes
-- fail the request without a retry)
-- @treturn table|nil the response (a 2xx status); with `expect`, its
-- `kind` field says what it holds ("mp3", "png"...)
-- @treturn string|nil message: the client's name, the status and the
-- service's own message, secrets masked
-- @treturn table|nil the last response, when there was one
-- @treturn string|nil the kind of failure: one of `request`'s kinds, or
-- `status` (a non-2xx answer), `unexpected` (not what `expect` asked)
function Client:request(req)
  if type(req) ~= "table" then
    error("bad argument #1 to 'request' (table expected, got " .. type(req) .. ")", 2)
  end
  if req.expect ~= nil then
    local ok, why = pcall(media.accepted, req.expect)
    if not ok then error("bad field 'expect': " .. tostring(why):gsub("^[^:]*:%d+: ", ""), 2) end
  end
  local url = url_of(self, req)
  local secrets = header_secrets(req.headers or {}, secrets_for(self, url))
  local headers = {}
  for k, v in pairs(self.headers) do headers[k] = v end
  local body = req.body
  if req.json ~= nil then
    body = assert(cjson.encode(req.json))
    headers["Content-Type"] = "application/json"
  end
  for k, v in pairs(req.headers or {}) do headers[k] = v end
  local attempts = self.retries + 1
  local response, err, kind, last
  for attempt = 1, attempts do
    response, err, kind = core.http_request {
      method = req.method, url = url, headers = headers, body = body,
      timeout = req.timeout or self.timeout, follow_redirects = req.follow_redirects,
      max_bytes = req.max_bytes or self.max_bytes,
    }
    if response and response.status >= 200 and response.status < 300 then
      if req.expect == nil then return response end
      local found, why = M.check_answer(response, req.expect, secrets)
      if not found then
        return nil, self.name .. ": " .. M.mask(why, secrets), response, "unexpected"
      end
      response.kind = found
      return response
    end
    last = M.mask(describe(response, err, secrets), secrets)
    if response then kind = "status" end
    local retryable
    if response then
      retryable = response.status == 429 or response.status >= 500
    else
      retryable = kind == nil or M.retry_kinds[kind] == true
    end
    if not retryable then
      return nil, self.name .. ": " .. last, response, kind
    end
    if attempt == attempts then break end
    local delay = M.retry_delay(response, attempt, self)
    self.log(string.format("%s: %s; retrying in %.1fs (attempt %d of %d)",
                           self.name, last, delay, attempt + 1, attempts))
    self.sleep(delay)
  end
  local gave_up = attempts > 1 and string.format(" (gave up after %d attempts)", attempts) or ""
  return nil, self.name .. ": " .. last .. gave_up, response, kind
end

--- Send a request and decode its JSON answer.
-- @tparam table req as for `request`
-- @treturn table|nil the decoded body
-- @treturn string|nil message
-- @treturn table|nil the last response, when there was one
-- @treturn string|nil the kind of failure, as for `request`, or `not_json`
function Client:json(req)
  local response, err, last, kind = self:request(req)
  if not response then return nil, err, last, kind end
  local data = cjson.decode(response.body)
  if type(data) ~= "table" then
    local secrets = secrets_for(self, url_of(self, req))
    return nil, self.name .. ": the answer is not JSON: " .. M.shorten(response.body, 200, secrets),
           response, "not_json"
  end
  return data
end

return M
