-- prompts.lua -- write each scene's image prompt, its iterations and the
-- animation prompt to prompts.md in the scene's folder: what you paste into an
-- image or video tool by hand.
--
--   explainer scripts/prompts.lua examples/sample.txt
--   -> output/sample/scene_00/prompts.md ... scene_11/prompts.md

local document

local function section(out, heading, text)
  if text and text ~= "" then
    out[#out + 1] = "## " .. heading .. "\n\n" .. text .. "\n"
  end
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok then return nil, werr end
  if not closed then return nil, cerr end
  return true
end

return {
  output_filename = "prompts.md",

  setup = function(doc) document = doc end,

  process_scene = function(scene, output_dir)
    local out = {}
    out[#out + 1] = ("# Scene %d: %s (%g seconds)\n"):format(
      scene.scene_number, scene.title, scene.duration)
    if document and document.format then
      out[#out + 1] = "Format: " .. document.format .. "\n"
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
    local ok, err = write_file(output_dir .. "/prompts.md", table.concat(out, "\n"))
    if not ok then return nil, "cannot write prompts.md: " .. tostring(err) end
    return true
  end,

  finish = function(stats, doc)
    if stats.completed > 0 then
      io.stderr:write(("Prompts written under %s/\n"):format(
        (stats.scenes[1] and stats.scenes[1].output_dir or ""):match("^(.*)/[^/]*$") or doc.name))
    end
  end,
}
