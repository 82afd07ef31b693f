--- Captions: a narration split into cues, timed, and written as SubRip
-- (`.srt`), WebVTT (`.vtt`) or ASS (for burning in with libass).
--
-- Pure functions (no files, no tools), so that each rule can be tested alone:
--
--     local captions = require "explainer.recipes.captions"
--     local cues = captions.split("A heat pump does not make heat; it moves it.")
--     captions.time(cues, 12.5, 4.2)          -- from 12.5 s, over 4.2 s of speech
--     print(captions.srt(cues))
--
-- Cues break at sentence ends first, then at clause marks (`,` `;` `:` and
-- dashes), then between words, into pieces of at most `max_lines` lines of
-- at most `max_chars` characters (42 and 2 by default, the usual broadcast
-- limits). Each cue keeps where its text lies in the narration (in
-- characters), so that a backend's character timings (ElevenLabs'
-- `with-timestamps` alignment) can time it to the very syllable; without
-- them, cues share the measured length of the speech by their number of
-- characters.
-- @module explainer.recipes.captions

local M = {}

--- The longest line, in characters (42).
M.MAX_CHARS = 42
--- The most lines a cue has (2).
M.MAX_LINES = 2

local function ulen(s)
  return utf8.len(s) or #s
end

-- Closing marks that may follow a word's last punctuation: quotes, brackets.
local CLOSERS = "[\"'%)%]}\194\187]*"   -- " ' ) ] } and »
local CURLY_CLOSERS = { "\226\128\153", "\226\128\157" }   -- ’ ”

local function strip_closers(word)
  local changed = true
  while changed do
    changed = false
    for _, c in ipairs(CURLY_CLOSERS) do
      if word:sub(-#c) == c then word, changed = word:sub(1, -#c - 1), true end
    end
    local w = word:gsub(CLOSERS .. "$", "")
    if w ~= word then word, changed = w, true end
  end
  return word
end

local ELLIPSIS = "\226\128\166"
local DASHES = { ["-"] = true, ["--"] = true, ["\226\128\147"] = true, ["\226\128\148"] = true }

-- What a word ends: "sentence", "clause" or nil.
local function ending(word)
  if DASHES[word] then return "clause" end
  local w = strip_closers(word)
  if w:match("[%.!%?]$") or w:sub(-#ELLIPSIS) == ELLIPSIS then return "sentence" end
  if w:match("[,;:]$") or w:sub(-3) == "\226\128\148" or w:sub(-3) == "\226\128\147" then return "clause" end
  return nil
end

-- Abbreviations whose period ends no sentence.
local ABBREVIATIONS = {}
for a in ("mr mrs ms dr prof st vs etc e.g i.e approx no fig jr sr inc ltd co"):gmatch("%S+") do
  ABBREVIATIONS[a .. "."] = true
end

-- Does a word open a sentence (so the period before it ends one, not "e.g.")?
local function opens_sentence(word)
  if not word then return true end
  local first = word:gsub("^[\"'%(%[\194\171]+", ""):gsub("^\226\128[\156\152]", "")
  local c = first:sub(1, 1)
  return c:match("[%u%d]") ~= nil or c:byte() ~= nil and c:byte() >= 0x80
end

--- The words of a text with where each lies, in characters (code points,
-- 1-based) of the text as given.
-- @tparam string text
-- @treturn {table,...} `{text=, first=, last=}` per word
function M.words(text)
  if type(text) ~= "string" then
    error("bad argument #1 to 'words' (string expected, got " .. type(text) .. ")", 2)
  end
  local words, current, first, i = {}, nil, nil, 0
  local ok = pcall(function()
    for _, cp in utf8.codes(text) do
      i = i + 1
      local ch = utf8.char(cp)
      if ch:match("^%s$") or cp == 0xA0 then
        if current then
          words[#words + 1] = { text = table.concat(current), first = first, last = i - 1 }
          current = nil
        end
      else
        if not current then current, first = {}, i end
        current[#current + 1] = ch
      end
    end
  end)
  if not ok then
    -- Not UTF-8: count bytes instead.
    words, i = {}, 0
    for s, w, e in text:gmatch("()(%S+)()") do
      words[#words + 1] = { text = w, first = s, last = e - 1 }
      i = e
    end
    return words
  end
  if current then words[#words + 1] = { text = table.concat(current), first = first, last = i } end
  return words
end

local function join(words, a, b)
  local parts = {}
  for k = a, b do parts[#parts + 1] = words[k].text end
  return table.concat(parts, " ")
end

local function span(words, a, b)
  local n = b - a
  for k = a, b do n = n + ulen(words[k].text) end
  return n
end

--- Lay some words out in lines: the fewest lines, balanced, each at most
-- `max_chars` long, preferring to break after a clause mark.
-- @tparam {table,...} words as from `words` (only `text` is read)
-- @tparam[opt=42] number max_chars
-- @tparam[opt=2] number max_lines
-- @treturn {string,...}|nil the lines, or nil when they do not fit (a single
--   word too long for a line is laid out alone all the same)
function M.layout(words, max_chars, max_lines)
  max_chars, max_lines = max_chars or M.MAX_CHARS, max_lines or M.MAX_LINES
  local n = #words
  if n == 0 then return {} end
  if n == 1 or span(words, 1, n) <= max_chars then return { join(words, 1, n) } end
  -- best[k][j]: the best way to lay words 1..j in k lines, as
  -- {cost, longest, breaks}; a break after a clause mark is worth 4 characters.
  local best = { [1] = {} }
  for j = 1, n do
    local w = span(words, 1, j)
    best[1][j] = { cost = w, longest = w, breaks = {} }
  end
  for k = 2, max_lines do
    best[k] = {}
    for j = k, n do
      local choice
      for i = k - 1, j - 1 do
        local prev = best[k - 1][i]
        if prev and prev.longest <= max_chars then
          local w = span(words, i + 1, j)
          local longest = math.max(prev.longest, w)
          local cost = math.max(prev.cost, w) - (ending(words[i].text) and 4 or 0)
          if longest <= max_chars and (not choice or cost < choice.cost) then
            local breaks = { table.unpack(prev.breaks) }
            breaks[#breaks + 1] = i
            choice = { cost = cost, longest = longest, breaks = breaks }
          end
        end
      end
      best[k][j] = choice
    end
    local done = best[k][n]
    if done and done.longest <= max_chars then
      local lines, from = {}, 1
      for _, b in ipairs(done.breaks) do
        lines[#lines + 1] = join(words, from, b)
        from = b + 1
      end
      lines[#lines + 1] = join(words, from, n)
      return lines
    end
  end
  return nil
end

-- Words a..b split into n pieces of about equal length (by characters).
local function balanced(words, a, b, n)
  local total = span(words, a, b)
  local pieces, from, acc = {}, a, 0
  for k = a, b do
    acc = acc + ulen(words[k].text) + (k > a and 1 or 0)
    local target = total * (#pieces + 1) / n
    local left = b - k
    local need = n - #pieces - 1
    if need > 0 and k < b and (acc >= target or left == need) then
      -- Break here or before this word, whichever is nearer the target.
      local before = acc - ulen(words[k].text) - 1
      if k > from and target - before < acc - target then
        pieces[#pieces + 1] = { from, k - 1 }
        from = k
      else
        pieces[#pieces + 1] = { from, k }
        from = k + 1
      end
    end
  end
  if from <= b then pieces[#pieces + 1] = { from, b } end
  return pieces
end

--- Split a narration into cues.
-- @tparam string text
-- @tparam[opt] table opts `max_chars` (42), `max_lines` (2)
-- @treturn {table,...} cues `{text=, lines={...}, first=, last=}` (`first`
--   and `last`: the cue's first and last character in `text`)
function M.split(text, opts)
  if type(text) ~= "string" then
    error("bad argument #1 to 'split' (string expected, got " .. type(text) .. ")", 2)
  end
  opts = opts or {}
  local max_chars, max_lines = opts.max_chars or M.MAX_CHARS, opts.max_lines or M.MAX_LINES
  local words = M.words(text)
  local cues = {}
  local function fits(a, b)
    local sub = {}
    for k = a, b do sub[#sub + 1] = words[k] end
    return M.layout(sub, max_chars, max_lines)
  end
  local function emit(a, b)
    local sub = {}
    for k = a, b do sub[#sub + 1] = words[k] end
    cues[#cues + 1] = { text = join(words, a, b), first = words[a].first, last = words[b].last,
                        lines = M.layout(sub, max_chars, max_lines) or { join(words, a, b) } }
  end
  -- A stretch of words too long for a cue: the fewest balanced pieces that fit.
  local function chop(a, b)
    local cap = max_chars * max_lines
    for n = math.max(2, math.ceil(span(words, a, b) / cap)), b - a + 1 do
      local pieces = balanced(words, a, b, n)
      local all = true
      for _, p in ipairs(pieces) do
        if p[1] < p[2] and not fits(p[1], p[2]) then all = false break end
      end
      if all then return pieces end
    end
    local pieces = {}
    for k = a, b do pieces[#pieces + 1] = { k, k } end
    return pieces
  end
  -- Sentences, then clauses within a sentence that does not fit.
  local s = 1
  for k = 1, #words do
    local kind = ending(words[k].text)
    if k == #words or kind == "sentence" and not ABBREVIATIONS[words[k].text:lower()]
        and opens_sentence(words[k + 1] and words[k + 1].text) then
      if fits(s, k) then
        emit(s, k)
      else
        local cur_a, cur_b = nil, nil
        local c = s
        for m = s, k do
          if m == k or ending(words[m].text) then
            -- clause c..m
            if cur_a and fits(cur_a, m) then
              cur_b = m
            elseif fits(c, m) then
              if cur_a then emit(cur_a, cur_b) end
              cur_a, cur_b = c, m
            else
              -- A clause too long for a cue: chopped, together with what
              -- waits before it (no short cue left alone).
              local pieces = chop(cur_a or c, m)
              for p = 1, #pieces - 1 do emit(pieces[p][1], pieces[p][2]) end
              cur_a, cur_b = pieces[#pieces][1], pieces[#pieces][2]
            end
            c = m + 1
          end
        end
        if cur_a then emit(cur_a, cur_b) end
      end
      s = k + 1
    end
  end
  return cues
end

-- Is `a` a usable character alignment for `n` characters?
local function usable_alignment(a, n)
  if type(a) ~= "table" then return false end
  local chars, starts, ends = a.characters, a.character_start_times_seconds, a.character_end_times_seconds
  if type(chars) ~= "table" or type(starts) ~= "table" or type(ends) ~= "table" then return false end
  if #chars ~= n or #starts ~= n or #ends ~= n or n == 0 then return false end
  for i = 1, n do
    if type(starts[i]) ~= "number" or type(ends[i]) ~= "number" then return false end
  end
  return true
end

--- Time cues: from `start`, over `duration` seconds of speech.
-- With a character alignment (ElevenLabs' `alignment`: `characters`,
-- `character_start_times_seconds`, `character_end_times_seconds`, one entry
-- per character of the text the cues were split from), each cue starts when
-- its first character is spoken; else each cue gets the share of `duration`
-- that its characters are of all the cues' characters. A cue lasts until the
-- next one starts; the last until the speech ends.
-- @tparam {table,...} cues from `split` (given `start` and `finish`, in seconds)
-- @tparam number start when the speech starts
-- @tparam number duration how long it lasts
-- @tparam[opt] table alignment
-- @tparam[opt] number chars the text's length in characters (to check the alignment)
-- @treturn {table,...} the cues
-- @treturn string "alignment" or "share": how they were timed
function M.time(cues, start, duration, alignment, chars)
  local n = #cues
  if n == 0 then return cues, "share" end
  duration = math.max(tonumber(duration) or 0, 0.1 * n)
  if alignment and usable_alignment(alignment, chars or (cues[n].last)) then
    local starts, ends = alignment.character_start_times_seconds, alignment.character_end_times_seconds
    for i, cue in ipairs(cues) do
      local t = math.min(math.max(starts[cue.first] or 0, 0), duration)
      if i > 1 then t = math.max(t, cues[i - 1].start - start + 0.05) end
      cue.start = start + t
    end
    for i, cue in ipairs(cues) do
      if i < n then
        cue.finish = cues[i + 1].start
      else
        cue.finish = start + math.min(math.max(ends[cue.last] or duration, cue.start - start + 0.05) + 0.3, duration)
        if cue.finish <= cue.start then cue.finish = cue.start + 0.05 end
      end
    end
    return cues, "alignment"
  end
  local total = 0
  for _, cue in ipairs(cues) do total = total + ulen(cue.text) end
  local acc = 0
  for _, cue in ipairs(cues) do
    cue.start = start + duration * acc / total
    acc = acc + ulen(cue.text)
    cue.finish = start + duration * acc / total
  end
  return cues, "share"
end

--- Put share-timed cues on the speech: each cue after the first starts
-- where the pause nearest its estimate ends, if one ends within `reach`
-- seconds of it (sentences and clauses are where a voice pauses), and the
-- cue before it ends there. Order is kept; a cue never shrinks below 0.1 s.
-- @tparam {table,...} cues from `time`
-- @tparam number start when the track starts (the cues' clock)
-- @tparam {table,...} pauses `{from, to}` in seconds of the track
-- @tparam[opt] number reach seconds (0.6)
-- @treturn {table,...} the cues
function M.snap(cues, start, pauses, reach)
  reach = reach or 0.6
  for i = 2, #cues do
    local best
    for _, p in ipairs(pauses) do
      local d = math.abs(start + p[2] - cues[i].start)
      if d <= reach and (not best or d < best.d) then best = { t = start + p[2], d = d } end
    end
    if best and best.t >= cues[i - 1].start + 0.1 and best.t <= cues[i].finish - 0.1 then
      cues[i].start, cues[i - 1].finish = best.t, best.t
    end
  end
  return cues
end

local function clock(seconds, sep, digits)
  local ms = math.floor(math.max(seconds, 0) * 1000 + 0.5)
  local h, m, s = ms // 3600000, ms // 60000 % 60, ms // 1000 % 60
  if digits == 2 then
    return string.format("%d:%02d:%02d%s%02d", h, m, s, sep, ms % 1000 // 10)
  end
  return string.format("%02d:%02d:%02d%s%03d", h, m, s, sep, ms % 1000)
end

--- A time as SubRip writes it: `00:01:02,345`.
function M.srt_time(seconds) return clock(seconds, ",") end
--- A time as WebVTT writes it: `00:01:02.345`.
function M.vtt_time(seconds) return clock(seconds, ".") end

local function arrowless(line)
  return (line:gsub("%-%->", "->"))
end

--- SubRip text of timed cues (numbered from 1, CRLF-free).
-- @tparam {table,...} cues with `start`, `finish` and `lines`
-- @treturn string
function M.srt(cues)
  local out = {}
  for i, cue in ipairs(cues) do
    local lines = {}
    for k, l in ipairs(cue.lines or { cue.text }) do lines[k] = arrowless(l) end
    out[#out + 1] = string.format("%d\n%s --> %s\n%s\n", i, M.srt_time(cue.start), M.srt_time(cue.finish),
                                  table.concat(lines, "\n"))
  end
  return table.concat(out, "\n")
end

local function vtt_escape(line)
  return (arrowless(line):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

--- WebVTT text of timed cues.
-- @tparam {table,...} cues with `start`, `finish` and `lines`
-- @treturn string
function M.vtt(cues)
  local out = { "WEBVTT\n" }
  for _, cue in ipairs(cues) do
    local lines = {}
    for k, l in ipairs(cue.lines or { cue.text }) do lines[k] = vtt_escape(l) end
    out[#out + 1] = string.format("%s --> %s\n%s\n", M.vtt_time(cue.start), M.vtt_time(cue.finish),
                                  table.concat(lines, "\n"))
  end
  return table.concat(out, "\n")
end

--- How burned-in captions look on a frame: DejaVu Sans Condensed Bold,
-- white on a half-opaque dark box, bottom centre. A tall frame gets shorter,
-- larger lines (about 30 characters, up to 3 lines) well above the bottom,
-- where phone apps put their buttons; a wide or square one lines of 42.
-- @tparam number width the frame's
-- @tparam number height
-- @treturn table `{font, size, line_chars, max_lines, margin_v, margin_h, box}` in pixels
function M.style(width, height)
  width, height = tonumber(width) or 1080, tonumber(height) or 1920
  local tall = height > width * 1.2
  local line_chars = tall and 30 or M.MAX_CHARS
  -- DejaVu Sans Condensed Bold: about half an em a character on average.
  local size = math.floor(math.min(0.88 * width / (line_chars * 0.52), height / (tall and 28 or 16)))
  size = math.max(size, 8)
  return {
    font = "DejaVu Sans Condensed", size = size, line_chars = line_chars, max_lines = tall and 3 or 2,
    margin_v = math.floor(height * (tall and 0.16 or 0.06)), margin_h = math.floor(width * 0.05),
    box = math.max(math.floor(size * 0.18), 1),
  }
end

local function ass_text(line)
  return (line:gsub("\\", "\226\136\150"):gsub("{", "("):gsub("}", ")"))
end

--- An ASS script of timed cues for a frame, for ffmpeg's `subtitles` filter
-- (libass): the frame's size as its resolution, the `style` above, each
-- cue laid out again in the style's lines.
-- @tparam {table,...} cues with `start`, `finish` and `text` (laid out
--   again in the style's lines)
-- @tparam number width
-- @tparam number height
-- @treturn string
function M.ass(cues, width, height)
  local st = M.style(width, height)
  local out = {
    "[Script Info]", "ScriptType: v4.00+", "PlayResX: " .. width, "PlayResY: " .. height,
    "WrapStyle: 0", "ScaledBorderAndShadow: yes", "",
    "[V4+ Styles]",
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
      .. "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
      .. "Alignment, MarginL, MarginR, MarginV, Encoding",
    string.format("Style: Default,%s,%d,&H00FFFFFF,&H00FFFFFF,&H28000000,&H00000000,-1,0,0,0,100,100,0,0,3,%d,0,2,"
                  .. "%d,%d,%d,1", st.font, st.size, st.box, st.margin_h, st.margin_h, st.margin_v),
    "", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
  }
  for _, cue in ipairs(cues) do
    local lines = M.layout(M.words(cue.text), st.line_chars, st.max_lines) or cue.lines or { cue.text }
    local text = {}
    for k, l in ipairs(lines) do text[k] = ass_text(l) end
    out[#out + 1] = string.format("Dialogue: 0,%s,%s,Default,,0,0,0,,%s", clock(cue.start, ".", 2),
                                  clock(cue.finish, ".", 2), table.concat(text, "\\N"))
  end
  return table.concat(out, "\n") .. "\n"
end

return M
