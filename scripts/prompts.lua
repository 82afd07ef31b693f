-- prompts.lua -- write each scene's image prompt, its iterations and the
-- animation prompt to prompts.md in the scene's folder: what you paste into an
-- image or video tool by hand.
--
--   explainer scripts/prompts.lua examples/sample.txt
--   -> output/sample/scene_00/prompts.md ... scene_11/prompts.md
--
-- Also a small example of explainer.make: prompts.md is rewritten only when
-- its text changed.

local explainer = require "explainer"
local common = require "explainer.recipes.common"

local document

local function section(out, heading, text)
  if text and text ~= "" then
    out[#out + 1] = "## " .. heading .. "\n\n" .. text .. "\n"
  end
end

local function text_of(scene, doc)
  local out = {}
  out[#out + 1] = ("# Scene %d: %s (%g seconds)\n"):format(
    scene.scene_number, scene.title, scene.duration)
  if doc and doc.format then
    out[#out + 1] = "Format: " .. doc.format .. "\n"
  end
  section(out, "Narration", scene.no_narration and "(none: silent scene)" or scene.narration)
  section(out, "Image prompt", scene.initial_prompt)
  for i, step in ipairs(scene.iterations or {}) do
    section(out, "Iteration " .. i, step)
  end
  section(out, "Final prompt", scene.final_prompt)
  if not scene.initial_prompt and not scene.final_prompt then
    section(out, "Layout (no image prompt in the script)", scene.layout)
  end
  section(out, "Animation prompt", scene.animation_prompt)
  return table.concat(out, "\n")
end

return {
  output_filename = "prompts.md",

  inputs = function(scene, doc) return { text = text_of(scene, doc) } end,

  setup = function(doc) document = doc end,

  process_scene = function(scene, output_dir)
    local text = text_of(scene, document)
    local ok, err = explainer.make(output_dir .. "/prompts.md", { text = text },
      function(tmp) return common.write_file(tmp, text) end, { recipe = "prompts/1" })
    if not ok then return nil, "cannot write prompts.md: " .. tostring(err) end
    return true
  end,

  finish = function(stats)
    if stats.completed > 0 then
      explainer.say(("Prompts written under %s/"):format(stats.output_dir))
    end
  end,
}
