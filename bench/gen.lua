#!/usr/bin/env lua5.4
--- bench/gen.lua -- write a large, realistic explainer script.
-- usage: lua5.4 bench/gen.lua SCENES OUT.txt
-- Each scene is about 2.4 KB, shaped like the scripts people write for this job:
-- a bold or plain header with a duration, a quoted narration, a Layout Design
-- bullet list, an image prompt (Nano Banana iterative or the 2-step workflow,
-- alternating), an animation prompt and a custom field; every tenth scene is
-- NO NARRATION. A NARRATION SCRIPT section at the end repeats the narrations.
-- The output is deterministic: the same SCENES gives the same bytes.

local n = tonumber(arg[1])
local out_path = arg[2]
if not n or not out_path then
  io.stderr:write("usage: lua5.4 bench/gen.lua SCENES OUT.txt\n")
  os.exit(2)
end

local WORDS = {
  "explainer", "video", "scene", "layout", "minimal", "bold", "gradient", "icon",
  "silhouette", "workflow", "parser", "narration", "vertical", "timeline", "camera",
  "gentle", "contrast", "palette", "typography", "motion", "transition", "focus",
  "asymmetric", "balance", "story", "audience", "developer", "automation", "render",
  "frame", "light", "shadow", "texture", "signal", "rhythm", "pause", "reveal",
}
local seed = 12345
local function rand(k)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % k + 1
end
local function sentence(len)
  local w = {}
  for i = 1, len do w[i] = WORDS[rand(#WORDS)] end
  w[1] = w[1]:sub(1, 1):upper() .. w[1]:sub(2)
  return table.concat(w, " ") .. "."
end

local f = assert(io.open(out_path, "wb"))
local buf, size = {}, 0
local function emit(s)
  buf[#buf + 1] = s
  size = size + #s
  if #buf >= 512 then
    f:write(table.concat(buf))
    buf = {}
  end
end

emit(("# Benchmark Explainer: Generated Script - %d SCENES\n"):format(n))
emit("Style: Dynamic explainer visual format - minimalist design, human-centered storytelling\n")
emit(("Total Duration: %d seconds (6 seconds per scene)\n"):format(n * 6))
emit("Format: 9:16 VERTICAL\nAudience: Developers and content creators building video tools\n\n---\n\n")

local narrations = {}
for i = 1, n do
  local silent = i % 10 == 0
  local title = sentence(3 + rand(3)):sub(1, -2)
  local duration = (i % 7 == 0) and "7.5 seconds" or (i % 5 == 0 and "6s" or "6 seconds")
  if i % 4 == 0 then
    emit(("## **SCENE %d: %s (%s)**%s\n\n"):format(i, title, duration, silent and " - NO NARRATION" or ""))
  else
    emit(("## SCENE %d: %s (%s)%s\n\n"):format(i, title, duration, silent and " - NO NARRATION" or ""))
  end
  if not silent then
    local narration = sentence(18) .. " " .. sentence(14)
    narrations[#narrations + 1] = { i, narration }
    emit(('Narration: "%s"\n\n'):format(narration))
  end
  emit("Layout Design:\n")
  emit(("- Background: %s\n"):format(sentence(8)))
  emit(('- Text: "%s" - Large, bold, modern sans-serif, top-left corner (safe zone)\n'):format(sentence(4)))
  emit("- Visual Elements:\n")
  for _ = 1, 4 do emit(("  - %s\n"):format(sentence(10))) end
  emit(("- Aesthetic: %s\n"):format(sentence(6)))
  emit(("- Layout Pattern: %s\n\n"):format(sentence(6)))
  if i % 2 == 1 then
    emit("Nano Banana Iterative Prompt:\n")
    emit(('"Initial: %s | Iteration 1: %s | Iteration 2: %s | Iteration 3: %s"\n\n'):format(
      sentence(40), sentence(16), sentence(16), sentence(12)))
  else
    emit("Image Generation Prompts (2-Step Workflow):\n\nInitial Prompt:\n")
    emit(('"%s %s"\n\n'):format(sentence(40), sentence(20)))
    emit("Final Prompt (after review):\n")
    emit(i % 6 == 0 and '"[To be determined after reviewing initial image]"\n\n'
      or ('"%s"\n\n'):format(sentence(40)))
  end
  emit("Animation Prompt for AI Video Model:\n")
  emit(('"9:16 vertical format. %s %s Smooth animation throughout 6 seconds."\n\n'):format(
    sentence(24), sentence(16)))
  emit(("Mood: %s\n\n---\n\n"):format(sentence(4)))
end

emit("## NARRATION SCRIPT:\n\n")
for _, e in ipairs(narrations) do emit(('Scene %d: "%s"\n\n'):format(e[1], e[2])) end
emit(("---\n\nTotal Duration: %d seconds\n"):format(n * 6))
f:write(table.concat(buf))
f:close()
io.stderr:write(("%s: %d scenes, %.1f MB\n"):format(out_path, n, size / 1e6))
