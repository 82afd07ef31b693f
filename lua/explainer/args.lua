--- The words of the command line: flags to options, each value checked as it
-- is read. Every mistake is a usage error (`UsageError`): one line naming the
-- option, exit 2 (explainer.cli prints it), never a Lua error with a
-- `file.lua:LINE`.
-- @module explainer.args

local explainer = require "explainer"

local M = {}

--- The metatable of a usage error: `message`, and `option` (an unknown option).
M.UsageError = {}

--- Raise a usage error.
-- @tparam string msg
-- @tparam[opt] string option the unknown option the message is about (cli names the command)
function M.usage_error(msg, option)
  error(setmetatable({ message = msg, option = option }, M.UsageError), 0)
end
local usage_error = M.usage_error

local BOUNDS = explainer.OPTION_BOUNDS

-- A number as people write it: decimal, not hex ("0x10"); nil for anything else.
local function decimal(value)
  if value:find("[xX]") then return nil end
  return tonumber(value)
end

--- A flag's converter for a number within `bounds` = `{least, most, whole}`
-- (as explainer.OPTION_BOUNDS): "1e400", "inf", "nan", "99999999999999999999"
-- for a whole number, and negative values are refused as "-x" is.
-- @tparam table bounds
-- @treturn function(value, name) -> number
function M.number(bounds)
  local least, most, whole = bounds[1], bounds[2], bounds[3]
  return function(value, name)
    local n = decimal(value)
    if not n or not (n >= least and n <= most) or (whole and math.tointeger(n) == nil) then
      usage_error(("%s: expected %s of at least %s and at most %s, got '%s'")
        :format(name, whole and "a whole number" or "a number", least, most, value))
    end
    return whole and math.tointeger(n) or n
  end
end

-- A scene number: what the parser reads (a C long).
local function scene_number(text, spec)
  local n = text:match("^%d+$") and math.tointeger(tonumber(text))
  if not n then
    usage_error(("--scenes: scene number %s is too large%s"):format(text,
      text == spec and "" or " (in '" .. spec .. "')"))
  end
  return n
end

--- Most scenes a `--scenes` list may name.
M.MAX_SCENE_LIST = 100000

--- "1,3,5" or "2-4,7" -> {1,3,5} / {2,3,4,7}.
-- @tparam string spec
-- @treturn table the scene numbers
function M.scene_list(spec)
  local list = {}
  for item in (spec .. ","):gmatch("([^,]*),") do
    item = item:match("^%s*(.-)%s*$")
    local a, b = item:match("^(%d+)%-(%d+)$")
    if a then
      a, b = scene_number(a, spec), scene_number(b, spec)
      if b < a or b - a >= M.MAX_SCENE_LIST then usage_error("--scenes: bad range '" .. item .. "'") end
      for n = a, b do list[#list + 1] = n end
    elseif item:match("^%d+$") then
      list[#list + 1] = scene_number(item, spec)
    else
      usage_error("--scenes: expected numbers like 1,3,5 or 2-4, got '" .. spec .. "'")
    end
    if #list > M.MAX_SCENE_LIST then
      usage_error(("--scenes: more than %d scenes in '%s'"):format(M.MAX_SCENE_LIST, spec))
    end
  end
  return list
end

-- A value checked by the facade's parser (explainer.parse_rate, parse_shard)
-- and kept as written: the option is the text ("60/min", "1/4").
local function parsed_by(parse)
  return function(value, name)
    local ok, why = parse(value)
    if not ok then usage_error(name .. ": " .. why:gsub("^[%w_]+: ", "")) end
    return value
  end
end

--- `--rate N/UNIT` and `--shard K/N`, checked as the run will check them.
M.rate = parsed_by(explainer.parse_rate)
M.shard = parsed_by(explainer.parse_shard)

--- `--max-size SIZE` (2G, 500M, 10k) in bytes.
function M.size(value, name)
  local bytes = require("explainer.cache").parse_size(value)
  if not bytes or math.tointeger(bytes) == nil then
    usage_error(("%s: expected a size like 2G, 500M or 10k, got '%s'"):format(name, value))
  end
  return math.tointeger(bytes)
end

local function progress(value, name)
  if value ~= "auto" and value ~= "plain" and value ~= "json" and value ~= "quiet" then
    usage_error(name .. ": expected auto, plain, json or quiet, got '" .. value .. "'")
  end
  return value
end

local function yes() return true end
local function no() return false end

-- Seconds on the command line: from a millisecond (0 would mean "none") to a week.
local SECONDS = { 0.001, BOUNDS.timeout[2] }

--- Flags of a workflow run: name -> {option key, takes a value, convert}
-- (a spec may also say `many = true`: given again, it adds up).
M.RUN_FLAGS = {
  ["--jobs"] = { "jobs", true, M.number(BOUNDS.jobs) },
  ["-j"] = { "jobs", true, M.number(BOUNDS.jobs) },
  ["--timeout"] = { "timeout", true, M.number(SECONDS) },
  ["--retries"] = { "retries", true, M.number(BOUNDS.retries) },
  ["--retry-delay"] = { "retry_delay", true, M.number(BOUNDS.retry_delay) },
  ["--rate"] = { "rate", true, M.rate },
  ["--shard"] = { "shard", true, M.shard },
  ["--dry-run"] = { "dry_run", false, yes },
  ["--json"] = { "json", false, yes },
  ["--cache-dir"] = { "cache_dir", true },
  ["--no-cache"] = { "cache", false, no },
  ["--durable"] = { "durable", false, yes },
  ["--progress"] = { "progress", true, progress },
  ["--scenes"] = { "scene_numbers", true, M.scene_list },
  ["--no-skip"] = { "skip_existing", false, no },
  ["--output-dir"] = { "output_base_dir", true },
  ["--output-filename"] = { "output_filename", true },
  ["--abort-on-error"] = { "continue_on_error", false, no },
  ["--quiet"] = { "progress", false, function() return "quiet" end },
  ["--finish-only"] = { "finish_only", false, yes },
  ["--no-finish"] = { "no_finish", false, yes },
  ["--verbose"] = { "verbose", false, yes },
  ["--strict"] = { "strict", false, yes },
}

--- Is `word` an option the command takes (so not the value of the one before
-- it: `--output-dir --no-skip` forgot the folder)?
-- @tparam string word
-- @tparam table ... tables of flags (name -> spec, or name -> true)
function M.is_flag(word, ...)
  if word == "--" then return true end
  local name = word:match("^(%-%-[^=]+)=") or word
  for i = 1, select("#", ...) do
    if select(i, ...)[name] then return true end
  end
  return false
end

--- The value of the flag `name` at `args[i]`: `inline` (from `--name=value`),
-- else the next word, unless there is none or it is itself one of the
-- command's options (a usage error: "--output-dir needs a value").
-- @treturn string the value
-- @treturn integer the index of the last word used
function M.value_of(args, i, name, inline, ...)
  if inline ~= nil then return inline, i end
  local value = args[i + 1]
  if value == nil or M.is_flag(value, ...) then
    usage_error(name .. " needs a value" .. (value and (", got the option " .. value) or ""))
  end
  return value, i + 1
end

--- Split argv into positionals and flag overrides. Each option is given at
-- most once (unless its spec says `many`), and two flags that set one option
-- (`-j` and `--jobs`, `--quiet` and `--progress`) are not both given.
-- @tparam table args the words
-- @tparam table flags name -> {option key, takes a value, convert}
-- @treturn table positional
-- @treturn table overrides option key -> value
function M.parse(args, flags)
  local positional, overrides, given = {}, {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do positional[#positional + 1] = args[j] end
      break
    elseif a:sub(1, 2) == "--" or (a:sub(1, 1) == "-" and #a > 1) then
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local spec = flags[name]
      if not spec then usage_error("unknown option '" .. name .. "'", name) end
      local before = given[spec[1]]
      if before and not spec.many then
        usage_error(before == name and name .. " is given twice"
          or ("%s and %s set the same option: give one"):format(before, name))
      end
      given[spec[1]] = name
      if spec[2] then
        value, i = M.value_of(args, i, name, value, flags)
        overrides[spec[1]] = spec[3] and spec[3](value, name) or value
      else
        if value ~= nil then usage_error(name .. " takes no value") end
        if spec[3] then
          overrides[spec[1]] = spec[3]()
        else
          overrides[spec[1]] = true
        end
      end
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  return positional, overrides
end

--- Refuse flags that cannot go together.
-- @tparam table overrides from `parse`
-- @tparam table pairs_ list of {key, key, "--flag", "--flag"}
function M.exclusive(overrides, pairs_)
  for _, p in ipairs(pairs_) do
    if overrides[p[1]] ~= nil and overrides[p[2]] ~= nil then
      usage_error(("%s and %s cannot go together"):format(p[3], p[4]))
    end
  end
end

return M
