-- scripts/image.lua -- an image per scene: output/<name>/scene_NN/final.png.
--   explainer scripts/image.lua examples/sample.txt
-- Offline, the frame each scene's Layout Design describes (EXPLAINER_CARD=storyboard:
-- the production notes on a card); EXPLAINER_IMAGE_BACKEND=openai or fal (with
-- OPENAI_API_KEY or FAL_KEY) for generated images under the text. See docs/recipes.md.
-- A rerun remakes an image only when what it shows (or the backend, model or
-- size) changed; the same image for another script comes from the cache.
local image = require "explainer.recipes.image"

local options = {}   -- the document is added by setup, for the frame's aspect

return {
  output_filename = "final.png",
  jobs = 2,   -- two scenes at once unless --jobs says otherwise (README: Fast runs)
  inputs = function(scene, document) return image.key(scene, { document = document }) end,
  setup = function(document) options.document = document end,
  process_scene = function(scene, output_dir)
    return image.generate(scene, output_dir, options)
  end,
}
