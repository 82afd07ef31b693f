-- scripts/audio.lua -- a narration track per scene: output/<name>/scene_NN/narration.mp3.
--   explainer scripts/audio.lua examples/sample.txt
-- Offline flite (EXPLAINER_VOICE: other voices) by default; EXPLAINER_AUDIO_BACKEND=openai or elevenlabs
-- (with OPENAI_API_KEY or ELEVENLABS_API_KEY) for hosted voices. A scene
-- without narration gets a silent track as long as the scene. A rerun remakes
-- a track only when its text or the voice changed; the same words in the same
-- voice, in any script, come from the cache.
local audio = require "explainer.recipes.audio"

local options = {}

return {
  output_filename = "narration.mp3",
  jobs = 2,   -- two scenes at once unless --jobs says otherwise (README: Fast runs)
  inputs = function(scene, document) return audio.key(scene, { document = document }) end,
  setup = function(document) options.document = document end,
  process_scene = function(scene, output_dir)
    return audio.generate(scene, output_dir, options)
  end,
}
