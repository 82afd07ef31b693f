-- scripts/video.lua -- a narrated video: a clip per scene, then the film
-- output/<name>/<name>.mp4 with the clips in scene order.
--   explainer scripts/video.lua examples/sample.txt
-- Any missing final.png or narration.mp3 is made on the way (with the image
-- and audio backends chosen in the environment; offline by default).
local video = require "explainer.recipes.video"

local options = {}
local base_dir   -- the output base folder, as the run's scene folders show it

local workflow = {
  output_filename = "clip.mp4",
}

local function base_of(dir)
  return type(dir) == "string" and dir:match("^(.*)/[^/]+/[^/]+$") or nil
end

function workflow.setup(document)
  options.document = document
end

function workflow.process_scene(scene, output_dir)
  -- output_dir is <base>/<name>/scene_NN: remember <base> for the film.
  base_dir = base_of(output_dir) or base_dir
  return video.clip(scene, output_dir, options)
end

function workflow.finish(stats, document, run_options)
  -- Skipped scenes never reach process_scene: their records still name
  -- their folders.
  for _, record in ipairs(stats and stats.scenes or {}) do
    base_dir = base_dir or base_of(record.output_dir)
  end
  local base = base_dir or (stats and stats.output_base_dir)
      or (run_options and run_options.output_base_dir) or workflow.output_base_dir or "output"
  local path, info = video.film(document or options.document, base)
  if not path then error("film: " .. tostring(info), 0) end
  local note = #info.missing > 0 and ("; without scenes " .. table.concat(info.missing, ", ")) or ""
  io.stderr:write(string.format("Film: %s (%d clips, %.1f s%s)\n", path, info.clips, info.duration or 0, note))
end

return workflow
