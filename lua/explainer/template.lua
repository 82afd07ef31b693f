--- `explainer init`: a blank explainer script in the richest dialect the parser
-- reads (header, scenes with narration, layout, a Nano Banana iterative prompt and
-- an animation prompt), with `[placeholders]` where the writing goes. `explainer
-- check` passes it but for those placeholders.
-- @module explainer.template

local layout = require "explainer.recipes.layout"

local M = {}

--- The layout pattern of blank scene n: the title card centred, the others
-- taken from the catalogue seven apart, so that neighbours always differ.
-- @tparam integer n the scene's number
-- @tparam[opt] boolean silent the silent title card
-- @treturn string a pattern's name (explainer.recipes.layout.PATTERNS)
function M.pattern(n, silent)
  if silent then return "Centered Title" end
  local list = layout.PATTERNS
  return list[((n - 1) * 7) % #list + 1].name
end

--- The formats `--format` takes, as the Format: line writes them.
M.FORMATS = {
  ["9:16"] = "9:16 VERTICAL",
  ["16:9"] = "16:9 HORIZONTAL",
  ["1:1"] = "1:1 SQUARE",
}

local SECONDS = 6 -- per scene, as in the common dialect

local function scene(out, n, format, silent)
  local add = function(line) out[#out + 1] = line end
  if silent then
    add(("## SCENE %d: [Opening title] (%d seconds) - NO NARRATION"):format(n, SECONDS))
  else
    add(("## SCENE %d: [Scene title] (%d seconds)"):format(n, SECONDS))
    add("")
    add('Narration: "[What the narrator says: one or two short sentences]"')
  end
  add("")
  add("Layout Design:")
  add("- Background: [Colour, gradient or setting]")
  add(silent and '- Text: "[Film title]" - [Position, e.g. top third, left-aligned]'
    or '- Text: "[On-screen words]" - [Position, e.g. top third, centered]')
  add("- Visual Elements:")
  add("  - [Main element]: [What it is and where it sits]")
  add("  - [Supporting element]: [What it is and where it sits]")
  add("- Aesthetic: [Mood in a few words]")
  add("- Layout Pattern: " .. M.pattern(n, silent))
  add("")
  add("Nano Banana Iterative Prompt:")
  add(('"Initial: [The whole image in one paragraph: %s format, style, subject, '
    .. 'on-screen text, composition] | Iteration 1: [First correction, e.g. text legible '
    .. 'at phone size] | Iteration 2: [Second correction, e.g. simpler shapes]"'):format(format))
  add("")
  add("Animation Prompt for AI Video Model:")
  add(('"%s format. Animate only what is in the still image. [How each element moves, '
    .. 'with its times, e.g. title fades in (0-1.5s)]. Static camera. Duration: %d '
    .. 'seconds."'):format(format, SECONDS))
  add("")
  add("---")
  add("")
end

--- The text of a blank script.
-- @tparam[opt] table opts scenes (default 12; scene 0 is a silent title card when
--   there are two or more), format ("9:16", "16:9" or "1:1"; default "9:16"),
--   title (default "[Title]")
-- @treturn string
function M.render(opts)
  opts = opts or {}
  local count = opts.scenes or 12
  if math.type(count) ~= "integer" or count < 1 then
    error("bad option 'scenes' (a whole number of at least 1 expected)", 2)
  end
  local format = opts.format or "9:16"
  local format_line = M.FORMATS[format]
  if not format_line then
    error("bad option 'format' (9:16, 16:9 or 1:1 expected, got '" .. tostring(format) .. "')", 2)
  end
  local words = format_line:match("^%S+ (%a+)"):lower()
  local out = {
    ("# %s - %d SCENES"):format(opts.title or "[Title]", count),
    "Style: [Visual style, e.g. flat illustration, warm palette, calm pacing]",
    ("Total Duration: %d seconds (%d seconds per scene)"):format(count * SECONDS, SECONDS),
    "Format: " .. format_line,
    "Audience: [Who is watching and what they already know]",
    "",
    "---",
    "",
  }
  local first = count >= 2 and 0 or 1
  for n = first, first + count - 1 do
    scene(out, n, format .. " " .. words, n == 0)
  end
  return table.concat(out, "\n")
end

return M
