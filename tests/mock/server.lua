--- Start and steer tests/mock/api_server.py from a spec.
-- local mock = require "mock.server"
-- local s = mock.start { key = "sk-..." }   -- s.url, s:plan{...}, s:requests(), s:stop()
local cjson = require "cjson"

local M = {}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local Server = {}
Server.__index = Server

--- Start a stand-in on a free loopback port.
-- @tparam[opt] table opts `key` (the accepted API key), `lifetime` (seconds)
function M.start(opts)
  opts = opts or {}
  local root = os.getenv("EXPLAINER_ROOT") or "."
  local key = opts.key or "sk-test-0123456789abcdef"
  local cmd = string.format("exec python3 %s --key %s --lifetime %d",
                            quote(root .. "/tests/mock/api_server.py"), quote(key),
                            opts.lifetime or 120)
  local pipe = assert(io.popen(cmd, "r"))
  local port = tonumber(pipe:read("l"))
  assert(port, "mock server did not start")
  return setmetatable({ pipe = pipe, port = port, key = key,
                        url = "http://127.0.0.1:" .. port }, Server)
end

local function call(self, method, path, body)
  local http = require "explainer.http"
  local r = assert(http.request { method = method, url = self.url .. path,
                                  body = body and cjson.encode(body) or nil, timeout = 10 })
  assert(r.status == 200, "mock control " .. path .. ": " .. r.status)
  return cjson.decode(r.body)
end

--- Queue the answers for the next API requests.
function Server:plan(list)
  call(self, "POST", "/_mock/plan", { plan = list })
end

--- Every API request received so far.
function Server:requests()
  return call(self, "GET", "/_mock/requests")
end

function Server:stop()
  if self.pipe then
    pcall(call, self, "POST", "/_mock/shutdown")
    self.pipe:close()
    self.pipe = nil
  end
end

return M
