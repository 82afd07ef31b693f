--- HTTP for recipes: one raw request, and a retrying client for web APIs.
--
-- `request` is the core's libcurl call as is. `client` wraps it the way the
-- services' own SDKs do: retry on 429 and 5xx (and on no answer at all) with
-- exponential backoff and jitter, honouring `Retry-After`; no retry on other
-- 4xx; the service's own error message in the failure; API keys masked in
-- every message it returns or prints.
-- @module explainer.http

local core = require "explainer_core"
local cjson = require "cjson.safe"

local M = {}

local function env_number(name, default)
  local v = tonumber(os.getenv(name) or "")
  if v and v >= 0 then return v end
  return default
end

--- Perform one HTTP request, without retries.
-- @tparam table req `url` (required), `method` (default GET, or POST with a
-- body), `headers` (name -> value), `body` (string), `timeout` (seconds),
-- `follow_redirects` (bool, default false)
-- @treturn table|nil `{status=, headers={lower-case name=value}, body=}`;
-- any status counts as an answer
-- @treturn string|nil message when there was no answer (refused, timed out...)
function M.request(req)
  if type(req) ~= "table" then
    error("bad argument #1 to 'request' (table expected, got " .. type(req) .. ")", 2)
  end
  return core.http_request(req)
end

--- Replace every occurrence of each secret in a text with `***`.
-- @tparam string text
-- @tparam {string,...} secrets (empty or short strings are left alone)
-- @treturn string
function M.mask(text, secrets)
  text = tostring(text)
  for _, secret in ipairs(secrets or {}) do
    if type(secret) == "string" and #secret >= 4 then
      local out, pos = {}, 1
      while true do
        local s, e = text:find(secret, pos, true)
        if not s then break end
        out[#out + 1] = text:sub(pos, s - 1)
        out[#out + 1] = "***"
        pos = e + 1
      end
      out[#out + 1] = text:sub(pos)
      text = table.concat(out)
    end
  end
  return text
end

local function first_line(s, limit)
  s = tostring(s):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  if #s > limit then s = s:sub(1, limit) .. "..." end
  return s
end

--- The error message a service put in its answer, if any.
-- Understands OpenAI's `{"error":{"message":…}}`, ElevenLabs'
-- `{"detail":{"message":…}}`, FastAPI-style `{"detail":"…"}` and
-- `{"detail":[{"msg":…}]}` (fal), and a bare `{"message":…}`.
-- @tparam table response as returned by `request`
-- @treturn string|nil
function M.error_message(response)
  local body = response and response.body
  if type(body) ~= "string" or body == "" then return nil end
  local data = cjson.decode(body)
  if type(data) ~= "table" then
    if body:find("^%s*<") then return nil end   -- an HTML error page
    return first_line(body, 300)
  end
  local err, detail = data.error, data.detail
  if type(err) == "table" and type(err.message) == "string" then return err.message end
  if type(err) == "string" then return err end
  if type(detail) == "string" then return detail end
  if type(detail) == "table" then
    if type(detail.message) == "string" then return detail.message end
    local parts = {}
    for _, d in ipairs(detail) do
      if type(d) == "table" and type(d.msg) == "string" then
        local loc = type(d.loc) == "table" and table.concat(d.loc, ".") or nil
        parts[#parts + 1] = loc and (loc .. ": " .. d.msg) or d.msg
      end
    end
    if #parts > 0 then return table.concat(parts, "; ") end
  end
  if type(data.message) == "string" then return data.message end
  return nil
end

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

local Client = {}
Client.__index = Client

--- Make an API client.
-- @tparam table spec
-- `name` (for messages, e.g. "OpenAI images"), `base_url`, `headers`
-- (sent with every request: put the key here), `secrets` (strings to mask in
-- every message; the values of `headers` are added automatically when they
-- look like keys), `retries` (default `EXPLAINER_HTTP_RETRIES` or 4),
-- `backoff` (first delay in seconds, default `EXPLAINER_HTTP_BACKOFF` or 1),
-- `max_delay` (default 60), `timeout` (per attempt, default
-- `EXPLAINER_HTTP_TIMEOUT` or 120), `sleep` (function(seconds)), `log`
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
    timeout = spec.timeout or env_number("EXPLAINER_HTTP_TIMEOUT", 120),
    sleep = spec.sleep or core.sleep,
    log = spec.log or function(msg) io.stderr:write("  ", msg, "\n") end,
  }, Client)
  for _, s in ipairs(spec.secrets or {}) do c.secrets[#c.secrets + 1] = s end
  for k, v in pairs(c.headers) do
    -- Credentials ("Authorization: Bearer sk-…", "xi-api-key: …"): mask the
    -- key alone and the whole value.
    local name = tostring(k):lower()
    if type(v) == "string" and (name:find("auth", 1, true) or name:find("key", 1, true)
        or name:find("token", 1, true) or name:find("secret", 1, true)) then
      c.secrets[#c.secrets + 1] = v:match("^%a+ (.+)$")
      c.secrets[#c.secrets + 1] = v
    end
  end
  table.sort(c.secrets, function(a, b) return #a > #b end)   -- longest first
  return c
end

--- Mask this client's secrets in a text.
function Client:mask(text)
  return M.mask(text, self.secrets)
end

local function describe(self, response, err)
  if not response then return self:mask(first_line(err or "no answer", 300)) end
  local msg = M.error_message(response)
  local text = "HTTP " .. response.status
  if msg then text = text .. ": " .. msg end
  return self:mask(text)
end

--- Send a request, retrying as the service asks.
-- @tparam table req `method` (default POST with a body, else GET), `path`
-- (appended to `base_url`) or `url`, `json` (a table, sent as JSON) or
-- `body`, `headers` (added to the client's), `timeout`, `follow_redirects`
-- @treturn table|nil the response (a 2xx status)
-- @treturn string|nil message: the client's name, the status and the
-- service's own message, keys masked
-- @treturn table|nil the last response, when there was one
function Client:request(req)
  if type(req) ~= "table" then
    error("bad argument #1 to 'request' (table expected, got " .. type(req) .. ")", 2)
  end
  local url = req.url or (self.base_url .. (req.path or ""))
  local headers = {}
  for k, v in pairs(self.headers) do headers[k] = v end
  local body = req.body
  if req.json ~= nil then
    body = assert(cjson.encode(req.json))
    headers["Content-Type"] = "application/json"
  end
  for k, v in pairs(req.headers or {}) do headers[k] = v end
  local attempts = self.retries + 1
  local response, err, last
  for attempt = 1, attempts do
    response, err = core.http_request {
      method = req.method, url = url, headers = headers, body = body,
      timeout = req.timeout or self.timeout, follow_redirects = req.follow_redirects,
    }
    if response and response.status >= 200 and response.status < 300 then
      return response
    end
    last = describe(self, response, err)
    local retryable = not response or response.status == 429 or response.status >= 500
    if not retryable then
      return nil, self.name .. ": " .. last, response
    end
    if attempt == attempts then break end
    local delay = M.retry_delay(response, attempt, self)
    self.log(string.format("%s: %s; retrying in %.1fs (attempt %d of %d)",
                           self.name, last, delay, attempt + 1, attempts))
    self.sleep(delay)
  end
  local gave_up = attempts > 1 and string.format(" (gave up after %d attempts)", attempts) or ""
  return nil, self.name .. ": " .. last .. gave_up, response
end

--- Send a request and decode its JSON answer.
-- @tparam table req as for `request`
-- @treturn table|nil the decoded body
-- @treturn string|nil message
function Client:json(req)
  local response, err = self:request(req)
  if not response then return nil, err end
  local data = cjson.decode(response.body)
  if type(data) ~= "table" then
    return nil, self.name .. ": the answer is not JSON: " .. self:mask(first_line(response.body, 200))
  end
  return data
end

return M
