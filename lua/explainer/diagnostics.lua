--- Problems with a script or a workflow, in the form compilers use:
-- `FILE:LINE:COL: error|warning|note: message [rule]`.
-- The one place that prints them, for every command: `parse`, `narration`,
-- `status`, runs (and `--dry-run`) and `check`.
-- @module explainer.diagnostics

local M = {}

--- How many warnings a run shows before it says "--verbose for all".
M.SHOWN = 5

--- Every rule, with its severity in `explainer check` and what it is about.
-- Runs show a script's parse problems as warnings whatever their rule.
M.RULES = {
  ["no-scenes"] = { "error", "the file has no scene header at all (docs/format.md#scenes)" },
  ["scene-header"] = { "error", "a line that looks like a scene header but is not read as one" },
  ["duplicate-scene"] = { "error", "two scenes with one number (their outputs would collide)" },
  ["duration"] = { "warning", "a duration that cannot be read, or is 0 s or over 10 minutes" },
  ["scene-count"] = { "warning", '"- N SCENES" in the title disagrees with the scenes found' },
  ["total-duration"] = { "warning", "Total Duration disagrees with the sum of the scenes" },
  ["no-narration"] = { "warning", "a NO NARRATION scene that has narration" },
  ["unclosed-quote"] = { "warning", "a quoted value whose quote never closes" },
  ["field-text"] = { "warning", "text after a quoted value that has ended: not part of it" },
  ["encoding"] = { "error", "text that is not UTF-8 (or UTF-16 with a byte-order mark): binary, corrupted" },
  ["placeholder"] = { "warning", "a template placeholder left in ([Scene Title], [To be determined])" },
  ["pacing"] = { "warning", "narration too long to speak in its scene at the pace (--pace)" },
  ["missing-narration"] = { "warning", "a scene without narration where the others have it" },
  ["missing-prompt"] = { "warning", "a scene without an image or animation prompt where the others have one" },
  ["numbering"] = { "note", "a gap or a step back in the scene numbers" },
  ["layout-repeat"] = { "note", "neighbouring scenes with one layout pattern, or one text position three times" },
  ["layout-pattern"] = { "note", "a Layout Pattern the frame does not know" },
  ["workflow-key"] = { "warning", "a key of a workflow's table that explainer does not know" },
}

--- A diagnostic.
-- @tparam string file
-- @tparam integer line 1-based (0: the file as a whole)
-- @tparam integer column 1-based, in characters
-- @tparam string rule one of M.RULES
-- @tparam string message
-- @tparam[opt] string severity default: the rule's
-- @treturn table {file, line, column, severity, rule, message}
function M.new(file, line, column, rule, message, severity)
  local known = M.RULES[rule]
  return { file = file, line = line or 0, column = column or 1, rule = rule,
    message = message, severity = severity or (known and known[1]) or "warning" }
end

--- A document's parse warnings as diagnostics.
-- @tparam table doc a parsed document (its `warnings`)
-- @tparam[opt] boolean by_rule take each rule's severity (check) rather than "warning" (runs)
function M.from_document(doc, by_rule)
  local list = {}
  for i, w in ipairs(doc.warnings or {}) do
    local d = M.new(doc.path or doc.name, w.line, w.column, w.rule or "parse", w.message)
    if not by_rule then d.severity = "warning" end
    list[i] = d
  end
  return list
end

--- One line: `file:line:col: severity: message [rule]` (no position when line is 0).
function M.format(d)
  local where = d.line and d.line > 0 and ("%s:%d:%d"):format(d.file, d.line, d.column or 1)
    or d.file
  return ("%s: %s: %s [%s]"):format(where, d.severity, d.message, d.rule)
end

--- The offending line and a caret under the column (tabs kept, so it lines up;
-- other control characters, NULs and escapes of a binary file, shown as U+FFFD).
-- @tparam string text the source line
-- @tparam integer column 1-based, in characters
-- @treturn string two lines, without the final newline
function M.caret(text, column)
  text = text:gsub("[%z\1-\8\11-\31\127]", "\u{FFFD}")
  local pad, n = {}, 1
  -- A character starts at every byte that is not a UTF-8 continuation byte.
  for i = 1, #text do
    local byte = text:byte(i)
    if byte < 0x80 or byte >= 0xC0 then
      if n >= column then break end
      n = n + 1
      pad[#pad + 1] = byte == 9 and "\t" or " "
    end
  end
  return "  " .. text .. "\n  " .. table.concat(pad) .. "^"
end

--- The column, in characters, after `prefix` (bytes of a line before a point).
function M.column_after(prefix)
  return #prefix:gsub("[\x80-\xBF]", "") + 1
end

-- One progress event line, keys in the order of the orchestrator's own events.
local function json_event(d)
  local json = require "explainer.json"
  local function str(v) return (json.encode(v):gsub("\\/", "/")) end
  return ('{"event":"warning","file":%s,"line":%d,"column":%d,"severity":%s,"rule":%s,'
    .. '"message":%s}'):format(str(d.file), d.line, d.column, str(d.severity), str(d.rule),
      str(d.message))
end

--- Print diagnostics on a stream.
-- @tparam table list diagnostics
-- @tparam[opt] table opts `out` (io.stderr), `mode` ("text"; "json": one
--   `{"event":"warning",...}` line each, all of them; "quiet": nothing), `limit`
--   (text: show at most so many; nil: all), `count` (text: end with "FILE: N
--   warnings"), `lines` (function(file, line) -> text, to show the line and a caret)
function M.print(list, opts)
  opts = opts or {}
  local out = opts.out or io.stderr
  if #list == 0 or opts.mode == "quiet" then return end
  local shown = opts.limit and opts.mode ~= "json" and math.min(opts.limit, #list) or #list
  local buf = {}
  for i = 1, shown do
    local d = list[i]
    if opts.mode == "json" then
      buf[#buf + 1] = json_event(d)
    else
      buf[#buf + 1] = M.format(d)
      local text = opts.lines and d.line > 0 and opts.lines(d.file, d.line)
      if text then buf[#buf + 1] = M.caret(text, d.column) end
    end
  end
  if opts.mode ~= "json" and (opts.count or shown < #list) then
    local n = #list
    buf[#buf + 1] = ("%s: %d warning%s%s"):format(list[1].file, n, n == 1 and "" or "s",
      shown < n and (" (%d shown; --verbose for all)"):format(shown) or "")
  end
  out:write(table.concat(buf, "\n"), "\n")
end

--- Why a file has no scenes: the header forms that count (docs/format.md). The one
-- wording of it, for every command and `check`.
M.NO_SCENES = "no scene header found (a scene starts at '## SCENE n: Title', or at "
  .. "headers such as '**Scene n: Title**', 'Scene n: Title', '## Part n: Title' or "
  .. "'## n. Title' each followed by a Narration or with a NARRATION SCRIPT entry)"

--- The message for a file without any scene header.
function M.no_scenes_message(path)
  return path .. ": " .. M.NO_SCENES
end

--- Before a run: show the file's warnings, refuse a file without scenes, and with
-- `strict` refuse one with warnings.
-- @tparam table document the parsed document (scenes may be lazy)
-- @tparam table opts the run's options: progress ("json" gives events, "quiet"
--   nothing), verbose (all warnings), strict
-- @treturn boolean|nil true to go on; nil and a message to refuse the file
function M.before_run(document, opts)
  local list = M.from_document(document)
  local mode = opts.progress == "json" and "json" or opts.progress == "quiet" and "quiet"
    or "text"
  M.print(list, { mode = mode, limit = not opts.verbose and M.SHOWN or nil, count = true })
  local path = document.path or document.name
  if #document.scenes == 0 then return nil, M.no_scenes_message(path) end
  if opts.strict and #list > 0 then
    return nil, ("%s: %d warning%s and --strict: nothing was run"):format(path, #list,
      #list == 1 and "" or "s")
  end
  return true
end

-- Levenshtein distance, for "did you mean".
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- The known name closest to `name`, when it is close enough to be a typo.
-- @tparam string name
-- @tparam table known list of names
-- @treturn string|nil
function M.suggest(name, known)
  local best, best_d
  for _, k in ipairs(known) do
    local d = distance(name:lower(), k:lower())
    if not best_d or d < best_d or (d == best_d and k < best) then best, best_d = k, d end
  end
  if best and best_d <= math.max(2, #name // 4) then return best end
  return nil
end

--- Keys of a workflow's table that explainer does not know, as diagnostics.
-- @tparam string path the workflow file (its text locates the key)
-- @tparam table workflow the table it returned
-- @tparam table known set of known keys
function M.workflow_keys(path, workflow, known)
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  local text
  local list = {}
  for key in pairs(workflow) do
    if type(key) == "string" and not known[key] then
      if text == nil then
        local f = io.open(path, "rb")
        text = f and f:read("a") or false
        if f then f:close() end
      end
      local line, column = 0, 1
      if text then -- the first place the key is written as a word
        local at = 1
        repeat
          local s, e = text:find(key, at, true)
          if s and not text:sub(s - 1, s - 1):match("[%w_]") and
              not text:sub(e + 1, e + 1):match("[%w_]") then
            local before = text:sub(1, s - 1)
            line = select(2, before:gsub("\n", "")) + 1
            column = M.column_after(before:match("[^\n]*$"))
            break
          end
          at = s and s + 1
        until not s
      end
      local hint = M.suggest(key, names)
      list[#list + 1] = M.new(path, line, column, "workflow-key",
        ("unknown key '%s' in the workflow's table%s"):format(key,
          hint and (" (did you mean %s?)"):format(hint) or "; it is ignored"))
    end
  end
  table.sort(list, function(a, b) return a.line < b.line end)
  return list
end

return M
