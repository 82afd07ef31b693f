--- `explainer check`: a linter for explainer scripts, before money is spent on them.
-- The parser's own problems (explainer.parse's `warnings`) and the rules below, as
-- diagnostics (explainer.diagnostics). Rules: see docs/check.md.
-- @module explainer.check

local explainer = require "explainer"
local diagnostics = require "explainer.diagnostics"

local M = {}

--- Words a minute a narrator speaks, unless `--pace` says otherwise.
M.DEFAULT_PACE = 150

-- ------------------------------------------------------------------- text

-- UTF-16 with a byte-order mark as UTF-8 (the parser reads it too).
local function from_utf16(bytes)
  local little = bytes:byte(1) == 0xFF
  local out, i, n = {}, 3, #bytes
  while i + 1 <= n do
    local a, b = bytes:byte(i, i + 1)
    local unit = little and (a + b * 256) or (a * 256 + b)
    i = i + 2
    if unit >= 0xD800 and unit <= 0xDBFF and i + 1 <= n then
      local c, d = bytes:byte(i, i + 1)
      local low = little and (c + d * 256) or (c * 256 + d)
      if low >= 0xDC00 and low <= 0xDFFF then
        unit = 0x10000 + (unit - 0xD800) * 0x400 + (low - 0xDC00)
        i = i + 2
      end
    end
    if unit >= 0xD800 and unit <= 0xDFFF then unit = 0xFFFD end
    out[#out + 1] = utf8.char(unit)
  end
  return table.concat(out)
end

--- The lines of a script as the parser numbers them (LF, CRLF or CR; BOM dropped).
-- @tparam string bytes the file's content
-- @treturn table list of lines
function M.lines(bytes)
  local b1, b2 = bytes:byte(1, 2)
  if (b1 == 0xFF and b2 == 0xFE) or (b1 == 0xFE and b2 == 0xFF) then
    bytes = from_utf16(bytes)
  end
  if bytes:sub(1, 3) == "\xEF\xBB\xBF" then bytes = bytes:sub(4) end
  local lines = {}
  if bytes == "" then return lines end
  bytes = bytes:gsub("\r\n?", "\n")
  if bytes:sub(-1) ~= "\n" then bytes = bytes .. "\n" end
  for line in bytes:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

-- `Label:` / `**Label:**` / `**Label**:` at column 0: the label, lower case.
local function label_of(line)
  local text = line:gsub("^%*%*", "")
  local label = text:match("^([%a\128-\255][^:\"]-)%s*%*?%*?:")
  if not label then return nil end
  label = label:lower():gsub("%*+$", ""):gsub("%s+$", "")
  return label
end

local NARRATION_LABELS = { narration = true, voiceover = true, ["voice-over"] = true,
  ["voice over"] = true, vo = true, ["v.o."] = true, ["v.o"] = true }

local function is_narration_label(label)
  if not label then return false end
  return NARRATION_LABELS[label:gsub("%s*%b()$", "")] == true
end

-- A level-1 or level-2 heading (which ends a scene's block).
local function is_block_heading(line)
  local hashes = line:match("^(#+)")
  return hashes and #hashes <= 2 and (line:sub(#hashes + 1, #hashes + 1):match("[%s%*]")
    or line:sub(#hashes + 1):lower():match("^scene"))
end

--- The words of a text (runs of non-blanks with a letter or digit in them).
function M.words(text)
  local n = 0
  for w in (text or ""):gmatch("%S+") do
    if w:find("[%w\128-\255]") then n = n + 1 end
  end
  return n
end

--- Seconds for people: "6 s", "7.5 s".
function M.seconds(s)
  if s == math.floor(s) then return ("%d s"):format(s) end
  return ("%.1f s"):format(s)
end

local words, seconds = M.words, M.seconds

local function is_placeholder_text(text)
  return text:match("^%s*%b[]%s*$") ~= nil
end

-- ------------------------------------------------------------------ rules

-- The line range of each scene's block: scene -> {first, last}.
local function blocks(doc, lines)
  local ranges = {}
  for i, scene in ipairs(doc.scenes) do
    local last = scene.line
    for n = scene.line + 1, #lines do
      if is_block_heading(lines[n]) then break end
      last = n
    end
    ranges[i] = { scene.line + 1, last }
  end
  return ranges
end

-- The NARRATION SCRIPT entry lines: scene number -> line.
local function script_entries(lines)
  local entries, inside = {}, false
  for n, line in ipairs(lines) do
    if is_block_heading(line) then
      inside = line:lower():find("script", 1, true) ~= nil
    elseif inside then
      local number = line:match("^[%-%*%s]*[Ss][Cc][Ee][Nn][Ee]%s+(%d+)")
      if number and not entries[tonumber(number)] then entries[tonumber(number)] = n end
    end
  end
  return entries
end

-- A bracket group that is a template's blank to fill in.
local function placeholder_kind(content, after, on_narration)
  if content:match("^%s*$") or content:match("^[xX ]$") then return nil end -- [ ] [x]
  if after == "(" then return nil end                                    -- [text](link)
  if content:match("^%s*[~%d]") then return nil end                      -- [8s] [1] [2:30]
  if on_narration and not content:find("%u") then return nil end        -- [pause] audio tags
  return content
end

local function check_placeholders(report, doc, lines, ranges)
  -- Scenes by line, to know whose final prompt a "[To be determined]" is.
  local scene_at = {}
  for i, r in ipairs(ranges) do
    for n = r[1] - 1, r[2] do scene_at[n] = doc.scenes[i] end
  end
  local label -- the label of the field the line is in
  for n, line in ipairs(lines) do
    local own = label_of(line) or label_of((line:gsub("^%s*[%-*]%s+", ""))) -- "- Final Prompt:"
    if own then label = own elseif is_block_heading(line) then label = nil end
    local found, first, column = 0, nil, nil
    local at = 1
    while true do
      local s, e = line:find("%b[]", at)
      if not s then break end
      local content = line:sub(s + 1, e - 1)
      local spoken = is_narration_label(label) or (label and label:match("^scene %d+") ~= nil)
      local kind = placeholder_kind(content, line:sub(e + 1, e + 1), spoken)
      local scene = scene_at[n]
      if kind and (content:lower():match("^%s*to be determined") or content:match("^%s*TBD")) then
        -- A final prompt is written after the first image is reviewed: only a
        -- scene with nothing to make its image from needs one now.
        if label and label:find("final prompt", 1, true) and scene and scene.initial_prompt then
          kind = nil
        end
      end
      if kind then
        found = found + 1
        if not first then first, column = line:sub(s, e), diagnostics.column_after(line:sub(1, s - 1)) end
      end
      at = e + 1
    end
    if first then
      report(n, column, "placeholder", ("placeholder %s left in%s"):format(first,
        found > 1 and (" (and %d more on this line)"):format(found - 1) or ""))
    end
  end
end

local function check_pacing(report, doc, lines, ranges, pace)
  local entries
  for i, scene in ipairs(doc.scenes) do
    local text = scene.narration
    if text and not scene.no_narration and not is_placeholder_text(text) then
      local n = words(text)
      local spoken = n / pace * 60
      if spoken > scene.duration + 1e-9 then
        local line = nil
        for k = ranges[i][1], ranges[i][2] do
          if is_narration_label(label_of(lines[k])) then line = k break end
        end
        if not line then
          entries = entries or script_entries(lines)
          line = entries[scene.scene_number] or scene.line
        end
        report(line, 1, "pacing", ("scene %d: narration too long for its scene: %d word%s ≈ %.1f s "
          .. "at %g wpm; scene is %s"):format(scene.scene_number, n, n == 1 and "" or "s", spoken, pace,
          seconds(scene.duration)))
      end
    end
  end
end

local function check_total(report, doc, lines)
  local first = doc.scenes[1] and doc.scenes[1].line or #lines + 1
  local sum = 0
  for _, scene in ipairs(doc.scenes) do sum = sum + scene.duration end
  if math.abs(sum - doc.total_duration) < 0.5 then return end
  for n = 1, first - 1 do
    local label = label_of(lines[n])
    if label == "total duration" then
      local value = lines[n]:find("%d")
      report(n, value and diagnostics.column_after(lines[n]:sub(1, value - 1)) or 1,
        "total-duration", ("Total Duration says %s but the scenes add up to %s")
          :format(seconds(doc.total_duration), seconds(sum)))
      return
    end
  end
end

-- Scenes that lack what most of the others have.
local function check_missing(report, doc)
  local scenes = doc.scenes
  local spoken, speaking = 0, 0
  local images, animations = 0, 0
  for _, s in ipairs(scenes) do
    if not s.no_narration then
      speaking = speaking + 1
      if s.narration then spoken = spoken + 1 end
    end
    if s.initial_prompt or s.prompt or s.final_prompt then images = images + 1 end
    if s.animation_prompt then animations = animations + 1 end
  end
  for _, s in ipairs(scenes) do
    if not s.no_narration and not s.narration and spoken * 2 > speaking then
      report(s.line, 1, "missing-narration", ("scene %d has no narration, unlike %d other "
        .. "scenes (add 'Narration: \"...\"' or mark it '- NO NARRATION')")
          :format(s.scene_number, spoken))
    end
    if not (s.initial_prompt or s.prompt or s.final_prompt) and images * 2 > #scenes then
      report(s.line, 1, "missing-prompt", ("scene %d has no image prompt, unlike %d other "
        .. "scenes"):format(s.scene_number, images))
    end
    if not s.animation_prompt and animations * 2 > #scenes then
      report(s.line, 1, "missing-prompt", ("scene %d has no animation prompt, unlike %d "
        .. "other scenes"):format(s.scene_number, animations))
    end
  end
end

local function check_numbering(report, doc)
  local seen, prev = {}, nil
  for _, s in ipairs(doc.scenes) do
    local n = s.scene_number
    if prev and not seen[n] then
      if n > prev + 1 then
        report(s.line, 1, "numbering", n == prev + 2
          and ("scene %d is missing (between scenes %d and %d)"):format(prev + 1, prev, n)
          or ("scenes %d-%d are missing (between scenes %d and %d)"):format(prev + 1, n - 1,
            prev, n))
      elseif n < prev then
        report(s.line, 1, "numbering", ("scene %d comes after scene %d"):format(n, prev))
      end
    end
    seen[n] = true
    prev = n
  end
end

-- The first line of a scene's block whose bullet label is one of `labels`.
local function bullet_line(lines, range, labels)
  for n = range[1], range[2] do
    local label = lines[n]:match("^%s*[%-%*•]%s+([^:]+):") or lines[n]:match("^([%a ]+):")
    if label and labels[label:lower():gsub("%s+$", "")] then return n end
  end
end

local PATTERN_LABELS = { ["layout pattern"] = true, pattern = true }
local TEXT_LABELS = { text = true, title = true, headline = true, ["on-screen text"] = true }

-- Frames that look alike one after another: two neighbours with the same
-- layout pattern, or the same text position three times in a row; and a
-- pattern the catalogue does not know.
local function check_layout(report, doc, lines, ranges)
  local any = false
  for _, scene in ipairs(doc.scenes) do any = any or scene.layout ~= nil end
  if not any then return end -- and a run of a script without layouts loads no layout module
  local layout = require "explainer.recipes.layout"
  local prev_pattern, run = nil, {}
  for i, scene in ipairs(doc.scenes) do
    local spec = layout.parse(scene.layout)
    local pattern = spec.pattern and spec.pattern.name
    local pline = spec.pattern_text and (bullet_line(lines, ranges[i], PATTERN_LABELS) or scene.line)
    if spec.pattern_text and not pattern then
      report(pline, 1, "layout-pattern", ("scene %d: layout pattern '%s' is not one the frame knows; "
        .. "it is placed by its text's position (docs/format.md lists the patterns)")
          :format(scene.scene_number, spec.pattern_text))
    end
    if pattern and prev_pattern and pattern == prev_pattern.name then
      report(pline, 1, "layout-repeat", ("scene %d has the same layout pattern as scene %d (%s): "
        .. "neighbouring frames look alike"):format(scene.scene_number, prev_pattern.scene, pattern))
    end
    prev_pattern = pattern and { name = pattern, scene = scene.scene_number } or nil
    local where = spec.texts[1] and layout.position_name(spec.texts[1].position)
    if where and run[1] and run[1].where == where then
      run[#run + 1] = { where = where, scene = scene.scene_number }
    else
      run = where and { { where = where, scene = scene.scene_number } } or {}
    end
    if #run == 3 then
      report(bullet_line(lines, ranges[i], TEXT_LABELS) or scene.line, 1, "layout-repeat",
        ("scenes %d, %d and %d all put their text at %s: vary where it goes"):format(run[1].scene, run[2].scene,
          run[3].scene, where))
    end
  end
end

--- Check the text of a script.
-- @tparam string bytes the script
-- @tparam string path its name in diagnostics
-- @tparam[opt] table opts pace (words a minute, default 150), disable (set of rules)
-- @tparam[opt] table doc the script already parsed
-- @treturn table diagnostics, in line order
-- @treturn table the script's lines (for showing them)
function M.check_text(bytes, path, opts, doc)
  opts = opts or {}
  local pace = opts.pace or M.DEFAULT_PACE
  local disable = opts.disable or {}
  if not doc then
    doc = explainer.core.parse_string(bytes, explainer.core.path_stem(path))
    doc.path = path
  end
  local lines = M.lines(bytes)
  local list = {}
  local function report(line, column, rule, message)
    if not disable[rule] then list[#list + 1] = diagnostics.new(path, line, column, rule, message) end
  end
  for _, d in ipairs(diagnostics.from_document(doc, true)) do
    if not disable[d.rule] then list[#list + 1] = d end
  end
  if #doc.scenes == 0 then
    report(0, 1, "no-scenes", diagnostics.NO_SCENES .. "; nothing to check")
  else
    local ranges = blocks(doc, lines)
    check_placeholders(report, doc, lines, ranges)
    check_pacing(report, doc, lines, ranges, pace)
    check_total(report, doc, lines)
    check_missing(report, doc)
    check_numbering(report, doc)
    check_layout(report, doc, lines, ranges)
  end
  for i, d in ipairs(list) do d.order = i end
  table.sort(list, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    if a.column ~= b.column then return a.column < b.column end
    return a.order < b.order
  end)
  for _, d in ipairs(list) do d.order = nil end
  return list, lines
end

--- Check a script file.
-- @tparam string path
-- @tparam[opt] table opts as for check_text
-- @treturn table|nil diagnostics; nil and a message when the file cannot be read
-- @treturn table|string the file's lines, or the message
function M.check_file(path, opts)
  local doc, err = explainer.parse(path) -- the same errors as every command
  if not doc then return nil, err end
  local f = io.open(path, "rb")
  if not f then return nil, path .. ": cannot open" end
  local bytes = f:read("a")
  f:close()
  return M.check_text(bytes, path, opts, doc)
end

--- Counts of a list of diagnostics by severity.
function M.counts(list)
  local c = { error = 0, warning = 0, note = 0 }
  for _, d in ipairs(list) do c[d.severity] = (c[d.severity] or 0) + 1 end
  return c
end

return M
