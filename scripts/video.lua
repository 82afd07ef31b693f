-- scripts/video.lua -- a narrated video: a clip per scene, then the film
-- output/<name>/<name>.mp4 with the clips in scene order.
-- Crossfaded, its sound at -16 LUFS, its captions beside it (<name>.srt,
-- <name>.vtt); EXPLAINER_TRANSITION, EXPLAINER_CAPTIONS, EXPLAINER_MUSIC, ...:
-- docs/recipes.md.
--   explainer scripts/video.lua examples/sample.txt
-- Each scene's final.png and narration.mp3 are made on the way (with the
-- image and audio backends chosen in the environment; offline by default).
-- A rerun remakes exactly what changed: an edited narration redoes that
-- scene's track, its clip and the film; an all-fresh rerun touches nothing.
local explainer = require "explainer"
local video = require "explainer.recipes.video"
local film = require "explainer.recipes.film"

local options = {}

local workflow = {
  output_filename = "clip.mp4",
  -- Two scenes at once (--jobs overrides it): while one scene's clip is
  -- encoded (x264 keeps every core busy), the other's card, speech and the
  -- tools' start-up, which use one core each, run beside it. README: "Fast
  -- runs that survive anything".
  jobs = 2,
}

function workflow.inputs(scene, document, output_dir)
  return video.clip_key(scene, output_dir, { document = document })
end

function workflow.setup(document)
  options.document = document
  -- The film's settings are checked before the first scene, not after the last.
  local ok, err = video.film_settings(options)
  if not ok then require("explainer.settings").fail(err) end
end

function workflow.process_scene(scene, output_dir)
  local path, how = video.clip(scene, output_dir, options)
  -- The film's transitions beside this clip, while scenes run side by side:
  -- the join (alone, after them) then finds them made.
  if path then film.prepare(options.document, scene, output_dir, options) end
  return path, how
end

function workflow.finish(stats, document)
  -- On a terminal the line shows how far the join is; in a log, just the line.
  local progress = explainer.progress("Joining the film ...")
  local path, info = video.film(document, stats.output_base_dir,
    setmetatable({ on_progress = progress.update }, { __index = options }))
  progress.done()
  if not path then error("film: " .. tostring(info), 0) end
  local notes = {}
  if #info.missing > 0 then notes[#notes + 1] = "without scenes " .. table.concat(info.missing, ", ") end
  if #info.stale > 0 then
    notes[#notes + 1] = ("without scenes %s: their clips are out of date (run them again)")
      :format(table.concat(info.stale, ", "))
  end
  if info.how == "fresh" then notes[#notes + 1] = "unchanged" end
  if info.captions then notes[#notes + 1] = "captions " .. info.captions.srt:match("[^/]*$") .. ", .vtt" end
  explainer.say(string.format("Film: %s (%d clip%s, %.1f s%s)", path, info.clips,
    info.clips == 1 and "" or "s", info.duration or 0, #notes > 0 and ("; " .. table.concat(notes, "; ")) or ""))
end

return workflow
